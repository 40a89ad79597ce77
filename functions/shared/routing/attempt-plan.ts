/**
 * The plan of one request's attempts, made before anything is sent: the
 * targets to try in order of preference. Within a target, the runner's
 * strategies (key-pool rotation, refresh on 401, retries with backoff, the
 * time bound) decide whether to try again; across targets, the plan's
 * fall-back rule decides whether to move on. A route that falls back from one
 * provider to another is a plan with more targets.
 */
import type { HttpProvider } from "../providers/types.ts";
import type { UpstreamResponse } from "../upstream/client.ts";

/** One place an attempt may go. */
export interface AttemptTarget {
  readonly provider: HttpProvider;
}

/** What a target's last attempt gave: a response, or a failure to get one. */
export type AttemptOutcome = { readonly response: UpstreamResponse } | { readonly error: unknown };

/** The attempts of one request. */
export interface AttemptPlan {
  /** Targets in order of preference; never empty. */
  readonly targets: readonly AttemptTarget[];
  /** Whether a target's final outcome (after its own retries) sends the request on to the next target. */
  fallBack(outcome: AttemptOutcome): boolean;
}

/** The plan for a request to one provider: one target, no fall-back. */
export function singleProviderPlan(provider: HttpProvider): AttemptPlan {
  return { targets: [{ provider }], fallBack: () => false };
}
