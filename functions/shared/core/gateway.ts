/**
 * The gateway core: one request in, one response out, for any runtime.
 *
 * Adapters (the Lambda handler, the local server) turn their input into a
 * {@link GatewayRequest}, call {@link Gateway.handle}, and write the
 * {@link GatewayResponse}: status and headers first, then the body chunks as
 * they come. `completed` resolves when the body is done, with the request's
 * measurements for logs and metrics.
 *
 * @example
 * const gateway = createGateway({ config: loadConfig(), credentials: createEnvCredentialStore(...) });
 * const response = await gateway.handle({ method: "GET", path: "/v1/models", query: "", headers, body: undefined, signal });
 */
import { authenticate, type Caller } from "../access/authenticate.ts";
import { refuseEndpoint } from "../access/endpoint-refusal.ts";
import { createObjectGuard, type ObjectAccess } from "../access/object-guard.ts";
import { createKeyStore } from "../access/create-key-store.ts";
import type { Credentials, CredentialStore } from "../access/credentials.ts";
import { identifyCaller } from "../access/identify-caller.ts";
import type { KeyReservation } from "../access/key-limits.ts";
import type { GatewayKeyStore } from "../access/key-store.ts";
import { checkPermissions } from "../access/permissions.ts";
import { estimateReservation } from "../access/reservation-estimate.ts";
import { decideCaching, isReplayable, type CacheDecision } from "../cache/cache-policy.ts";
import { keptHeaders } from "../cache/cached-response.ts";
import { createResponseCache } from "../cache/response-cache.ts";
import type { GatewayConfig } from "../config/config.ts";
import { matchEndpoint } from "../endpoints/match.ts";
import { requestFacts } from "../endpoints/request-facts.ts";
import { headerValue } from "../http/headers.ts";
import { readRawBody, readRequestBody } from "../http/request-body.ts";
import type { GatewayRequest, GatewayResponse } from "../http/wire.ts";
import { RequestIds } from "../observability/request-id.ts";
import { checkDestinationServes, createDestinations, needsProviderKey, type Destinations } from "../routing/destinations.ts";
import { TargetCooldowns } from "../routing/cooldown.ts";
import { requestRetryConfig } from "../routing/retry-policy.ts";
import { createAttemptRunner } from "../routing/run-attempts.ts";
import { createGatewayStore, createObjectStore } from "../stores/create-store.ts";
import type { GatewayStore } from "../stores/types.ts";
import { createUpstreamClient, type UpstreamClient } from "../upstream/client.ts";
import { answerError, answerFromCache } from "./answers.ts";
import { answerKeyInfo } from "./key-info.ts";
import { chargeOf, createKeyLimiter } from "./key-limiter.ts";
import { createProviderCaller, type ProviderAnswer, type ProviderCallInput } from "./provider-call.ts";
import { RequestRecorder } from "./request-recorder.ts";
import { relayAnswer, type AnswerResult } from "./relay-answer.ts";
import { timeLeftMs } from "./time-left.ts";

/** The gateway core. */
export interface Gateway {
  handle(request: GatewayRequest): Promise<GatewayResponse>;
  /** The error response for a request an adapter rejected before the core saw it. */
  fail(request: GatewayRequest, error: unknown): GatewayResponse;
  /** Releases pooled connections. */
  close(): void;
}

/** What the core is built from. */
export interface GatewayDependencies {
  readonly config: GatewayConfig;
  readonly credentials: CredentialStore;
  /** The cache and quota store, which also keeps stored objects' owners (default: the one the configuration names). */
  readonly store?: GatewayStore;
  /** Hears of store failures, which never fail a request. */
  readonly onStoreError?: (error: unknown, operation: string) => void;
  /** The managed key store (default: the one the configuration names, if any). */
  readonly keys?: GatewayKeyStore;
  readonly upstream?: UpstreamClient;
  readonly now?: () => number;
  /** Draws load-balanced targets (default Math.random; tests pass a seeded one). */
  readonly random?: () => number;
}

/** Builds the gateway core. */
export function createGateway(dependencies: GatewayDependencies): Gateway {
  const { config, credentials: credentialStore } = dependencies;
  const upstream = dependencies.upstream ?? createUpstreamClient();
  // The global `performance`, not node:perf_hooks: the module would be loaded at start-up for nothing.
  const now = dependencies.now ?? (() => performance.now());
  // Providers and routes of each credentials snapshot: the secret may add some, and is reloaded with its TTL.
  const destinationsBySnapshot = new WeakMap<Credentials, Destinations>();
  const destinationsOf = (credentials: Credentials) => {
    let destinations = destinationsBySnapshot.get(credentials);
    if (destinations === undefined) {
      destinations = createDestinations(config, credentials);
      destinationsBySnapshot.set(credentials, destinations);
    }
    return destinations;
  };
  const routes = { cooldowns: new TargetCooldowns(), random: dependencies.random ?? Math.random };
  const gatewayStore = dependencies.store ?? createGatewayStore(config);
  const onStoreError = dependencies.onStoreError ?? (() => undefined);
  const keyStore = dependencies.keys ?? createKeyStore(config.keys, (error) => onStoreError(error, "key file reload"));
  const cache = createResponseCache(gatewayStore, onStoreError);
  const limiter = createKeyLimiter(gatewayStore, onStoreError);
  const objects = createObjectGuard({ store: dependencies.store ?? createObjectStore(config, gatewayStore), prices: config.observability.prices, onStoreError });
  const requestIds = new RequestIds();
  const callProvider = createProviderCaller({ config, now, routes, runAttempts: createAttemptRunner({ config, store: credentialStore, upstream }) });

  async function handle(request: GatewayRequest): Promise<GatewayResponse> {
    const recorder = new RequestRecorder(requestIds.next(), now(), request, config.observability.prices);
    try {
      const match = matchEndpoint(request.method, request.path);
      recorder.endpoint(match.endpoint.name, match.endpoint.family);
      const providerName = headerValue(request.headers, "x-provider");
      // Who is calling comes before anything about the set-up: where keys are required, a stranger
      // learns no provider names. (An open, passthrough gateway lists them to anyone, as it serves anyone.)
      const gotten = credentialStore.get();
      const credentials = gotten instanceof Promise ? await gotten : gotten;
      const destinations = destinationsOf(credentials);
      const authorization = headerValue(request.headers, "authorization");
      // A route named by the body's model counts as the default provider here: the body is read after authentication.
      const identified = identifyCaller(authorization, credentials, keyStore, needsProviderKey(destinations.find(providerName, undefined)));
      const caller = identified instanceof Promise ? await identified : identified;
      recorder.caller(caller);
      if (match.endpoint.answeredBy === "gateway") return await answerKeyInfo(recorder, caller, gatewayStore, now, onStoreError);
      // Endpoints no gateway key may reach (admin paths; realtime secrets unless allowed) stop here.
      refuseEndpoint(match.endpoint, caller);
      const reading = readRawBody(request, match.endpoint.requestBody);
      const raw = reading instanceof Promise ? await reading : reading;
      const body = readRequestBody(match.endpoint.requestBody, headerValue(request.headers, "content-type"), raw, config.maxBodyBytes);
      const json = body.kind === "json" ? body.json : undefined;
      const { model, stream } = requestFacts(match, body, request.query);
      const destination = destinations.resolve(providerName, model);
      checkDestinationServes(destination, match);
      if (destination.kind === "route") recorder.routed(destination.name);
      recorder.target(destination.name, model, stream);
      // Before anything is counted, cached or sent: the key's permissions.
      const takesModel = body.kind !== "none" || match.endpoint.modelParam !== undefined;
      checkPermissions(caller, { endpoint: match.endpoint.name, provider: destination.name, model, takesModel });
      // Every header the gateway reads is checked before anything is counted or served.
      const retry = requestRetryConfig(request.headers, config.retry);
      const caching = decideCaching(match, request.headers, json, { caller, provider: destination.name, query: request.query }, config.cache);
      recorder.cache(caching);
      const admitting = limiter.admit(caller, () => {
        const estimate = estimateReservation(match.endpoint, json, raw?.byteLength ?? 0);
        return chargeOf(estimate, recorder.costOf(estimate));
      });
      const reservation = admitting === undefined ? undefined : await admitting;
      const call = { recorder, request, match, destination, body, model, caller, credentials, retry, routeNames: destinations.routeNames };
      return await serve(call, caching, reservation);
    } catch (error) {
      return answerError(recorder, request.signal, error, now);
    }
  }

  /**
   * Answers an admitted request from the cache or the provider, with its stored
   * objects guarded (owner checked, lists kept to the caller's, usage counted);
   * without an answer, its reservation goes back.
   */
  async function serve(call: ProviderCallInput, caching: CacheDecision, reservation: KeyReservation | undefined): Promise<GatewayResponse> {
    const { recorder, request, match, body } = call;
    let access: ObjectAccess;
    let answer: ProviderAnswer;
    let relayFrom: number;
    try {
      const json = body.kind === "json" ? body : undefined;
      const { destination } = call;
      const priceProvider = destination.kind === "provider" ? destination.provider.priceProvider : undefined;
      // Most requests have no object to check, and their access comes at once (hot path, npm run bench).
      const admitted = objects.admit({ caller: call.caller, provider: destination.name, priceProvider, match, json: json?.json, raw: json?.raw });
      access = admitted instanceof Promise ? await admitted : admitted;
      const hit = caching.mode === "use" ? await cache.lookup(caching.key) : undefined;
      if (hit !== undefined) {
        recorder.cache(caching, true);
        await limiter.settle(reservation, undefined);
        return answerFromCache(recorder, request.signal, hit, now);
      }
      const called = await callProvider(call);
      // One reading of the clock for the answer's headers, what is left of the request's time and
      // the relay's start, unless reading pages of a list comes between (hot path, npm run bench).
      relayFrom = now();
      recorder.upstreamHeaders(relayFrom);
      // A list keeps only the caller's objects; reading on calls the provider for the next page.
      const fetchPage = async (query: string) => (await callProvider({ ...call, request: { ...request, query } })).response;
      const readTimeoutMs = timeLeftMs(config, request, recorder.startedAt, relayFrom);
      const answering = access.answer(called.response, fetchPage, request.query, readTimeoutMs);
      if (answering instanceof Promise) {
        answer = { ...called, response: await answering };
        relayFrom = now();
      } else {
        answer = { ...called, response: answering };
      }
    } catch (error) {
      await limiter.settle(reservation, undefined);
      throw error;
    }
    // Once the body has ended, in order: the prices (on a cold start the catalogue may still be
    // loading, and the key is charged in USD), the object's own usage, the charge and the cache.
    // Most requests have nothing to wait for, and get no promise (hot path, npm run bench).
    const afterEnd = (result: AnswerResult): Promise<unknown> | undefined => {
      const pricing = recorder.pricesReady();
      if (pricing === undefined) return bookkeep(result);
      return pricing.catch(() => undefined).then(() => bookkeep(result));
    };
    const bookkeep = (result: AnswerResult): Promise<unknown> | undefined => {
      // A finished batch or stored response counts its own usage, in place of what the readers saw.
      const counting = access.settle(result.usage);
      if (counting === undefined) return afterResponse(recorder, reservation, caching, answer, result, () => recorder.costOf(result.usage));
      return counting.then((counted) => {
        if (counted === undefined) return afterResponse(recorder, reservation, caching, answer, result, () => recorder.costOf(result.usage));
        recorder.objectUsage(counted.usage, counted.model, counted.costUsd);
        const cost = () => counted.costUsd ?? recorder.costOf(counted.usage, counted.model);
        return afterResponse(recorder, reservation, caching, answer, { ...result, usage: counted.usage }, cost);
      });
    };
    const requestBytes = body.kind === "none" ? 0 : body.raw.byteLength;
    return relayAnswer(answer, { recorder, request, match, caching, requestBytes, config, now, relayFrom, afterEnd, watchBody: access.watchBody });
  }

  /**
   * Keeps a replayable answer in the cache and settles the caller's reservation with what the
   * answer used, at `cost()`; undefined when there is neither to do.
   */
  function afterResponse(
    recorder: RequestRecorder,
    reservation: KeyReservation | undefined,
    caching: CacheDecision,
    answer: ProviderAnswer,
    result: AnswerResult,
    cost: () => number | undefined,
  ): Promise<unknown> | undefined {
    const charging = reservation === undefined ? undefined : limiter.settle(reservation, chargeOf(result.usage, cost()))?.then((share) => recorder.budgetUsed(share));
    const { response } = answer;
    const saving =
      caching.mode !== "bypass" && result.outcome === "ok" && result.recorded !== undefined && isReplayable(response.status, response.headers, result.recorded)
        ? cache.save(caching.key, { status: response.status, headers: keptHeaders(response.headers), body: result.recorded }, caching.ttlSeconds)
        : undefined;
    if (saving === undefined) return charging;
    return charging === undefined ? saving : Promise.all([charging, saving]);
  }

  /** Answers a request the adapter already rejected (an unreadable or oversized body) the same way the core would. */
  function fail(request: GatewayRequest, error: unknown): GatewayResponse {
    return answerError(new RequestRecorder(requestIds.next(), now(), request, config.observability.prices), request.signal, error, now);
  }

  return { handle, fail, close: () => upstream.close() };
}

