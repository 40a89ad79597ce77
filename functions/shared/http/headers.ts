/**
 * Which headers cross the gateway, in each direction.
 */

/** Names every response's gateway request id. */
export const REQUEST_ID_HEADER = "x-gateway-request-id";
/** Tells how many times the gateway retried the provider. */
export const RETRIES_HEADER = "x-gateway-retries";
/** Tells what the response cache did: HIT, MISS or BYPASS. */
export const CACHE_HEADER = "x-gateway-cache";

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

/** Connection-level headers that belong to one hop only (RFC 9110 §7.6.1), plus cookies of the provider's domain. */
const DROPPED_RESPONSE_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "set-cookie",
  "alt-svc",
]);

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

/** The provider's response headers that reach the client: all but hop-by-hop ones. */
export function selectResponseHeaders(headers: IncomingHeaders): Record<string, string> {
  const connectionTokens = headerValue(headers, "connection")?.toLowerCase().split(",").map((token) => token.trim());
  const selected: Record<string, string> = {};
  for (const name in headers) {
    if (DROPPED_RESPONSE_HEADERS.has(name) || connectionTokens?.includes(name)) continue;
    const value = headers[name];
    if (value !== undefined) selected[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return selected;
}
