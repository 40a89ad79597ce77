/**
 * When and how long to wait before trying the provider again.
 *
 * Retries happen only before anything has been sent to the client: on 429,
 * 500, 502, 503, 504, 529 and connection failures, never on other statuses nor on
 * a reply that is not HTTP. The
 * wait is exponential backoff with full jitter, unless the provider says how
 * long (`retry-after-ms`, `retry-after` in seconds or as an HTTP date); a
 * provider wait longer than the cap is not worth waiting for, so the answer
 * goes to the client as it is.
 */
import type { RetryConfig, RetrySettings } from "../config/config.ts";
import { parseWholeNumber } from "../config/env-values.ts";
import { InvalidRequestError, UpstreamTimeoutError, UpstreamUnavailableError } from "../http/errors.ts";
import { headerValue, type IncomingHeaders } from "../http/headers.ts";

/**
 * Statuses worth another try: rate limits and provider-side failures, and
 * Anthropic's 529 `overloaded_error` (its own SDK retries it; the gateway
 * relays it as a 503).
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504, 529]);

/**
 * The most retries a request may ask for with `x-gateway-max-retries`: fewer
 * than a deployment may set, since every caller can send the header and each
 * retry is another (billed) call to the provider.
 */
export const MAX_REQUEST_RETRIES = 3;

/** The longest wait a request may allow with `x-gateway-retry-max-delay-ms`. */
export const MAX_REQUEST_RETRY_DELAY_MS = 20_000;

/** The request headers that change a request's retry settings. */
const RETRY_HEADERS = ["x-gateway-max-retries", "x-gateway-retry-max-delay-ms"] as const;

/**
 * Whether a failure to get a response is worth another try: the connection
 * failed or was refused, or the provider hung up without answering. A reply
 * the gateway could not parse is not: it came after the request went out, so
 * the provider may have done the work (and charged for it).
 */
export function isRetryableFailure(error: unknown): boolean {
  if (error instanceof UpstreamUnavailableError) return error.code !== "upstream_malformed_response";
  return error instanceof UpstreamTimeoutError && error.code === "upstream_connect_timeout";
}

/**
 * The retry settings of one request: the deployment's, with the attempts and
 * the cap replaced by `x-gateway-max-retries` (0 to {@link MAX_REQUEST_RETRIES})
 * and `x-gateway-retry-max-delay-ms` (0 to {@link MAX_REQUEST_RETRY_DELAY_MS}) when sent.
 * @throws {InvalidRequestError} for a header that is not a whole number in range,
 *   or for either header when the deployment does not allow them
 */
export function requestRetryConfig(headers: IncomingHeaders, settings: RetrySettings): RetryConfig {
  if (!settings.allowRequestHeaders) {
    const sent = RETRY_HEADERS.find((name) => headerValue(headers, name) !== undefined);
    if (sent !== undefined) {
      throw new InvalidRequestError(`${sent} is not accepted: this gateway's retry settings cannot be changed per request.`, {
        param: sent,
        code: "header_not_allowed",
      });
    }
  }
  return {
    maxRetries: integerHeader(headers, "x-gateway-max-retries", MAX_REQUEST_RETRIES) ?? settings.maxRetries,
    baseDelayMs: settings.baseDelayMs,
    maxDelayMs: integerHeader(headers, "x-gateway-retry-max-delay-ms", MAX_REQUEST_RETRY_DELAY_MS) ?? settings.maxDelayMs,
  };
}

function integerHeader(headers: IncomingHeaders, name: string, max: number): number | undefined {
  const raw = headerValue(headers, name);
  if (raw === undefined) return undefined;
  const value = parseWholeNumber(raw, 0, max);
  if (value === undefined) {
    throw new InvalidRequestError(`${name} must be an integer from 0 to ${max}.`, { param: name, code: "invalid_header" });
  }
  return value;
}

/**
 * Milliseconds to wait before retry number `retry` (0 for the first), or
 * undefined when the provider asks for longer than the cap.
 */
export function retryDelayMs(
  retry: number,
  responseHeaders: IncomingHeaders | undefined,
  config: RetryConfig,
  random: () => number = Math.random,
  now: () => number = Date.now,
): number | undefined {
  const asked = responseHeaders === undefined ? undefined : providerDelayMs(responseHeaders, now);
  if (asked !== undefined) return asked <= config.maxDelayMs ? asked : undefined;
  const ceiling = Math.min(config.maxDelayMs, config.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/** The wait the provider asked for, in ms: `retry-after-ms`, else `retry-after` as seconds or an HTTP date. */
export function providerDelayMs(headers: IncomingHeaders, now: () => number = Date.now): number | undefined {
  const milliseconds = Number(headerValue(headers, "retry-after-ms"));
  if (Number.isFinite(milliseconds) && milliseconds >= 0 && headerValue(headers, "retry-after-ms") !== undefined) return milliseconds;
  const retryAfter = headerValue(headers, "retry-after")?.trim();
  if (retryAfter === undefined || retryAfter === "") return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now());
}
