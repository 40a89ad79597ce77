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
import { randomUUID } from "node:crypto";
import { authenticate, type Caller } from "../access/authenticate.ts";
import type { CredentialStore } from "../access/credentials.ts";
import { decideCaching, isReplayable, type CacheDecision } from "../cache/cache-policy.ts";
import { keptHeaders } from "../cache/cached-response.ts";
import { createResponseCache } from "../cache/response-cache.ts";
import type { GatewayConfig } from "../config/config.ts";
import { matchEndpoint, modelOfPath } from "../endpoints/match.ts";
import { headerValue } from "../http/headers.ts";
import { readRequestBody } from "../http/request-body.ts";
import type { GatewayRequest, GatewayResponse } from "../http/wire.ts";
import { createProviderRegistry, type ProviderRegistry } from "../providers/registry.ts";
import { requestRetryConfig } from "../routing/retry-policy.ts";
import { createAttemptRunner } from "../routing/run-attempts.ts";
import { createGatewayStore } from "../stores/create-store.ts";
import type { GatewayStore } from "../stores/types.ts";
import { createUpstreamClient, type UpstreamClient } from "../upstream/client.ts";
import { answerError, answerFromCache } from "./answers.ts";
import { createKeyLimiter } from "./key-limiter.ts";
import { createProviderCaller, type ProviderAnswer } from "./provider-call.ts";
import { RequestRecorder } from "./request-recorder.ts";
import { relayAnswer, type AnswerResult } from "./relay-answer.ts";

/** The gateway core. */
export interface Gateway {
  readonly providers: ProviderRegistry;
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
  /** The cache and quota store (default: the one the configuration names). */
  readonly store?: GatewayStore;
  /** Hears of store failures, which never fail a request. */
  readonly onStoreError?: (error: unknown, operation: string) => void;
  readonly upstream?: UpstreamClient;
  readonly now?: () => number;
}

/** Builds the gateway core. */
export function createGateway(dependencies: GatewayDependencies): Gateway {
  const { config, credentials: credentialStore } = dependencies;
  const upstream = dependencies.upstream ?? createUpstreamClient();
  // The global `performance`, not node:perf_hooks: the module would be loaded at start-up for nothing.
  const now = dependencies.now ?? (() => performance.now());
  const providers = createProviderRegistry(config);
  const gatewayStore = dependencies.store ?? createGatewayStore(config);
  const onStoreError = dependencies.onStoreError ?? (() => undefined);
  const cache = createResponseCache(gatewayStore, onStoreError);
  const limiter = createKeyLimiter(gatewayStore, onStoreError);
  const callProvider = createProviderCaller({ config, now, runAttempts: createAttemptRunner({ config, store: credentialStore, upstream }) });

  async function handle(request: GatewayRequest): Promise<GatewayResponse> {
    const recorder = new RequestRecorder(randomUUID(), now(), request, config.observability.prices);
    try {
      const match = matchEndpoint(request.method, request.path);
      recorder.endpoint(match.endpoint.name);
      const providerName = headerValue(request.headers, "x-provider");
      // Who is calling comes before anything about the set-up: a stranger learns no provider names.
      const credentials = await credentialStore.get();
      const caller = authenticate(headerValue(request.headers, "authorization"), credentials, providers.find(providerName)?.kind !== "local");
      recorder.caller(caller);
      const provider = providers.resolve(providerName);
      const body = readRequestBody(match.endpoint.requestBody, headerValue(request.headers, "content-type"), request.body, config.maxBodyBytes);
      const json = body.kind === "json" ? body.json : undefined;
      recorder.target(provider.name, typeof json?.model === "string" ? json.model : modelOfPath(match), json?.stream === true);
      // Every header the gateway reads is checked before anything is counted or served.
      const retry = requestRetryConfig(request.headers, config.retry);
      const caching = decideCaching(match, request.headers, json, { caller, provider: provider.name, query: request.query }, config.cache);
      recorder.cache(caching);
      const admitting = limiter.admit(caller);
      if (admitting !== undefined) await admitting;
      const hit = caching.mode === "use" ? await cache.lookup(caching.key) : undefined;
      if (hit !== undefined) {
        recorder.cache(caching, true);
        return answerFromCache(recorder, request.signal, hit, now);
      }
      const answer = await callProvider({ recorder, request, match, provider, body, caller, credentials, retry });
      const afterEnd = (result: AnswerResult) => afterResponse(caller, caching, answer, result);
      return relayAnswer(answer, { recorder, request, match, caching, config, now, afterEnd });
    } catch (error) {
      return answerError(recorder, request.signal, error, now);
    }
  }

  /**
   * Keeps a replayable answer in the cache and charges its tokens to the caller's key;
   * undefined when there is nothing to do (most requests: no promise on the hot path).
   */
  function afterResponse(caller: Caller, caching: CacheDecision, answer: ProviderAnswer, result: AnswerResult): Promise<unknown> | undefined {
    const charging = limiter.charge(caller, result.usage);
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
    return answerError(new RequestRecorder(randomUUID(), now(), request, config.observability.prices), request.signal, error, now);
  }

  return { providers, handle, fail, close: () => upstream.close() };
}
