/**
 * Relays a provider's body to the client chunk by chunk, as it arrives.
 *
 * Each chunk is handed on unchanged the moment it is read; usage is read on
 * the side. The idle and total bounds run here, over the body. A failure in
 * mid-stream ends an SSE stream with OpenAI's `data: {"error":…}` event and no
 * `[DONE]`, so the client's SDK raises instead of seeing a clean end.
 */
import type { EndpointDefinition } from "../endpoints/catalogue.ts";
import { errorEvent, GatewayError, UpstreamTimeoutError } from "../http/errors.ts";
import { isEventStream } from "../http/headers.ts";
import type { RequestOutcome } from "../observability/request-summary.ts";
import type { UpstreamResponse } from "../upstream/client.ts";
import { createSseUsageReader, type TokenUsage } from "../usage/usage-readers.ts";
import { createSseFramer, type SseFramer } from "./sse-framer.ts";
import { createStreamMonitor, type StreamMonitor } from "./stream-monitor.ts";
import { readChunks } from "./read-chunks.ts";
import { createRecorder, headerText, jsonUsageReader, watchBounds } from "./relay-parts.ts";
import { withoutInjectedUsage } from "./usage-filter.ts";

/** How the relay of one body ended. */
export interface RelayResult {
  readonly outcome: RequestOutcome;
  readonly firstByteAt?: number;
  /** When the provider's body ended (or failed). */
  readonly upstreamEndedAt: number;
  readonly endedAt: number;
  readonly usage?: TokenUsage;
  /** Data events read from an event stream (for a usage estimate when none arrived). */
  readonly dataEvents?: number;
  /** Body bytes handed to the client. */
  readonly relayedBytes: number;
  /** The bytes the client received, when recording was asked for and they fit. */
  readonly recorded?: Uint8Array;
}

/** Bounds and signals for one relay. */
export interface RelayOptions {
  /** The endpoint answered: says whether and how usage is read. */
  readonly endpoint: EndpointDefinition;
  readonly idleTimeoutMs: number;
  /** Milliseconds left until the request's total deadline. */
  readonly remainingMs: number;
  /** The client's abort signal: when it fires, nothing more is written. */
  readonly signal: AbortSignal;
  /** Remove the usage chunk and `"usage":null` fields the gateway asked for (see usage/include-usage.ts). */
  readonly stripInjectedUsage: boolean;
  /** Keep a copy of what the client receives, up to this many bytes (for the cache). */
  readonly recordUpToBytes?: number;
  readonly now: () => number;
  readonly onEnd: (result: RelayResult) => void;
}

/** The side readers of one stream, fed by one framer. */
interface StreamReaders {
  readonly framer: SseFramer;
  readonly monitor: StreamMonitor;
  /** Whole events as the client must see them, when the injected usage is being filtered out. */
  readonly filtered?: string[];
}

/** Wraps a provider response's body in the relaying generator. */
export async function* relayBody(upstream: UpstreamResponse, options: RelayOptions): AsyncGenerator<Uint8Array, void, undefined> {
  const success = upstream.status < 300;
  const contentType = headerText(upstream.headers["content-type"]);
  const eventStream = isEventStream(contentType);
  const readsUsage = success && options.endpoint.usage !== "none";
  const sseUsage = readsUsage && eventStream ? createSseUsageReader() : undefined;
  const jsonUsage = eventStream ? undefined : jsonUsageReader(upstream, options.endpoint.usage);
  const readers = success && eventStream ? createReaders(options.stripInjectedUsage, sseUsage?.line) : undefined;
  const bounds = watchBounds(upstream, options.idleTimeoutMs, options.remainingMs);
  const recorder = options.recordUpToBytes === undefined || !success ? undefined : createRecorder(options.recordUpToBytes);
  let firstByteAt: number | undefined;
  let upstreamEndedAt: number | undefined;
  let relayedBytes = 0;
  let outcome: RequestOutcome = upstream.status >= 400 ? "provider_error" : "ok";
  const handOn = (bytes: Uint8Array) => {
    firstByteAt ??= options.now();
    relayedBytes += bytes.byteLength;
    recorder?.push(bytes);
  };
  const reader = readChunks(upstream.body);
  try {
    for (let chunk = reader.read(); ; chunk = reader.read()) {
      if (chunk === null) {
        if (await reader.more()) continue;
        break;
      }
      bounds.activity();
      jsonUsage?.push(chunk);
      const relayed = readers === undefined ? chunk : readStream(readers, chunk);
      if (relayed.byteLength === 0) continue;
      handOn(relayed);
      bounds.waitOnClient(true);
      yield relayed;
      bounds.waitOnClient(false);
    }
    upstreamEndedAt = options.now();
    if (readers !== undefined) {
      const rest = endStream(readers);
      if (rest.byteLength > 0) {
        handOn(rest);
        yield rest;
      }
      outcome = streamOutcome(readers.monitor);
    }
  } catch (error) {
    upstreamEndedAt ??= options.now();
    if (options.signal.aborted) {
      outcome = "client_aborted";
      return;
    }
    upstream.abort(error instanceof Error ? error : new Error(String(error)));
    outcome = error instanceof UpstreamTimeoutError ? "timeout" : "upstream_failure";
    const failure =
      error instanceof GatewayError
        ? error
        : new GatewayError(502, "The provider's stream broke off before it was complete.", { code: "upstream_stream_error" });
    // Only an event stream can carry an error after the headers; any other body is cut short,
    // which the client sees as a broken response instead of a silently truncated one.
    if (!eventStream) throw failure;
    firstByteAt ??= options.now();
    // Close a half-sent event first, so the error is an event of its own.
    const atBoundary = readers === undefined || readers.filtered !== undefined || readers.framer.atEventBoundary;
    yield Buffer.from(`${atBoundary ? "" : "\n\n"}${errorEvent(failure)}`);
  } finally {
    reader.close();
    bounds.clear();
    if (options.signal.aborted && outcome === "ok") outcome = "client_aborted";
    const endedAt = options.now();
    options.onEnd({
      outcome,
      firstByteAt,
      upstreamEndedAt: upstreamEndedAt ?? endedAt,
      endedAt,
      usage: sseUsage?.finish() ?? jsonUsage?.finish(),
      dataEvents: sseUsage?.dataLines,
      relayedBytes,
      recorded: outcome === "ok" ? recorder?.bytes() : undefined,
    });
  }
}

const EMPTY = new Uint8Array(0);

function createReaders(stripInjectedUsage: boolean, usageLine: ((line: string) => void) | undefined): StreamReaders {
  const monitor = createStreamMonitor();
  const filtered: string[] | undefined = stripInjectedUsage ? [] : undefined;
  const framer = createSseFramer({
    line(line) {
      monitor.line(line);
      usageLine?.(line);
    },
    event: filtered === undefined ? undefined : (event) => void filtered.push(withoutInjectedUsage(event)),
  });
  return { framer, monitor, filtered };
}

/** Feeds a chunk to the readers; returns the bytes to relay now (whole events only while filtering). */
function readStream(readers: StreamReaders, chunk: Uint8Array): Uint8Array {
  readers.framer.push(chunk);
  if (readers.monitor.malformed) {
    throw new GatewayError(502, "The provider sent a malformed event stream.", { code: "upstream_malformed_stream" });
  }
  return readers.filtered === undefined ? chunk : drain(readers.filtered);
}

/** Ends the framing; returns what is left to relay. */
function endStream(readers: StreamReaders): Uint8Array {
  readers.framer.end();
  if (readers.monitor.malformed) {
    throw new GatewayError(502, "The provider sent a malformed event stream.", { code: "upstream_malformed_stream" });
  }
  const rest = readers.filtered === undefined ? EMPTY : drain(readers.filtered);
  if (readers.monitor.ending === undefined) {
    throw new GatewayError(502, "The provider's stream ended before it was complete.", { code: "upstream_stream_truncated" });
  }
  return rest;
}

function drain(texts: string[]): Uint8Array {
  if (texts.length === 0) return EMPTY;
  const joined = texts.length === 1 ? (texts[0] as string) : texts.join("");
  texts.length = 0;
  return joined === "" ? EMPTY : Buffer.from(joined);
}

/**
 * How a complete stream ended: a provider's own error or failed response is
 * relayed as it is, but is not a success (nor cacheable); an incomplete
 * response (a cut-off the client asked for) is a normal answer, not cacheable.
 */
function streamOutcome(monitor: StreamMonitor): RequestOutcome {
  switch (monitor.ending) {
    case "error":
    case "failed":
      return "upstream_failure";
    case "incomplete":
      return "incomplete";
    default:
      return "ok";
  }
}

