import { describe, expect, it } from "vitest";
import { anthropicEventToChunks, createAnthropicStreamState } from "../../functions/shared/providers/anthropic/stream.ts";
import { translateSseStream } from "../../functions/shared/providers/translate/sse-stream.ts";
import { anthropicStreamEvents, sseText } from "../support/anthropic-wire.ts";
import { parseSse } from "../support/chunk-events.ts";

/** Runs SSE chunks through the Anthropic translation; returns the OpenAI events and how many chunks were read. */
async function translate(chunks: string[]): Promise<{ events: unknown[]; read: number }> {
  const state = createAnthropicStreamState({ model: "m", created: 1, includeUsage: false, jsonResponse: false });
  let read = 0;
  async function* body() {
    for (const chunk of chunks) {
      read += 1;
      yield Buffer.from(chunk);
    }
  }
  let text = "";
  for await (const piece of translateSseStream(body(), state.chunks, (event) => anthropicEventToChunks(state, event))) text += piece;
  return { events: parseSse(text), read };
}

const whole = anthropicStreamEvents({ blocks: [{ type: "text", text: "Hello there" }], stopReason: "end_turn" }).map(sseText);

describe("a provider's SSE body through a translation", () => {
  it("reads events split anywhere, CRLF-framed too", async () => {
    const text = whole.join("").replaceAll("\n", "\r\n");
    const { events } = await translate([...text].map((char) => char));
    expect(events.at(-1)).toBe("[DONE]");
  });

  it("ends with an error event, not a silent end, when the body stops before the provider's last event", async () => {
    const { events } = await translate(whole.slice(0, 4));
    expect(events.at(-1)).toEqual({ error: { message: "The provider's stream ended before it was complete.", type: "server_error", param: null, code: "upstream_stream_truncated" } });
  });

  it("ends with an error event on an event whose data is not JSON", async () => {
    const { events } = await translate([whole[0] as string, "event: content_block_delta\ndata: {not json\n\n", ...whole.slice(1)]);
    expect(events.at(-1)).toMatchObject({ error: { code: "upstream_malformed_stream" } });
  });

  it("stops reading the provider's body after [DONE]", async () => {
    const { read } = await translate([...whole, "event: ping\ndata: {\"type\":\"ping\"}\n\n", "more"]);
    expect(read).toBe(whole.length);
  });
});
