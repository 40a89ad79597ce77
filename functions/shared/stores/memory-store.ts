/**
 * The in-memory store of the local server: bounded, expiring, one process.
 */
import type { GatewayStore } from "./types.ts";

/** Bounds of the memory store. */
export interface MemoryStoreOptions {
  /** Most bytes of values kept; the oldest entries go first. */
  readonly maxBytes?: number;
  /** Most entries (values and counters) kept. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

interface Entry<T> {
  data: T;
  expiresAt: number;
}

/**
 * Creates a memory store. Values and counters are kept apart, so filling the
 * cache never evicts (and so resets) a rate counter. Map order doubles as age
 * order for eviction.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): GatewayStore {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const maxEntries = options.maxEntries ?? 50_000;
  const now = options.now ?? Date.now;
  const values = new Map<string, Entry<Uint8Array>>();
  const counters = new Map<string, Entry<number>>();
  let bytes = 0;

  function live<T>(map: Map<string, Entry<T>>, key: string): Entry<T> | undefined {
    const entry = map.get(key);
    if (entry === undefined || entry.expiresAt > now()) return entry;
    map.delete(key);
    if (map === (values as Map<string, unknown>)) bytes -= (entry.data as Uint8Array).byteLength;
    return undefined;
  }

  function evictValues(incoming: number): void {
    for (const [key, entry] of values) {
      if (bytes + incoming <= maxBytes && values.size < maxEntries) return;
      values.delete(key);
      bytes -= entry.data.byteLength;
    }
  }

  function evictCounters(): void {
    // Expired counters first; only past the entry bound would a live one go.
    const time = now();
    for (const [key, entry] of counters) if (entry.expiresAt <= time) counters.delete(key);
    for (const key of counters.keys()) {
      if (counters.size < maxEntries) return;
      counters.delete(key);
    }
  }

  return {
    async get(key) {
      return live(values, key)?.data;
    },
    async put(key, value, ttlSeconds) {
      if (value.byteLength > maxBytes / 16) return false;
      const previous = values.get(key);
      if (previous !== undefined) {
        values.delete(key);
        bytes -= previous.data.byteLength;
      }
      evictValues(value.byteLength);
      values.set(key, { data: value, expiresAt: now() + ttlSeconds * 1000 });
      bytes += value.byteLength;
      return true;
    },
    async add(key, amount, ttlSeconds) {
      let entry = live(counters, key);
      if (entry === undefined) {
        if (counters.size >= maxEntries) evictCounters();
        entry = { data: 0, expiresAt: now() + ttlSeconds * 1000 };
        counters.set(key, entry);
      }
      entry.data += amount;
      return entry.data;
    },
  };
}
