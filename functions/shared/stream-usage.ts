/**
 * Token usage for streams whose client did not ask for it.
 *
 * OpenAI reports usage in a stream only with `stream_options.include_usage`.
 * When a client streams chat or completions without it, the gateway asks for
 * it anyway and removes what that changes from the client's stream: the
 * usage-only chunk (`"choices":[]`) and the `"usage":null` field it adds to
 * every other chunk. The client gets exactly the stream it would have got
 * from the provider directly; the gateway gets the token counts.
 */
import type { JsonBody } from "./request-body.ts";
import type { Route } from "./routes.ts";

/** The request body to send upstream, and whether usage was added to it. */
export interface UsageRequest {
  readonly body: Uint8Array;
  readonly injected: boolean;
}

const INCLUDE_USAGE = Buffer.from('"stream_options":{"include_usage":true},');

/**
 * Adds `stream_options.include_usage` to a streamed chat or completions body
 * that lacks it. The client's bytes are kept: the field is spliced in after
 * the opening brace, unless other stream options need merging.
 */
export function requestStreamUsage(route: Route, parsed: JsonBody, raw: Uint8Array): UsageRequest {
  if (parsed.stream !== true || (route.endpoint !== "chat.completions" && route.endpoint !== "completions")) {
    return { body: raw, injected: false };
  }
  const options = parsed.stream_options;
  if (options === undefined || options === null) {
    // The body is an object with at least "stream", so a comma after the new field is always right.
    const brace = raw.indexOf(0x7b);
    return { body: Buffer.concat([raw.subarray(0, brace + 1), INCLUDE_USAGE, raw.subarray(brace + 1)]), injected: true };
  }
  if (typeof options !== "object" || Array.isArray(options) || (options as JsonBody).include_usage === true) {
    return { body: raw, injected: false };
  }
  const merged = { ...parsed, stream_options: { ...(options as JsonBody), include_usage: true } };
  return { body: Buffer.from(JSON.stringify(merged)), injected: true };
}

/** Removes what an injected `include_usage` added to a stream. */
export interface UsageChunkFilter {
  /** Takes a chunk as read; returns the bytes to relay now (whole events only). */
  push(chunk: Uint8Array): Uint8Array;
  /** What is left at the end of the stream. */
  flush(): Uint8Array;
}

const EMPTY = new Uint8Array(0);
const EVENT_END = Buffer.from("\n\n");

/** Creates the filter for one stream. */
export function createUsageChunkFilter(): UsageChunkFilter {
  let pending: Buffer | undefined;
  return {
    push(chunk) {
      const bytes = pending === undefined ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([pending, chunk]);
      const end = bytes.lastIndexOf(EVENT_END);
      if (end === -1) {
        pending = bytes;
        return EMPTY;
      }
      pending = end + 2 < bytes.length ? bytes.subarray(end + 2) : undefined;
      return Buffer.from(filterEvents(bytes.toString("utf8", 0, end + 2)));
    },
    flush() {
      const rest = pending;
      pending = undefined;
      return rest === undefined ? EMPTY : Buffer.from(filterEvents(rest.toString("utf8")));
    },
  };
}

const USAGE_NULL = /,"usage":null|"usage":null,/g;

function filterEvents(text: string): string {
  if (!text.includes('"usage":')) return text;
  return text
    .split("\n\n")
    .filter((event) => !isUsageOnlyChunk(event))
    .map((event) => event.replace(USAGE_NULL, ""))
    .join("\n\n");
}

function isUsageOnlyChunk(event: string): boolean {
  return event.startsWith("data: {") && event.includes('"choices":[]') && event.includes('"usage":{');
}
