/**
 * The measurements of one request, taken as the core goes, and the one place
 * that turns them into its {@link RequestSummary}.
 */
import type { Caller } from "../access/authenticate.ts";
import type { CacheDecision } from "../cache/cache-policy.ts";
import type { PriceTable } from "../config/prices.ts";
import type { GatewayRequest } from "../http/wire.ts";
import type { RequestOutcome, RequestSummary, TargetSummary } from "../observability/request-summary.ts";
import type { TargetReport } from "../routing/run-attempts.ts";
import { loadPriceCatalogue, priceCatalogueLoaded } from "../usage/price-catalogue.ts";
import { estimateCostUsd } from "../usage/pricing.ts";
import type { TokenUsage } from "../usage/usage-readers.ts";

/** How a request's answer ended, as the part of the core that answered it saw it. */
export interface RequestEnding {
  readonly status: number;
  readonly outcome: RequestOutcome;
  /** OpenAI's error code, when the gateway answered an error itself. */
  readonly errorCode?: string;
  readonly upstreamRequestId?: string;
  /** When the first body byte was handed on (default: the end). */
  readonly firstByteAt?: number;
  /** When the provider's body ended, for an answer relayed from a provider. */
  readonly upstreamEndedAt?: number;
  readonly endedAt: number;
  readonly usage?: TokenUsage;
  readonly usageEstimated?: boolean;
}

/** Records one request. Times are from the clock the core runs on (`performance.now()`). */
export class RequestRecorder {
  readonly requestId: string;
  readonly startedAt: number;
  readonly #request: GatewayRequest;
  readonly #prices: PriceTable;
  #endpoint: string | undefined;
  #family: string | undefined;
  #objectUsage: { usage?: TokenUsage; model?: string; costUsd?: number } | undefined;
  #provider: string | undefined;
  #model: string | undefined;
  #priceProvider: string | undefined;
  #route: string | undefined;
  readonly #targets: TargetSummary[] = [];
  #stream = false;
  #keyId: string | undefined;
  #cache: CacheDecision | undefined;
  #cacheHit = false;
  #retries = 0;
  #upstreamStartedAt: number | undefined;
  #upstreamHeadersAt: number | undefined;
  #budgetUsedPercent: number | undefined;

  constructor(requestId: string, startedAt: number, request: GatewayRequest, prices: PriceTable) {
    this.requestId = requestId;
    this.startedAt = startedAt;
    this.#request = request;
    this.#prices = prices;
  }

  /** Upstream attempts beyond the first. */
  get retries(): number {
    return this.#retries;
  }

  /** The endpoint's operation name and family (see endpoints/definition.ts). */
  endpoint(name: string, family?: string): void {
    this.#endpoint = name;
    this.#family = family;
  }

  /** The answer turned out to be an event stream (a form's `stream` field, a query's `stream=true`). */
  streamed(): void {
    this.#stream = true;
  }

  /**
   * Usage that belongs to a stored object (a batch, a background response)
   * rather than to what the answer's readers found: it replaces theirs, with
   * its own model and cost (batch prices) when given; undefined when the
   * object's usage was already counted by an earlier request.
   */
  objectUsage(usage: TokenUsage | undefined, model?: string, costUsd?: number): void {
    this.#objectUsage = { usage, model, costUsd };
  }

  caller(caller: Caller): void {
    this.#keyId = caller.mode === "managed" ? caller.keyId : undefined;
  }

  /** What the request asks for: the provider that serves it, the model, and whether it streams. */
  target(provider: string, model: string | undefined, stream: boolean): void {
    this.#provider = provider;
    this.#model = model;
    this.#stream = stream;
  }

  cache(decision: CacheDecision, hit = false): void {
    this.#cache = decision;
    this.#cacheHit = hit;
  }

  /** The route the request takes. */
  routed(route: string): void {
    this.#route = route;
  }

  /** A target's end: how many attempts it took and whether the request moved on. */
  targetEnded(provider: string, model: string | undefined, report: Pick<TargetReport, "attempts" | "result" | "fellBack" | "target">): void {
    this.#targets.push({ provider, model, routeModel: report.target.model !== undefined, attempts: report.attempts, result: report.result, fellBack: report.fellBack });
  }

  /** The provider and model actually serving (a route's target), and the provider's id in the price catalogue. */
  servedBy(provider: string, model: string | undefined, priceProvider: string | undefined): void {
    this.#provider = provider;
    this.#model = model;
    this.#priceProvider = priceProvider;
  }

  /** The provider and model serving the request, as the answer's headers name them. */
  get served(): { readonly provider?: string; readonly model?: string } {
    return { provider: this.#provider, model: this.#model };
  }

  upstreamStarted(at: number): void {
    this.#upstreamStartedAt = at;
  }

  retried(): void {
    this.#retries += 1;
  }

  upstreamHeaders(at: number): void {
    this.#upstreamHeadersAt = at;
  }

  /** The request's cost in USD from the price table, for `usage` of the model it asked for, or `model` (undefined without a price). */
  costOf(usage: TokenUsage | undefined, model: string | undefined = this.#model): number | undefined {
    return estimateCostUsd(this.#prices, this.#priceProvider, model, usage);
  }

  /** The largest share (%) of a USD budget the caller's key has spent, once the request is charged. */
  budgetUsed(percent: number | undefined): void {
    this.#budgetUsedPercent = percent;
  }

  /**
   * Resolves when the summary can price the serving provider's models (the catalogue loads on
   * first use); undefined when it already can, so that most requests wait on no promise.
   */
  pricesReady(): Promise<void> | undefined {
    return this.#priceProvider === undefined || priceCatalogueLoaded() ? undefined : loadPriceCatalogue();
  }

  /** The request's summary, once its answer has ended. */
  summary(ending: RequestEnding): RequestSummary {
    const since = (at: number | undefined) => (at === undefined ? undefined : at - this.startedAt);
    const totalMs = ending.endedAt - this.startedAt;
    const object = this.#objectUsage;
    const usage = object === undefined ? ending.usage : object.usage;
    const model = object?.model ?? this.#model;
    return {
      requestId: this.requestId,
      method: this.#request.method,
      path: this.#request.path,
      endpoint: this.#endpoint,
      family: this.#family,
      provider: this.#provider,
      model,
      stream: this.#stream,
      keyId: this.#keyId,
      retries: this.#retries,
      route: this.#route,
      targets: this.#targets.length === 0 ? undefined : [...this.#targets],
      fallbacks: this.#targets.filter((target) => target.fellBack).length,
      cache: this.#cache === undefined ? undefined : this.#cache.mode === "bypass" ? "bypass" : this.#cacheHit ? "hit" : "miss",
      status: ending.status,
      outcome: ending.outcome,
      errorCode: ending.errorCode,
      upstreamRequestId: ending.upstreamRequestId,
      upstreamHeadersMs: since(this.#upstreamHeadersAt),
      upstreamMs:
        this.#upstreamStartedAt === undefined || ending.upstreamEndedAt === undefined ? undefined : ending.upstreamEndedAt - this.#upstreamStartedAt,
      firstByteMs: since(ending.firstByteAt),
      totalMs,
      usage,
      usageEstimated: object === undefined ? ending.usageEstimated : undefined,
      costUsd: object?.costUsd ?? this.costOf(usage, model),
      budgetUsedPercent: this.#budgetUsedPercent,
    };
  }
}
