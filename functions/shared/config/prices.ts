/**
 * Model prices: the built-in table and the `GATEWAY_PRICES` override,
 * validated once at start-up. Prices are USD per million tokens: OpenAI's
 * list prices for common models (as published in 2025).
 */

/** Prices of one model, USD per million tokens. */
export interface ModelPrice {
  readonly input: number;
  /** Cached input; defaults to `input`. */
  readonly cachedInput?: number;
  readonly output?: number;
}

/** Model name (or prefix) to its prices. */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** OpenAI list prices per million tokens. */
export const DEFAULT_PRICES: PriceTable = {
  "gpt-5": { input: 1.25, cachedInput: 0.125, output: 10 },
  "gpt-5-mini": { input: 0.25, cachedInput: 0.025, output: 2 },
  "gpt-5-nano": { input: 0.05, cachedInput: 0.005, output: 0.4 },
  "gpt-4.1": { input: 2, cachedInput: 0.5, output: 8 },
  "gpt-4.1-mini": { input: 0.4, cachedInput: 0.1, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, cachedInput: 0.025, output: 0.4 },
  "gpt-4o": { input: 2.5, cachedInput: 1.25, output: 10 },
  "gpt-4o-mini": { input: 0.15, cachedInput: 0.075, output: 0.6 },
  o1: { input: 15, cachedInput: 7.5, output: 60 },
  o3: { input: 2, cachedInput: 0.5, output: 8 },
  "o3-mini": { input: 1.1, cachedInput: 0.55, output: 4.4 },
  "o4-mini": { input: 1.1, cachedInput: 0.275, output: 4.4 },
  "gpt-3.5-turbo": { input: 0.5, output: 1.5 },
  "text-embedding-3-small": { input: 0.02 },
  "text-embedding-3-large": { input: 0.13 },
  "text-embedding-ada-002": { input: 0.1 },
};

/** The price table is not valid JSON of the expected shape; the message names the entry. */
export class PriceTableError extends Error {
  override name = "PriceTableError";
}

/** Parses a `GATEWAY_PRICES` override and lays it over the defaults. */
export function parsePriceTable(json: string | undefined, defaults: PriceTable = DEFAULT_PRICES): PriceTable {
  if (json === undefined || json.trim() === "") return defaults;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new PriceTableError("GATEWAY_PRICES is not valid JSON.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new PriceTableError('GATEWAY_PRICES must be an object like {"gpt-4o": {"input": 2.5, "output": 10}}.');
  }
  const table: Record<string, ModelPrice> = { ...defaults };
  for (const [model, price] of Object.entries(parsed)) {
    const { input, cachedInput, output } = (price ?? {}) as Record<string, unknown>;
    if (!isPrice(input) || (cachedInput !== undefined && !isPrice(cachedInput)) || (output !== undefined && !isPrice(output))) {
      throw new PriceTableError(`GATEWAY_PRICES entry ${JSON.stringify(model)} needs non-negative numbers input, and optionally cachedInput and output.`);
    }
    table[model] = { input, cachedInput: cachedInput as number | undefined, output: output as number | undefined };
  }
  return table;
}

function isPrice(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}
