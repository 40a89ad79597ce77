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
import { performance } from "node:perf_hooks";
import { authenticate } from "../access/authenticate.ts";
import { decideCaching } from "../cache/cache-policy.ts";
import { keptHeaders } from "../cache/cached-response.ts";
import { createResponseCache } from "../cache/response-cache.ts";
import type { GatewayConfig } from "../config/config.ts";
import type { Credentials, CredentialStore } from "../access/credentials.ts";
import { answerError, answerFromCache } from "./answers.ts";
import { CACHE_HEADER, headerValue, REQUEST_ID_HEADER, RETRIES_HEADER, selectResponseHeaders, type IncomingHeaders } from "../http/headers.ts";
import { createHttpProviderCaller } from "../routing/run-attempts.ts";
import { createProviderRegistry, type ProviderRegistry } from "../providers/registry.ts";
import type { BodySource } from "../providers/types.ts";
import { chargeKeyTokens, enforceKeyLimits, KeyRateLimitError, type KeyLimits } from "../access/key-limits.ts";
import { relayBody, type RelayResult } from "../streaming/relay.ts";
import { parseJsonBody, type JsonBody } from "../http/request-body.ts";
import { baseSummary, createRequestContext, type RequestContext } from "./request-recorder.ts";
import type { RequestSummary } from "../observability/request-summary.ts";
import { requestRetryConfig, type RetryConfig } from "../routing/retry-policy.ts";
import { matchRoute, type Route } from "../endpoints/match.ts";
import { createGatewayStore } from "../stores/create-store.ts";
import type { GatewayStore } from "../stores/types.ts";
import { requestStreamUsage } from "../usage/include-usage.ts";
import { createUpstreamClient, type UpstreamClient, type UpstreamResponse } from "../upstream/client.ts";

/** A request as the core sees it, whatever the runtime. */
export interface GatewayRequest {
  readonly method: string;
  /** Raw path, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** Raw query string without `?` (empty for none). */
  readonly query: string;
  /** Lower-cased header names. */
  readonly headers: IncomingHeaders;
  readonly body: Uint8Array | undefined;
  /** Fires when the client goes away; the upstream call is aborted with it. */
  readonly signal: AbortSignal;
  /** Wall-clock deadline (ms since epoch) the response must finish by, e.g. Lambda's remaining time. */
  readonly deadline?: number;
}

/** The response to write: status and headers first, then every body chunk as it is produced. */
export interface GatewayResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: BodySource;
  /** Resolves once the body has ended (or failed), with the request's measurements. */
  readonly completed: Promise<RequestSummary>;
}

/** The gateway core. */
export interface Gateway {
  readonly providers: ProviderRegistry;
  handle(request: GatewayRequest): Promise<GatewayResponse>;
  /**
   * Checks the caller from the headers alone, so an adapter can refuse a stranger before reading
   * its body. Needs only method, path and headers (`body` may be undefined).
   * @throws {AuthenticationError} the same 401 {@link Gateway.handle} would answer; nothing else:
   *   a request the route, the provider or the credential store would refuse passes, and `handle` answers it
   */
  precheck(request: GatewayRequest): Promise<void>;
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

export { CACHE_HEADER, REQUEST_ID_HEADER, RETRIES_HEADER };

/** Builds the gateway core. */
export function createGateway(dependencies: GatewayDependencies): Gateway {
  const { config, credentials: store } = dependencies;
  const upstream = dependencies.upstream ?? createUpstreamClient();
  const now = dependencies.now ?? (() => performance.now());
  const providers = createProviderRegistry(config);
  const callHttpProvider = createHttpProviderCaller({ config, store, upstream });
  const gatewayStore = dependencies.store ?? createGatewayStore(config);
  const onStoreError = dependencies.onStoreError ?? (() => undefined);
  const cache = createResponseCache(gatewayStore, onStoreError);

  async function handle(request: GatewayRequest): Promise<GatewayResponse> {
    const context = createRequestContext(randomUUID(), now(), request);
    try {
      const route = matchRoute(request.method, request.path);
      context.route = route;
      context.provider = providers.resolve(headerValue(request.headers, "x-provider"));
      // Who is calling comes first: a stranger learns nothing about what the gateway would accept.
      const credentials = await store.get();
      context.caller = authenticate(headerValue(request.headers, "authorization"), credentials, context.provider.kind === "http");
      const body = route.hasBody
        ? parseJsonBody(headerValue(request.headers, "content-type"), request.body, config.maxBodyBytes)
        : undefined;
      context.model = typeof body?.model === "string" ? body.model : modelOfPath(route);
      context.stream = body?.stream === true;
      const { caller } = context;
      // Every header the gateway reads is checked before anything is counted or served.
      const retry = requestRetryConfig(request.headers, config.retry);
      context.cache = decideCaching(route, request.headers, body, { caller, provider: context.provider.name, query: request.query }, config.cache);
      if (caller.mode === "managed" && caller.limits !== undefined) await enforceLimits(caller.keyId, caller.limits);
      if (context.cache.mode === "use") {
        const hit = await cache.lookup(context.cache.key);
        if (hit !== undefined) return answerFromCache(context, hit, now);
      }
      const response = await callProvider(context, body, credentials, retry);
      context.upstreamHeadersAt = now();
      return relayResponse(context, response);
    } catch (error) {
      return answerError(context, error, now);
    }
  }

  async function callProvider(
    context: RequestContext,
    body: JsonBody | undefined,
    credentials: Credentials,
    retry: RetryConfig,
  ): Promise<UpstreamResponse> {
    const { provider, route, request, caller } = context as Required<RequestContext>;
    context.upstreamStartedAt = now();
    if (provider.kind === "local") {
      const controller = new AbortController();
      request.signal.addEventListener("abort", () => controller.abort(request.signal.reason), { once: true });
      const answer = provider.answer({ route, body, query: request.query, signal: controller.signal });
      return { ...answer, abort: (reason) => controller.abort(reason), discard: () => controller.abort() };
    }
    if (body !== undefined && request.body !== undefined && provider.streamUsage) {
      const usageRequest = requestStreamUsage(route, body, request.body);
      context.upstreamBody = usageRequest.body;
      context.usageInjected = usageRequest.injected;
    }
    return callHttpProvider({
      provider,
      route,
      request,
      caller,
      credentials,
      body: route.hasBody ? (context.upstreamBody ?? request.body) : undefined,
      retry,
      remainingMs: () => remainingMs(context),
      onRetry: () => {
        context.retries += 1;
      },
    });
  }

  function remainingMs(context: RequestContext): number {
    const elapsed = now() - context.startedAt;
    const byConfig = config.timeouts.totalMs - elapsed;
    const byDeadline = context.request.deadline === undefined ? byConfig : context.request.deadline - Date.now();
    return Math.max(1, Math.min(byConfig, byDeadline));
  }

  function relayResponse(context: RequestContext, response: UpstreamResponse): GatewayResponse {
    const completion = Promise.withResolvers<RequestSummary>();
    const headers = selectResponseHeaders(response.headers);
    headers[REQUEST_ID_HEADER] = context.requestId;
    headers[RETRIES_HEADER] = String(context.retries);
    if (context.cache !== undefined) headers[CACHE_HEADER] = context.cache.mode === "bypass" ? "BYPASS" : "MISS";
    const storable = context.cache !== undefined && context.cache.mode !== "bypass" && response.status < 300;
    const body = relayBody(response, headerValue(response.headers, "content-type"), {
      idleTimeoutMs: config.timeouts.idleMs,
      remainingMs: remainingMs(context),
      signal: context.request.signal,
      stripInjectedUsage: context.usageInjected,
      recordUpToBytes: storable ? config.cache.maxEntryBytes : undefined,
      now,
      onEnd: (result) => {
        // Bookkeeping finishes before `completed` resolves: on Lambda the invocation must outlive it.
        void afterResponse(context, response, result).finally(() => completion.resolve(summarize(context, response, result)));
      },
    });
    return { status: response.status, headers, body, completed: completion.promise };
  }

  /** Keeps a complete answer in the cache and charges its tokens to the caller's key. */
  async function afterResponse(context: RequestContext, response: UpstreamResponse, result: RelayResult): Promise<void> {
    const work: Promise<void>[] = [];
    const decision = context.cache;
    if (decision !== undefined && decision.mode !== "bypass" && result.recorded !== undefined) {
      const cached = { status: response.status, headers: keptHeaders(response.headers), body: result.recorded };
      work.push(cache.save(decision.key, cached, decision.ttlSeconds));
    }
    const caller = context.caller;
    if (caller?.mode === "managed" && caller.limits !== undefined && result.usage !== undefined) {
      work.push(
        chargeKeyTokens(gatewayStore, caller.keyId, caller.limits, result.usage.totalTokens).catch((error: unknown) =>
          onStoreError(error, "quota charge"),
        ),
      );
    }
    await Promise.all(work);
  }

  /** Counts the request against its key's limits; a store failure lets it through. */
  async function enforceLimits(keyId: string, limits: KeyLimits): Promise<void> {
    try {
      await enforceKeyLimits(gatewayStore, keyId, limits);
    } catch (error) {
      if (error instanceof KeyRateLimitError) throw error;
      onStoreError(error, "quota check");
    }
  }

  function summarize(context: RequestContext, response: UpstreamResponse, result: RelayResult): RequestSummary {
    return {
      ...baseSummary(context),
      status: response.status,
      outcome: result.outcome,
      upstreamRequestId: headerValue(response.headers, "x-request-id"),
      upstreamHeadersMs: context.upstreamHeadersAt === undefined ? undefined : context.upstreamHeadersAt - context.startedAt,
      upstreamMs: context.upstreamStartedAt === undefined ? undefined : result.upstreamEndedAt - context.upstreamStartedAt,
      firstByteMs: result.firstByteAt === undefined ? undefined : result.firstByteAt - context.startedAt,
      totalMs: result.endedAt - context.startedAt,
      usage: result.usage,
    };
  }

  async function precheck(request: GatewayRequest): Promise<void> {
    let credentials: Credentials;
    let needsProviderKey: boolean;
    try {
      matchRoute(request.method, request.path);
      needsProviderKey = providers.resolve(headerValue(request.headers, "x-provider")).kind === "http";
      credentials = await store.get();
    } catch {
      // Refused for another reason (route, provider, credential store): handle() answers it, as before.
      return;
    }
    authenticate(headerValue(request.headers, "authorization"), credentials, needsProviderKey);
  }

  /** Answers a request the adapter already rejected (an unreadable or oversized body) the same way the core would. */
  function fail(request: GatewayRequest, error: unknown): GatewayResponse {
    return answerError(createRequestContext(randomUUID(), now(), request), error, now);
  }

  return { providers, handle, precheck, fail, close: () => upstream.close() };
}

function modelOfPath(route: Route): string | undefined {
  return route.endpoint === "models.retrieve" ? route.resourceId : undefined;
}

