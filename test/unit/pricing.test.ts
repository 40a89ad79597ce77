import { describe, expect, it } from "vitest";
import { DEFAULT_PRICES, parsePriceTable } from "../../functions/shared/config/prices.ts";
import { estimateCostUsd, findPrice } from "../../functions/shared/usage/pricing.ts";

const usage = { promptTokens: 1_000_000, completionTokens: 1_000_000, totalTokens: 2_000_000, cachedPromptTokens: 0, reasoningTokens: 0 };

describe("prices", () => {
  it("prices input, cached input and output per million tokens", () => {
    expect(estimateCostUsd(DEFAULT_PRICES, "gpt-4o", usage)).toBeCloseTo(12.5);
    expect(estimateCostUsd(DEFAULT_PRICES, "gpt-4o", { ...usage, cachedPromptTokens: 500_000 })).toBeCloseTo(1.25 + 0.625 + 10);
  });

  it("matches dated snapshots by the longest prefix", () => {
    expect(findPrice(DEFAULT_PRICES, "gpt-4o-mini-2024-07-18")).toBe(DEFAULT_PRICES["gpt-4o-mini"]);
    expect(findPrice(DEFAULT_PRICES, "gpt-4o-2024-08-06")).toBe(DEFAULT_PRICES["gpt-4o"]);
    expect(findPrice(DEFAULT_PRICES, "gpt-4oops")).toBeUndefined();
  });

  it.each(["constructor", "__proto__", "toString", "unknown-model"])("has no price for %s", (model) => {
    expect(estimateCostUsd(DEFAULT_PRICES, model, usage)).toBeUndefined();
  });

  it("lays overrides over the defaults", () => {
    const table = parsePriceTable('{"my-model": {"input": 1, "output": 2}, "gpt-4o": {"input": 0}}');
    expect(estimateCostUsd(table, "my-model", usage)).toBeCloseTo(3);
    expect(estimateCostUsd(table, "gpt-4o", usage)).toBe(0);
    expect(estimateCostUsd(table, "gpt-4o-mini", usage)).toBeCloseTo(0.75);
  });
});
