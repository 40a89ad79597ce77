/**
 * Which outcomes of a target move a request on to the next one. The rule is
 * about who is at fault: the target (rate-limited, failing, unreachable, too
 * slow) or, on a route that says so, its key or deployment (401, 403, 404);
 * never the request itself (400, 422, and every other 4xx), since another
 * provider would refuse it too and the client must see why.
 */
import { UpstreamTimeoutError, UpstreamUnavailableError } from "../http/errors.ts";
import type { AttemptOutcome } from "./attempt-plan.ts";
import { UpstreamAuthenticationError } from "./strategies.ts";

/** Whether an outcome is the target's failure, so another target may do better. */
export function isTargetFailure(outcome: AttemptOutcome, fallbackOn: ReadonlySet<number>): boolean {
  if ("response" in outcome) {
    const { status } = outcome.response;
    return status === 429 || status >= 500 || fallbackOn.has(status);
  }
  const { error } = outcome;
  // The gateway's own key was refused (a provider 401 in managed mode).
  if (error instanceof UpstreamAuthenticationError) return fallbackOn.has(401);
  if (error instanceof UpstreamTimeoutError) return true;
  // A reply that is not HTTP came after the request went out: the provider may have done the work.
  return error instanceof UpstreamUnavailableError && error.code !== "upstream_malformed_response";
}
