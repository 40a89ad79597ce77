/**
 * Calling the provider for a request: in-process for a local provider, else
 * through the attempt plan (one provider, or a route's targets), with the
 * body adapted to each target: its model, and the stream usage option where
 * the target's provider takes it.
 */
import type { Caller } from "../access/authenticate.ts";
import type { Credentials } from "../access/credentials.ts";
import type { GatewayConfig, RetryConfig } from "../config/config.ts";
import type { EndpointMatch } from "../endpoints/match.ts";
import { selectRequestHeaders } from "../http/headers.ts";
import type { RequestBody } from "../http/request-body.ts";
import type { GatewayRequest } from "../http/wire.ts";
import type { ProviderCall } from "../providers/types.ts";
import { singleProviderPlan, type AttemptPlan, type AttemptTarget } from "../routing/attempt-plan.ts";
import type { Destination } from "../routing/destinations.ts";
import { withModel } from "../routing/replace-model.ts";
import { withRouteModels } from "../routing/route-models.ts";
import { routePlan, type RoutePlanDependencies } from "../routing/route-plan.ts";
import type { AttemptRunner } from "../routing/run-attempts.ts";
import type { UpstreamResponse } from "../upstream/client.ts";
import { requestStreamUsage } from "../usage/include-usage.ts";
import { loadPriceCatalogue, priceCatalogueLoaded } from "../usage/price-catalogue.ts";
import type { RequestRecorder } from "./request-recorder.ts";
import { timeLeftMs } from "./time-left.ts";

/** The provider's answer, and whether the gateway asked it for stream usage the client did not. */
export interface ProviderAnswer {
  readonly response: UpstreamResponse;
  readonly usageInjected: boolean;
}

/** What one call needs. */
export interface ProviderCallInput {
  readonly recorder: RequestRecorder;
  readonly request: GatewayRequest;
  readonly match: EndpointMatch;
  readonly destination: Destination;
  readonly body: RequestBody;
  /** The model the request names, wherever it puts it (endpoints/request-facts.ts: the body, a form field, the path). */
  readonly model: string | undefined;
  readonly caller: Caller;
  readonly credentials: Credentials;
  readonly retry: RetryConfig;
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

  return (input) => {
    // Only the model list is adapted: every other answer is the call's own, without another async frame.
    if (input.match.endpoint.name !== "models.list") return call(input);
    return call(input).then((answer) => ({ ...answer, response: withRouteModels(answer.response, input.routeNames) }));
  };

  async function call({ recorder, request, match, destination, body, model: requestModel, caller, credentials, retry }: ProviderCallInput): Promise<ProviderAnswer> {
    const json = body.kind === "json" ? body.json : undefined;
    const plan = planOf(destination, caller);
    recorder.upstreamStarted(now());
    if (destination.kind === "local") {
      // Aborted by the client's leaving or by the relay; no listener is left on the client's signal,
      // which an adapter may share between the requests of one connection (functions/local/server.ts).
      const controller = new AbortController();
      const signal = AbortSignal.any([request.signal, controller.signal]);
      const answer = destination.provider.answer({ endpoint: match, body: json, query: request.query, signal });
      const response = { ...answer, abort: (reason: Error) => controller.abort(reason), discard: () => controller.abort() };
      return { response, usageInjected: false };
    }
    const raw = body.kind === "none" ? undefined : body.raw;
    const base: Omit<ProviderCall, "body"> = {
      endpoint: match,
      query: request.query,
      // A tenant must not steer the operator's key to another organization or project, unless its key allows it.
      headers: selectRequestHeaders(request.headers, { accountHeaders: caller.mode !== "managed" || caller.allowAccountHeaders === true }),
      model: requestModel,
    };
    // Each target's call is made once: its body is the same for every attempt.
    const calls = new Map<AttemptTarget, { call: ProviderCall; usageInjected: boolean }>();
    const callOf = (target: AttemptTarget) => {
      let made = calls.get(target);
      if (made === undefined) {
        const model = json !== undefined && target.model !== undefined ? target.model : undefined;
        let targetBody = model === undefined || raw === undefined ? raw : withModel(raw, model);
        let usageInjected = false;
        if (json !== undefined && targetBody !== undefined && target.provider.capabilities.streamUsageOption) {
          const withUsage = requestStreamUsage(match.endpoint, json, targetBody);
          targetBody = withUsage.body;
          usageInjected = withUsage.injected;
        }
        made = { call: { ...base, model: model ?? base.model, body: targetBody }, usageInjected };
        calls.set(target, made);
      }
      return made;
    };
    // The price catalogue loads while the provider thinks, not at start-up nor after the answer
    // (once it has loaded, there is nothing to schedule: a setImmediate per request shows in npm run bench).
    if (!priceCatalogueLoaded()) setImmediate(() => void loadPriceCatalogue().catch(() => undefined));
    const result = await runAttempts({
      plan: plan as AttemptPlan,
      caller,
      credentials,
      retry,
      signal: request.signal,
      callFor: (target) => callOf(target).call,
      remainingMs: () => timeLeftMs(config, request, recorder.startedAt, now),
      onRetry: () => recorder.retried(),
      onTargetEnd: (report) => recorder.targetEnded(report.target.provider.name, callOf(report.target).call.model, report),
    });
    const served = callOf(result.target);
    recorder.servedBy(result.target.provider.name, served.call.model, result.target.provider.priceProvider);
    return { response: result.response, usageInjected: served.usageInjected };
  }

  /** The plan of an HTTP destination (a local one has none). */
  function planOf(destination: Destination, caller: Caller): AttemptPlan | undefined {
    if (destination.kind === "local") return undefined;
    if (destination.kind === "provider") return singleProviderPlan(destination.provider);
    return routePlan(destination.route, caller, dependencies.routes);
  }
}
