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

interface Entry {
  value?: Uint8Array;
  count: number;
  expiresAt: number;
}

/** Creates a memory store; Map order doubles as age order for eviction. */
export function createMemoryStore(options: MemoryStoreOptions = {}): GatewayStore {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const maxEntries = options.maxEntries ?? 50_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  let bytes = 0;

  function live(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now()) return entry;
    remove(key, entry);
    return undefined;
  }

  function remove(key: string, entry: Entry): void {
    entries.delete(key);
    bytes -= entry.value?.byteLength ?? 0;
  }

  function makeRoom(incoming: number): void {
    for (const [key, entry] of entries) {
      if (bytes + incoming <= maxBytes && entries.size < maxEntries) return;
      remove(key, entry);
    }
  }

  return {
    async get(key) {
      return live(key)?.value;
    },
    async put(key, value, ttlSeconds) {
      if (value.byteLength > maxBytes / 16) return false;
      const previous = entries.get(key);
      if (previous !== undefined) remove(key, previous);
      makeRoom(value.byteLength);
      entries.set(key, { value, count: 0, expiresAt: now() + ttlSeconds * 1000 });
      bytes += value.byteLength;
      return true;
    },
    async add(key, amount, ttlSeconds) {
      let entry = live(key);
      if (entry === undefined) {
        makeRoom(0);
        entry = { count: 0, expiresAt: now() + ttlSeconds * 1000 };
        entries.set(key, entry);
      }
      entry.count += amount;
      return entry.count;
    },
  };
}
