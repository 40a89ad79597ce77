/**
 * Relays a provider's body to the client chunk by chunk, as it arrives.
 *
 * Each chunk is handed on unchanged the moment it is read; usage is read on
 * the side. The idle and total bounds run here, over the body. A failure in
 * mid-stream ends an SSE stream with OpenAI's `data: {"error":…}` event and no
 * `[DONE]`, so the client's SDK raises instead of seeing a clean end.
 */
import { errorEvent, GatewayError, UpstreamTimeoutError } from "./errors.ts";
import type { UpstreamResponse } from "./upstream-client.ts";
import { createJsonUsageReader, createSseUsageReader, type TokenUsage, type UsageReader } from "./usage.ts";
import type { RequestOutcome } from "./request-summary.ts";
import { createUsageChunkFilter } from "./stream-usage.ts";

/** How the relay of one body ended. */
export interface RelayResult {
  readonly outcome: RequestOutcome;
  readonly firstByteAt?: number;
  /** When the provider's body ended (or failed). */
  readonly upstreamEndedAt: number;
  readonly endedAt: number;
  readonly usage?: TokenUsage;
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
  const idleTimer = setTimeout(
    () => upstream.abort(new UpstreamTimeoutError(`The provider sent nothing for ${options.idleTimeoutMs} ms.`)),
    options.idleTimeoutMs,
  );
  const totalTimer = setTimeout(
    () => upstream.abort(new UpstreamTimeoutError("The request took longer than the gateway's total time limit.")),
    options.remainingMs,
  );
  const usageFilter = options.stripInjectedUsage && eventStream && upstream.status < 300 ? createUsageChunkFilter() : undefined;
  let firstByteAt: number | undefined;
  let upstreamEndedAt: number | undefined;
  let outcome: RequestOutcome = upstream.status >= 400 ? "provider_error" : "ok";
  try {
    for await (const chunk of upstream.body) {
      idleTimer.refresh();
      usageReader?.push(chunk);
      const relayed = usageFilter === undefined ? chunk : usageFilter.push(chunk);
      if (relayed.byteLength === 0) continue;
      firstByteAt ??= options.now();
      yield relayed;
    }
    upstreamEndedAt = options.now();
    const rest = usageFilter?.flush();
    if (rest !== undefined && rest.byteLength > 0) yield rest;
  } catch (error) {
    upstreamEndedAt ??= options.now();
    if (options.signal.aborted) {
      outcome = "client_aborted";
      return;
    }
    outcome = error instanceof UpstreamTimeoutError ? "timeout" : "upstream_failure";
    const failure =
      error instanceof GatewayError
        ? error
        : new GatewayError(502, "The provider's stream broke off before it was complete.", { code: "upstream_stream_error" });
    // Only an event stream can carry an error after the headers; any other body is cut short,
    // which the client sees as a broken response instead of a silently truncated one.
    if (!eventStream) throw failure;
    firstByteAt ??= options.now();
    yield Buffer.from(errorEvent(failure));
  } finally {
    clearTimeout(idleTimer);
    clearTimeout(totalTimer);
    if (options.signal.aborted && outcome === "ok") outcome = "client_aborted";
    const endedAt = options.now();
    options.onEnd({ outcome, firstByteAt, upstreamEndedAt: upstreamEndedAt ?? endedAt, endedAt, usage: usageReader?.finish() });
  }
}

function selectUsageReader(status: number, contentType: string | undefined, eventStream: boolean): UsageReader | undefined {
  if (status >= 300) return undefined;
  if (eventStream) return createSseUsageReader();
  return contentType?.includes("json") ? createJsonUsageReader() : undefined;
}
