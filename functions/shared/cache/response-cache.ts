/**
 * The response cache over the gateway store. A store failure never fails a
 * request: the lookup counts as a miss and the answer is simply not kept.
 */
import type { GatewayStore } from "../stores/types.ts";
import { decodeCachedResponse, encodeCachedResponse, type CachedResponse } from "./cached-response.ts";

/** Reads and writes cached answers. */
export interface ResponseCache {
  lookup(key: string): Promise<CachedResponse | undefined>;
  save(key: string, response: CachedResponse, ttlSeconds: number): Promise<void>;
}

/** Creates the cache; `onError` hears of store failures. */
export function createResponseCache(store: GatewayStore, onError: (error: unknown, operation: string) => void): ResponseCache {
  return {
    async lookup(key) {
      try {
        const bytes = await store.get(key);
        return bytes === undefined ? undefined : decodeCachedResponse(bytes);
      } catch (error) {
        onError(error, "cache lookup");
        return undefined;
      }
    },
    async save(key, response, ttlSeconds) {
      try {
        await store.put(key, encodeCachedResponse(response), ttlSeconds);
      } catch (error) {
        onError(error, "cache save");
      }
    },
  };
}
