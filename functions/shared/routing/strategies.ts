/**
 * What to do after one attempt, as small strategies tried in order: the first
 * that returns a step decides; when none does, the attempt's outcome stands.
 */
import type { Caller } from "../access/authenticate.ts";
import type { Credentials, CredentialStore } from "../access/credentials.ts";
import type { RetryConfig } from "../config/config.ts";
import { GatewayError } from "../http/errors.ts";
import { headerValue } from "../http/headers.ts";
import type { AttemptOutcome } from "./attempt-plan.ts";
import { isRetryableFailure, RETRYABLE_STATUSES, retryDelayMs } from "./retry-policy.ts";

/** Where a target's attempts stand. */
export interface AttemptState {
  readonly provider: string;
  credentials: Credentials;
  /** Position in the provider's key pool (taken modulo its size). */
  keyIndex: number;
  /** Attempts made so far at this target, minus one. */
  attempt: number;
  /** Whether the secret was already fetched again for a rejected key. */
  refreshed: boolean;
}

/** What a strategy may use. */
export interface StrategyContext {
  readonly caller: Caller;
  readonly retry: RetryConfig;
  readonly store: CredentialStore;
  remainingMs(): number;
}

/** The next step: try again after a delay, or fail with an error. */
export type AttemptStep = { readonly kind: "again"; readonly delayMs: number } | { readonly kind: "fail"; readonly error: unknown };

/** A strategy: a step, or undefined to leave the decision to the next one. */
export type AttemptStrategy = (outcome: AttemptOutcome, state: AttemptState, context: StrategyContext) => Promise<AttemptStep | undefined>;

/** The provider refused the gateway's own key (managed mode), even after a fresh read of the secret. */
export class UpstreamAuthenticationError extends GatewayError {
  constructor(provider: string, upstreamRequestId: string | undefined) {
    super(502, `The provider ${provider} rejected the gateway's API key. Your gateway key is fine; the gateway's operator must update the provider key.`, {
      code: "upstream_auth_failed",
      headers: upstreamRequestId === undefined ? {} : { "x-request-id": upstreamRequestId },
    });
  }
}

/**
 * A provider 401 to the gateway's own key: the key may have been rotated, so
 * the secret is read again once and the attempt repeated when the key
 * changed. Otherwise the key is wrong: not the caller's fault, and the
 * provider's message would show the caller a masked piece of that key, so it
 * becomes a 502 keeping only the provider's request id, for support.
 */
export const refreshRejectedKey: AttemptStrategy = async (outcome, state, context) => {
  if (!("response" in outcome) || outcome.response.status !== 401 || context.caller.mode !== "managed") return undefined;
  if (!state.refreshed) {
    state.refreshed = true;
    const latest = await context.store.refresh();
    if (poolKey(latest, state) !== poolKey(state.credentials, state)) {
      state.credentials = latest;
      return { kind: "again", delayMs: 0 };
    }
  }
  return { kind: "fail", error: new UpstreamAuthenticationError(state.provider, headerValue(outcome.response.headers, "x-request-id")) };
};

/**
 * Rate limits and provider failures are tried again with backoff, while
 * retries are left and the wait leaves time for the retry itself; a
 * rate-limited key makes way for the next one in the pool.
 */
export const retryWithBackoff: AttemptStrategy = async (outcome, state, context) => {
  const response = "response" in outcome ? outcome.response : undefined;
  if (response !== undefined && !RETRYABLE_STATUSES.has(response.status)) return undefined;
  // A timeout waiting for the answer is worth a fall-back to another target, not a retry of this one.
  if (response === undefined && !isRetryableFailure((outcome as { error: unknown }).error)) return undefined;
  if (state.attempt >= context.retry.maxRetries) return undefined;
  const delayMs = retryDelayMs(state.attempt, response?.headers, context.retry);
  if (delayMs === undefined || delayMs >= context.remainingMs() - 1_000) return undefined;
  if (response?.status === 429) state.keyIndex += 1;
  return { kind: "again", delayMs };
};

/** The strategies every target's attempts go through, in order. */
export const STRATEGIES: readonly AttemptStrategy[] = [refreshRejectedKey, retryWithBackoff];

function poolKey(credentials: Credentials, state: AttemptState): string | undefined {
  const keys = credentials.providers[state.provider]?.apiKeys;
  return keys === undefined || keys.length === 0 ? undefined : keys[state.keyIndex % keys.length];
}
