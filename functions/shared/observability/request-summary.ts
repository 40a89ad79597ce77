/**
 * What one request did, for the request log and for metrics.
 */
import type { TokenUsage } from "../usage/usage-readers.ts";

/**
 * How a request ended:
 * - `ok`: the provider answered 2xx/3xx and the body was relayed whole;
 * - `incomplete`: a whole answer that the provider cut short as the client asked (`response.incomplete`, e.g. `max_output_tokens`): not an error;
 * - `gateway_error`: the gateway answered an error itself (4xx or 5xx);
 * - `provider_error`: the provider answered 4xx/5xx, relayed unchanged;
 * - `timeout`: a time bound was hit (504 before the first byte, or an error event mid-stream);
 * - `upstream_failure`: the provider broke the connection mid-body;
 * - `client_aborted`: the client went away before the end.
 */
export type RequestOutcome =
  | "ok"
  | "incomplete"
  | "gateway_error"
  | "provider_error"
  | "timeout"
  | "upstream_failure"
  | "client_aborted";

/** One target a request tried: its provider and model, its attempts, and how it ended. */
export interface TargetSummary {
  readonly provider: string;
  readonly model?: string;
  /** Whether the model is the route's (configured) rather than the request's. */
  readonly routeModel: boolean;
  /** Attempts at the target: 1 plus its retries. */
  readonly attempts: number;
  /** The status of its last answer, or the gateway error code of its last failure. */
  readonly result: number | string;
  /** Whether the request moved on to the next target after it. */
  readonly fellBack: boolean;
}

/** One request, measured. Times are milliseconds from the gateway receiving the request. */
export interface RequestSummary {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  /** The endpoint's name in the catalogue, e.g. `chat.completions`, `files.create`. */
  readonly endpoint?: string;
  /** The endpoint's family, e.g. `chat`, `files`: the `endpoint` metric dimension. */
  readonly family?: string;
  readonly provider?: string;
  readonly model?: string;
  readonly stream: boolean;
  readonly status: number;
  readonly outcome: RequestOutcome;
  /** OpenAI's error code when the gateway answered an error. */
  readonly errorCode?: string;
  /** The gateway key's id in managed mode. */
  readonly keyId?: string;
  /** The provider's `x-request-id`. */
  readonly upstreamRequestId?: string;
  /** Until the provider's response headers arrived. */
  readonly upstreamHeadersMs?: number;
  /** From sending to the provider to its last byte read. */
  readonly upstreamMs?: number;
  /** Upstream attempts beyond the first. */
  readonly retries: number;
  /** The route the request took, when it took one. */
  readonly route?: string;
  /** The targets tried, in order, for a request that went to a provider over HTTP. */
  readonly targets?: readonly TargetSummary[];
  /** Times the request moved on to another target. */
  readonly fallbacks?: number;
  /** Until the first body byte was handed to the client. */
  readonly firstByteMs?: number;
  /** Until the last byte was handed to the client (or the request failed). */
  readonly totalMs: number;
  readonly usage?: TokenUsage;
  /** Whether `usage` is the gateway's estimate (the client left before the provider reported usage). */
  readonly usageEstimated?: boolean;
  /** Estimated cost in USD of `usage`, from the price table. */
  readonly costUsd?: number;
  /** What the response cache did, when the request could use it. */
  readonly cache?: "hit" | "miss" | "bypass";
  /** The largest share (%) of a USD budget the request's key had spent once the request was charged (keys with a budget). */
  readonly budgetUsedPercent?: number;
}
