/**
 * The plan of one request's attempts, made before anything is sent: the
 * targets to try in order of preference. Within a target, the runner's
 * strategies (key-pool rotation, refresh on 401, retries with backoff, the
 * time bound) decide whether to try again; across targets, the plan's
 * fall-back rule decides whether to move on. A route that falls back from one
 * provider to another is a plan with more targets (routing/route-plan.ts).
 */
import type { HttpProvider } from "../providers/types.ts";
import type { UpstreamResponse } from "../upstream/client.ts";

/** One place an attempt may go: a provider, and the model to ask it for. */
export interface AttemptTarget {
  readonly provider: HttpProvider;
  /** Replaces the request's `model` (a route's target); absent keeps the request's. */
  readonly model?: string;
}

/** What a target's last attempt gave: a response, or a failure to get one. */
export type AttemptOutcome = { readonly response: UpstreamResponse } | { readonly error: unknown };

/** The attempts of one request. */
export interface AttemptPlan {
  /** Targets in order of preference; never empty. */
  readonly targets: readonly AttemptTarget[];
  /**
   * Whether a target's final outcome (after its own retries) sends the
   * request on to the next target. Told of every target's final outcome, the
   * last one's included, so a plan can keep account of its targets' health.
   */
  fallBack(outcome: AttemptOutcome, target: AttemptTarget): boolean;
}

/** The plan for a request to one provider: one target, no fall-back. */
export function singleProviderPlan(provider: HttpProvider): AttemptPlan {
  return { targets: [{ provider }], fallBack: () => false };
}
