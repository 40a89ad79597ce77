/**
 * A cached answer as stored, and replayed: the status, the headers worth
 * keeping, and the exact bytes the first client received. A stream is
 * replayed event by event, so the SDK reads it like a live one.
 */
import { headerValue, isEventStream, type IncomingHeaders } from "../http/headers.ts";
import { splitSseEvents } from "../streaming/sse-framer.ts";

/** What is kept of an answer. */
export interface CachedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/**
 * Headers that describe the answer itself; ids, timings and rate limits
 * belong to the first call only, and account headers are never relayed.
 */
const KEPT_HEADERS = ["content-type", "openai-version"];

/** The headers of an upstream answer that a replay keeps. */
export function keptHeaders(headers: IncomingHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = headerValue(headers, name);
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

/** Encodes an entry: a 4-byte length, the JSON of status and headers, then the body bytes. */
export function encodeCachedResponse(response: CachedResponse): Uint8Array {
  const meta = Buffer.from(JSON.stringify({ status: response.status, headers: response.headers }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(meta.byteLength);
  return Buffer.concat([length, meta, response.body]);
}

/** Decodes an entry; undefined when it is not one (a store shared with something else, or corrupted). */
export function decodeCachedResponse(bytes: Uint8Array): CachedResponse | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.byteLength < 4) return undefined;
  const length = buffer.readUInt32BE(0);
  if (4 + length > buffer.byteLength) return undefined;
  try {
    const meta = JSON.parse(buffer.toString("utf8", 4, 4 + length)) as { status: number; headers: Record<string, string> };
    if (typeof meta.status !== "number" || typeof meta.headers !== "object") return undefined;
    return { status: meta.status, headers: meta.headers, body: buffer.subarray(4 + length) };
  } catch {
    return undefined;
  }
}

/** The body as chunks to relay: one per SSE event for a stream (whatever its line ends), else whole. */
export function replayChunks(response: CachedResponse): Uint8Array[] {
  const body = Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength);
  if (!isEventStream(response.headers["content-type"])) return [body];
  // Cut the stored bytes where the events end, so the replay is byte for byte what was stored.
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const text of splitSseEvents(body)) {
    const end = start + Buffer.byteLength(text);
    chunks.push(body.subarray(start, end));
    start = end;
  }
  // Not valid UTF-8 (decoding changed the lengths): replay it whole rather than cut it wrongly.
  return start === body.byteLength ? chunks : [body];
}
