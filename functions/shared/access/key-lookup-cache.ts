/**
 * The key lookup cache of an execution environment: answers of a key store,
 * found or not found, kept for a short TTL, so that a client sending the same
 * key (right or wrong) costs one table read per TTL. A key revoked in the
 * table stops working within the TTL.
 *
 * A flood of different wrong keys misses any cache, so lookups the cache
 * cannot answer are also rationed (a token bucket per execution environment):
 * past the ration the request gets a 503 with `retry-after: 1` and the table
 * is not read. Keys already cached are never rationed, and concurrent lookups
 * of one hash share one read.
 */
import { DependencyUnavailableError } from "../http/errors.ts";
import type { KeyRecord } from "./key-record.ts";
import type { GatewayKeyStore } from "./key-store.ts";

/** Options of the cache. */
export interface KeyLookupCacheOptions {
  /** How long an answer is kept (0: not at all). */
  readonly ttlMs: number;
  /** Most answers kept; the oldest go first (default 10,000). */
  readonly maxEntries?: number;
  /** Store lookups allowed per second once the burst is spent (default 50). */
  readonly lookupsPerSecond?: number;
  /** Store lookups allowed at once after a quiet spell (default 100). */
  readonly lookupBurst?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly record: KeyRecord | undefined;
  readonly at: number;
}

/** The ration of store lookups is spent: 503, try again in a second. */
export class KeyLookupThrottledError extends DependencyUnavailableError {
  constructor() {
    super("Too many unknown gateway keys are being tried at once; try again in a second.", { code: "key_lookups_throttled", headers: { "retry-after": "1" } });
  }
}

/** Wraps a key store in the cache. */
export function createKeyLookupCache(store: GatewayKeyStore, options: KeyLookupCacheOptions): GatewayKeyStore {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const perSecond = options.lookupsPerSecond ?? 50;
  const burst = options.lookupBurst ?? 100;
  // Map order is insertion order: the first entry is the oldest.
  const answers = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<KeyRecord | undefined>>();
  let tokens = burst;
  let refilledAt = now();

  function takeToken(): boolean {
    const time = now();
    tokens = Math.min(burst, tokens + ((time - refilledAt) / 1000) * perSecond);
    refilledAt = time;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }

  function remember(sha256: string, record: KeyRecord | undefined): void {
    if (options.ttlMs <= 0) return;
    answers.delete(sha256);
    if (answers.size >= maxEntries) answers.delete(answers.keys().next().value as string);
    answers.set(sha256, { record, at: now() });
  }

  return {
    findByHash(sha256) {
      const cached = answers.get(sha256);
      if (cached !== undefined && now() - cached.at < options.ttlMs) return Promise.resolve(cached.record);
      const pending = inFlight.get(sha256);
      if (pending !== undefined) return pending;
      if (!takeToken()) return Promise.reject(new KeyLookupThrottledError());
      const lookup = store
        .findByHash(sha256)
        .then((record) => {
          remember(sha256, record);
          return record;
        })
        .finally(() => inFlight.delete(sha256));
      inFlight.set(sha256, lookup);
      return lookup;
    },
  };
}
