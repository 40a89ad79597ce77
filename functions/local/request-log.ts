/**
 * The local server's one line per request.
 */
import type { RequestSummary } from "../shared/request-summary.ts";

/**
 * Formats a request as one concise line, e.g.
 * `POST /v1/chat/completions openai gpt-4o 200 412ms ttfb=95ms tokens=12+30=42 ok req=3f2a…`.
 */
export function formatRequestLine(summary: RequestSummary): string {
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
  parts.push(summary.outcome);
  if (summary.errorCode !== undefined) parts.push(`code=${summary.errorCode}`);
  parts.push(`id=${summary.requestId}`);
  return parts.join(" ");
}
