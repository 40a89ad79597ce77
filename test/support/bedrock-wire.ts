/**
 * Amazon Bedrock's Converse wire as the service sends it, for the unit tests
 * and the fake Bedrock endpoint: ConverseStream's events in Bedrock's order
 * (API_runtime_ConverseStreamOutput: `messageStart`; per block an optional
 * `contentBlockStart` (tool use), `contentBlockDelta`s and
 * `contentBlockStop`; `messageStop`; `metadata` with usage last), each framed
 * by the AWS SDK's own event stream codec with both CRCs and the
 * `:event-type`, `:content-type` and `:message-type` headers, payloads padded
 * with `p` as Bedrock pads them; exception frames; and the non-streamed
 * Converse response of the same content.
 */
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { pieces } from "./anthropic-wire.ts";

/** One content block of a scripted answer. */
export type BedrockBlock =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "reasoning"; readonly text: string }
  | { readonly type: "toolUse"; readonly toolUseId: string; readonly name: string; readonly input: Record<string, unknown> };

/** A scripted answer. */
export interface BedrockAnswer {
  readonly blocks: readonly BedrockBlock[];
  readonly stopReason: string;
  readonly usage?: { inputTokens: number; outputTokens: number; cacheReadInputTokens?: number; cacheWriteInputTokens?: number };
}

/** One ConverseStream event: its type and payload. */
export interface BedrockEvent {
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

const DEFAULT_USAGE = { inputTokens: 30, outputTokens: 15 };
const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString("utf8"),
  (text) => Buffer.from(text, "utf8"),
);

/** The ConverseStream events of an answer. */
export function converseStreamEvents(answer: BedrockAnswer): BedrockEvent[] {
  const events: BedrockEvent[] = [{ type: "messageStart", payload: { role: "assistant" } }];
  answer.blocks.forEach((block, contentBlockIndex) => {
    if (block.type === "toolUse") {
      events.push({ type: "contentBlockStart", payload: { contentBlockIndex, start: { toolUse: { toolUseId: block.toolUseId, name: block.name } } } });
      for (const input of pieces(JSON.stringify(block.input), 5)) events.push({ type: "contentBlockDelta", payload: { contentBlockIndex, delta: { toolUse: { input } } } });
    } else if (block.type === "reasoning") {
      for (const text of pieces(block.text, 8)) events.push({ type: "contentBlockDelta", payload: { contentBlockIndex, delta: { reasoningContent: { text } } } });
      events.push({ type: "contentBlockDelta", payload: { contentBlockIndex, delta: { reasoningContent: { signature: "ErcBCkgIAhABGAIiQ" } } } });
    } else {
      for (const text of pieces(block.text, 6)) events.push({ type: "contentBlockDelta", payload: { contentBlockIndex, delta: { text } } });
    }
    events.push({ type: "contentBlockStop", payload: { contentBlockIndex } });
  });
  events.push({ type: "messageStop", payload: { stopReason: answer.stopReason } });
  const usage = { ...DEFAULT_USAGE, ...answer.usage };
  const total = usage.inputTokens + usage.outputTokens + (usage.cacheReadInputTokens ?? 0) + (usage.cacheWriteInputTokens ?? 0);
  events.push({ type: "metadata", payload: { usage: { ...usage, totalTokens: total }, metrics: { latencyMs: 321 } } });
  return events;
}

/** An event as a frame, CRCs included; the payload padded with `p` as Bedrock pads it. */
export function eventFrame(event: BedrockEvent): Uint8Array {
  const padded = { ...event.payload, p: "abcdefghijklmnopqrstuvwxyzABCDEF".slice(0, 1 + (JSON.stringify(event.payload).length % 24)) };
  return codec.encode({
    headers: {
      ":event-type": { type: "string", value: event.type },
      ":content-type": { type: "string", value: "application/json" },
      ":message-type": { type: "string", value: "event" },
    },
    body: Buffer.from(JSON.stringify(padded)),
  });
}

/** An exception frame (`throttlingException`, `modelStreamErrorException`, …). */
export function exceptionFrame(type: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ":exception-type": { type: "string", value: type },
      ":content-type": { type: "string", value: "application/json" },
      ":message-type": { type: "string", value: "exception" },
    },
    body: Buffer.from(JSON.stringify({ message })),
  });
}

/** The non-streamed Converse response of an answer. */
export function converseResponse(answer: BedrockAnswer): Record<string, unknown> {
  const usage = { ...DEFAULT_USAGE, ...answer.usage };
  const content = answer.blocks.map((block) => {
    if (block.type === "text") return { text: block.text };
    if (block.type === "reasoning") return { reasoningContent: { reasoningText: { text: block.text, signature: "ErcBCkgIAhABGAIiQ" } } };
    return { toolUse: { toolUseId: block.toolUseId, name: block.name, input: block.input } };
  });
  return {
    output: { message: { role: "assistant", content } },
    stopReason: answer.stopReason,
    usage: { ...usage, totalTokens: usage.inputTokens + usage.outputTokens + (usage.cacheReadInputTokens ?? 0) + (usage.cacheWriteInputTokens ?? 0) },
    metrics: { latencyMs: 321 },
  };
}
