/**
 * The metrics of one request, computed from its summary: the same numbers for
 * CloudWatch (Lambda) and for the local server's log line.
 */
import type { RequestSummary } from "./request-summary.ts";
import type { MetricKey } from "./metric-catalogue.ts";

/** Dimension values of a request; every value is from a bounded set. */
export interface RequestDimensions {
  readonly provider: string;
  readonly model: string;
  readonly endpoint: string;
  readonly keyId?: string;
}

/** Metric values with the dimensions they go with. */
export interface MetricPoints {
  readonly dimensions: RequestDimensions;
  readonly values: Partial<Record<MetricKey, number>>;
}

/** One request's metric values by catalogue key, and its dimensions. */
export interface RequestMetrics extends MetricPoints {
  /** The gateway request id, published as EMF metadata (searchable, not a dimension). */
  readonly requestId: string;
  /** A routed request's points per target tried, on that target's provider and model. */
  readonly targets?: readonly MetricPoints[];
}

/**
 * Keeps the `model` dimension bounded: the first `limit` model names seen in
 * an execution environment are kept, later ones become `other`. Names the
 * provider refused never count (a caller could otherwise mint dimensions).
 */
export class ModelDimensionLimiter {
  readonly #seen = new Set<string>();
  readonly #limit: number;

  constructor(limit = 100) {
    this.#limit = limit;
  }

  /** The dimension value for a model of a request that ended with `status`. */
  valueFor(model: string | undefined, status: number): string {
    if (model === undefined || status >= 400) return "none";
    if (this.#seen.has(model)) return model;
    if (this.#seen.size >= this.#limit) return "other";
    this.#seen.add(model);
    return model;
  }
}

/** Computes the metrics of a finished request. */
export function measureRequest(summary: RequestSummary, models: ModelDimensionLimiter): RequestMetrics {
  const { status, outcome, usage } = summary;
  const failedMidStream = status < 400 && (outcome === "upstream_failure" || outcome === "timeout");
  const values: Partial<Record<MetricKey, number>> = {
    requests: 1,
    gatewayClientErrors: outcome === "gateway_error" && status < 500 ? 1 : 0,
    providerClientErrors: outcome === "provider_error" && status < 500 ? 1 : 0,
    // A client that left is not a server error, whatever status its abandoned request ended with.
    serverErrors: outcome !== "client_aborted" && (status >= 500 || failedMidStream) ? 1 : 0,
    timeouts: outcome === "timeout" ? 1 : 0,
    streamErrors: failedMidStream ? 1 : 0,
    latency: summary.totalMs,
    retries: summary.retries,
    fallbacks: summary.fallbacks ?? 0,
    rateLimited: outcome === "gateway_error" && (summary.errorCode === "rate_limit_exceeded" || summary.errorCode === "insufficient_quota") ? 1 : 0,
    // The gateway's own refusals only: a provider's 401 is relayed as provider_error or becomes a 502.
    authFailures: outcome === "gateway_error" && (status === 401 || status === 403) ? 1 : 0,
  };
  if (summary.budgetUsedPercent !== undefined) values.budgetUsed = summary.budgetUsedPercent;
  if (summary.cache === "hit" || summary.cache === "miss") {
    values.cacheHits = summary.cache === "hit" ? 1 : 0;
    values.cacheMisses = summary.cache === "miss" ? 1 : 0;
  }
  if (summary.firstByteMs !== undefined) values.timeToFirstByte = summary.firstByteMs;
  if (summary.upstreamMs !== undefined) {
    values.upstreamLatency = summary.upstreamMs;
    values.gatewayOverhead = Math.max(0, summary.totalMs - summary.upstreamMs);
  }
  if (usage !== undefined) {
    values.promptTokens = usage.promptTokens;
    values.completionTokens = usage.completionTokens;
    values.totalTokens = usage.totalTokens;
    values.cachedPromptTokens = usage.cachedPromptTokens;
    values.reasoningTokens = usage.reasoningTokens;
    if (summary.costUsd !== undefined) values.estimatedCost = summary.costUsd;
  }
  return {
    requestId: summary.requestId,
    dimensions: {
      provider: summary.provider ?? "none",
      model: models.valueFor(summary.model, status),
      // The family, not the operation: a short fixed list, so the dimension stays bounded.
      endpoint: summary.family ?? summary.endpoint ?? "none",
      keyId: summary.keyId,
    },
    values,
    targets: summary.route === undefined ? undefined : measureTargets(summary, models),
  };
}

/**
 * A routed request's points per target. A model the route configures is a
 * name from the configuration, so it counts whatever the target answered;
 * a model from the request counts only when the target accepted it.
 */
function measureTargets(summary: RequestSummary, models: ModelDimensionLimiter): MetricPoints[] {
  return (summary.targets ?? []).map((target) => {
    const accepted = target.routeModel || (typeof target.result === "number" && target.result < 400);
    return {
      dimensions: { provider: target.provider, model: models.valueFor(target.model, accepted ? 200 : 400), endpoint: summary.endpoint ?? "none", keyId: summary.keyId },
      values: { targetAttempts: target.attempts, targetFailures: target.fellBack || isFailure(target.result) ? 1 : 0 },
    };
  });
}

function isFailure(result: number | string): boolean {
  return typeof result === "string" || result === 429 || result >= 500;
}
