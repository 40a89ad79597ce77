import { beforeAll, describe, expect, it } from "vitest";
import { parsePriceTable } from "../../functions/shared/config/prices.ts";
import { listPrice, loadPriceCatalogue } from "../../functions/shared/usage/price-catalogue.ts";
import { estimateCostUsd, findPrice } from "../../functions/shared/usage/pricing.ts";

const usage = { promptTokens: 1_000_000, completionTokens: 1_000_000, totalTokens: 2_000_000, cachedPromptTokens: 0, reasoningTokens: 0 };
const NO_OVERRIDES = parsePriceTable(undefined);

beforeAll(() => loadPriceCatalogue());

describe("prices from the catalogue", () => {
  it("prices input, cached input and output per million tokens", () => {
    expect(estimateCostUsd(NO_OVERRIDES, "openai", "gpt-4o", usage)).toBeCloseTo(12.5);
    expect(estimateCostUsd(NO_OVERRIDES, "openai", "gpt-4o", { ...usage, cachedPromptTokens: 500_000 })).toBeCloseTo(1.25 + 0.625 + 10);
  });

  it.each([
    ["GPT-4o", "gpt-4o", 2.5, 10],
    ["a dated GPT-4o", "gpt-4o-2024-08-06", 2.5, 10],
    ["GPT-4o mini", "gpt-4o-mini", 0.15, 0.6],
    ["o1-preview", "o1-preview", 15, 60],
    ["o1-mini", "o1-mini", 1.1, 4.4],
    ["GPT-4 Turbo", "gpt-4-turbo", 10, 30],
    ["GPT-4", "gpt-4", 30, 60],
    ["GPT-3.5 Turbo", "gpt-3.5-turbo", 0.5, 1.5],
    ["text-embedding-3-small", "text-embedding-3-small", 0.02, 0],
    ["text-embedding-3-large", "text-embedding-3-large", 0.13, 0],
    ["text-embedding-ada-002", "text-embedding-ada-002", 0.1, 0],
    ["a fine-tuned GPT-4o mini", "ft:gpt-4o-mini-2024-07-18:acme::abc123", 0.3, 1.2],
  ])("names the users' provider page's models: %s", (_name, model, input, output) => {
    expect(estimateCostUsd(NO_OVERRIDES, "openai", model, { ...usage, completionTokens: 0, totalTokens: 1_000_000 })).toBeCloseTo(input);
    expect(estimateCostUsd(NO_OVERRIDES, "openai", model, { ...usage, promptTokens: 0, totalTokens: 1_000_000 })).toBeCloseTo(output);
  });

  it.each(["omni-moderation-latest", "text-moderation-latest"])("prices moderation (%s) as free", (model) => {
    expect(estimateCostUsd(NO_OVERRIDES, "openai", model, usage)).toBe(0);
  });

  it.each([
    ["azure", "gpt-4o"],
    ["groq", "llama-3.3-70b-versatile"],
    ["mistral", "mistral-large-latest"],
    ["deepseek", "deepseek-chat"],
    ["together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"],
    ["fireworks", "accounts/fireworks/models/deepseek-v3p2"],
    ["openrouter", "openai/gpt-4o"],
    ["x-ai", "grok-4"],
    ["google", "gemini-2.0-flash"],
  ])("has list prices for every preset with list prices: %s %s", (provider, model) => {
    expect(estimateCostUsd(NO_OVERRIDES, provider, model, usage)).toBeGreaterThan(0);
  });

  it("prices a long prompt at its tier (the whole request, once the prompt crosses the tier's start)", () => {
    const price = listPrice("google", "gemini-2.5-pro");
    expect(typeof price?.input).toBe("object");
    const short = estimateCostUsd(NO_OVERRIDES, "google", "gemini-2.5-pro", { ...usage, promptTokens: 100_000, completionTokens: 0 });
    const long = estimateCostUsd(NO_OVERRIDES, "google", "gemini-2.5-pro", { ...usage, promptTokens: 300_000, completionTokens: 0 });
    expect((long as number) / 300_000).toBeGreaterThan((short as number) / 100_000);
  });

  it.each(["constructor", "__proto__", "toString", "unknown-model"])("has no price for %s", (model) => {
    expect(estimateCostUsd(NO_OVERRIDES, "openai", model, usage)).toBeUndefined();
  });

  it("has no price for a model name no model has, and spends no time on it (a client may send a megabyte)", () => {
    const started = performance.now();
    expect(estimateCostUsd(NO_OVERRIDES, "openai", `gpt-4o${"x".repeat(2 * 1024 * 1024)}`, usage)).toBeUndefined();
    // The catalogue's match rules take seconds over 2 MB.
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("has no list price without a catalogue provider (self-hosted models)", () => {
    expect(estimateCostUsd(NO_OVERRIDES, undefined, "gpt-4o", usage)).toBeUndefined();
  });
});

describe("GATEWAY_PRICES overrides", () => {
  it("lays overrides over the catalogue: a model's own entry, its dated snapshots too", () => {
    const table = parsePriceTable('{"my-model": {"input": 1, "output": 2}, "gpt-4o": {"input": 0}}');
    expect(estimateCostUsd(table, undefined, "my-model", usage)).toBeCloseTo(3);
    expect(estimateCostUsd(table, "openai", "gpt-4o", usage)).toBe(0);
    expect(estimateCostUsd(table, "openai", "gpt-4o-2024-08-06", usage)).toBe(0);
    expect(findPrice(table, "gpt-4oops")).toBeUndefined();
  });

  it("leaves a model the catalogue knows to the catalogue when an override only shares its prefix", () => {
    const table = parsePriceTable('{"gpt-4o": {"input": 0}, "my-family": {"input": 4}}');
    expect(estimateCostUsd(table, "openai", "gpt-4o-mini", usage)).toBeCloseTo(0.75);
    expect(estimateCostUsd(table, undefined, "my-family-large", { ...usage, completionTokens: 0 })).toBeCloseTo(4);
  });
});
