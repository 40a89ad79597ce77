/**
 * Runs a provider's server-sent events through a translator as they arrive:
 * the gateway's one SSE framer (streaming/sse-framer.ts: LF, CRLF and CR line
 * ends, bounded events) splits the body, each event's JSON `data` goes to
 * `translate`, and the OpenAI events it returns are handed on at once.
 *
 * The translated stream always ends with `[DONE]` or an error event: a body
 * that ends before the provider's last event, or an event whose data is not
 * JSON, ends it with an error event (OpenAI's `{"error":…}`), never with a
 * silent clean end.
 */
import type { BodySource } from "../../http/wire.ts";
import { createSseFramer, type SseEvent } from "../../streaming/sse-framer.ts";
import { errorChunks, type ChunkStreamState } from "./chat-chunks.ts";
import { isObject } from "./json.ts";

/** Translates one event's data into OpenAI events. */
export type EventTranslator = (data: Record<string, unknown>) => string[];

/** The stream ended before the provider's final event. */
export const TRUNCATED = { message: "The provider's stream ended before it was complete.", type: "server_error", code: "upstream_stream_truncated" } as const;
/** An event's data was not a JSON object. */
export const MALFORMED = { message: "The provider sent a malformed stream event.", type: "server_error", code: "upstream_malformed_stream" } as const;

/** The OpenAI events for a provider's SSE body. */
export async function* translateSseStream(body: BodySource, state: ChunkStreamState, translate: EventTranslator): AsyncGenerator<string> {
  const events: SseEvent[] = [];
  const framer = createSseFramer({ event: (event) => void events.push(event) });
  const drain = function* (): Generator<string> {
    for (const event of events.splice(0)) {
      for (const text of translateEvent(event, state, translate)) yield text;
      if (state.ended) return;
    }
  };
  for await (const chunk of body) {
    framer.push(chunk);
    yield* drain();
    // After [DONE] or an error nothing more is read: leaving the loop releases the provider's body.
    if (state.ended) return;
  }
  framer.end();
  yield* drain();
  if (!state.ended) yield* errorChunks(state, TRUNCATED);
}

function translateEvent(event: SseEvent, state: ChunkStreamState, translate: EventTranslator): string[] {
  const data = event.lines.filter((line) => line.startsWith("data:")).map((line) => line.slice(line[5] === " " ? 6 : 5));
  if (data.length === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.join("\n"));
  } catch {
    parsed = undefined;
  }
  return isObject(parsed) ? translate(parsed) : errorChunks(state, MALFORMED);
}
