/**
 * The caller's key limits and budgets, as the core applies them: before the
 * provider is called, the request is counted and its estimated tokens and
 * cost reserved; after the answer, the reservation is settled with what it
 * used (access/key-limits.ts). A store failure (or a store that does not
 * answer in time) never fails a request: it is reported and the request goes
 * through.
 */
import type { Caller } from "../access/authenticate.ts";
import type { KeyLimits } from "../config/key-limits.ts";
import { reserveKeyLimits, settleKeyLimits, toMicroUsd, type Charge, type KeyReservation } from "../access/key-limits.ts";
import type { GatewayStore } from "../stores/types.ts";
import type { TokenUsage } from "../usage/usage-readers.ts";

/**
 * Applies key limits to managed callers; others have none. For a caller
 * without limits both return undefined rather than a resolved promise: most
 * requests have none, and the hot path is spared the awaits (npm run bench).
 */
export interface KeyLimiter {
  /**
   * Counts the request and reserves `estimate()` against its key's windows
   * (computed only for a key with limits).
   * @returns the reservation to settle, if any
   * @throws {KeyRateLimitError} when a rate limit is exhausted
   * @throws {KeyBudgetError} when a budget is spent
   */
  admit(caller: Caller, estimate: () => Charge): Promise<KeyReservation | undefined> | undefined;
  /**
   * Replaces a reservation with what the request used (undefined: nothing).
   * @returns the largest share (%) of a USD budget the key has now spent, for a key with a budget
   */
  settle(reservation: KeyReservation | undefined, used: Charge | undefined): Promise<number | undefined> | undefined;
}

/** What a request is charged for `usage` costing `costUsd`. */
export function chargeOf(usage: TokenUsage | undefined, costUsd: number | undefined): Charge {
  return { tokens: usage?.totalTokens ?? 0, microUsd: toMicroUsd(costUsd) ?? 0 };
}

const NOTHING: Charge = { tokens: 0, microUsd: 0 };

/** Creates the limiter over the gateway store. */
export function createKeyLimiter(store: GatewayStore, onStoreError: (error: unknown, operation: string) => void): KeyLimiter {
  function settle(reservation: KeyReservation | undefined, used: Charge | undefined): Promise<number | undefined> | undefined {
    if (reservation === undefined || reservation.entries.length === 0) return undefined;
    return settleReservation(reservation, used);
  }

  async function settleReservation(reservation: KeyReservation, used: Charge | undefined): Promise<number | undefined> {
    try {
      const windows = await settleKeyLimits(store, reservation, used ?? NOTHING);
      const shares = windows.filter(({ window }) => window.measure === "usd").map(({ window, used: spent }) => (100 * spent) / window.limit);
      return shares.length === 0 ? undefined : Math.round(Math.max(...shares) * 100) / 100;
    } catch (error) {
      onStoreError(error, "quota charge");
      return undefined;
    }
  }

  return {
    admit(caller, estimate) {
      if (caller.mode !== "managed" || caller.limits === undefined) return undefined;
      return admit(caller.keyId, caller.limits, estimate());
    },
    settle,
  };

  async function admit(keyId: string, limits: KeyLimits, estimate: Charge): Promise<KeyReservation | undefined> {
    let admitted;
    try {
      admitted = await reserveKeyLimits(store, keyId, limits, estimate);
    } catch (error) {
      onStoreError(error, "quota check");
      return undefined;
    }
    if (admitted?.refusal === undefined) return admitted?.reservation;
    await settle(admitted.reservation, undefined);
    throw admitted.refusal;
  }
}
