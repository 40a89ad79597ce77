/**
 * Anthropic's stream events → OpenAI chat completion chunks, one event at a
 * time, state passed in (STYLE.md 16). The event sequence is Messages'
 * (docs.anthropic.com/en/api/messages-streaming): `message_start`, then per
 * content block `content_block_start`, `content_block_delta`s (`text_delta`,
 * `input_json_delta`, `thinking_delta`, `signature_delta`) and
 * `content_block_stop`, then `message_delta` (stop reason, cumulative usage)
 * and `message_stop`; `ping` anywhere; `error` (e.g. `overloaded_error`) in
 * place of the rest. Events of types added later are passed over, as
 * Anthropic's versioning policy asks of clients.
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
import { anthropicError } from "./errors.ts";
import { anthropicToOpenAIUsage, NO_USAGE, readAnthropicUsage, type AnthropicUsage } from "./usage.ts";

type Json = Record<string, unknown>;

/** One Anthropic stream's state. */
export interface AnthropicStreamState {
  readonly chunks: ChunkStreamState;
  usage: AnthropicUsage;
}

/** Starts the state of one stream. */
export function createAnthropicStreamState(input: { model: string; created: number; includeUsage: boolean; jsonResponse: boolean }): AnthropicStreamState {
  return { chunks: createChunkState({ id: "chatcmpl-anthropic", ...input }), usage: NO_USAGE };
}

/** Messages' stop reasons → OpenAI's finish reasons. */
export const ANTHROPIC_FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  end_turn: "stop",
  stop_sequence: "stop",
  pause_turn: "stop",
  tool_use: "tool_calls",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  refusal: "content_filter",
};

/** OpenAI's finish reason for a stop reason (an unknown one is a plain stop). */
export function anthropicFinishReason(stopReason: unknown): FinishReason {
  return (typeof stopReason === "string" ? ANTHROPIC_FINISH_REASONS[stopReason] : undefined) ?? "stop";
}

/** The OpenAI events for one Anthropic event (its `data` JSON). */
export function anthropicEventToChunks(state: AnthropicStreamState, event: Json): string[] {
  const { chunks } = state;
  switch (event.type) {
    case "message_start": {
      const message = isObject(event.message) ? event.message : {};
      if (typeof message.id === "string") chunks.id = message.id;
      // The model that answered (a dated snapshot of an alias), as OpenAI names it in its chunks.
      if (typeof message.model === "string") chunks.model = message.model;
      state.usage = readAnthropicUsage(message.usage, state.usage);
      return startChunks(chunks);
    }
    case "content_block_start":
      return blockStart(state, event.index, isObject(event.content_block) ? event.content_block : {});
    case "content_block_delta":
      return blockDelta(state, event.index, isObject(event.delta) ? event.delta : {});
    case "message_delta": {
      state.usage = readAnthropicUsage(event.usage, state.usage);
      const delta = isObject(event.delta) ? event.delta : {};
      return delta.stop_reason === undefined || delta.stop_reason === null ? [] : finishChunks(chunks, anthropicFinishReason(delta.stop_reason));
    }
    case "message_stop":
      chunks.usage = anthropicToOpenAIUsage(state.usage);
      return [...finishChunks(chunks, "stop"), ...endChunks(chunks)];
    case "error": {
      const error = anthropicError(event, 500);
      return errorChunks(chunks, { message: error.message, type: error.type, code: error.code });
    }
    default:
      // ping, content_block_stop, and event types added after this was written.
      return [];
  }
}

function blockStart(state: AnthropicStreamState, index: unknown, block: Json): string[] {
  const key = typeof index === "number" ? index : -1;
  switch (block.type) {
    case "text":
      return [...startChunks(state.chunks), ...textChunks(state.chunks, typeof block.text === "string" ? block.text : "")];
    case "thinking":
      return [...startChunks(state.chunks), ...reasoningChunks(state.chunks, typeof block.thinking === "string" ? block.thinking : "")];
    case "tool_use":
      return toolStartChunks(state.chunks, key, String(block.id ?? ""), String(block.name ?? ""));
    default:
      return startChunks(state.chunks);
  }
}

function blockDelta(state: AnthropicStreamState, index: unknown, delta: Json): string[] {
  const key = typeof index === "number" ? index : -1;
  switch (delta.type) {
    case "text_delta":
      return textChunks(state.chunks, typeof delta.text === "string" ? delta.text : "");
    case "thinking_delta":
      return reasoningChunks(state.chunks, typeof delta.thinking === "string" ? delta.thinking : "");
    case "input_json_delta":
      return toolArgumentsChunks(state.chunks, key, typeof delta.partial_json === "string" ? delta.partial_json : "");
    default:
      // signature_delta, citations_delta: nothing an OpenAI client reads.
      return [];
  }
}
