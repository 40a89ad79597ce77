/**
 * What the gateway knows of one request as it goes: filled in step by step
 * by the core, and summarised for logs and metrics at the end.
 */
import type { Caller } from "../access/authenticate.ts";
import type { CacheDecision } from "../cache/cache-policy.ts";
import type { GatewayRequest } from "./gateway.ts";
import type { Provider } from "../providers/types.ts";
import type { RequestSummary } from "../observability/request-summary.ts";
import type { Route } from "../endpoints/match.ts";

/** The state of one request inside the core. */
export interface RequestContext {
  readonly requestId: string;
  readonly startedAt: number;
  readonly request: GatewayRequest;
  route?: Route;
  provider?: Provider;
  model?: string;
  stream: boolean;
  caller?: Caller;
  /** The body to send upstream (the client's, or with `include_usage` added). */
  upstreamBody?: Uint8Array;
  /** Whether the gateway added `include_usage` and must hide its effects from the client. */
  usageInjected: boolean;
  upstreamStartedAt?: number;
  upstreamHeadersAt?: number;
  retries: number;
  cache?: CacheDecision;
  cacheHit?: boolean;
}

/** A fresh context for a request that arrived at `startedAt`. */
export function createRequestContext(requestId: string, startedAt: number, request: GatewayRequest): RequestContext {
  return { requestId, startedAt, request, stream: false, usageInjected: false, retries: 0 };
}

/** The summary fields known from the context alone. */
export function baseSummary(context: RequestContext) {
  return {
    requestId: context.requestId,
    method: context.request.method,
    path: context.request.path,
    endpoint: context.route?.endpoint,
    provider: context.provider?.name,
    model: context.model,
    stream: context.stream,
    keyId: context.caller?.mode === "managed" ? context.caller.keyId : undefined,
    retries: context.retries,
    cache: cacheOutcome(context),
  };
}

function cacheOutcome(context: RequestContext): RequestSummary["cache"] {
  if (context.cache === undefined) return undefined;
  if (context.cache.mode === "bypass") return "bypass";
  return context.cacheHit === true ? "hit" : "miss";
}
