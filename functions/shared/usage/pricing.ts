/**
 * Estimated cost of a request from its token usage: the deployment's own
 * prices first (`GATEWAY_PRICES`, by model), then the list prices of the
 * serving provider in the price catalogue (usage/price-catalogue.ts). Prices
 * are USD per million tokens. An override matches its exact model name or
 * its dated snapshots (`gpt-4o-2024-08-06` uses a `gpt-4o` entry); another
 * model that merely starts with an override's name (`gpt-4o-mini`) takes
 * the override only when the catalogue has no price for it.
 */
import type { ModelPrice, PriceTable } from "../config/prices.ts";
import { listPrice, priceAt, type ListPrice } from "./price-catalogue.ts";
import type { TokenUsage } from "./usage-readers.ts";

/** A dated snapshot's suffix: `-2024-08-06`, `-0613`, `-1106-preview`. */
const SNAPSHOT_SUFFIX = /^-(?:\d{4}-\d{2}-\d{2}|\d{4})(?:-preview)?$/;

/** The override entry for a model: exact name, else the longest name it starts with (and a dash). */
export function findPrice(table: PriceTable, model: string): ModelPrice | undefined {
  return findOverride(table, model)?.price;
}

function findOverride(table: PriceTable, model: string): { name: string; price: ModelPrice } | undefined {
  if (Object.hasOwn(table, model)) return { name: model, price: table[model] as ModelPrice };
  let best: string | undefined;
  for (const name of Object.keys(table)) {
    if (model.startsWith(`${name}-`) && (best === undefined || name.length > best.length)) best = name;
  }
  return best === undefined ? undefined : { name: best, price: table[best] as ModelPrice };
}

/**
 * Estimated USD cost, or undefined for a model without a price.
 * @param provider the serving provider's id in the price catalogue, when it has list prices
 */
export function estimateCostUsd(overrides: PriceTable, provider: string | undefined, model: string | undefined, usage: TokenUsage | undefined): number | undefined {
  if (model === undefined || usage === undefined) return undefined;
  const override = findOverride(overrides, model);
  const own = override !== undefined && (override.name === model || SNAPSHOT_SUFFIX.test(model.slice(override.name.length)));
  const price: ListPrice | undefined = own ? override.price : ((provider === undefined ? undefined : listPrice(provider, model)) ?? override?.price);
  if (price === undefined) return undefined;
  const prompt = usage.promptTokens;
  const cached = Math.min(usage.cachedPromptTokens, prompt);
  const input = priceAt(price.input, prompt);
  const cost = (prompt - cached) * input + cached * (price.cachedInput === undefined ? input : priceAt(price.cachedInput, prompt)) + usage.completionTokens * (price.output === undefined ? 0 : priceAt(price.output, prompt));
  return cost / 1_000_000;
}
