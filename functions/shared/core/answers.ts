/**
 * The answers the gateway gives without relaying a provider: its own errors
 * and replays from the response cache.
 */
import type { CachedResponse } from "../cache/cached-response.ts";
import { replayChunks } from "../cache/cached-response.ts";
import { asGatewayError, errorResponse } from "../http/errors.ts";
import { isEventStream, RETRIES_HEADER } from "../http/headers.ts";
import { stampGatewayHeaders } from "../http/headers.ts";
import type { GatewayResponse } from "../http/wire.ts";
import type { RequestSummary } from "../observability/request-summary.ts";
import type { RequestRecorder } from "./request-recorder.ts";

/** nginx's status for a request whose client closed the connection before the answer. */
export const CLIENT_CLOSED_REQUEST = 499;

/** Answers an error the gateway made itself, in OpenAI's shape. */
export function answerError(recorder: RequestRecorder, signal: AbortSignal, error: unknown, now: () => number): GatewayResponse {
  const { status, headers, body } = errorResponse(error, recorder.requestId);
  headers[RETRIES_HEADER] = String(recorder.retries);
  const endedAt = now();
  const aborted = signal.aborted;
  const summary = recorder.summary({
    // Nobody reads an answer to a client that left: 499, as proxies log it, not the error it would have been.
    status: aborted ? CLIENT_CLOSED_REQUEST : status,
    outcome: aborted ? "client_aborted" : status === 504 ? "timeout" : "gateway_error",
    errorCode: aborted ? undefined : (asGatewayError(error).code ?? undefined),
    firstByteAt: endedAt,
    endedAt,
  });
  return { status, headers, body: [body], completed: Promise.resolve(summary) };
}

/** Answers from the cache: the stored status, headers and bytes, a stream event by event. */
export function answerFromCache(recorder: RequestRecorder, signal: AbortSignal, cached: CachedResponse, now: () => number): GatewayResponse {
  const completion = Promise.withResolvers<RequestSummary>();
  const chunks = replayChunks(cached);
  async function* body(): AsyncGenerator<Uint8Array> {
    let firstByteAt: number | undefined;
    try {
      for (const chunk of chunks) {
        firstByteAt ??= now();
        yield chunk;
      }
    } finally {
      const endedAt = now();
      const outcome = signal.aborted ? "client_aborted" : "ok";
      completion.resolve(recorder.summary({ status: cached.status, outcome, firstByteAt: firstByteAt ?? endedAt, endedAt }));
    }
  }
  const headers = stampGatewayHeaders({ ...cached.headers }, recorder.requestId, 0, "HIT");
  if (!isEventStream(cached.headers["content-type"])) headers["content-length"] = String(cached.body.byteLength);
  return { status: cached.status, headers, body: body(), completed: completion.promise };
}
