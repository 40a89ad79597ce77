/**
 * ConverseStream events → OpenAI chat completion chunks, one message at a
 * time, state passed in (STYLE.md 16). The sequence is Bedrock's
 * (API_runtime_ConverseStreamOutput): `messageStart`, per content block
 * `contentBlockStart` (tool use only), `contentBlockDelta`s (`text`,
 * `toolUse.input` pieces, `reasoningContent`) and `contentBlockStop`, then
 * `messageStop` (stop reason) and `metadata` (usage) last. An exception
 * frame (`throttlingException`, `modelStreamErrorException`, …) ends the
 * client's stream with an error event.
 */
import {
  createChunkState,
  endChunks,
  errorChunks,
  finishChunks,
  reasoningChunks,
  startChunks,
  textChunks,
  toolArgumentsChunks,
  toolStartChunks,
  type ChunkStreamState,
} from "../translate/chat-chunks.ts";
import type { FinishReason } from "../translate/chat-result.ts";
import { isObject } from "../translate/json.ts";
import { TRUNCATED } from "../translate/sse-stream.ts";
import { bedrockError } from "./errors.ts";
import type { StreamMessage } from "./event-stream.ts";
import { converseUsage } from "./usage.ts";

/** Converse's stop reasons → OpenAI's finish reasons. */
export const BEDROCK_FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  end_turn: "stop",
  stop_sequence: "stop",
  tool_use: "tool_calls",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  guardrail_intervened: "content_filter",
  content_filtered: "content_filter",
};

/** OpenAI's finish reason for a stop reason (an unknown one is a plain stop). */
export function bedrockFinishReason(stopReason: unknown): FinishReason {
  return (typeof stopReason === "string" ? BEDROCK_FINISH_REASONS[stopReason] : undefined) ?? "stop";
}

/** Starts the state of one stream; Converse has no message id, so the provider's request id is the completion's. */
export function createBedrockStreamState(input: { id: string; model: string; created: number; includeUsage: boolean; jsonResponse: boolean }): ChunkStreamState {
  return createChunkState(input);
}

/** The OpenAI events for one event stream message. */
export function bedrockMessageToChunks(state: ChunkStreamState, message: StreamMessage): string[] {
  if (message.kind === "exception") {
    const error = bedrockError(message.type, message.message);
    return errorChunks(state, { message: error.message, type: error.type, code: error.code });
  }
  const { payload } = message;
  switch (message.type) {
    case "messageStart":
      return startChunks(state);
    case "contentBlockStart": {
      const start = isObject(payload.start) ? payload.start : {};
      const toolUse = isObject(start.toolUse) ? start.toolUse : undefined;
      if (toolUse === undefined) return startChunks(state);
      return toolStartChunks(state, blockKey(payload), String(toolUse.toolUseId ?? ""), String(toolUse.name ?? ""));
    }
    case "contentBlockDelta":
      return blockDelta(state, blockKey(payload), isObject(payload.delta) ? payload.delta : {});
    case "messageStop":
      return finishChunks(state, bedrockFinishReason(payload.stopReason));
    case "metadata":
      // The last event: usage, after messageStop.
      state.usage = converseUsage(payload.usage);
      return bedrockStreamEnd(state);
    default:
      // contentBlockStop, and event types added after this was written.
      return [];
  }
}

/** The OpenAI events when the provider's body ends: `[DONE]` after a stop, an error event before one. */
export function bedrockStreamEnd(state: ChunkStreamState): string[] {
  return state.finished ? endChunks(state) : errorChunks(state, TRUNCATED);
}

function blockKey(payload: Record<string, unknown>): number {
  return typeof payload.contentBlockIndex === "number" ? payload.contentBlockIndex : -1;
}

function blockDelta(state: ChunkStreamState, key: number, delta: Record<string, unknown>): string[] {
  if (typeof delta.text === "string") return textChunks(state, delta.text);
  if (isObject(delta.toolUse) && typeof delta.toolUse.input === "string") return toolArgumentsChunks(state, key, delta.toolUse.input);
  if (isObject(delta.reasoningContent) && typeof delta.reasoningContent.text === "string") return reasoningChunks(state, delta.reasoningContent.text);
  // reasoningContent.signature and redactedContent: nothing an OpenAI client reads.
  return [];
}
