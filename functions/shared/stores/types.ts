/**
 * The one storage interface behind the response cache, the key quotas and the
 * owners of stored objects: in memory for the local server, DynamoDB in AWS.
 */

/** Values with a time to live, and atomic counters. */
export interface GatewayStore {
  /**
   * The stored value, or undefined when absent or expired. `consistent` asks
   * for a read that sees every write made before it (DynamoDB reads are
   * eventually consistent otherwise), for a value just written by another request.
   */
  get(key: string, options?: { readonly consistent?: boolean }): Promise<Uint8Array | undefined>;
  /** Stores a value for `ttlSeconds`; returns false when the value is too large to keep (never an error). */
  put(key: string, value: Uint8Array, ttlSeconds: number): Promise<boolean>;
  /**
   * Adds `amount` to a counter atomically (a new counter starts at 0 and
   * expires after `ttlSeconds`) and returns the new total; `amount` 0 reads it.
   * Callers put the time window in the key (`…:minute:29712345`), so a
   * counter is never reused after its window, whenever the store deletes it.
   */
  add(key: string, amount: number, ttlSeconds: number): Promise<number>;
}
