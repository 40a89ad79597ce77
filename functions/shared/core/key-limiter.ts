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

/** Applies key limits to managed callers; others have none. */
export interface KeyLimiter {
  /**
   * Counts the request against its key's limits.
   * @throws {KeyRateLimitError} when one is exhausted
   */
  admit(caller: Caller): Promise<void>;
  /** Charges an answer's tokens to the key's token windows. */
  charge(caller: Caller, usage: TokenUsage | undefined): Promise<void>;
}

/** Creates the limiter over the gateway store. */
export function createKeyLimiter(store: GatewayStore, onStoreError: (error: unknown, operation: string) => void): KeyLimiter {
  return {
    async admit(caller) {
      if (caller.mode !== "managed" || caller.limits === undefined) return;
      try {
        await enforceKeyLimits(store, caller.keyId, caller.limits);
      } catch (error) {
        if (error instanceof KeyRateLimitError) throw error;
        onStoreError(error, "quota check");
      }
    },
    async charge(caller, usage) {
      if (caller.mode !== "managed" || caller.limits === undefined || usage === undefined) return;
      try {
        await chargeKeyTokens(store, caller.keyId, caller.limits, usage.totalTokens);
      } catch (error) {
        onStoreError(error, "quota charge");
      }
    },
  };
}
