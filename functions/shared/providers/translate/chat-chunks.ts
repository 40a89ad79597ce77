/**
 * Writing OpenAI's `chat.completion.chunk` stream from a provider's native
 * events, with the per-stream state passed in and out explicitly (Portkey's
 * `streamState`, STYLE.md 16). Both translating providers' stream.ts call
 * these writers; each returns the SSE events to send, `data: …\n\n` each.
 *
 * What OpenAI clients rely on, and what others got wrong:
 * - the first chunk carries `role: "assistant"`;
 * - tool calls get dense indices 0, 1, … in the order they start, kept for
 *   their argument pieces: never the provider's content-block index
 *   (LiteLLM #5231, agentgateway #2965: the first call after a text block was
 *   index 1) and never -1 (bedrock-access-gateway #203, #247);
 * - text next to tool calls is kept, in order;
 * - `finish_reason` comes in a chunk of its own, then, only when the client
 *   asked with `include_usage`, a usage chunk with `choices: []` (every
 *   other chunk then has `"usage": null`, as OpenAI's do), then `[DONE]`;
 * - a provider error in mid-stream ends the stream with `data: {"error":…}`
 *   and no `[DONE]` (Portkey #722/#1797 turned it into a clean end).
 */
import { JSON_RESPONSE_TOOL, type FinishReason, type OpenAIUsage } from "./chat-result.ts";

/** One stream's state. */
export interface ChunkStreamState {
  /** The completion's id (the provider's message id once it is known). */
  id: string;
  model: string;
  readonly created: number;
  readonly includeUsage: boolean;
  /** Whether the JSON response tool (response_format) answers as content. */
  readonly jsonResponse: boolean;
  started: boolean;
  /** Provider block key → the dense OpenAI tool-call index, or "json" for the JSON response tool. */
  readonly blocks: Map<number | string, number | "json">;
  nextToolIndex: number;
  usage?: OpenAIUsage;
  /** The finish chunk was sent. */
  finished: boolean;
  /** `[DONE]` or an error event was sent: nothing more may follow. */
  ended: boolean;
}

/** Starts a stream's state. */
export function createChunkState(input: { id: string; model: string; created: number; includeUsage: boolean; jsonResponse: boolean }): ChunkStreamState {
  return { ...input, started: false, blocks: new Map(), nextToolIndex: 0, finished: false, ended: false };
}

/** An OpenAI error as a stream's last event. */
export interface StreamError {
  readonly message: string;
  readonly type: string;
  readonly code: string | null;
}

const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;

function chunk(state: ChunkStreamState, delta: Record<string, unknown>, finishReason: FinishReason | null = null): string {
  return event({
    id: state.id,
    object: "chat.completion.chunk",
    created: state.created,
    model: state.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(state.includeUsage ? { usage: null } : {}),
  });
}

/** The first chunk (role), once. */
export function startChunks(state: ChunkStreamState): string[] {
  if (state.started || state.ended) return [];
  state.started = true;
  return [chunk(state, { role: "assistant", content: "", refusal: null })];
}

/** A piece of the answer's text. */
export function textChunks(state: ChunkStreamState, text: string): string[] {
  if (text === "" || state.ended) return [];
  return [...startChunks(state), chunk(state, { content: text })];
}

/** A piece of the model's reasoning, in `delta.reasoning_content`. */
export function reasoningChunks(state: ChunkStreamState, text: string): string[] {
  if (text === "" || state.ended) return [];
  return [...startChunks(state), chunk(state, { reasoning_content: text })];
}

/** A tool call starts: its id and name, at the next dense index. */
export function toolStartChunks(state: ChunkStreamState, key: number | string, id: string, name: string): string[] {
  if (state.ended) return [];
  const start = startChunks(state);
  if (state.jsonResponse && name === JSON_RESPONSE_TOOL) {
    state.blocks.set(key, "json");
    return start;
  }
  const index = state.nextToolIndex;
  state.nextToolIndex += 1;
  state.blocks.set(key, index);
  return [...start, chunk(state, { tool_calls: [{ index, id, type: "function", function: { name, arguments: "" } }] })];
}

/** A piece of a tool call's arguments (the JSON response tool's pieces are content). */
export function toolArgumentsChunks(state: ChunkStreamState, key: number | string, piece: string): string[] {
  const index = state.blocks.get(key);
  if (index === undefined || piece === "" || state.ended) return [];
  if (index === "json") return [chunk(state, { content: piece })];
  return [chunk(state, { tool_calls: [{ index, function: { arguments: piece } }] })];
}

/** The finish chunk, once. A JSON response tool's `tool_calls` finish is a `stop`: the client asked for content. */
export function finishChunks(state: ChunkStreamState, reason: FinishReason): string[] {
  if (state.finished || state.ended) return [];
  state.finished = true;
  const onlyJson = reason === "tool_calls" && state.nextToolIndex === 0 && [...state.blocks.values()].includes("json");
  return [...startChunks(state), chunk(state, {}, onlyJson ? "stop" : reason)];
}

/** The clean end: the usage chunk when asked for, then `[DONE]`. */
export function endChunks(state: ChunkStreamState): string[] {
  if (state.ended) return [];
  state.ended = true;
  const usage =
    state.includeUsage && state.usage !== undefined
      ? [event({ id: state.id, object: "chat.completion.chunk", created: state.created, model: state.model, choices: [], usage: state.usage })]
      : [];
  return [...usage, "data: [DONE]\n\n"];
}

/** A provider error: the stream's last event, with no `[DONE]`. */
export function errorChunks(state: ChunkStreamState, error: StreamError): string[] {
  if (state.ended) return [];
  state.ended = true;
  return [event({ error: { message: error.message, type: error.type, param: null, code: error.code } })];
}
