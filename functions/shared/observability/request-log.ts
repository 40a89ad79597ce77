/**
 * The structured log record of one request: ids, routing, status, times,
 * tokens and cost. It holds no key, no `Authorization` value and no prompt or
 * completion text: the summary it is made from never carries them.
 */
import type { RequestSummary } from "./request-summary.ts";
import type { RequestMetrics } from "./request-metrics.ts";

/** Flat, snake_case fields for CloudWatch Logs Insights (`filter gateway_request_id = "…"`). */
export type RequestLogFields = Record<string, string | number | boolean | undefined>;

/** Builds the log fields of a finished request. */
export function requestLogFields(summary: RequestSummary, metrics: RequestMetrics): RequestLogFields {
  const usage = summary.usage;
  return {
    gateway_request_id: summary.requestId,
    upstream_request_id: summary.upstreamRequestId,
    method: summary.method,
    path: summary.path,
    endpoint: summary.endpoint,
    family: summary.family,
    provider: summary.provider,
    model: summary.model,
    key_id: summary.keyId,
    stream: summary.stream,
    status: summary.status,
    outcome: summary.outcome,
    error_code: summary.errorCode,
    latency_ms: round(summary.totalMs),
    ttfb_ms: round(summary.firstByteMs),
    upstream_ms: round(summary.upstreamMs),
    overhead_ms: round(metrics.values.gatewayOverhead),
    retries: summary.retries,
    route: summary.route,
    fallbacks: summary.fallbacks,
    targets: summary.targets?.map((target) => `${target.provider}/${target.model ?? "-"}:${target.result}x${target.attempts}`).join(">"),
    cache: summary.cache,
    prompt_tokens: usage?.promptTokens,
    completion_tokens: usage?.completionTokens,
    total_tokens: usage?.totalTokens,
    usage_estimated: summary.usageEstimated,
    cached_prompt_tokens: usage?.cachedPromptTokens,
    reasoning_tokens: usage?.reasoningTokens,
    cost_usd: metrics.values.estimatedCost,
  };
}

function round(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 100) / 100;
}
