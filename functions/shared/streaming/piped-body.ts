/**
 * The relay's way for a body that is not an event stream, from a Node
 * readable (a provider's HTTP response) into a Node writable (the local
 * server's response): each chunk is written from the stream's own `data`
 * event, with backpressure, like `pipe`. The bounds, the usage, the copy for
 * the cache, the outcomes and `onEnd` are relayBody's; what is left out is
 * its per-chunk machinery (an async generator, its chunk reader's promises,
 * the writer's loop), which was the largest share of the gateway's CPU time
 * per non-streamed request (npm run bench, the hot path).
 *
 * One difference, on purpose: the total bound ends a relay whose client has
 * stopped taking chunks (the response is destroyed), where relayBody's
 * generator, parked at a yield, only sees the bound once the client takes
 * the next chunk or leaves.
 *
 * An event stream keeps relayBody: its framing, filtering and mid-stream
 * error events are chunk-by-chunk work of their own. A consumer that
 * iterates the body (the Lambda handler, a cache replay, a test) gets
 * relayBody too.
 */
import type { Readable, Writable } from "node:stream";
import { GatewayError, UpstreamTimeoutError } from "../http/errors.ts";
import { isEventStream } from "../http/headers.ts";
import type { RequestOutcome } from "../observability/request-summary.ts";
import type { UpstreamResponse } from "../upstream/client.ts";
import { isNodeReadable, prematureClose } from "./read-chunks.ts";
import { relayBody, type RelayOptions } from "./relay.ts";
import { createRecorder, headerText, jsonUsageReader, watchBounds } from "./relay-parts.ts";

/** A relayed body that can also be piped into a Node writable. */
export interface PipeableBody extends AsyncIterable<Uint8Array> {
  /**
   * Writes the body into `out` as it arrives and ends `out`; a body that
   * fails destroys `out`, so the client sees a broken response, never a
   * silently short one (as writeBody does).
   * @returns true when the whole body was written
   */
  pipeTo(out: Writable): Promise<boolean>;
}

/** Whether a body can be piped (see {@link PipeableBody}). */
export function isPipeable(body: unknown): body is PipeableBody {
  return typeof (body as Partial<PipeableBody>).pipeTo === "function";
}

/**
 * The relayed body of `upstream`: pipeable when it is a Node stream and not an
 * event stream, else relayBody's generator. Either is used once.
 */
export function relayedBody(upstream: UpstreamResponse, options: RelayOptions): PipeableBody | AsyncGenerator<Uint8Array, void, undefined> {
  const source = upstream.body;
  if (!isNodeReadable(source) || isEventStream(headerText(upstream.headers["content-type"]))) return relayBody(upstream, options);
  return new PipedBody(upstream, source as Readable, options);
}

/**
 * A class rather than an object literal: a literal keyed by `Symbol.asyncIterator` is built
 * through V8's runtime on every request (a computed key), with two closures (npm run bench).
 */
class PipedBody implements PipeableBody {
  readonly #upstream: UpstreamResponse;
  readonly #source: Readable;
  readonly #options: RelayOptions;

  constructor(upstream: UpstreamResponse, source: Readable, options: RelayOptions) {
    this.#upstream = upstream;
    this.#source = source;
    this.#options = options;
  }

  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    return relayBody(this.#upstream, this.#options);
  }

  pipeTo(out: Writable): Promise<boolean> {
    return pipeBody(this.#upstream, this.#source, out, this.#options);
  }
}

function pipeBody(upstream: UpstreamResponse, source: Readable, out: Writable, options: RelayOptions): Promise<boolean> {
  const success = upstream.status < 300;
  const jsonUsage = jsonUsageReader(upstream, options.endpoint.usage);
  const recorder = options.recordUpToBytes === undefined || !success ? undefined : createRecorder(options.recordUpToBytes);
  const bounds = watchBounds(upstream, options.idleTimeoutMs, options.remainingMs);
  let firstByteAt: number | undefined;
  let upstreamEndedAt: number | undefined;
  let relayedBytes = 0;
  let outcome: RequestOutcome = upstream.status >= 400 ? "provider_error" : "ok";
  return new Promise<boolean>((resolve) => {
    let ended = false;
    let settled = false;
    let waitingForDrain = false;
    /** The relay is over: reports its end, then ends `out` (whole), leaves it (the client left) or destroys it (`failure`). */
    const finish = (whole: boolean, failure?: GatewayError) => {
      if (settled) return;
      settled = true;
      bounds.clear();
      // The client's response may outlive the relay (the local server keeps each connection's latest
      // until the next request): its listeners go, or they would keep the request's body, its copy for
      // the cache and its context alive with it.
      out.off("close", onClientClose);
      if (waitingForDrain) out.off("drain", onDrain);
      // A body read only in part is destroyed (its connection is not reused), as relayBody's reader does;
      // its listeners go first, so that nothing of the broken relay runs again. A body that ended keeps
      // them: it is this answer's alone and dies with it, its later events ('close') find the relay
      // settled, and removing them is work the hot path need not do.
      if (!ended) {
        source.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
        source.destroy();
      }
      if (options.signal.aborted && outcome === "ok") outcome = "client_aborted";
      // Ended by the body's end: the same moment (one reading of the clock less per request).
      const endedAt = ended ? (upstreamEndedAt as number) : options.now();
      try {
        options.onEnd({
          outcome,
          firstByteAt,
          upstreamEndedAt: upstreamEndedAt ?? endedAt,
          endedAt,
          usage: jsonUsage?.finish(),
          relayedBytes,
          recorded: outcome === "ok" ? recorder?.bytes() : undefined,
        });
      } catch (error) {
        // As a relayBody whose end throws: the response is broken, not silently cut.
        out.destroy(error instanceof Error ? error : new Error(String(error)));
        return resolve(false);
      }
      if (failure !== undefined) out.destroy(failure);
      else if (whole && !out.destroyed) out.end();
      resolve(failure === undefined && whole && !out.destroyed);
    };
    const onData = (chunk: Buffer) => {
      if (out.destroyed) return finish(false);
      bounds.activity();
      jsonUsage?.push(chunk);
      if (chunk.byteLength === 0) return;
      firstByteAt ??= options.now();
      relayedBytes += chunk.byteLength;
      recorder?.push(chunk);
      if (out.write(chunk)) return;
      // The client is slower than the provider: the provider waits, and so does the idle bound.
      // Listened for only then, as Node's pipe does: most answers never fill the client's buffer.
      source.pause();
      bounds.waitOnClient(true);
      if (!waitingForDrain) {
        waitingForDrain = true;
        out.on("drain", onDrain);
      }
    };
    const onDrain = () => {
      bounds.waitOnClient(false);
      source.resume();
    };
    const onEnd = () => {
      ended = true;
      upstreamEndedAt = options.now();
      finish(true);
    };
    const onError = (error: Error) => {
      upstreamEndedAt ??= options.now();
      // The client left (the call was aborted with it): nothing more to tell it.
      if (options.signal.aborted) {
        outcome = "client_aborted";
        return finish(true);
      }
      outcome = error instanceof UpstreamTimeoutError ? "timeout" : "upstream_failure";
      finish(false, error instanceof GatewayError ? error : new GatewayError(502, "The provider's stream broke off before it was complete.", { code: "upstream_stream_error" }));
    };
    // A body that closes before its end without an error is cut short all the same.
    const onClose = () => {
      if (!ended) onError(source.errored ?? prematureClose());
    };
    // The client went away before the body was written: the rest is not read.
    const onClientClose = () => finish(false);
    if (out.destroyed) return finish(false);
    // A body that ended, or broke, before the relay began says so by its state: its events are past.
    if (source.readableEnded) return onEnd();
    if (source.destroyed) return onClose();
    source.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
    out.on("close", onClientClose);
    // A body paused by someone before would not start flowing on a data listener alone.
    if (source.isPaused()) source.resume();
  });
}
