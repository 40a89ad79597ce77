/**
 * The local server's one line per request.
 */
import type { RequestMetrics } from "../shared/observability/request-metrics.ts";
import type { RequestSummary } from "../shared/observability/request-summary.ts";

/**
 * Formats a request as one concise line, e.g.
 * `POST /v1/chat/completions openai gpt-4o 200 412.3ms ttfb=95.1ms tokens=12+30=42 cost=$0.000330 ok id=3f2a…`,
 * with the same numbers the Lambda function publishes as metrics.
 */
export function formatRequestLine(summary: RequestSummary, metrics: RequestMetrics): string {
  const parts = [
    summary.method,
    summary.path,
    summary.provider ?? "-",
    summary.model ?? "-",
    String(summary.status),
    `${summary.totalMs.toFixed(1)}ms`,
    `ttfb=${summary.firstByteMs === undefined ? "-" : `${summary.firstByteMs.toFixed(1)}ms`}`,
  ];
  if (summary.usage !== undefined) {
    const { promptTokens, completionTokens, totalTokens } = summary.usage;
    parts.push(`tokens=${promptTokens}+${completionTokens}=${totalTokens}`);
  }
  const cost = metrics.values.estimatedCost;
  if (cost !== undefined) parts.push(`cost=$${cost.toFixed(6)}`);
  if (summary.retries > 0) parts.push(`retries=${summary.retries}`);
  if (summary.route !== undefined) parts.push(`route=${summary.route}`);
  if ((summary.fallbacks ?? 0) > 0) parts.push(`targets=${summary.targets?.map((target) => `${target.provider}:${target.result}x${target.attempts}`).join(">")}`);
  if (summary.cache === "hit") parts.push("cache=hit");
  parts.push(summary.outcome);
  if (summary.errorCode !== undefined) parts.push(`code=${summary.errorCode}`);
  parts.push(`id=${summary.requestId}`);
  return parts.join(" ");
}
