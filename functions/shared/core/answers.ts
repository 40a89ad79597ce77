/**
 * The answers the gateway gives without relaying a provider: its own errors
 * and replays from the response cache.
 */
import type { CachedResponse } from "../cache/cached-response.ts";
import { replayChunks } from "../cache/cached-response.ts";
import { asGatewayError, errorResponse } from "../http/errors.ts";
import type { GatewayResponse } from "./gateway.ts";
import { CACHE_HEADER, REQUEST_ID_HEADER, RETRIES_HEADER } from "../http/headers.ts";
import { isEventStream } from "../streaming/relay.ts";
import { baseSummary, type RequestContext } from "./request-recorder.ts";
import type { RequestSummary } from "../observability/request-summary.ts";

const CLIENT_CLOSED_REQUEST = 499;

/** Answers an error the gateway made itself, in OpenAI's shape. */
export function answerError(context: RequestContext, error: unknown, now: () => number): GatewayResponse {
  const { status, headers, body } = errorResponse(error);
  const gatewayError = asGatewayError(error);
  const elapsed = now() - context.startedAt;
  const aborted = context.request.signal.aborted;
  const summary: RequestSummary = {
    ...baseSummary(context),
    // Nobody reads an answer to a client that left: 499, as proxies log it, not the error it would have been.
    status: aborted ? CLIENT_CLOSED_REQUEST : status,
    outcome: aborted ? "client_aborted" : status === 504 ? "timeout" : "gateway_error",
    errorCode: aborted ? undefined : (gatewayError.code ?? undefined),
    firstByteMs: elapsed,
    totalMs: elapsed,
  };
  return {
    status,
    headers: {
      ...headers,
      "content-length": String(Buffer.byteLength(body)),
      [REQUEST_ID_HEADER]: context.requestId,
      [RETRIES_HEADER]: String(context.retries),
    },
    body: [Buffer.from(body)],
    completed: Promise.resolve(summary),
  };
}

/** Answers from the cache: the stored status, headers and bytes, a stream event by event. */
export function answerFromCache(context: RequestContext, cached: CachedResponse, now: () => number): GatewayResponse {
  context.cacheHit = true;
  const completion = Promise.withResolvers<RequestSummary>();
  const chunks = replayChunks(cached);
  async function* body(): AsyncGenerator<Uint8Array> {
    let firstByteMs: number | undefined;
    try {
      for (const chunk of chunks) {
        firstByteMs ??= now() - context.startedAt;
        yield chunk;
      }
    } finally {
      const totalMs = now() - context.startedAt;
      const outcome = context.request.signal.aborted ? "client_aborted" : "ok";
      completion.resolve({ ...baseSummary(context), status: cached.status, outcome, firstByteMs: firstByteMs ?? totalMs, totalMs });
    }
  }
  const headers: Record<string, string> = {
    ...cached.headers,
    [REQUEST_ID_HEADER]: context.requestId,
    [RETRIES_HEADER]: "0",
    [CACHE_HEADER]: "HIT",
  };
  if (!isEventStream(cached.headers["content-type"])) headers["content-length"] = String(cached.body.byteLength);
  return { status: cached.status, headers, body: body(), completed: completion.promise };
}
