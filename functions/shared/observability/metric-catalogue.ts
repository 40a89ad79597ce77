/**
 * The one catalogue of the gateway's metrics: the functions emit these names
 * with these dimension sets, and `infra/` graphs and alarms on the same ones.
 * A test checks that the dashboard and alarms use nothing the code does not emit.
 */

/** CloudWatch namespace unless `GATEWAY_METRICS_NAMESPACE` says otherwise. */
export const DEFAULT_METRICS_NAMESPACE = "AiGateway";

/** Powertools' `service` dimension: on every metric. */
export const SERVICE_NAME = "ai-gateway";

/** Units, as CloudWatch names them. */
export type MetricUnitName = "Count" | "Milliseconds" | "Percent" | "None";

/** One metric: its CloudWatch name, unit and meaning. */
export interface MetricDefinition {
  readonly name: string;
  readonly unit: MetricUnitName;
  readonly description: string;
}

/**
 * Every metric the gateway emits: one data point per request, and for a
 * routed request one more line per target tried (TargetAttempts,
 * TargetFailures, with that target's provider and model).
 */
export const METRICS = {
  requests: { name: "Requests", unit: "Count", description: "Requests handled (every status)." },
  gatewayClientErrors: { name: "GatewayClientErrors", unit: "Count", description: "4xx answered by the gateway itself (bad input, bad key)." },
  providerClientErrors: { name: "ProviderClientErrors", unit: "Count", description: "4xx answered by the provider and relayed." },
  serverErrors: { name: "ServerErrors", unit: "Count", description: "5xx, from the gateway or the provider, and streams that failed after their first byte." },
  timeouts: { name: "Timeouts", unit: "Count", description: "Requests ended by a time bound (504, or an error event mid-stream)." },
  streamErrors: { name: "StreamErrors", unit: "Count", description: "Streams the provider broke off after the first byte." },
  latency: { name: "Latency", unit: "Milliseconds", description: "From the request's arrival to its last byte." },
  timeToFirstByte: { name: "TimeToFirstByte", unit: "Milliseconds", description: "From the request's arrival to the first body byte relayed (the first token of a stream)." },
  upstreamLatency: { name: "UpstreamLatency", unit: "Milliseconds", description: "From sending to the provider to its last byte." },
  gatewayOverhead: { name: "GatewayOverhead", unit: "Milliseconds", description: "Latency minus UpstreamLatency: what the gateway adds." },
  promptTokens: { name: "PromptTokens", unit: "Count", description: "Input tokens (prompt_tokens / input_tokens)." },
  completionTokens: { name: "CompletionTokens", unit: "Count", description: "Output tokens (completion_tokens / output_tokens)." },
  totalTokens: { name: "TotalTokens", unit: "Count", description: "Input plus output tokens." },
  cachedPromptTokens: { name: "CachedPromptTokens", unit: "Count", description: "Input tokens served from the provider's prompt cache." },
  reasoningTokens: { name: "ReasoningTokens", unit: "Count", description: "Output tokens spent on reasoning." },
  retries: { name: "Retries", unit: "Count", description: "Upstream attempts beyond the first." },
  fallbacks: { name: "Fallbacks", unit: "Count", description: "Times a routed request moved on to its route's next target." },
  targetAttempts: {
    name: "TargetAttempts",
    unit: "Count",
    description: "Attempts at one target of a route (its provider and model as dimensions), retries included.",
  },
  targetFailures: {
    name: "TargetFailures",
    unit: "Count",
    description: "Targets of a route that failed so that the request moved on (or, at the last target, failed).",
  },
  estimatedCost: { name: "EstimatedCostUSD", unit: "None", description: "Estimated cost in USD from the price table." },
  cacheHits: { name: "CacheHits", unit: "Count", description: "Answers served from the response cache." },
  cacheMisses: { name: "CacheMisses", unit: "Count", description: "Cacheable requests that went to the provider." },
  rateLimited: { name: "RateLimited", unit: "Count", description: "Requests refused with 429 by a gateway key's own limits or budgets." },
  budgetUsed: {
    name: "BudgetUsedPercent",
    unit: "Percent",
    description: "The largest share of a USD budget (daily or monthly) the request's key has spent once the request is charged; only for keys with a budget.",
  },
  authFailures: { name: "AuthFailures", unit: "Count", description: "Requests refused with 401 or 403 by the gateway's own access checks." },
} as const satisfies Record<string, MetricDefinition>;

/** A metric's key in {@link METRICS}. */
export type MetricKey = keyof typeof METRICS;

/**
 * The dimension sets every metric is emitted with (besides `service`, which
 * Powertools adds to each): the totals the alarms watch, and the breakdown the
 * dashboard searches by model. Values are bounded: provider and endpoint are
 * fixed lists, model values are capped per execution environment.
 */
export const DIMENSION_SETS = {
  total: [] as const,
  byModel: ["provider", "model", "endpoint"] as const,
  /**
   * Only with `GATEWAY_METRICS_BY_KEY=true`. Bounded: a key id is one of the
   * keys the operator created (the secret, the key file or table), never a
   * value a caller chooses; a request without a valid key has none.
   */
  byKey: ["keyId"] as const,
} satisfies Record<string, readonly string[]>;

/** The name of a dimension set. */
export type DimensionSetName = keyof typeof DIMENSION_SETS;

/** A dimension set as CloudWatch sees it: `service` plus the set's own names. */
export function cloudWatchDimensions(set: DimensionSetName): readonly string[] {
  return ["service", ...DIMENSION_SETS[set]];
}
