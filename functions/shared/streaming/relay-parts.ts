/**
 * What every way of relaying a body shares: its time bounds on one deadline,
 * the copy kept for the cache, and how its content type is read.
 */
import { UpstreamTimeoutError } from "../http/errors.ts";
import type { EndpointDefinition } from "../endpoints/catalogue.ts";
import type { UpstreamResponse } from "../upstream/client.ts";
import { deadlines } from "../upstream/deadlines.ts";
import { createJsonUsageReader, type UsageReader } from "../usage/usage-readers.ts";

/** The idle and total bounds of one relay. */
export interface RelayBounds {
  /** The provider sent something: the idle bound starts again. */
  activity(): void;
  /** While the client has yet to take a chunk, the idle bound does not run (it is on the provider's silence). */
  waitOnClient(waiting: boolean): void;
  /** The relay is over. */
  clear(): void;
}

/**
 * Bounds a relay: past `remainingMs`, or after `idleTimeoutMs` without a byte
 * from the provider, the upstream body is aborted with an
 * {@link UpstreamTimeoutError}. One deadline serves both bounds: per chunk
 * only the time of the last activity is noted, and the deadline, when it
 * expires, is set again for whichever bound is next (creating, refreshing and
 * clearing two timers per request was a measurable share of the hot path;
 * npm run bench; and a deadline is not a timer of its own, deadlines.ts).
 * Times are monotonic, as the deadline's: a clock set forward or back cuts
 * no relay.
 */
export function watchBounds(upstream: UpstreamResponse, idleTimeoutMs: number, remainingMs: number): RelayBounds {
  let waitingOnClient = false;
  let lastActivity = performance.now();
  const totalDeadline = lastActivity + remainingMs;
  const checkBounds = () => {
    const at = performance.now();
    if (at >= totalDeadline) return upstream.abort(new UpstreamTimeoutError("The request took longer than the gateway's total time limit."));
    const idleDeadline = waitingOnClient ? at + idleTimeoutMs : lastActivity + idleTimeoutMs;
    if (at >= idleDeadline) return upstream.abort(new UpstreamTimeoutError(`The provider sent nothing for ${idleTimeoutMs} ms.`));
    deadline = deadlines.set(Math.min(totalDeadline, idleDeadline) - at, checkBounds);
  };
  let deadline = deadlines.set(Math.min(remainingMs, idleTimeoutMs), checkBounds);
  return {
    activity() {
      lastActivity = performance.now();
    },
    waitOnClient(waiting) {
      waitingOnClient = waiting;
      if (!waiting) lastActivity = performance.now();
    },
    clear() {
      deadline.clear();
    },
  };
}

/** Collects relayed chunks up to a size; past it, it gives up and keeps nothing. */
export function createRecorder(limit: number): { push(chunk: Uint8Array): void; bytes(): Uint8Array | undefined } {
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

/**
 * The usage reader of a body that is not an event stream: a successful
 * answer of an endpoint that reports usage, in JSON (audio, file bytes and a
 * transcript as text carry no usage object and are never read).
 */
export function jsonUsageReader(upstream: UpstreamResponse, usage: EndpointDefinition["usage"]): UsageReader | undefined {
  return upstream.status < 300 && usage !== "none" && isJson(headerText(upstream.headers["content-type"])) ? createJsonUsageReader() : undefined;
}

/** Whether a content type is JSON (`application/json`, `application/…+json`); a missing one counts, as some compatible servers send none. */
export function isJson(contentType: string | undefined): boolean {
  return contentType === undefined || /^\s*application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType);
}

/** A header's first value. */
export function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
