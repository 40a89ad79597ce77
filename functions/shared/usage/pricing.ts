/**
 * Estimated cost of a request from its token usage and a price table.
 *
 * Prices are USD per million tokens. The built-in table holds OpenAI's list
 * prices for common models (as published in 2025); deployments override or
 * extend it with `GATEWAY_PRICES` (JSON of the same shape). A model matches
 * its exact name or, failing that, the longest name it starts with, so dated
 * snapshots such as `gpt-4o-2024-08-06` use the `gpt-4o` entry.
 */
import type { ModelPrice, PriceTable } from "../config/prices.ts";
import type { TokenUsage } from "./usage-readers.ts";

/** The price entry for a model: exact name, else the longest matching prefix. */
export function findPrice(table: PriceTable, model: string): ModelPrice | undefined {
  if (Object.hasOwn(table, model)) return table[model];
  let best: string | undefined;
  for (const name of Object.keys(table)) {
    if (model.startsWith(`${name}-`) && (best === undefined || name.length > best.length)) best = name;
  }
  return best === undefined ? undefined : table[best];
}

/** Estimated USD cost, or undefined for a model without a price. */
export function estimateCostUsd(table: PriceTable, model: string | undefined, usage: TokenUsage | undefined): number | undefined {
  if (model === undefined || usage === undefined) return undefined;
  const price = findPrice(table, model);
  if (price === undefined) return undefined;
  const cached = Math.min(usage.cachedPromptTokens, usage.promptTokens);
  const cost =
    (usage.promptTokens - cached) * price.input + cached * (price.cachedInput ?? price.input) + usage.completionTokens * (price.output ?? 0);
  return cost / 1_000_000;
}
