/**
 * POST /v1/completions (legacy): the `text_completion` answer and its stream.
 */
import { alnum, approxTokens, chatUsage, fakeReply, includeUsage, limitedText, modelOf, nowSeconds } from "./common.ts";
import type { Answer, Ctx, SseEvent, StreamPlan } from "./types.ts";
import { sendJson, sseData } from "./wire.ts";

function promptText(prompt: unknown): string {
  if (typeof prompt === "string") return prompt;
  if (Array.isArray(prompt)) {
    const first: unknown = prompt[0];
    if (typeof first === "string") return first;
    if (typeof first === "number") return prompt.join(" ");
    if (Array.isArray(first)) return first.join(" ");
  }
  return "";
}

export function completionAnswer(body: Record<string, unknown>): Answer {
  const p = promptText(body["prompt"]);
  const limit = typeof body["max_tokens"] === "number" ? body["max_tokens"] : undefined;
  return { text: fakeReply(p), promptTokens: approxTokens(p), ...(limit !== undefined ? { limit } : {}) };
}

export function sendCompletion(ctx: Ctx, body: Record<string, unknown>): void {
  const ans = completionAnswer(body);
  const { text, finish } = limitedText(ans);
  sendJson(ctx, 200, {
    id: `cmpl-${alnum(29)}`,
    object: "text_completion",
    created: nowSeconds(),
    model: modelOf(body, "gpt-3.5-turbo-instruct"),
    choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
    usage: chatUsage(ans.promptTokens, approxTokens(text)),
    system_fingerprint: null,
  });
}

export function completionStreamPlan(body: Record<string, unknown>, pieces: string[], promptTokens: number): StreamPlan {
  const id = `cmpl-${alnum(29)}`;
  const created = nowSeconds();
  const model = modelOf(body, "gpt-3.5-turbo-instruct");
  const withUsage = includeUsage(body);
  const chunk = (choices: unknown[]): string =>
    sseData({
      id,
      object: "text_completion",
      created,
      choices,
      model,
      system_fingerprint: null,
      ...(withUsage ? { usage: null } : {}),
    });
  const events: SseEvent[] = pieces.map((p) => ({
    text: chunk([{ text: p, index: 0, logprobs: null, finish_reason: null }]),
    delayBefore: true,
  }));
  // The first event goes out immediately.
  if (events[0]) events[0].delayBefore = false;
  events.push({ text: chunk([{ text: "", index: 0, logprobs: null, finish_reason: "stop" }]), delayBefore: false });
  if (withUsage) {
    events.push({
      text: sseData({
        id,
        object: "text_completion",
        created,
        model,
        system_fingerprint: null,
        choices: [],
        usage: chatUsage(promptTokens, approxTokens(pieces.join(""))),
      }),
      delayBefore: false,
    });
  }
  events.push({ text: "data: [DONE]\n\n", delayBefore: false });
  return { events, errorEvent: (err) => sseData({ error: err }) };
}
