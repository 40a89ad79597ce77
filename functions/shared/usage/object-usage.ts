/**
 * Usage that belongs to a stored object rather than to the request that
 * reads it, counted once per object in the gateway store:
 *
 * - a batch's `usage`, once the batch has completed, whichever request first
 *   sees it so (the SDK polls `batches.retrieve`; a list or a cancel counts
 *   too), priced at batch prices: OpenAI bills Batch API tokens at half the
 *   synchronous price ("50% cost discount compared to synchronous APIs",
 *   https://platform.openai.com/docs/guides/batch; the Batch column of
 *   https://platform.openai.com/docs/pricing);
 * - a background response's usage (`background: true`), which its creation
 *   cannot report: the first retrieve that shows it counts it. A response whose
 *   creation reported its usage is never counted again.
 *
 * A batch or response completed before the gateway saw it, or whose counter
 * expired ({@link COUNTED_TTL_SECONDS}), is counted when first seen, or again.
 */
import type { PriceTable } from "../config/prices.ts";
import type { GatewayStore } from "../stores/types.ts";
import { loadPriceCatalogue } from "./price-catalogue.ts";
import { estimateCostUsd } from "./pricing.ts";
import { normalizeUsage, type TokenUsage } from "./usage-readers.ts";

/** What OpenAI charges for batch tokens, as a share of the synchronous price. */
export const BATCH_PRICE_FACTOR = 0.5;
/** How long the gateway remembers that an object's usage was counted (longer than OpenAI keeps batches and responses). */
export const COUNTED_TTL_SECONDS = 400 * 86_400;

/** Usage counted for an object, with its own model and cost. */
export interface ObjectUsage {
  /** Undefined when nothing new was counted (already counted, or not done yet). */
  readonly usage?: TokenUsage;
  readonly model?: string;
  readonly costUsd?: number;
}

/** Counts objects' usage once each. */
export interface ObjectUsageCounter {
  /**
   * The usage of the completed batches in an answer (one batch, or a list page) not counted before.
   * @param priceProvider the provider's id in the price catalogue, for its list prices
   */
  batches(answer: unknown, priceProvider?: string): Promise<ObjectUsage>;
  /** A response's usage as a retrieve reports it: counted only for a background response, and only once. */
  response(responseId: string, usage: TokenUsage | undefined): Promise<ObjectUsage>;
  /** Notes a background response whose creation reported no usage: its first retrieve with usage counts it. */
  pending(responseId: string): Promise<void>;
}

/** Creates the counter over the gateway store. */
export function createObjectUsageCounter(store: GatewayStore, prices: PriceTable): ObjectUsageCounter {
  const firstTime = async (id: string) => (await store.add(`usage-counted:${id}`, 1, COUNTED_TTL_SECONDS)) === 1;
  return {
    async batches(answer, priceProvider) {
      const batches = isObject(answer) && Array.isArray(answer.data) ? answer.data.filter(isObject) : isObject(answer) ? [answer] : [];
      const done = batches.filter((batch) => batch.status === "completed" && typeof batch.id === "string" && normalizeUsage(batch.usage) !== undefined);
      const counted = (await Promise.all(done.map(async (batch) => ((await firstTime(batch.id as string)) ? batch : undefined)))).filter(isObject);
      if (counted.length === 0) return {};
      // List prices are there once the catalogue has loaded; without it, the overrides alone price.
      if (priceProvider !== undefined) await loadPriceCatalogue().catch(() => undefined);
      let usage: TokenUsage | undefined;
      let costUsd: number | undefined;
      for (const batch of counted) {
        const own = normalizeUsage(batch.usage) as TokenUsage;
        usage = usage === undefined ? own : addUsage(usage, own);
        const cost = estimateCostUsd(prices, priceProvider, typeof batch.model === "string" ? batch.model : undefined, own);
        if (cost !== undefined) costUsd = (costUsd ?? 0) + cost * BATCH_PRICE_FACTOR;
      }
      const models = new Set(counted.map((batch) => batch.model));
      const model = models.size === 1 && typeof counted[0]?.model === "string" ? counted[0].model : undefined;
      return { usage, model, costUsd };
    },
    async response(responseId, usage) {
      if (usage === undefined) return {};
      const pending = await store.get(`usage-pending:${responseId}`, { consistent: true });
      return pending !== undefined && (await firstTime(responseId)) ? { usage } : {};
    },
    async pending(responseId) {
      await store.put(`usage-pending:${responseId}`, new Uint8Array([1]), COUNTED_TTL_SECONDS);
    },
  };
}

function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    cachedPromptTokens: a.cachedPromptTokens + b.cachedPromptTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
