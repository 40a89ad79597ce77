/**
 * The caller's key limits, as the core applies them: counted before the
 * provider is called, charged after the answer. A store failure (or a store
 * that does not answer in time) never fails a request: it is reported and
 * the request goes through.
 */
import type { Caller } from "../access/authenticate.ts";
import { chargeKeyTokens, enforceKeyLimits, KeyRateLimitError } from "../access/key-limits.ts";
import type { GatewayStore } from "../stores/types.ts";
import type { TokenUsage } from "../usage/usage-readers.ts";

/**
 * Applies key limits to managed callers; others have none. For a caller
 * without limits both return undefined rather than a resolved promise: most
 * requests have none, and the hot path is spared the awaits (npm run bench).
 */
export interface KeyLimiter {
  /**
   * Counts the request against its key's limits.
   * @throws {KeyRateLimitError} when one is exhausted
   */
  admit(caller: Caller): Promise<void> | undefined;
  /** Charges an answer's tokens to the key's token windows. */
  charge(caller: Caller, usage: TokenUsage | undefined): Promise<void> | undefined;
}

/** Creates the limiter over the gateway store. */
export function createKeyLimiter(store: GatewayStore, onStoreError: (error: unknown, operation: string) => void): KeyLimiter {
  return {
    admit(caller) {
      if (caller.mode !== "managed" || caller.limits === undefined) return undefined;
      const limits = caller.limits;
      return (async () => {
        try {
          await enforceKeyLimits(store, caller.keyId, limits);
        } catch (error) {
          if (error instanceof KeyRateLimitError) throw error;
          onStoreError(error, "quota check");
        }
      })();
    },
    charge(caller, usage) {
      if (caller.mode !== "managed" || caller.limits === undefined || usage === undefined) return undefined;
      const limits = caller.limits;
      return (async () => {
        try {
          await chargeKeyTokens(store, caller.keyId, limits, usage.totalTokens);
        } catch (error) {
          onStoreError(error, "quota charge");
        }
      })();
    },
  };
}
