/**
 * Relays a provider's body to the client chunk by chunk, as it arrives.
 *
 * Each chunk is handed on unchanged the moment it is read; usage is read on
 * the side. The idle and total bounds run here, over the body. A failure in
 * mid-stream ends an SSE stream with OpenAI's `data: {"error":…}` event and no
 * `[DONE]`, so the client's SDK raises instead of seeing a clean end.
 */
import { errorEvent, GatewayError, UpstreamTimeoutError } from "../http/errors.ts";
import type { UpstreamResponse } from "../upstream/client.ts";
import { createJsonUsageReader, createSseUsageReader, type TokenUsage, type UsageReader } from "../usage/usage-readers.ts";
import type { RequestOutcome } from "../observability/request-summary.ts";
import { createSseMonitor } from "./stream-monitor.ts";
import { createUsageChunkFilter } from "../usage/include-usage.ts";

/** How the relay of one body ended. */
export interface RelayResult {
  readonly outcome: RequestOutcome;
  readonly firstByteAt?: number;
  /** When the provider's body ended (or failed). */
  readonly upstreamEndedAt: number;
  readonly endedAt: number;
  readonly usage?: TokenUsage;
  /** The bytes the client received, when recording was asked for and they fit. */
  readonly recorded?: Uint8Array;
}

/** Bounds and signals for one relay. */
export interface RelayOptions {
  readonly idleTimeoutMs: number;
  /** Milliseconds left until the request's total deadline. */
  readonly remainingMs: number;
  /** The client's abort signal: when it fires, nothing more is written. */
  readonly signal: AbortSignal;
  /** Remove the usage chunk and `"usage":null` fields the gateway asked for (see stream-usage.ts). */
  readonly stripInjectedUsage: boolean;
  /** Keep a copy of what the client receives, up to this many bytes (for the cache). */
  readonly recordUpToBytes?: number;
  readonly now: () => number;
  readonly onEnd: (result: RelayResult) => void;
}

/** Whether a content type is a server-sent event stream. */
export function isEventStream(contentType: string | undefined): boolean {
  return contentType?.startsWith("text/event-stream") ?? false;
}

/** Wraps a provider response's body in the relaying generator. */
export async function* relayBody(
  upstream: UpstreamResponse,
  contentType: string | undefined,
  options: RelayOptions,
): AsyncGenerator<Uint8Array, void, undefined> {
  const eventStream = isEventStream(contentType);
  const usageReader = selectUsageReader(upstream.status, contentType, eventStream);
  // The idle bound is on the provider's silence: while the client has yet to take a chunk, it only re-arms.
  let waitingOnClient = false;
  const idleTimer = setTimeout(() => {
    if (waitingOnClient) idleTimer.refresh();
    else upstream.abort(new UpstreamTimeoutError(`The provider sent nothing for ${options.idleTimeoutMs} ms.`));
  }, options.idleTimeoutMs);
  const totalTimer = setTimeout(
    () => upstream.abort(new UpstreamTimeoutError("The request took longer than the gateway's total time limit.")),
    options.remainingMs,
  );
  const usageFilter = options.stripInjectedUsage && eventStream && upstream.status < 300 ? createUsageChunkFilter() : undefined;
  const monitor = eventStream && upstream.status < 300 ? createSseMonitor() : undefined;
  let atEventBoundary = true;
  const recorder = options.recordUpToBytes === undefined || upstream.status >= 300 ? undefined : createRecorder(options.recordUpToBytes);
  let firstByteAt: number | undefined;
  let upstreamEndedAt: number | undefined;
  let outcome: RequestOutcome = upstream.status >= 400 ? "provider_error" : "ok";
  try {
    for await (const chunk of upstream.body) {
      idleTimer.refresh();
      if (monitor !== undefined && !monitor.push(chunk)) {
        throw new GatewayError(502, "The provider sent a malformed event stream.", { code: "upstream_malformed_stream" });
      }
      usageReader?.push(chunk);
      const relayed = usageFilter === undefined ? chunk : usageFilter.push(chunk);
      if (relayed.byteLength === 0) continue;
      firstByteAt ??= options.now();
      atEventBoundary = endsEvent(relayed);
      recorder?.push(relayed);
      waitingOnClient = true;
      yield relayed;
      waitingOnClient = false;
      idleTimer.refresh();
    }
    upstreamEndedAt = options.now();
    const rest = usageFilter?.flush();
    if (rest !== undefined && rest.byteLength > 0) {
      atEventBoundary = endsEvent(rest);
      recorder?.push(rest);
      yield rest;
    }
    if (monitor !== undefined && !monitor.complete) {
      throw new GatewayError(502, "The provider's stream ended before it was complete.", { code: "upstream_stream_truncated" });
    }
    // The provider ended the stream with its own error: relayed as it is, but not a success (nor cacheable).
    if (monitor?.failed === true) outcome = "upstream_failure";
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
    yield Buffer.from(`${atEventBoundary ? "" : "\n\n"}${errorEvent(failure)}`);
  } finally {
    clearTimeout(idleTimer);
    clearTimeout(totalTimer);
    if (options.signal.aborted && outcome === "ok") outcome = "client_aborted";
    const endedAt = options.now();
    options.onEnd({
      outcome,
      firstByteAt,
      upstreamEndedAt: upstreamEndedAt ?? endedAt,
      endedAt,
      usage: usageReader?.finish(),
      recorded: outcome === "ok" ? recorder?.bytes() : undefined,
    });
  }
}

/** Collects relayed chunks up to a size; past it, it gives up and keeps nothing. */
function createRecorder(limit: number): { push(chunk: Uint8Array): void; bytes(): Uint8Array | undefined } {
  let chunks: Uint8Array[] | undefined = [];
  let size = 0;
  return {
    push(chunk) {
      if (chunks === undefined) return;
      size += chunk.byteLength;
      if (size > limit) chunks = undefined;
      else chunks.push(chunk);
    },
    bytes: () => (chunks === undefined ? undefined : Buffer.concat(chunks, size)),
  };
}

const LF = 0x0a;
const CR = 0x0d;

/** Whether relayed bytes end on an event boundary (a blank line). */
function endsEvent(bytes: Uint8Array): boolean {
  const last = bytes[bytes.length - 1];
  const before = bytes[bytes.length - 2];
  return (last === LF && (before === LF || (before === CR && bytes[bytes.length - 3] === LF))) || (last === CR && before === CR);
}

function selectUsageReader(status: number, contentType: string | undefined, eventStream: boolean): UsageReader | undefined {
  if (status >= 300) return undefined;
  if (eventStream) return createSseUsageReader();
  return contentType?.includes("json") ? createJsonUsageReader() : undefined;
}
