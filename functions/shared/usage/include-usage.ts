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
import type { JsonBody } from "../http/request-body.ts";
import type { Route } from "../endpoints/match.ts";

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
  if (!("stream_options" in parsed)) {
    // The body is an object with at least "stream", so a comma after the new field is always right.
    const brace = raw.indexOf(0x7b);
    return { body: Buffer.concat([raw.subarray(0, brace + 1), INCLUDE_USAGE, raw.subarray(brace + 1)]), injected: true };
  }
  if (options !== null && (typeof options !== "object" || Array.isArray(options) || (options as JsonBody).include_usage === true)) {
    return { body: raw, injected: false };
  }
  const merged = { ...parsed, stream_options: { ...(options as JsonBody | null), include_usage: true } };
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
/** SSE events end with a blank line: LF LF, CRLF CRLF or CR CR (any mix of line ends). */
const EVENT_END = /(?:\r\n|\r|\n)(?:\r\n|\r|\n)/g;

/** Creates the filter for one stream. */
export function createUsageChunkFilter(): UsageChunkFilter {
  let pending = "";
  const decoder = new TextDecoder();
  return {
    push(chunk) {
      const text = pending + decoder.decode(chunk, { stream: true });
      const end = lastEventEnd(text);
      if (end === -1) {
        pending = text;
        return EMPTY;
      }
      pending = text.slice(end);
      return Buffer.from(filterEvents(text.slice(0, end)));
    },
    flush() {
      const rest = pending + decoder.decode();
      pending = "";
      return rest === "" ? EMPTY : Buffer.from(filterEvents(rest));
    },
  };
}

/** The index just past the last complete event, or -1. */
function lastEventEnd(text: string): number {
  let end = -1;
  for (const match of text.matchAll(EVENT_END)) end = match.index + match[0].length;
  return end;
}

// Compact JSON (OpenAI's) and JSON with spaces (other OpenAI-compatible servers).
const USAGE_NULL = /,\s*"usage"\s*:\s*null|"usage"\s*:\s*null\s*,/g;
const EMPTY_CHOICES = /"choices"\s*:\s*\[\s*\]/;
const USAGE_OBJECT = /"usage"\s*:\s*\{/;

/** Drops usage-only events and `"usage": null` fields; every other byte, separators included, is kept. */
function filterEvents(text: string): string {
  if (!text.includes('"usage"')) return text;
  let kept = "";
  let start = 0;
  for (const match of text.matchAll(EVENT_END)) {
    const end = match.index + match[0].length;
    kept += filterEvent(text.slice(start, match.index), match[0]);
    start = end;
  }
  return start < text.length ? kept + filterEvent(text.slice(start), "") : kept;
}

function filterEvent(event: string, separator: string): string {
  if (!event.includes('"usage"')) return event + separator;
  if (/^data:/m.test(event) && EMPTY_CHOICES.test(event) && USAGE_OBJECT.test(event)) return "";
  return event.replace(USAGE_NULL, "") + separator;
}
