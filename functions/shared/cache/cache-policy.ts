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
import { InvalidRequestError } from "../http/errors.ts";
import { headerValue, type IncomingHeaders } from "../http/headers.ts";
import type { JsonBody } from "../http/request-body.ts";
import type { Route } from "../endpoints/match.ts";

/** Cache settings of a deployment. */
export interface CacheConfig {
  /** TTL for requests that do not say; 0 leaves the cache off unless a request asks. */
  readonly defaultTtlSeconds: number;
  /** The longest TTL a request may ask for. */
  readonly maxTtlSeconds: number;
  /** Larger responses are not stored. */
  readonly maxEntryBytes: number;
}

/** What a request does with the cache. */
export type CacheDecision =
  | { readonly mode: "bypass" }
  /** Look up, and store on a miss. */
  | { readonly mode: "use"; readonly ttlSeconds: number; readonly key: string }
  /** Skip the lookup, store the fresh answer (`cache-control: no-cache`). */
  | { readonly mode: "refresh"; readonly ttlSeconds: number; readonly key: string };

/** The endpoints whose answers depend only on the request. */
const CACHEABLE = new Set(["chat.completions", "completions", "embeddings", "moderations"]);

/**
 * Decides for one request.
 * @throws {InvalidRequestError} for an `x-gateway-cache-ttl` that is not an integer from 0 to the maximum
 */
export function decideCaching(
  route: Route,
  headers: IncomingHeaders,
  body: JsonBody | undefined,
  identity: { caller: Caller; provider: string; query: string },
  config: CacheConfig,
): CacheDecision {
  const ttlSeconds = requestedTtl(headers, config);
  const cacheControl = headerValue(headers, "cache-control")?.toLowerCase() ?? "";
  if (!CACHEABLE.has(route.endpoint) || body === undefined || ttlSeconds === 0 || cacheControl.includes("no-store")) {
    return { mode: "bypass" };
  }
  const key = cacheKey(route, headers, body, identity);
  return { mode: cacheControl.includes("no-cache") ? "refresh" : "use", ttlSeconds, key };
}

function requestedTtl(headers: IncomingHeaders, config: CacheConfig): number {
  const raw = headerValue(headers, "x-gateway-cache-ttl");
  if (raw === undefined) return config.defaultTtlSeconds;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value > config.maxTtlSeconds) {
    throw new InvalidRequestError(`x-gateway-cache-ttl must be an integer number of seconds from 0 to ${config.maxTtlSeconds}.`, {
      param: "x-gateway-cache-ttl",
      code: "invalid_header",
    });
  }
  return value;
}

/** sha256 over who asks, where, and the body in canonical form (keys sorted). */
function cacheKey(route: Route, headers: IncomingHeaders, body: JsonBody, identity: { caller: Caller; provider: string; query: string }): string {
  const parts = [
    callerIdentity(identity.caller),
    headerValue(headers, "openai-organization") ?? "",
    headerValue(headers, "openai-project") ?? "",
    headerValue(headers, "openai-beta") ?? "",
    identity.provider,
    route.upstreamPath,
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
