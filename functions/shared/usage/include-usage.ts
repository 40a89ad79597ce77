/**
 * Token usage for streams whose client did not ask for it.
 *
 * OpenAI reports usage in a stream only with `stream_options.include_usage`.
 * When a client streams chat or completions without it, the gateway asks for
 * it anyway, and streaming/usage-filter.ts removes what that changes from the
 * client's stream. The client gets exactly the stream it would have got from
 * the provider directly; the gateway gets the token counts.
 *
 * The body the provider receives must mean what the gateway checked, so the
 * option is spliced into the client's bytes: every other byte stays as sent
 * (no re-serialisation, which would round `12345678901234567891` or turn
 * `1e999` into `null`, and would reorder nothing but still change bytes).
 */
import type { EndpointDefinition } from "../endpoints/catalogue.ts";
import type { JsonBody } from "../http/request-body.ts";
import { objectMembers } from "../http/json-scan.ts";

/** The request body to send upstream, and whether usage was added to it. */
export interface UsageRequest {
  readonly body: Uint8Array;
  readonly injected: boolean;
}

const STREAM_OPTIONS = Buffer.from('"stream_options":{"include_usage":true},');
const OPTIONS_OBJECT = Buffer.from('{"include_usage":true}');
const INCLUDE_USAGE = Buffer.from('"include_usage":true');
const TRUE = Buffer.from("true");
const COMMA = Buffer.from(",");

/**
 * Adds `stream_options.include_usage` to a streamed body of an endpoint that
 * takes the option, unless the client asked for usage itself or sent
 * `stream_options` of a type the provider will refuse anyway.
 */
export function requestStreamUsage(endpoint: EndpointDefinition, parsed: JsonBody, raw: Uint8Array): UsageRequest {
  const unchanged = { body: raw, injected: false };
  if (parsed.stream !== true || !endpoint.streamUsageOption) return unchanged;
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const top = objectMembers(bytes, bytes.indexOf(0x7b));
  const options = top.get("stream_options");
  if (options === undefined) {
    // The body is an object with at least "stream", so a comma after the new member is always right.
    return { body: splice(bytes, top.contentStart, top.contentStart, STREAM_OPTIONS), injected: true };
  }
  const value = parsed.stream_options;
  if (value === null) return { body: splice(bytes, options.valueStart, options.valueEnd, OPTIONS_OBJECT), injected: true };
  if (typeof value !== "object" || Array.isArray(value) || (value as JsonBody).include_usage === true) return unchanged;
  const inner = objectMembers(bytes, options.valueStart);
  const includeUsage = inner.get("include_usage");
  if (includeUsage !== undefined) return { body: splice(bytes, includeUsage.valueStart, includeUsage.valueEnd, TRUE), injected: true };
  const insert = inner.size === 0 ? INCLUDE_USAGE : Buffer.concat([INCLUDE_USAGE, COMMA]);
  return { body: splice(bytes, inner.contentStart, inner.contentStart, insert), injected: true };
}

function splice(bytes: Buffer, start: number, end: number, insert: Uint8Array): Buffer {
  return Buffer.concat([bytes.subarray(0, start), insert, bytes.subarray(end)]);
}
