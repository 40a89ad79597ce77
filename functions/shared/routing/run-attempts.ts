/**
 * One call to an HTTP provider, with the gateway's key handling and retries:
 * the provider key (from a pool, rotated), passthrough auth, retries with
 * backoff before the first byte, and one secret refresh when the provider
 * rejects the gateway's key.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Caller } from "../access/authenticate.ts";
import type { GatewayConfig } from "../config/config.ts";
import type { Credentials, CredentialStore } from "../access/credentials.ts";
import { ConfigurationError, GatewayError } from "../http/errors.ts";
import { headerValue, selectRequestHeaders } from "../http/headers.ts";
import type { GatewayRequest } from "../core/gateway.ts";
import type { HttpProvider } from "../providers/types.ts";
import { isRetryableFailure, RETRYABLE_STATUSES, retryDelayMs, type RetryConfig } from "./retry-policy.ts";
import type { Route } from "../endpoints/match.ts";
import type { UpstreamClient, UpstreamResponse } from "../upstream/client.ts";

/** The provider refused the gateway's own key (managed mode), even after a fresh read of the secret. */
export class UpstreamAuthenticationError extends GatewayError {
  constructor(provider: string, upstreamRequestId: string | undefined) {
    super(502, `The provider ${provider} rejected the gateway's API key. Your gateway key is fine; the gateway's operator must update the provider key.`, {
      code: "upstream_auth_failed",
      headers: upstreamRequestId === undefined ? {} : { "x-request-id": upstreamRequestId },
    });
  }
}

/** What one call needs. */
export interface HttpProviderCall {
  readonly provider: HttpProvider;
  readonly route: Route;
  readonly request: GatewayRequest;
  readonly caller: Caller;
  readonly credentials: Credentials;
  /** The body to send (the client's, or with `include_usage` added). */
  readonly body: Uint8Array | undefined;
  /** This request's retry settings (attempts and cap may come from its headers). */
  readonly retry: RetryConfig;
  /** Milliseconds left before the request's deadline. */
  remainingMs(): number;
  /** Told of each retry, before it is sent. */
  onRetry(): void;
}

/** Calls an HTTP provider. */
export type HttpProviderCaller = (call: HttpProviderCall) => Promise<UpstreamResponse>;

/** Dependencies of the caller. */
export interface HttpProviderCallerDependencies {
  readonly config: GatewayConfig;
  readonly store: CredentialStore;
  readonly upstream: UpstreamClient;
}

/** Creates the caller; it keeps one rotating position per provider key pool. */
export function createHttpProviderCaller(dependencies: HttpProviderCallerDependencies): HttpProviderCaller {
  const { config, store, upstream } = dependencies;
  // Where each provider's key pool starts for the next request, so load spreads over the keys.
  const poolPositions = new Map<string, number>();

  return async (call) => {
    let credentials = call.credentials;
    let keyIndex = nextPoolPosition(call.provider.name, credentials);
    let refreshed = false;
    for (let attempt = 0; ; attempt += 1) {
      let response: UpstreamResponse | undefined;
      let failure: unknown;
      try {
        response = await send(call, credentials, keyIndex);
      } catch (error) {
        if (!isRetryableFailure(error)) throw error;
        failure = error;
      }
      if (response?.status === 401 && call.caller.mode === "managed" && !refreshed) {
        // The provider rejected the gateway's key: it may have been rotated. Refetch once and retry if it changed.
        refreshed = true;
        const latest = await store.refresh();
        if (keyOf(latest, call.provider.name, keyIndex) !== keyOf(credentials, call.provider.name, keyIndex)) {
          response.discard();
          credentials = latest;
          call.onRetry();
          continue;
        }
      }
      if (response?.status === 401 && call.caller.mode === "managed") {
        // The gateway's own key is wrong: not the caller's fault, and the provider's message
        // would show the caller a masked piece of that key. The provider's request id stays, for support.
        response.discard();
        throw new UpstreamAuthenticationError(call.provider.name, headerValue(response.headers, "x-request-id"));
      }
      const retryable = failure !== undefined || (response !== undefined && RETRYABLE_STATUSES.has(response.status));
      const delay = retryable && attempt < call.retry.maxRetries ? retryDelayMs(attempt, response?.headers, call.retry) : undefined;
      // Waiting must leave time for the retry itself.
      if (delay === undefined || delay >= call.remainingMs() - 1_000) {
        if (response !== undefined) return response;
        throw failure;
      }
      response?.discard();
      // A rate-limited key makes way for the next one in the pool.
      if (response?.status === 429) keyIndex += 1;
      await sleep(delay, undefined, { signal: call.request.signal });
      call.onRetry();
    }
  };

  function nextPoolPosition(provider: string, credentials: Credentials): number {
    const size = credentials.providers[provider]?.apiKeys.length ?? 1;
    const position = poolPositions.get(provider) ?? 0;
    poolPositions.set(provider, (position + 1) % size);
    return position;
  }

  function send(call: HttpProviderCall, credentials: Credentials, keyIndex: number): Promise<UpstreamResponse> {
    const { provider, route, request, caller } = call;
    // A tenant must not steer the operator's key to another organization or project, unless its key's entry allows it.
    const headers = selectRequestHeaders(request.headers, { accountHeaders: caller.mode !== "managed" || caller.allowAccountHeaders === true });
    if (caller.mode === "managed") {
      const keys = credentials.providers[provider.name];
      const apiKey = keyOf(credentials, provider.name, keyIndex);
      if (keys === undefined || apiKey === undefined) {
        throw new ConfigurationError(`The gateway has no API key for provider ${provider.name}.`);
      }
      const auth = provider.authHeaders({ apiKey, organization: keys.organization, project: keys.project });
      // Account headers the caller may send win over the configured ones.
      for (const name in auth) headers[name] ??= auth[name] as string;
    } else if (caller.mode === "passthrough") {
      headers.authorization = caller.authorization;
    }
    if (call.body !== undefined) headers["content-length"] = String(call.body.byteLength);
    return upstream.send({
      url: `${provider.baseUrl}${route.upstreamPath}${request.query === "" ? "" : `?${request.query}`}`,
      method: route.method,
      headers,
      body: call.body,
      connectTimeoutMs: config.timeouts.connectMs,
      firstByteTimeoutMs: Math.min(config.timeouts.firstByteMs, call.remainingMs()),
      signal: request.signal,
    });
  }
}

/** The pool key at a position (wrapping around). */
function keyOf(credentials: Credentials, provider: string, index: number): string | undefined {
  const keys = credentials.providers[provider]?.apiKeys;
  return keys === undefined || keys.length === 0 ? undefined : keys[index % keys.length];
}
