/**
 * Which headers cross the gateway, in each direction.
 */

/** Names every response's gateway request id. */
export const REQUEST_ID_HEADER = "x-gateway-request-id";
/** Tells how many times the gateway retried the provider. */
export const RETRIES_HEADER = "x-gateway-retries";
/** Tells what the response cache did: HIT, MISS or BYPASS. */
export const CACHE_HEADER = "x-gateway-cache";

/** What the response cache did for a request, as {@link CACHE_HEADER} says it. */
export type CacheHeaderValue = "HIT" | "MISS" | "BYPASS";

/** The one place that stamps the gateway's own headers on an answer. */
export function stampGatewayHeaders(
  headers: Record<string, string>,
  requestId: string,
  retries: number,
  cache?: CacheHeaderValue,
): Record<string, string> {
  headers[REQUEST_ID_HEADER] = requestId;
  headers[RETRIES_HEADER] = String(retries);
  if (cache !== undefined) headers[CACHE_HEADER] = cache;
  return headers;
}

/** Whether a content type is a server-sent event stream. */
export function isEventStream(contentType: string | undefined): boolean {
  return contentType?.startsWith("text/event-stream") ?? false;
}

/** Incoming headers: lower-cased names, as Node and Function URLs give them. */
export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Request headers a client may send to the provider through the gateway (besides auth). */
const FORWARDED_REQUEST_HEADERS = new Set([
  "accept",
  "content-type",
  "openai-organization",
  "openai-project",
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

/** The client's headers that go upstream: content negotiation, OpenAI account headers and SDK telemetry. */
export function selectRequestHeaders(headers: IncomingHeaders): Record<string, string> {
  const selected: Record<string, string> = {};
  for (const name in headers) {
    if (FORWARDED_REQUEST_HEADERS.has(name) || name.startsWith("x-stainless-")) {
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
