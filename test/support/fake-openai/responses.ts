/**
 * POST /v1/responses: the `response` object and its typed event stream
 * (`event: <type>`, `sequence_number` from 0, no [DONE]).
 */
import { approxTokens, contentText, fakeReply, hex, isObject, modelOf, nowSeconds, obfuscation } from "./common.ts";
import type { Answer, Ctx, SseEvent, StreamPlan } from "./types.ts";
import { rememberResponse, sendQueuedResponse } from "./stored-responses.ts";
import { sendJson } from "./wire.ts";

function responsesInputText(input: unknown): { last: string | undefined; all: string } {
  if (typeof input === "string") return { last: input, all: input };
  if (!Array.isArray(input)) return { last: undefined, all: "" };
  let last: string | undefined;
  const all: string[] = [];
  for (const item of input) {
    if (!isObject(item)) continue;
    const text = contentText(item["content"]);
    all.push(text);
    if (item["role"] === "user" || (item["role"] === undefined && item["type"] === "message")) last = text;
  }
  return { last, all: all.join("\n") };
}

function responsesUsage(inputTokens: number, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
}

function responseObject(
  body: Record<string, unknown>,
  id: string,
  createdAt: number,
  status: "in_progress" | "completed",
  output: unknown[],
  usage: Record<string, unknown> | null,
): Record<string, unknown> {
  const pick = (k: string, d: unknown): unknown => (body[k] === undefined ? d : body[k]);
  return {
    id,
    object: "response",
    created_at: createdAt,
    status,
    background: pick("background", false),
    completed_at: status === "completed" ? nowSeconds() : null,
    error: null,
    incomplete_details: null,
    instructions: pick("instructions", null),
    max_output_tokens: pick("max_output_tokens", null),
    max_tool_calls: pick("max_tool_calls", null),
    model: modelOf(body, "gpt-4.1"),
    output,
    parallel_tool_calls: pick("parallel_tool_calls", true),
    previous_response_id: pick("previous_response_id", null),
    prompt_cache_key: pick("prompt_cache_key", null),
    reasoning: { effort: null, summary: null },
    safety_identifier: pick("safety_identifier", null),
    service_tier: "default",
    store: pick("store", true),
    temperature: pick("temperature", 1.0),
    text: { format: { type: "text" }, verbosity: "medium" },
    tool_choice: pick("tool_choice", "auto"),
    tools: pick("tools", []),
    top_logprobs: pick("top_logprobs", 0),
    top_p: pick("top_p", 1.0),
    truncation: pick("truncation", "disabled"),
    usage,
    user: pick("user", null),
    metadata: pick("metadata", {}),
  };
}

export function responsesAnswer(body: Record<string, unknown>): Answer {
  const { last, all } = responsesInputText(body["input"]);
  const instr = typeof body["instructions"] === "string" ? body["instructions"] : "";
  return { text: fakeReply(last), promptTokens: approxTokens(instr + all) + 7 };
}

/** Answers a created response: kept unless `store: false`; a background one is `queued` until retrieved. */
export function sendResponse(ctx: Ctx, body: Record<string, unknown>): void {
  const response = buildResponse(body);
  if (body.background === true) return sendQueuedResponse(ctx, body, response);
  rememberResponse(ctx, body, response);
  sendJson(ctx, 200, response);
}

function buildResponse(body: Record<string, unknown>): Record<string, unknown> {
  const created = nowSeconds();
  const ans = responsesAnswer(body);
  const msgId = `msg_${hex(25)}`;
  const item = {
    id: msgId,
    type: "message",
    status: "completed",
    content: [{ type: "output_text", annotations: [], logprobs: [], text: ans.text }],
    role: "assistant",
  };
  return responseObject(body, `resp_${hex(25)}`, created, "completed", [item], responsesUsage(ans.promptTokens, approxTokens(ans.text)));
}

export function responsesStreamPlan(body: Record<string, unknown>, pieces: string[], inputTokens: number): StreamPlan {
  const id = `resp_${hex(25)}`;
  const msgId = `msg_${hex(25)}`;
  const createdAt = nowSeconds();
  const text = pieces.join("");
  let seq = 0;
  const ev = (type: string, payload: Record<string, unknown>, delayBefore = false): SseEvent => ({
    text: `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...payload })}\n\n`,
    delayBefore,
  });
  const part = (t: string): Record<string, unknown> => ({ type: "output_text", annotations: [], logprobs: [], text: t });
  const events: SseEvent[] = [];
  events.push(ev("response.created", { response: responseObject(body, id, createdAt, "in_progress", [], null) }));
  events.push(ev("response.in_progress", { response: responseObject(body, id, createdAt, "in_progress", [], null) }));
  events.push(
    ev("response.output_item.added", {
      output_index: 0,
      item: { id: msgId, type: "message", status: "in_progress", content: [], role: "assistant" },
    }),
  );
  events.push(
    ev("response.content_part.added", { item_id: msgId, output_index: 0, content_index: 0, part: part("") }),
  );
  for (const p of pieces) {
    events.push(
      ev(
        "response.output_text.delta",
        { item_id: msgId, output_index: 0, content_index: 0, delta: p, logprobs: [], ...obfuscation(body) },
        true,
      ),
    );
  }
  events.push(
    ev("response.output_text.done", { item_id: msgId, output_index: 0, content_index: 0, text, logprobs: [] }),
  );
  events.push(ev("response.content_part.done", { item_id: msgId, output_index: 0, content_index: 0, part: part(text) }));
  const item = { id: msgId, type: "message", status: "completed", content: [part(text)], role: "assistant" };
  events.push(ev("response.output_item.done", { output_index: 0, item }));
  events.push(
    ev("response.completed", {
      response: responseObject(
        body,
        id,
        createdAt,
        "completed",
        [item],
        responsesUsage(inputTokens, approxTokens(text)),
      ),
    }),
  );
  return {
    events,
    errorEvent: (err, sent) =>
      `event: error\ndata: ${JSON.stringify({
        type: "error",
        code: err.code,
        message: err.message,
        param: err.param,
        sequence_number: sent,
      })}\n\n`,
  };
}
