/**
 * Calling the provider for a request: in-process for a local provider, else
 * through the attempt plan (one provider, or a route's targets), with the
 * body adapted to each target: its model, and the stream usage option where
 * the target's provider takes it.
 */
import type { Caller } from "../access/authenticate.ts";
import type { GatewayConfig } from "../config/config.ts";
import { selectRequestHeaders } from "../http/headers.ts";
import type { HttpProvider, ProviderCall } from "../providers/types.ts";
import { singleProviderPlan, type AttemptPlan } from "../routing/attempt-plan.ts";
import type { Destination } from "../routing/destinations.ts";
import { withRouteModels } from "../routing/route-models.ts";
import { routePlan, type RoutePlanDependencies } from "../routing/route-plan.ts";
import type { AttemptRunner } from "../routing/run-attempts.ts";
import type { UpstreamResponse } from "../upstream/client.ts";
import { loadPriceCatalogue, priceCatalogueLoaded } from "../usage/price-catalogue.ts";
import { ProviderRun, type ProviderRunInput } from "./provider-run.ts";

/** The provider's answer, and whether the gateway asked it for stream usage the client did not. */
export interface ProviderAnswer {
  readonly response: UpstreamResponse;
  readonly usageInjected: boolean;
}

/** What one call needs: what its run through the plan needs, and where it goes. */
export interface ProviderCallInput extends ProviderRunInput {
  readonly destination: Destination;
  /** The model the request names, wherever it puts it (endpoints/request-facts.ts: the body, a form field, the path). */
  readonly model: string | undefined;
  /** The routes a model list gains. */
  readonly routeNames: readonly string[];
}

/** Calls a request's provider. */
export type ProviderCaller = (input: ProviderCallInput) => Promise<ProviderAnswer>;

/** Creates the caller over an attempt runner; `routes` is what every route's plan shares. */
export function createProviderCaller(dependencies: {
  config: GatewayConfig;
  now: () => number;
  runAttempts: AttemptRunner;
  routes: RoutePlanDependencies;
}): ProviderCaller {
  const { config, now, runAttempts } = dependencies;
  // A provider named alone has the same plan for every request (its providers live as long as their credentials snapshot).
  const providerPlans = new WeakMap<HttpProvider, AttemptPlan>();

  return (input) => {
    // Only the model list is adapted: every other answer is the call's own, without another async frame.
    if (input.match.endpoint.name !== "models.list") return call(input);
    return call(input).then((answer) => ({ ...answer, response: withRouteModels(answer.response, input.routeNames) }));
  };

  async function call(input: ProviderCallInput): Promise<ProviderAnswer> {
    const { recorder, request, match, destination, body, model: requestModel, caller } = input;
    const plan = planOf(destination, caller);
    recorder.upstreamStarted(now());
    if (destination.kind === "local") {
      // Aborted by the client's leaving or by the relay; no listener is left on the client's signal,
      // which an adapter may share between the requests of one connection (functions/local/server.ts).
      const controller = new AbortController();
      const signal = AbortSignal.any([request.signal, controller.signal]);
      const answer = destination.provider.answer({ endpoint: match, body: body.kind === "json" ? body.json : undefined, query: request.query, signal });
      const response = { ...answer, abort: (reason: Error) => controller.abort(reason), discard: () => controller.abort() };
      return { response, usageInjected: false };
    }
    const base: Omit<ProviderCall, "body"> = {
      endpoint: match,
      query: request.query,
      // A tenant must not steer the operator's key to another organization or project, unless its key allows it.
      headers: selectRequestHeaders(request.headers, { accountHeaders: caller.mode !== "managed" || caller.allowAccountHeaders === true }),
      model: requestModel,
    };
    const run = new ProviderRun(input, plan as AttemptPlan, base, config, now);
    // The price catalogue loads while the provider thinks, not at start-up nor after the answer
    // (once it has loaded, there is nothing to schedule: a setImmediate per request shows in npm run bench).
    if (!priceCatalogueLoaded()) setImmediate(() => void loadPriceCatalogue().catch(() => undefined));
    const result = await runAttempts(run);
    const served = run.targetCall(result.target);
    recorder.servedBy(result.target.provider.name, served.call.model, result.target.provider.priceProvider);
    return { response: result.response, usageInjected: served.usageInjected };
  }

  /** The plan of an HTTP destination (a local one has none); a provider's own is made once. */
  function planOf(destination: Destination, caller: Caller): AttemptPlan | undefined {
    if (destination.kind === "local") return undefined;
    if (destination.kind === "provider") {
      let plan = providerPlans.get(destination.provider);
      if (plan === undefined) providerPlans.set(destination.provider, (plan = singleProviderPlan(destination.provider)));
      return plan;
    }
    return routePlan(destination.route, caller, dependencies.routes);
  }
}
