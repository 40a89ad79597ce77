/**
 * Per-gateway-key limits: requests per minute, tokens per minute, tokens per
 * day, counted in fixed UTC windows in the gateway store. Requests are counted
 * as they arrive; tokens are charged from each answer's usage, streams
 * included, so a key may overshoot a token limit by the answers in flight.
 */
import { GatewayError } from "../http/errors.ts";
import type { KeyLimits } from "../config/key-limits.ts";
import type { GatewayStore } from "../stores/types.ts";

type LimitName = "requests_per_minute" | "tokens_per_minute" | "tokens_per_day";

interface Window {
  readonly name: LimitName;
  readonly limit: number;
  /** OpenAI's header suffix: x-ratelimit-limit-<suffix>. */
  readonly header: string;
  readonly lengthMs: number;
  readonly counter: string;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** A gateway key went over one of its limits: 429 with `retry-after` and `x-ratelimit-*` headers. */
export class KeyRateLimitError extends GatewayError {
  constructor(keyId: string, window: Window, used: number, headers: Record<string, string>) {
    const what = window.name.replaceAll("_", " ");
    super(429, `Rate limit reached for gateway key ${keyId} on ${what}: limit ${window.limit}, used ${used}. Try again later.`, {
      type: window.name,
      code: "rate_limit_exceeded",
      headers,
    });
  }
}

function windows(keyId: string, limits: KeyLimits, now: number): Window[] {
  const minute = Math.floor(now / MINUTE);
  const day = Math.floor(now / DAY);
  const list: Window[] = [];
  if (limits.requestsPerMinute !== undefined) {
    list.push({ name: "requests_per_minute", limit: limits.requestsPerMinute, header: "requests", lengthMs: MINUTE, counter: `quota:${keyId}:rpm:${minute}` });
  }
  if (limits.tokensPerMinute !== undefined) {
    list.push({ name: "tokens_per_minute", limit: limits.tokensPerMinute, header: "tokens", lengthMs: MINUTE, counter: `quota:${keyId}:tpm:${minute}` });
  }
  if (limits.tokensPerDay !== undefined) {
    list.push({ name: "tokens_per_day", limit: limits.tokensPerDay, header: "tokens-day", lengthMs: DAY, counter: `quota:${keyId}:tpd:${day}` });
  }
  return list;
}

const ttlSeconds = (window: Window) => Math.ceil((2 * window.lengthMs) / 1000);

/**
 * Counts the request and checks every limit of the key.
 * @throws {KeyRateLimitError} when one is exhausted
 */
export async function enforceKeyLimits(store: GatewayStore, keyId: string, limits: KeyLimits, now = Date.now()): Promise<void> {
  const list = windows(keyId, limits, now);
  if (list.length === 0) return;
  const used = await Promise.all(
    list.map((window) => store.add(window.counter, window.name === "requests_per_minute" ? 1 : 0, ttlSeconds(window))),
  );
  const index = list.findIndex((window, position) =>
    window.name === "requests_per_minute" ? (used[position] ?? 0) > window.limit : (used[position] ?? 0) >= window.limit,
  );
  const exceeded = list[index];
  if (exceeded === undefined) return;
  throw new KeyRateLimitError(keyId, exceeded, used[index] ?? 0, rateLimitHeaders(list, used, now, exceeded));
}

/** Charges an answer's tokens to the key's token windows. */
export async function chargeKeyTokens(store: GatewayStore, keyId: string, limits: KeyLimits, tokens: number, now = Date.now()): Promise<void> {
  if (tokens <= 0) return;
  const list = windows(keyId, limits, now).filter((window) => window.name !== "requests_per_minute");
  await Promise.all(list.map((window) => store.add(window.counter, tokens, ttlSeconds(window))));
}

function rateLimitHeaders(list: readonly Window[], used: readonly number[], now: number, exceeded: Window): Record<string, string> {
  const headers: Record<string, string> = { "retry-after": String(Math.max(1, Math.ceil(resetMs(exceeded, now) / 1000))) };
  list.forEach((window, index) => {
    headers[`x-ratelimit-limit-${window.header}`] = String(window.limit);
    headers[`x-ratelimit-remaining-${window.header}`] = String(Math.max(0, window.limit - (used[index] ?? 0)));
    headers[`x-ratelimit-reset-${window.header}`] = formatDuration(resetMs(window, now));
  });
  return headers;
}

function resetMs(window: Window, now: number): number {
  return window.lengthMs - (now % window.lengthMs);
}

/** OpenAI's duration format: `6m0s`, `12s`, `1h2m3s`. */
function formatDuration(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  return `${hours > 0 ? `${hours}h` : ""}${hours > 0 || minutes > 0 ? `${minutes}m` : ""}${rest}s`;
}
