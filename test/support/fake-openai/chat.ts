/**
 * POST /v1/chat/completions: the request's checks, the completion, and the
 * `chat.completion.chunk` stream (with the include_usage chunk when asked).
 */
import {
  alnum,
  approxTokens,
  chatUsage,
  contentText,
  fakeReply,
  includeUsage,
  isObject,
  limitedText,
  modelOf,
  nowSeconds,
  obfuscation,
  SYSTEM_FINGERPRINT,
} from "./common.ts";
import { missingParam, sendError } from "./errors.ts";
import type { Answer, Ctx, SseEvent, StreamPlan } from "./types.ts";
import { rememberChatCompletion } from "./stored-responses.ts";
import { sendJson, sseData } from "./wire.ts";

function lastUserTextFromMessages(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m: unknown = messages[i];
    if (isObject(m) && m["role"] === "user") return contentText(m["content"]);
  }
  return undefined;
}

function promptTokensFromMessages(messages: unknown): number {
  if (!Array.isArray(messages)) return 1;
  let total = 3;
  for (const m of messages) total += 4 + (isObject(m) ? approxTokens(contentText(m["content"])) : 1);
  return total;
}

export function chatAnswer(body: Record<string, unknown>): Answer {
  const msgs = body["messages"];
  const lim = body["max_completion_tokens"] ?? body["max_tokens"];
  return {
    text: fakeReply(lastUserTextFromMessages(msgs)),
    promptTokens: promptTokensFromMessages(msgs),
    ...(typeof lim === "number" ? { limit: lim } : {}),
  };
}

/** Sends OpenAI's 400 for missing or empty `messages`; false when the request may go on. */
export function refuseChatRequest(ctx: Ctx, body: Record<string, unknown>): boolean {
  const msgs = body["messages"];
  if (msgs === undefined) {
    missingParam(ctx, "messages");
    return true;
  }
  if (Array.isArray(msgs) && msgs.length === 0) {
    sendError(ctx, 400, {
      message: "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      type: "invalid_request_error",
      param: "messages",
      code: "empty_array",
    });
    return true;
  }
  return false;
}

export function sendChatCompletion(ctx: Ctx, body: Record<string, unknown>): void {
  const ans = chatAnswer(body);
  const { text, finish } = limitedText(ans);
  const completion = {
    id: `chatcmpl-${alnum(29)}`,
    object: "chat.completion",
    created: nowSeconds(),
    model: modelOf(body, "gpt-4o-mini"),
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: text, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: finish,
      },
    ],
    usage: chatUsage(ans.promptTokens, approxTokens(text)),
    service_tier: "default",
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
  // With "store": true the completion is kept, to be listed, retrieved, updated and deleted.
  rememberChatCompletion(ctx, body, completion);
  sendJson(ctx, 200, completion);
}

export function chatStreamPlan(body: Record<string, unknown>, pieces: string[], promptTokens: number): StreamPlan {
  const id = `chatcmpl-${alnum(29)}`;
  const created = nowSeconds();
  const model = modelOf(body, "gpt-4o-mini");
  const withUsage = includeUsage(body);
  const base = (): Record<string, unknown> => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    service_tier: "default",
    system_fingerprint: SYSTEM_FINGERPRINT,
  });
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
    sseData({ ...base(), choices, ...(withUsage ? { usage: null } : {}), ...extra, ...obfuscation(body) });
  const events: SseEvent[] = [];
  events.push({
    text: chunk([
      { index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null },
    ]),
    delayBefore: false,
  });
  for (const p of pieces) {
    events.push({
      text: chunk([{ index: 0, delta: { content: p }, logprobs: null, finish_reason: null }]),
      delayBefore: true,
    });
  }
  events.push({ text: chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]), delayBefore: false });
  if (withUsage) {
    events.push({
      text: sseData({
        ...base(),
        choices: [],
        usage: chatUsage(promptTokens, approxTokens(pieces.join(""))),
        ...obfuscation(body),
      }),
      delayBefore: false,
    });
  }
  events.push({ text: "data: [DONE]\n\n", delayBefore: false });
  return { events, errorEvent: (err) => sseData({ error: err }) };
}
