/**
 * The one storage interface behind the response cache and the key quotas:
 * in memory for the local server, DynamoDB in AWS.
 */

/** Values with a time to live, and atomic counters. */
export interface GatewayStore {
  /** The stored value, or undefined when absent or expired. */
  get(key: string): Promise<Uint8Array | undefined>;
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
