/**
 * The attempt plan of a route: its targets in order (`fallback`) or in a
 * weighted random order (`loadbalance`: the first target is picked by weight,
 * the others follow as fallbacks, again by weight), with the targets in
 * cool-down moved to the end, to be tried only when every other one failed.
 */
import type { Caller } from "../access/authenticate.ts";
import type { RouteSettings } from "../config/route-settings.ts";
import { InvalidRequestError } from "../http/errors.ts";
import type { AttemptPlan, AttemptTarget } from "./attempt-plan.ts";
import type { TargetCooldowns } from "./cooldown.ts";
import { isTargetFailure } from "./fallback-policy.ts";

/** A route's target, resolved to its provider. */
export interface RouteTarget extends AttemptTarget {
  readonly weight: number;
}

/** A configured route, its providers resolved. */
export interface Route {
  readonly name: string;
  readonly settings: RouteSettings;
  readonly targets: readonly RouteTarget[];
}

/** What a route's plans share: the cool-down state and the source of randomness. */
export interface RoutePlanDependencies {
  readonly cooldowns: TargetCooldowns;
  /** A number in [0, 1), as Math.random. */
  readonly random: () => number;
}

/** The key of a target in the cool-down state: a provider and a model. */
export function targetKey(target: AttemptTarget): string {
  return `${target.provider.name}\u0000${target.model ?? ""}`;
}

/**
 * The plan of one request over a route.
 * @throws {InvalidRequestError} when a caller's own key would go to more than one provider
 */
export function routePlan(route: Route, caller: Caller, dependencies: RoutePlanDependencies): AttemptPlan {
  const { cooldowns, random } = dependencies;
  if (caller.mode === "passthrough" && new Set(route.targets.map((target) => target.provider.name)).size > 1) {
    // A caller's key is for one provider: it must not travel to the others of the route.
    throw new InvalidRequestError(`Route ${route.name} spans several providers; use it with a gateway key, not your own provider key.`, {
      param: "x-provider",
      code: "route_requires_gateway_key",
    });
  }
  const ordered = route.settings.strategy === "loadbalance" ? weightedOrder(route.targets, random) : route.targets;
  const cooling = ordered.filter((target) => cooldowns.isCooling(targetKey(target)));
  const ready = ordered.filter((target) => !cooling.includes(target));
  const fallbackOn = new Set(route.settings.fallbackOn);
  return {
    targets: [...ready, ...cooling],
    fallBack(outcome, target) {
      const failed = isTargetFailure(outcome, fallbackOn);
      if (failed) cooldowns.failed(targetKey(target), route.settings.cooldown);
      else if ("response" in outcome && outcome.response.status < 400) cooldowns.succeeded(targetKey(target));
      return failed;
    },
  };
}

/** The targets in a random order where each next one is drawn by weight among those left. */
export function weightedOrder<T extends { readonly weight: number }>(targets: readonly T[], random: () => number): T[] {
  const left = [...targets];
  const order: T[] = [];
  while (left.length > 0) {
    const total = left.reduce((sum, target) => sum + target.weight, 0);
    let point = random() * total;
    let index = left.findIndex((target) => (point -= target.weight) < 0);
    if (index === -1) index = left.length - 1; // rounding at the top end
    order.push(...left.splice(index, 1));
  }
  return order;
}
