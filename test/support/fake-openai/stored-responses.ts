/**
 * Stored responses (`/v1/responses/{id}`: retrieve as JSON or replayed as
 * events with `?stream=true`, delete, cancel, input items; `input_tokens`)
 * and stored chat completions (`/v1/chat/completions/{id}`: list, retrieve,
 * update metadata, delete, messages), kept when a response is created with
 * `store` (the default) or a chat completion with `"store": true`. A
 * background response (`background: true`) is `queued` when created and done
 * when first retrieved, reporting its usage then.
 */
import { approxTokens, contentText, isObject } from "./common.ts";
import { sendError } from "./errors.ts";
import type { Ctx, SseEvent, StreamPlan } from "./types.ts";
import { emitStream, sendJson } from "./wire.ts";
import { jsonBody, listPage, newId, noSuch, projectOf, publicView, type Stored } from "./stored.ts";

/** The request's input as the response's input items. */
function inputItems(input: unknown): Stored[] {
  const items = typeof input === "string" ? [{ role: "user", content: input }] : Array.isArray(input) ? input : [];
  return items.filter(isObject).map((item) => ({
    id: typeof item.id === "string" ? item.id : newId("msg_", 24),
    type: "message",
    role: item.role ?? "user",
    status: "completed",
    content: typeof item.content === "string" ? [{ type: "input_text", text: item.content }] : item.content,
  }));
}

/** Keeps a created response (unless `store: false`), and adds its turn to its conversation. */
export function rememberResponse(ctx: Ctx, body: Record<string, unknown>, response: Record<string, unknown>): void {
  if (body.store === false || typeof response.id !== "string") return;
  const objects = projectOf(ctx);
  const items = inputItems(body.input);
  objects.responses.set(response.id, { ...(response as Stored), input_items: items });
  const conversationId = isObject(body.conversation) ? body.conversation.id : body.conversation;
  const conversation = typeof conversationId === "string" ? objects.conversations.get(conversationId) : undefined;
  conversation?.items.push(...items, ...((response.output as Stored[] | undefined) ?? []));
}

/** Keeps the response a stream ends with (its `response.completed` event). */
export function rememberStreamedResponse(ctx: Ctx, body: Record<string, unknown>, plan: StreamPlan): void {
  const last = plan.events.at(-1)?.text ?? "";
  const data = /^data: (.*)$/m.exec(last)?.[1];
  if (data !== undefined) rememberResponse(ctx, body, (JSON.parse(data) as { response: Record<string, unknown> }).response);
}

/** Checks what a response builds on: the previous response and the conversation must exist in the project. */
export function refuseResponseReferences(ctx: Ctx, body: Record<string, unknown>): boolean {
  const objects = projectOf(ctx);
  const previous = body.previous_response_id;
  if (typeof previous === "string" && !objects.responses.has(previous)) {
    sendError(ctx, 400, { message: `Previous response with id '${previous}' not found.`, type: "invalid_request_error", param: "previous_response_id", code: "previous_response_not_found" });
    return true;
  }
  const conversation = isObject(body.conversation) ? body.conversation.id : body.conversation;
  if (typeof conversation === "string" && !objects.conversations.has(conversation)) {
    sendError(ctx, 404, { message: `Conversation with id '${conversation}' not found.`, type: "invalid_request_error", param: "conversation", code: null });
    return true;
  }
  return false;
}

/** A background response: answered `queued` now, done (with its usage) when first retrieved. */
export function sendQueuedResponse(ctx: Ctx, body: Record<string, unknown>, done: Record<string, unknown>): void {
  rememberResponse(ctx, body, { ...done, queued: true });
  sendJson(ctx, 200, { ...done, status: "queued", output: [], usage: null, completed_at: null });
}

function findResponse(ctx: Ctx, id: string): (Stored & { input_items?: unknown[] }) | undefined {
  const response = projectOf(ctx).responses.get(id);
  if (response === undefined) {
    sendError(ctx, 404, { message: `Response with id '${id}' not found.`, type: "invalid_request_error", param: null, code: null });
    return undefined;
  }
  if (response.queued === true) delete response.queued;
  return response;
}

export function retrieveResponse(ctx: Ctx, id: string): Promise<void> | void {
  const response = findResponse(ctx, id);
  if (response === undefined) return;
  const query = new URLSearchParams(ctx.rec.url.split("?")[1] ?? "");
  if (query.get("stream") !== "true") return sendJson(ctx, 200, publicView(response));
  return emitStream(ctx, replay(publicView(response), Number(query.get("starting_after") ?? -1)), ctx.state.streamInterval);
}

/** A stored response's events, again: created, its text, completed; after `startingAfter` only. */
function replay(response: Record<string, unknown>, startingAfter: number): StreamPlan {
  const text = ((response.output as { content?: { text?: string }[] }[] | undefined) ?? []).map((item) => contentText(item.content)).join("");
  const event = (sequence: number, type: string, payload: Record<string, unknown>, delayBefore = false): SseEvent => ({
    text: `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, ...payload })}\n\n`,
    delayBefore,
  });
  const events = [
    event(0, "response.created", { response: { ...response, status: "in_progress", output: [], usage: null } }),
    event(1, "response.output_text.delta", { item_id: newId("msg_", 24), output_index: 0, content_index: 0, delta: text, logprobs: [] }, true),
    event(2, "response.completed", { response }),
  ].filter((_, sequence) => sequence > startingAfter);
  return { events, errorEvent: (err, sent) => `event: error\ndata: ${JSON.stringify({ type: "error", code: err.code, message: err.message, param: err.param, sequence_number: sent })}\n\n` };
}

export function deleteResponse(ctx: Ctx, id: string): void {
  if (!projectOf(ctx).responses.delete(id)) return noSuchResponse(ctx, id);
  sendJson(ctx, 200, { id, object: "response.deleted", deleted: true });
}

function noSuchResponse(ctx: Ctx, id: string): void {
  sendError(ctx, 404, { message: `Response with id '${id}' not found.`, type: "invalid_request_error", param: null, code: null });
}

export function cancelResponse(ctx: Ctx, id: string): void {
  const response = projectOf(ctx).responses.get(id);
  if (response === undefined) return noSuchResponse(ctx, id);
  if (response.queued !== true) {
    return sendError(ctx, 400, { message: "Only background responses can be cancelled.", type: "invalid_request_error", param: null, code: null });
  }
  delete response.queued;
  Object.assign(response, { status: "cancelled", output: [], usage: null });
  sendJson(ctx, 200, publicView(response));
}

export function listInputItems(ctx: Ctx, id: string): void {
  const response = projectOf(ctx).responses.get(id);
  if (response === undefined) return noSuchResponse(ctx, id);
  sendJson(ctx, 200, listPage(ctx, (response.input_items ?? []) as Stored[]));
}

export function countInputTokens(ctx: Ctx): void {
  const body = jsonBody(ctx);
  if (refuseResponseReferences(ctx, body)) return;
  const text = typeof body.input === "string" ? body.input : JSON.stringify(body.input ?? "");
  sendJson(ctx, 200, { object: "response.input_tokens", input_tokens: approxTokens(String(body.instructions ?? "") + text) + 7 });
}

/** Keeps a chat completion created with `"store": true`, with its messages. */
export function rememberChatCompletion(ctx: Ctx, body: Record<string, unknown>, completion: Record<string, unknown>): void {
  if (body.store !== true || typeof completion.id !== "string") return;
  const messages = (Array.isArray(body.messages) ? body.messages : []).filter(isObject).map((message, index) => ({
    id: `${completion.id as string}-${index}`,
    role: message.role,
    content: typeof message.content === "string" ? message.content : contentText(message.content),
    name: null,
    content_parts: null,
  }));
  projectOf(ctx).chat.set(completion.id, { ...(completion as Stored), created_at: completion.created as number, metadata: body.metadata ?? {}, messages });
}

/** Keeps a streamed chat completion created with `"store": true`, rebuilt from its chunks. */
export function rememberStreamedChatCompletion(ctx: Ctx, body: Record<string, unknown>, plan: StreamPlan): void {
  const chunks = plan.events.map((event) => /^data: (\{.*)$/m.exec(event.text)?.[1]).filter((data): data is string => data !== undefined);
  const parsed = chunks.map((data) => JSON.parse(data) as { id: string; created: number; model: string; choices: { delta?: { content?: string } }[] });
  const first = parsed[0];
  if (first === undefined) return;
  const content = parsed.map((chunk) => chunk.choices[0]?.delta?.content ?? "").join("");
  const message = { role: "assistant", content, refusal: null, annotations: [] };
  rememberChatCompletion(ctx, body, { id: first.id, object: "chat.completion", created: first.created, model: first.model, choices: [{ index: 0, message, logprobs: null, finish_reason: "stop" }] });
}

function findChat(ctx: Ctx, id: string): (Stored & { messages: Stored[] }) | undefined {
  const completion = projectOf(ctx).chat.get(id);
  if (completion === undefined) noSuch(ctx, "ChatCompletion", id);
  return completion;
}

function chatView(completion: Stored): Record<string, unknown> {
  const { created_at: _created, ...rest } = publicView(completion);
  return rest;
}

export function listChatCompletions(ctx: Ctx): void {
  const page = listPage(ctx, [...projectOf(ctx).chat.values()], { order: "asc" });
  sendJson(ctx, 200, { ...page, data: (page.data as Stored[]).map(chatView) });
}

export function retrieveChatCompletion(ctx: Ctx, id: string): void {
  const completion = findChat(ctx, id);
  if (completion !== undefined) sendJson(ctx, 200, chatView(completion));
}

export function updateChatCompletion(ctx: Ctx, id: string): void {
  const completion = findChat(ctx, id);
  if (completion === undefined) return;
  completion.metadata = jsonBody(ctx).metadata ?? {};
  sendJson(ctx, 200, chatView(completion));
}

export function deleteChatCompletion(ctx: Ctx, id: string): void {
  if (findChat(ctx, id) === undefined) return;
  projectOf(ctx).chat.delete(id);
  sendJson(ctx, 200, { id, object: "chat.completion.deleted", deleted: true });
}

export function listChatMessages(ctx: Ctx, id: string): void {
  const completion = findChat(ctx, id);
  if (completion !== undefined) sendJson(ctx, 200, listPage(ctx, completion.messages, { order: "asc" }));
}
