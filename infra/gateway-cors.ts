/**
 * CORS of the gateway's Function URL: which request headers a browser may
 * send and which response headers its script may read. Function URLs match
 * header names literally (no `x-foo-*` patterns), so every name is listed.
 */
import { Duration } from "aws-cdk-lib";
import { HttpMethod, type FunctionUrlCorsOptions } from "aws-cdk-lib/aws-lambda";

/**
 * Request headers a browser may send: OpenAI's own, the gateway's, and the
 * `x-stainless-*` headers the official `openai` SDK adds to every request
 * (platform, retry count, timeout) or to some (helper and polling methods).
 */
export const CORS_ALLOW_HEADERS = [
  "authorization",
  "content-type",
  "cache-control",
  "x-provider",
  "openai-organization",
  "openai-project",
  "openai-beta",
  "x-gateway-cache-ttl",
  "x-gateway-max-retries",
  "x-gateway-retry-max-delay-ms",
  "x-stainless-arch",
  "x-stainless-lang",
  "x-stainless-os",
  "x-stainless-package-version",
  "x-stainless-runtime",
  "x-stainless-runtime-version",
  "x-stainless-retry-count",
  "x-stainless-timeout",
  "x-stainless-helper-method",
  "x-stainless-poll-helper",
  "x-stainless-custom-poll-interval",
] as const;

const RATE_LIMIT_HEADERS = ["limit", "remaining", "reset"].flatMap((kind) =>
  // requests and tokens come from the provider or a gateway key's limits; tokens-day only from the gateway.
  ["requests", "tokens", "tokens-day"].map((window) => `x-ratelimit-${kind}-${window}`),
);

/**
 * Response headers a browser script may read besides the CORS-safelisted ones
 * (content-type…): the gateway's, the provider's request id and timings, and
 * what the SDK reads to decide on a retry.
 */
export const CORS_EXPOSE_HEADERS = [
  "x-gateway-request-id",
  "x-gateway-retries",
  "x-gateway-cache",
  "x-request-id",
  "openai-processing-ms",
  "openai-version",
  "openai-organization",
  "openai-project",
  "retry-after",
  "retry-after-ms",
  "x-should-retry",
  ...RATE_LIMIT_HEADERS,
] as const;

/** The Function URL's CORS for these origins; none turns CORS off. */
export function gatewayCors(origins: readonly string[]): FunctionUrlCorsOptions | undefined {
  if (origins.length === 0) return undefined;
  return {
    allowedOrigins: [...origins],
    allowedMethods: [HttpMethod.GET, HttpMethod.POST],
    allowedHeaders: [...CORS_ALLOW_HEADERS],
    exposedHeaders: [...CORS_EXPOSE_HEADERS],
    maxAge: Duration.hours(1),
  };
}
