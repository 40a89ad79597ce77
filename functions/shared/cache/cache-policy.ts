/**
 * Whether and how a request uses the response cache, and its cache key.
 *
 * The cache is off unless asked: per deployment with a default TTL
 * (`GATEWAY_CACHE_TTL_SECONDS`), per request with `x-gateway-cache-ttl`.
 * `cache-control: no-cache` refreshes the entry, `no-store` bypasses the cache.
 * The key covers the caller's identity (the gateway key itself, not its id,
 * which a reordered key list could hand to someone else), so one caller never
 * gets another's answer.
 */
import { createHash } from "node:crypto";
import type { Caller } from "../access/authenticate.ts";
import type { CacheConfig } from "../config/config.ts";
import { parseWholeNumber } from "../config/env-values.ts";
import { InvalidRequestError } from "../http/errors.ts";
import { headerValue, type IncomingHeaders } from "../http/headers.ts";
import type { JsonBody } from "../http/request-body.ts";
import type { EndpointMatch } from "../endpoints/match.ts";

/** What a request does with the cache. */
export type CacheDecision =
  | { readonly mode: "bypass" }
  /** Look up, and store on a miss. */
  | { readonly mode: "use"; readonly ttlSeconds: number; readonly key: string }
  /** Skip the lookup, store the fresh answer (`cache-control: no-cache`). */
  | { readonly mode: "refresh"; readonly ttlSeconds: number; readonly key: string };

/** The decision of most requests (the cache is off unless asked): one object for all of them. */
const BYPASS: CacheDecision = Object.freeze({ mode: "bypass" });

/**
 * Decides for one request.
 * @throws {InvalidRequestError} for an `x-gateway-cache-ttl` that is not an integer from 0 to the maximum
 */
export function decideCaching(
  match: EndpointMatch,
  headers: IncomingHeaders,
  body: JsonBody | undefined,
  identity: { caller: Caller; provider: string; query: string },
  config: CacheConfig,
): CacheDecision {
  const ttlSeconds = requestedTtl(headers, config);
  const cacheControl = headerValue(headers, "cache-control")?.toLowerCase() ?? "";
  if (!match.endpoint.cacheable || body === undefined || ttlSeconds === 0 || cacheControl.includes("no-store")) {
    return BYPASS;
  }
  const key = cacheKey(match, headers, body, identity);
  return { mode: cacheControl.includes("no-cache") ? "refresh" : "use", ttlSeconds, key };
}

function requestedTtl(headers: IncomingHeaders, config: CacheConfig): number {
  const raw = headerValue(headers, "x-gateway-cache-ttl");
  if (raw === undefined) return config.defaultTtlSeconds;
  const value = parseWholeNumber(raw, 0, config.maxTtlSeconds);
  if (value === undefined) {
    throw new InvalidRequestError(`x-gateway-cache-ttl must be an integer number of seconds from 0 to ${config.maxTtlSeconds}.`, {
      param: "x-gateway-cache-ttl",
      code: "invalid_header",
    });
  }
  return value;
}

/** sha256 over who asks, where, and the body in canonical form (keys sorted). */
function cacheKey(match: EndpointMatch, headers: IncomingHeaders, body: JsonBody, identity: { caller: Caller; provider: string; query: string }): string {
  const parts = [
    callerIdentity(identity.caller),
    headerValue(headers, "openai-organization") ?? "",
    headerValue(headers, "openai-project") ?? "",
    headerValue(headers, "openai-beta") ?? "",
    identity.provider,
    match.upstreamPath,
    identity.query,
    canonicalJson(body),
  ];
  return `cache:${createHash("sha256").update(JSON.stringify(parts)).digest("hex")}`;
}

function callerIdentity(caller: Caller): string {
  if (caller.mode === "managed") return `key:${caller.keyDigest}`;
  if (caller.mode === "passthrough") return `auth:${createHash("sha256").update(caller.authorization).digest("hex")}`;
  return "anonymous";
}

/** JSON with object keys sorted at every level, so key order does not split the cache. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const ERROR_BODY = /^\s*\{\s*"error"\s*:/;

/**
 * Whether an answer can be replayed faithfully to a later client: a success
 * whose bytes are what the client would read (no content encoding the replay
 * would have to carry), and not an error in a 200's clothing (some
 * OpenAI-compatible servers answer `{"error": …}` with status 200).
 */
export function isReplayable(status: number, headers: IncomingHeaders, body: Uint8Array): boolean {
  if (status < 200 || status >= 300) return false;
  const encoding = headerValue(headers, "content-encoding")?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== "" && encoding !== "identity") return false;
  const head = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 64)).toString("utf8");
  return !ERROR_BODY.test(head);
}
