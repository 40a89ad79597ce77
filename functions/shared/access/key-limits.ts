/**
 * Per-gateway-key limits and budgets, counted in fixed UTC windows in the
 * gateway store: requests per minute, tokens per minute and per day, and
 * spend in USD per day and per calendar month (counted in micro-dollars).
 *
 * Reserve, then settle: before the provider is called, the request adds 1 to
 * its request window and an estimate of its tokens and cost to the others,
 * in one atomic add per window; it is admitted when each token and budget
 * window was below its limit before its own reservation. When the answer
 * ends, the reservation is replaced by what the answer used. So at most one
 * admitted request starts past each limit, however many run at once, and a
 * window ends at most that request's usage (or the part beyond its estimate)
 * over its limit.
 */
import { GatewayError } from "../http/errors.ts";
import type { KeyLimits } from "../config/key-limits.ts";
import type { GatewayStore } from "../stores/types.ts";

/** The limits, by the name errors and GET /v1/gateway/key give them. */
export type LimitName = "requests_per_minute" | "tokens_per_minute" | "tokens_per_day" | "usd_per_day" | "usd_per_month";

/** One window of one limit, for one key, at one time. */
export interface LimitWindow {
  readonly name: LimitName;
  readonly measure: "requests" | "tokens" | "usd";
  /** In counter units: requests, tokens or micro-dollars. */
  readonly limit: number;
  /** When the window ends (ms since the epoch). */
  readonly endsAt: number;
  readonly counter: string;
  readonly ttlSeconds: number;
}

/** What a request is charged: tokens, and spend in micro-dollars. */
export interface Charge {
  readonly tokens: number;
  readonly microUsd: number;
}

/** An admitted request's hold on its key's token and budget windows, until it is settled. */
export interface KeyReservation {
  readonly entries: readonly { readonly window: LimitWindow; readonly reserved: number }[];
}

/** A window and what has been counted in it. */
export interface WindowUsage {
  readonly window: LimitWindow;
  /** In counter units. */
  readonly used: number;
}

/** Micro-dollars per dollar: spend is counted in whole micro-dollars. */
export const MICRO_USD = 1_000_000;

const MINUTE = 60_000;
const DAY = 86_400_000;
/** OpenAI's `x-ratelimit-*` suffix of each count limit. */
const HEADER: Partial<Record<LimitName, string>> = { requests_per_minute: "requests", tokens_per_minute: "tokens", tokens_per_day: "tokens-day" };

/** A gateway key went over one of its rate limits: 429 with `retry-after` and `x-ratelimit-*` headers. */
export class KeyRateLimitError extends GatewayError {
  constructor(keyId: string, window: LimitWindow, used: number, headers: Record<string, string>) {
    const what = window.name.replaceAll("_", " ");
    super(429, `Rate limit reached for gateway key ${keyId} on ${what}: limit ${window.limit}, used ${used}. Try again later.`, {
      type: window.name,
      code: "rate_limit_exceeded",
      headers,
    });
  }
}

/** A gateway key spent its budget: 429 `insufficient_quota`, until the window resets (no use retrying sooner). */
export class KeyBudgetError extends GatewayError {
  constructor(keyId: string, window: LimitWindow, used: number, headers: Record<string, string>) {
    const what = window.name === "usd_per_day" ? "daily" : "monthly";
    super(
      429,
      `Budget reached for gateway key ${keyId}: its ${what} budget (${window.name}) is ${formatUsd(window.limit)} and ${formatUsd(used)} has been spent. It resets at ${new Date(window.endsAt).toISOString()}.`,
      { type: "insufficient_quota", code: "insufficient_quota", headers: { ...headers, "x-should-retry": "false" } },
    );
  }
}

/** The windows of a key's limits at `now` (ms since the epoch). */
export function limitWindows(keyId: string, limits: KeyLimits, now: number): LimitWindow[] {
  const list: LimitWindow[] = [];
  const fixed = (name: LimitName, measure: LimitWindow["measure"], limit: number | undefined, lengthMs: number, tag: string) => {
    if (limit === undefined) return;
    const index = Math.floor(now / lengthMs);
    const counter = `quota:${keyId}:${tag}:${index}`;
    list.push({ name, measure, limit, endsAt: (index + 1) * lengthMs, counter, ttlSeconds: Math.ceil((2 * lengthMs) / 1000) });
  };
  fixed("requests_per_minute", "requests", limits.requestsPerMinute, MINUTE, "rpm");
  fixed("tokens_per_minute", "tokens", limits.tokensPerMinute, MINUTE, "tpm");
  fixed("tokens_per_day", "tokens", limits.tokensPerDay, DAY, "tpd");
  fixed("usd_per_day", "usd", toMicroUsd(limits.usdPerDay), DAY, "usdd");
  const usdPerMonth = toMicroUsd(limits.usdPerMonth);
  if (usdPerMonth !== undefined) {
    const date = new Date(now);
    const endsAt = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
    const month = `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
    list.push({ name: "usd_per_month", measure: "usd", limit: usdPerMonth, endsAt, counter: `quota:${keyId}:usdm:${month}`, ttlSeconds: Math.ceil((endsAt - now + DAY) / 1000) });
  }
  return list;
}

/**
 * Counts the request and reserves `estimate` in every window of the key.
 * @returns the reservation, and the refusal to answer when a window was already spent
 *   (the caller releases the reservation, then answers the refusal); undefined for a key without limits
 */
export async function reserveKeyLimits(
  store: GatewayStore,
  keyId: string,
  limits: KeyLimits,
  estimate: Charge,
  now = Date.now(),
): Promise<{ reservation: KeyReservation; refusal?: GatewayError } | undefined> {
  const list = limitWindows(keyId, limits, now);
  if (list.length === 0) return undefined;
  const amounts = list.map((window) => (window.measure === "requests" ? 1 : window.measure === "tokens" ? estimate.tokens : estimate.microUsd));
  const totals = await Promise.all(list.map((window, index) => store.add(window.counter, amounts[index] ?? 0, window.ttlSeconds)));
  // What the window held before this request: its own request counts, its own reservation does not.
  const used = list.map((window, index) => (totals[index] ?? 0) - (window.measure === "requests" ? 0 : (amounts[index] ?? 0)));
  const reservation = { entries: list.flatMap((window, index) => (window.measure === "requests" ? [] : [{ window, reserved: amounts[index] ?? 0 }])) };
  const exceeded = list
    .map((window, index) => ({ window, index }))
    .filter(({ window, index }) => (window.measure === "requests" ? (used[index] ?? 0) > window.limit : (used[index] ?? 0) >= window.limit));
  if (exceeded.length === 0) return { reservation };
  // The refusal names the window that resets last: retrying sooner would not help.
  const { window, index } = exceeded.reduce((latest, candidate) => (candidate.window.endsAt > latest.window.endsAt ? candidate : latest));
  const headers = rateLimitHeaders(list, used, now, window);
  const refusal =
    window.measure === "usd" ? new KeyBudgetError(keyId, window, used[index] ?? 0, headers) : new KeyRateLimitError(keyId, window, used[index] ?? 0, headers);
  return { reservation, refusal };
}

/**
 * Replaces a reservation by what the request used (nothing, for a request
 * refused or failed before an answer).
 * @returns each token and budget window with its count after the settlement
 */
export async function settleKeyLimits(store: GatewayStore, reservation: KeyReservation, actual: Charge): Promise<WindowUsage[]> {
  return Promise.all(
    reservation.entries.map(async ({ window, reserved }) => {
      const amount = (window.measure === "tokens" ? actual.tokens : actual.microUsd) - reserved;
      return { window, used: await store.add(window.counter, amount, window.ttlSeconds) };
    }),
  );
}

/** What a key has used in each of its current windows (reading a counter adds 0 to it). */
export async function readKeyUsage(store: GatewayStore, keyId: string, limits: KeyLimits, now = Date.now()): Promise<WindowUsage[]> {
  return Promise.all(limitWindows(keyId, limits, now).map(async (window) => ({ window, used: await store.add(window.counter, 0, window.ttlSeconds) })));
}

/** Dollars as whole micro-dollars, rounded up so that spend is never under-counted. */
export function toMicroUsd(usd: number | undefined): number | undefined {
  return usd === undefined ? undefined : Math.ceil(usd * MICRO_USD - 1e-6);
}

/** `$5.00`, `$0.000123`: cents when the amount is whole cents, else micro-dollars. */
export function formatUsd(microUsd: number): string {
  const dollars = microUsd / MICRO_USD;
  return `$${microUsd % 10_000 === 0 ? dollars.toFixed(2) : dollars.toFixed(6).replace(/0+$/, "")}`;
}

function rateLimitHeaders(list: readonly LimitWindow[], used: readonly number[], now: number, exceeded: LimitWindow): Record<string, string> {
  const headers: Record<string, string> = { "retry-after": String(Math.max(1, Math.ceil((exceeded.endsAt - now) / 1000))) };
  list.forEach((window, index) => {
    const suffix = HEADER[window.name];
    if (suffix === undefined) return;
    headers[`x-ratelimit-limit-${suffix}`] = String(window.limit);
    headers[`x-ratelimit-remaining-${suffix}`] = String(Math.max(0, window.limit - (used[index] ?? 0)));
    headers[`x-ratelimit-reset-${suffix}`] = formatDuration(window.endsAt - now);
  });
  return headers;
}

/** OpenAI's duration format: `6m0s`, `12s`, `1h2m3s`. */
function formatDuration(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  return `${hours > 0 ? `${hours}h` : ""}${hours > 0 || minutes > 0 ? `${minutes}m` : ""}${rest}s`;
}
