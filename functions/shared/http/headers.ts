/**
 * Which headers cross the gateway, in each direction.
 */

/** Names every response's gateway request id. */
export const REQUEST_ID_HEADER = "x-gateway-request-id";
/** Tells how many times the gateway retried the provider. */
export const RETRIES_HEADER = "x-gateway-retries";
/** Tells what the response cache did: HIT, MISS or BYPASS. */
export const CACHE_HEADER = "x-gateway-cache";
/** Names the provider that served the answer (a route's target). */
export const PROVIDER_HEADER = "x-gateway-provider";
/** Names the model the answer was asked of (a route's target may replace the request's). */
export const MODEL_HEADER = "x-gateway-model";

/** What the response cache did for a request, as {@link CACHE_HEADER} says it. */
export type CacheHeaderValue = "HIT" | "MISS" | "BYPASS";

/** The one place that stamps the gateway's own headers on an answer. */
export function stampGatewayHeaders(
  headers: Record<string, string>,
  requestId: string,
  retries: number,
  cache?: CacheHeaderValue,
  served?: { readonly provider?: string; readonly model?: string },
): Record<string, string> {
  headers[REQUEST_ID_HEADER] = requestId;
  headers[RETRIES_HEADER] = String(retries);
  if (cache !== undefined) headers[CACHE_HEADER] = cache;
  if (served?.provider !== undefined) headers[PROVIDER_HEADER] = served.provider;
  // A model name is the client's or the configuration's text: only what a header may carry goes out.
  if (served?.model !== undefined && /^[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?$/.test(served.model)) headers[MODEL_HEADER] = served.model;
  return headers;
}

/** Whether a content type is a server-sent event stream. */
export function isEventStream(contentType: string | undefined): boolean {
  return contentType?.trimStart().toLowerCase().startsWith("text/event-stream") ?? false;
}

/** Incoming headers: lower-cased names, as Node and Function URLs give them. */
export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Which OpenAI account (organization, project) a provider key is used for. */
const ACCOUNT_HEADERS = new Set(["openai-organization", "openai-project"]);

/** Request headers a client may send to the provider through the gateway (besides auth and account headers). */
const FORWARDED_REQUEST_HEADERS = new Set([
  "accept",
  "content-type",
  "openai-beta",
  "idempotency-key",
  "user-agent",
  "x-client-request-id",
]);

/**
 * The provider's response headers that reach the client; every other header
 * is dropped. The list is what describes the answer itself and what OpenAI's
 * SDKs read; what concerns only the gateway's own account or connection
 * stays with the gateway.
 *
 * Relayed:
 * - `content-type`, `content-encoding`, `content-disposition` (file downloads), `cache-control`
 * - `content-length`, except on an event stream: the gateway may change a
 *   stream (it strips the usage it asked for, and ends a broken one with an
 *   error event), so a stream goes out chunked
 * - `x-request-id` (the provider's id, for support), `openai-version`,
 *   `openai-processing-ms`, `openai-model`
 * - `x-ratelimit-*`, `retry-after`, `retry-after-ms`, `x-should-retry`,
 *   `openai-poll-after-ms` (the SDKs' retry and polling advice)
 *
 * Not relayed, among others: `www-authenticate` (a challenge for the gateway's
 * key), `location`, `openai-organization` and `openai-project` (the account the
 * gateway called with), `set-cookie`, `date` and `server` (the gateway's own
 * answer has them), hop-by-hop headers (`connection`, `keep-alive`,
 * `transfer-encoding`, …) and the provider's edge headers (`cf-ray`, `alt-svc`,
 * `strict-transport-security`).
 */
const RELAYED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  "content-type",
  "content-length",
  "content-encoding",
  "content-disposition",
  "cache-control",
  "x-request-id",
  "openai-version",
  "openai-processing-ms",
  "openai-model",
  "retry-after",
  "retry-after-ms",
  "x-should-retry",
  "openai-poll-after-ms",
]);

/** Prefixes of relayed response header families. */
const RELAYED_RESPONSE_HEADER_PREFIXES: readonly string[] = ["x-ratelimit-"];

/** The first value of a header. */
export function headerValue(headers: IncomingHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** What {@link selectRequestHeaders} keeps besides the always forwarded headers. */
export interface RequestHeaderOptions {
  /** Whether the client's `OpenAI-Organization` and `OpenAI-Project` go too. */
  readonly accountHeaders: boolean;
}

/** The client's headers that go upstream: content negotiation, SDK telemetry and, if allowed, OpenAI account headers. */
export function selectRequestHeaders(headers: IncomingHeaders, options: RequestHeaderOptions): Record<string, string> {
  const selected: Record<string, string> = {};
  for (const name in headers) {
    if (FORWARDED_REQUEST_HEADERS.has(name) || name.startsWith("x-stainless-") || (options.accountHeaders && ACCOUNT_HEADERS.has(name))) {
      const value = headerValue(headers, name);
      if (value !== undefined) selected[name] = value;
    }
  }
  return selected;
}

/** The provider's response headers that reach the client: those on the allow-list above. */
export function selectResponseHeaders(headers: IncomingHeaders): Record<string, string> {
  const eventStream = headerValue(headers, "content-type")?.toLowerCase().startsWith("text/event-stream") ?? false;
  const selected: Record<string, string> = {};
  for (const name in headers) {
    if (!RELAYED_RESPONSE_HEADERS.has(name) && !inRelayedFamily(name)) continue;
    // The provider's length is of the provider's body, which a stream's relay may change.
    if (name === "content-length" && eventStream) continue;
    const value = headers[name];
    if (value !== undefined) selected[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return selected;
}

/** Whether a header belongs to a relayed family (a loop, not `some` with a closure: every dropped header of every answer asks). */
function inRelayedFamily(name: string): boolean {
  for (const prefix of RELAYED_RESPONSE_HEADER_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
}
