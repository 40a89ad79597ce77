/**
 * The deployment's own model prices (`GATEWAY_PRICES`), validated once at
 * start-up: USD per million tokens, by model name. They win over the list
 * prices of the price catalogue (usage/price-catalogue.ts).
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

/** The price table is not valid JSON of the expected shape; the message names the entry. */
export class PriceTableError extends Error {
  override name = "PriceTableError";
}

/** Parses `GATEWAY_PRICES`. */
export function parsePriceTable(json: string | undefined): PriceTable {
  if (json === undefined || json.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new PriceTableError("GATEWAY_PRICES is not valid JSON.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new PriceTableError('GATEWAY_PRICES must be an object like {"gpt-4o": {"input": 2.5, "output": 10}}.');
  }
  const table: Record<string, ModelPrice> = {};
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
