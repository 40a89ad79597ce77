/**
 * A fake Anthropic API on 127.0.0.1 that speaks the Messages wire: it checks
 * `x-api-key` and `anthropic-version` as Anthropic does, refuses what the real
 * API refuses for malformed conversations (roles that do not alternate, a
 * tool_use without its tool_result in the next user turn, tool results after
 * other content), and answers with Messages' real SSE event sequence
 * (anthropic-wire.ts) or a Message, or what a test queued: an error answer, an
 * error event in mid-stream, or a stream cut off.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { anthropicErrorBody, anthropicMessage, anthropicStreamEvents, sseText, type AnthropicAnswer, type AnthropicBlock } from "./anthropic-wire.ts";
import { scriptedAnswer } from "./fake-conversation.ts";

/** What the next request gets, instead of the scripted conversation. */
export type AnthropicBehaviour =
  | { readonly kind: "answer"; readonly answer: AnthropicAnswer; readonly intervalMs?: number }
  | { readonly kind: "error"; readonly status: number; readonly type: string; readonly message: string; readonly headers?: Record<string, string> }
  /** The stream sends `after` events of the answer, then an error event. */
  | { readonly kind: "stream-error"; readonly after: number; readonly type: string; readonly message: string }
  /** The stream sends `after` events of the answer, then ends. */
  | { readonly kind: "cut"; readonly after: number };

/** A request as the fake received it. */
export interface AnthropicRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly json: Record<string, unknown> | undefined;
}

export interface FakeAnthropic {
  /** e.g. http://127.0.0.1:PORT/v1 */
  readonly baseUrl: string;
  readonly requests: AnthropicRequest[];
  enqueue(behaviour: AnthropicBehaviour): void;
  /** Resolves when the last streamed answer's connection closed: with whether every event was written. */
  lastStreamClosed(): Promise<boolean>;
  reset(): void;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

/** Starts the fake; `apiKey` is the key it accepts. */
export async function startFakeAnthropic(options: { apiKey: string }): Promise<FakeAnthropic> {
  const requests: AnthropicRequest[] = [];
  const queue: AnthropicBehaviour[] = [];
  const streams = { last: Promise.resolve(true) };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const json = text === "" ? undefined : (JSON.parse(text) as Json);
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, json });
      void answer(req, res, json, queue.shift(), options.apiKey, streams);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    enqueue: (behaviour) => void queue.push(behaviour),
    lastStreamClosed: () => streams.last,
    reset() {
      requests.length = 0;
      queue.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function sendError(res: http.ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "request-id": "req_011Error", ...headers });
  res.end(JSON.stringify(anthropicErrorBody(type, message)));
}

async function answer(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  json: Json | undefined,
  behaviour: AnthropicBehaviour | undefined,
  apiKey: string,
  streams: { last: Promise<boolean> },
): Promise<void> {
  if (req.headers["x-api-key"] !== apiKey) return sendError(res, 401, "authentication_error", "invalid x-api-key");
  if (req.headers["anthropic-version"] !== "2023-06-01") return sendError(res, 400, "invalid_request_error", "anthropic-version: header is required");
  if (req.method === "GET" && req.url?.startsWith("/v1/models")) return answerModels(req, res);
  if (req.method !== "POST" || req.url !== "/v1/messages" || json === undefined) return sendError(res, 404, "not_found_error", "Not found");
  const problem = conversationProblem(json);
  if (problem !== undefined) return sendError(res, 400, "invalid_request_error", problem);
  if (behaviour?.kind === "error") return sendError(res, behaviour.status, behaviour.type, behaviour.message, behaviour.headers);
  const scripted = behaviour !== undefined && behaviour.kind === "answer" ? behaviour.answer : conversationAnswer(json);
  const headers = { "request-id": "req_011CFake", "anthropic-ratelimit-requests-limit": "4000", "anthropic-ratelimit-requests-remaining": "3999" };
  if (json.stream !== true) {
    res.writeHead(200, { "content-type": "application/json", ...headers });
    return void res.end(JSON.stringify(anthropicMessage(scripted)));
  }
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...headers });
  const closed = Promise.withResolvers<boolean>();
  streams.last = closed.promise;
  res.on("close", () => closed.resolve(res.writableFinished));
  const events = anthropicStreamEvents(scripted);
  const limit = behaviour?.kind === "stream-error" || behaviour?.kind === "cut" ? behaviour.after : events.length;
  for (const event of events.slice(0, limit)) {
    if (res.destroyed) return;
    res.write(sseText(event));
    const interval = behaviour?.kind === "answer" ? (behaviour.intervalMs ?? 0) : 0;
    if (interval > 0) await new Promise((resolve) => setTimeout(resolve, interval));
  }
  if (behaviour?.kind === "stream-error") res.write(sseText({ event: "error", data: anthropicErrorBody(behaviour.type, behaviour.message) }));
  res.end();
}

function answerModels(req: http.IncomingMessage, res: http.ServerResponse): void {
  const model = (id: string) => ({ type: "model", id, display_name: id, created_at: "2025-09-29T00:00:00Z" });
  const id = decodeURIComponent(req.url?.split("?")[0]?.slice("/v1/models/".length) ?? "");
  res.writeHead(200, { "content-type": "application/json", "request-id": "req_011Models" });
  if (id !== "") return void res.end(JSON.stringify(model(id)));
  res.end(JSON.stringify({ data: [model("claude-sonnet-4-5-20250929"), model("claude-haiku-4-5-20251001")], has_more: false, first_id: null, last_id: null }));
}

/** What the real API would refuse in a conversation, or undefined. */
function conversationProblem(body: Json): string | undefined {
  if (typeof body.max_tokens !== "number") return "max_tokens: Field required";
  const messages = body.messages as { role: string; content: Json[] | string }[];
  let previousToolUses: string[] = [];
  for (const [index, message] of messages.entries()) {
    if (index > 0 && messages[index - 1]?.role === message.role) return `messages: roles must alternate between "user" and "assistant"`;
    const blocks = typeof message.content === "string" ? [] : message.content;
    if (message.role === "user") {
      const results = blocks.filter((block) => block.type === "tool_result").map((block) => block.tool_use_id as string);
      const firstOther = blocks.findIndex((block) => block.type !== "tool_result");
      if (firstOther !== -1 && blocks.slice(firstOther).some((block) => block.type === "tool_result")) return `messages.${index}: tool_result blocks must come first`;
      const missing = previousToolUses.find((id) => !results.includes(id));
      if (missing !== undefined) return `messages.${index}: tool_use ids were found without tool_result blocks immediately after: ${missing}`;
      previousToolUses = [];
    } else {
      previousToolUses = blocks.filter((block) => block.type === "tool_use").map((block) => block.id as string);
    }
  }
  return undefined;
}

function conversationAnswer(body: Json): AnthropicAnswer {
  const messages = body.messages as { role: string; content: Json[] | string }[];
  const last = messages.at(-1);
  const blocks = typeof last?.content === "string" ? [{ type: "text", text: last.content }] : (last?.content ?? []);
  const toolResults = new Map(
    blocks.filter((block) => block.type === "tool_result").map((block) => [block.tool_use_id as string, typeof block.content === "string" ? block.content : JSON.stringify(block.content)]),
  );
  const lastUserText = blocks.filter((block) => block.type === "text").map((block) => block.text).join(" ");
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]).map((tool) => tool.name as string) : [];
  const scripted = scriptedAnswer({ toolNames: tools, toolResults, lastUserText });
  const thinking: AnthropicBlock[] = body.thinking === undefined ? [] : [{ type: "thinking", thinking: "Thinking it through." }];
  return {
    blocks: [...thinking, ...scripted.blocks.map((block): AnthropicBlock => (block.type === "text" ? block : { type: "tool_use", id: block.id, name: block.name, input: block.input }))],
    stopReason: scripted.stop,
    usage: { input_tokens: 40, output_tokens: 20, cache_read_input_tokens: 100, cache_creation_input_tokens: 10 },
  };
}
