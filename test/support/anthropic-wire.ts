/**
 * Anthropic's Messages wire as its API sends it, for the unit tests and the
 * fake Anthropic server: a message's stream events in Anthropic's order
 * (docs.anthropic.com/en/api/messages-streaming): `message_start` with the
 * input usage, a `ping`, per content block `content_block_start`, its deltas
 * (`text_delta` in word pieces, `input_json_delta` in small JSON pieces,
 * `thinking_delta` then `signature_delta`) and `content_block_stop`, then
 * `message_delta` with the stop reason and the output usage, and
 * `message_stop`; and the non-streamed Message of the same content.
 */

/** One content block of a scripted answer. */
export type AnthropicBlock =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "thinking"; readonly thinking: string }
  | { readonly type: "tool_use"; readonly id: string; readonly name: string; readonly input: Record<string, unknown> };

/** A scripted answer. */
export interface AnthropicAnswer {
  readonly id?: string;
  readonly model?: string;
  readonly blocks: readonly AnthropicBlock[];
  readonly stopReason: string;
  readonly usage?: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number; cache_creation_input_tokens?: number };
}

/** One SSE event: its `event:` name and its JSON data. */
export interface AnthropicEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

const DEFAULT_USAGE = { input_tokens: 25, output_tokens: 12, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

/** Splits text into pieces of at most `size` characters (at least one piece). */
export function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let index = 0; index < text.length; index += size) out.push(text.slice(index, index + size));
  return out.length === 0 ? [""] : out;
}

/** The stream events of an answer. */
export function anthropicStreamEvents(answer: AnthropicAnswer): AnthropicEvent[] {
  const usage = { ...DEFAULT_USAGE, ...answer.usage };
  const id = answer.id ?? "msg_01FakeAnthropic";
  const model = answer.model ?? "claude-sonnet-4-5";
  const events: AnthropicEvent[] = [
    {
      event: "message_start",
      data: {
        type: "message_start",
        message: {
          id,
          type: "message",
          role: "assistant",
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: usage.input_tokens, cache_creation_input_tokens: usage.cache_creation_input_tokens, cache_read_input_tokens: usage.cache_read_input_tokens, output_tokens: 1 },
        },
      },
    },
    { event: "ping", data: { type: "ping" } },
  ];
  answer.blocks.forEach((block, index) => {
    if (block.type === "text") {
      events.push({ event: "content_block_start", data: { type: "content_block_start", index, content_block: { type: "text", text: "" } } });
      for (const text of pieces(block.text, 6)) events.push(delta(index, { type: "text_delta", text }));
    } else if (block.type === "thinking") {
      events.push({ event: "content_block_start", data: { type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } } });
      for (const thinking of pieces(block.thinking, 8)) events.push(delta(index, { type: "thinking_delta", thinking }));
      events.push(delta(index, { type: "signature_delta", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pk" }));
    } else {
      events.push({ event: "content_block_start", data: { type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } } });
      events.push(delta(index, { type: "input_json_delta", partial_json: "" }));
      for (const partial_json of pieces(JSON.stringify(block.input), 5)) events.push(delta(index, { type: "input_json_delta", partial_json }));
    }
    events.push({ event: "content_block_stop", data: { type: "content_block_stop", index } });
  });
  events.push({
    event: "message_delta",
    data: { type: "message_delta", delta: { stop_reason: answer.stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } },
  });
  events.push({ event: "message_stop", data: { type: "message_stop" } });
  return events;
}

function delta(index: number, value: Record<string, unknown>): AnthropicEvent {
  return { event: "content_block_delta", data: { type: "content_block_delta", index, delta: value } };
}

/** An event as SSE text. */
export function sseText(event: AnthropicEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** The non-streamed Message of an answer. */
export function anthropicMessage(answer: AnthropicAnswer): Record<string, unknown> {
  return {
    id: answer.id ?? "msg_01FakeAnthropic",
    type: "message",
    role: "assistant",
    model: answer.model ?? "claude-sonnet-4-5",
    content: answer.blocks.map((block) => (block.type === "thinking" ? { ...block, signature: "EqQBCgIYAhIM" } : block)),
    stop_reason: answer.stopReason,
    stop_sequence: null,
    usage: { ...DEFAULT_USAGE, ...answer.usage },
  };
}

/** An error event or body, as Anthropic sends them. */
export function anthropicErrorBody(type: string, message: string): Record<string, unknown> {
  return { type: "error", error: { type, message } };
}
