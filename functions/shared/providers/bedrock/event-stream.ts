/**
 * Bedrock's binary event stream (`application/vnd.amazon.eventstream`), as
 * ConverseStream sends it: each message is a 4-byte total length, a 4-byte
 * headers length, a CRC32 of those 8 bytes, the headers, the payload and a
 * CRC32 of the whole message. Messages are decoded by the AWS SDK's own codec
 * (`@smithy/eventstream-codec`), which checks both CRCs; nothing here reads
 * an offset past the length prefix (STYLE.md 18: Portkey's `readAWSStream`
 * skipped the CRCs and ignored `:message-type`).
 *
 * The codec's own splitter (`getChunkedStream`) allocates whatever length the
 * prefix claims; this one refuses a message past {@link MAX_MESSAGE_BYTES}
 * (the event stream format's own limit) before allocating it.
 *
 * `:message-type` says what a message is: an `event` (`:event-type` names
 * it, the payload is JSON), an `exception` (`:exception-type` names it, e.g.
 * `throttlingException`, the payload is `{"message":…}`: Portkey #1047 lost
 * these), or an `error` (`:error-code`, `:error-message` headers).
 */
import type { EventStreamCodec } from "@smithy/eventstream-codec";
import { GatewayError } from "../../http/errors.ts";
import type { BodySource } from "../../http/wire.ts";

/** The event stream format's largest message: 16 MiB. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** One decoded message. */
export type StreamMessage =
  | { readonly kind: "event"; readonly type: string; readonly payload: Record<string, unknown> }
  | { readonly kind: "exception"; readonly type: string; readonly message: string };

/** The stream is not a valid event stream (a CRC mismatch, a bad length, a cut-off message). */
export class MalformedEventStreamError extends GatewayError {
  constructor(reason: string) {
    super(502, `The provider sent a malformed event stream: ${reason}`, { code: "upstream_malformed_stream" });
  }
}

// The codec is loaded with the first Bedrock stream, not at start-up: a deployment without Bedrock
// never reads it (test/lambda/cold-start.test.ts keeps start-up free of SDK code).
let codecLoading: Promise<EventStreamCodec> | undefined;
function loadCodec(): Promise<EventStreamCodec> {
  return (codecLoading ??= import("@smithy/eventstream-codec").then(
    ({ EventStreamCodec: Codec }) =>
      new Codec(
        (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"),
        (text: string) => Buffer.from(text, "utf8"),
      ),
  ));
}

/**
 * The messages of an event stream body, as they arrive.
 * @throws {MalformedEventStreamError} for a message that does not decode, or a body that ends inside one
 */
export async function* readEventStream(body: BodySource): AsyncGenerator<StreamMessage> {
  const codec = await loadCodec();
  // Chunks are held apart and joined once per whole message, so the work stays linear in the bytes read.
  let parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    size += chunk.byteLength;
    while (size >= 4) {
      if ((parts[0] as Buffer).byteLength < 4) parts = [Buffer.concat(parts, size)];
      const length = (parts[0] as Buffer).readUInt32BE(0);
      if (length < 16 || length > MAX_MESSAGE_BYTES) throw new MalformedEventStreamError(`a message claims ${length} bytes.`);
      if (size < length) break;
      const held = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
      yield decodeMessage(codec, held.subarray(0, length));
      const rest = held.subarray(length);
      parts = rest.byteLength === 0 ? [] : [rest];
      size = rest.byteLength;
    }
  }
  if (size > 0) throw new MalformedEventStreamError("the stream ended inside a message.");
}

/** One whole message, CRCs checked by the codec. */
function decodeMessage(codec: EventStreamCodec, bytes: Uint8Array): StreamMessage {
  let decoded;
  try {
    decoded = codec.decode(bytes);
  } catch (error) {
    throw new MalformedEventStreamError((error as Error).message);
  }
  const header = (name: string) => {
    const value = decoded.headers[name]?.value;
    return typeof value === "string" ? value : undefined;
  };
  const payload = parsePayload(decoded.body);
  switch (header(":message-type")) {
    case "event":
      return { kind: "event", type: header(":event-type") ?? "", payload: payload ?? {} };
    case "exception":
      return { kind: "exception", type: header(":exception-type") ?? "unknownException", message: messageOf(payload) };
    case "error":
      return { kind: "exception", type: header(":error-code") ?? "unknownError", message: header(":error-message") ?? messageOf(payload) };
    default:
      throw new MalformedEventStreamError(`a message has the unknown :message-type ${JSON.stringify(header(":message-type"))}.`);
  }
}

function parsePayload(body: Uint8Array): Record<string, unknown> | undefined {
  if (body.byteLength === 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    throw new MalformedEventStreamError("a message's payload is not JSON.");
  }
}

function messageOf(payload: Record<string, unknown> | undefined): string {
  const message = payload?.message ?? payload?.Message;
  return typeof message === "string" ? message : "The provider reported an error in the stream.";
}
