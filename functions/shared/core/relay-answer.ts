/**
 * Relays a provider's answer to the client: its status and the headers that
 * may cross, stamped with the gateway's own, and its body chunk by chunk.
 * When the body ends, the usage is settled (read, or estimated for a client
 * that left early), the caller's bookkeeping runs, and then the request's
 * summary is ready: on Lambda the invocation must outlive that bookkeeping.
 */
import type { CacheDecision } from "../cache/cache-policy.ts";
import type { GatewayConfig } from "../config/config.ts";
import type { EndpointMatch } from "../endpoints/match.ts";
import { headerValue, isEventStream, selectResponseHeaders, stampGatewayHeaders } from "../http/headers.ts";
import type { GatewayRequest, GatewayResponse } from "../http/wire.ts";
import type { RequestSummary } from "../observability/request-summary.ts";
import { relayedBody } from "../streaming/piped-body.ts";
import { relayBody, type RelayOptions, type RelayResult } from "../streaming/relay.ts";
import { estimateUsage } from "../usage/estimate.ts";
import type { ProviderAnswer } from "./provider-call.ts";
import type { RequestRecorder } from "./request-recorder.ts";
import { timeLeftMs } from "./time-left.ts";

/** A relayed answer's end, with its usage settled. */
export interface AnswerResult extends RelayResult {
  readonly usageEstimated: boolean;
}

/** What the relay of one answer needs. */
export interface RelayAnswerContext {
  readonly recorder: RequestRecorder;
  readonly request: GatewayRequest;
  readonly match: EndpointMatch;
  readonly caching: CacheDecision;
  /** The request body's size, for a usage estimate. */
  readonly requestBytes: number;
  readonly config: GatewayConfig;
  readonly now: () => number;
  /** When the relay starts, on the `now` clock (the caller has just read it). */
  readonly relayFrom: number;
  /** Bookkeeping after the body has ended (prices, cache, key charges), undefined when there is none; the summary waits for it. */
  readonly afterEnd: (result: AnswerResult) => Promise<unknown> | undefined;
  /** Reads the relayed body on the side (stored objects' ids), and may hold its end back until that is done. */
  readonly watchBody?: (body: AsyncGenerator<Uint8Array, void, undefined>) => AsyncGenerator<Uint8Array, void, undefined>;
}

/** The response that relays a provider's answer. */
export function relayAnswer(answer: ProviderAnswer, context: RelayAnswerContext): GatewayResponse {
  const { recorder, request, config, now } = context;
  const { response } = answer;
  const completion = Promise.withResolvers<RequestSummary>();
  const headers = stampGatewayHeaders(selectResponseHeaders(response.headers), recorder.requestId, recorder.retries, cacheHeader(context.caching), recorder.served);
  // A body the gateway may change, or that streams, goes out without the provider's length.
  const eventStream = isEventStream(headers["content-type"]);
  if (answer.usageInjected || eventStream) delete headers["content-length"];
  if (eventStream && response.status < 300) recorder.streamed();
  const options: RelayOptions = {
    endpoint: context.match.endpoint,
    idleTimeoutMs: config.timeouts.idleMs,
    remainingMs: timeLeftMs(config, request, recorder.startedAt, context.relayFrom),
    signal: request.signal,
    stripInjectedUsage: answer.usageInjected,
    recordUpToBytes: context.caching.mode !== "bypass" && response.status < 300 ? config.cache.maxEntryBytes : undefined,
    now,
    onEnd: (relayed) => {
      const result = settleUsage(relayed, context, response.status);
      const summarize = () =>
        completion.resolve(
          recorder.summary({
            status: response.status,
            outcome: result.outcome,
            upstreamRequestId: headerValue(response.headers, "x-request-id"),
            firstByteAt: result.firstByteAt,
            upstreamEndedAt: result.upstreamEndedAt,
            endedAt: result.endedAt,
            usage: result.usage,
            usageEstimated: result.usageEstimated || undefined,
          }),
        );
      // The summary waits for the bookkeeping, if there is any: most requests have none, and are
      // summarized without a promise (hot path, npm run bench). A failed step never fails the
      // request: the summary comes either way.
      let bookkeeping: Promise<unknown> | undefined;
      try {
        bookkeeping = context.afterEnd(result);
      } catch {
        bookkeeping = undefined;
      }
      if (bookkeeping === undefined) summarize();
      else void bookkeeping.then(summarize, summarize);
    },
  };
  // A body read on the side (stored objects' ids) goes through the generator the watcher wraps.
  const body = context.watchBody === undefined ? relayedBody(response, options) : context.watchBody(relayBody(response, options));
  return { status: response.status, headers, body, completed: completion.promise };
}

function cacheHeader(caching: CacheDecision): "MISS" | "BYPASS" {
  return caching.mode === "bypass" ? "BYPASS" : "MISS";
}

/** Outcomes of an answer cut short: the provider may have done (and billed) work whose usage never came. */
const CUT_SHORT: ReadonlySet<RelayResult["outcome"]> = new Set(["client_aborted", "upstream_failure", "timeout"]);

/**
 * The usage to record and charge: as the provider reported it, or, when the
 * answer was cut short before it arrived (the client left, the provider broke
 * off, a time bound hit), the gateway's estimate (see usage/estimate.ts).
 */
function settleUsage(relayed: RelayResult, context: RelayAnswerContext, status: number): AnswerResult {
  const readsUsage = context.match.endpoint.usage !== "none" && status < 300;
  if (relayed.usage !== undefined || !CUT_SHORT.has(relayed.outcome) || !readsUsage) return { ...relayed, usageEstimated: false };
  const usage = estimateUsage({
    requestBytes: context.requestBytes,
    dataEvents: relayed.dataEvents,
    relayedBytes: relayed.relayedBytes,
  });
  return { ...relayed, usage, usageEstimated: true };
}
