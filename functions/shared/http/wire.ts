/**
 * The wire types: a request as the core sees it, whatever the runtime, and
 * the response an adapter writes. Adapters build a {@link GatewayRequest}
 * from their input and write the {@link GatewayResponse} back: status and
 * headers first, then the body chunks as they come.
 */
import type { RequestSummary } from "../observability/request-summary.ts";
import type { IncomingHeaders } from "./headers.ts";

/** A body read chunk by chunk; a fixed body may be a plain list of chunks. */
export type BodySource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** A request as the core sees it, whatever the runtime. */
export interface GatewayRequest {
  readonly method: string;
  /** Raw path, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** Raw query string without `?` (empty for none). */
  readonly query: string;
  /** Lower-cased header names. */
  readonly headers: IncomingHeaders;
  readonly body: Uint8Array | undefined;
  /**
   * Reads the body when the core asks for it, instead of `body`: only once the
   * caller is known, so a stranger's body is never read (or held in memory).
   * A body already whole may come at once, without a promise.
   */
  readonly readBody?: () => Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /** Fires when the client goes away; the upstream call is aborted with it. */
  readonly signal: AbortSignal;
  /** Wall-clock deadline (ms since epoch) the response must finish by, e.g. Lambda's remaining time. */
  readonly deadline?: number;
}

/** The response to write: status and headers first, then every body chunk as it is produced. */
export interface GatewayResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: BodySource;
  /** Resolves once the body has ended (or failed), with the request's measurements. */
  readonly completed: Promise<RequestSummary>;
}
