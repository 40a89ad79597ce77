/**
 * Metrics, cost, the response cache and key limits work for the translating
 * providers as for OpenAI: they read the translated (OpenAI) wire.
 */
import { RateLimitError } from "openai";
import { describe, expect, it, vi } from "vitest";
import { useTestGateway } from "../support/gateway-fixture.ts";
import { metricsOf } from "../support/local-gateway.ts";
import { rejectionOf } from "../support/openai-errors.ts";
import { translatedProvidersSetting, useFakeAnthropic, useFakeBedrock, useLocalAwsCredentials } from "../support/translated-fakes.ts";

const KEY = "gw-bookkeeping-0123456789";
/** One key with a token limit per provider (env-2, env-3), so each provider's test starts with an unspent key. */
const LIMITED_KEYS = ["gw-bookkeeping-limited-a-0123456789", "gw-bookkeeping-limited-b-0123456789"] as const;
const BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0";

const credentials = useLocalAwsCredentials();
const anthropic = useFakeAnthropic();
const bedrock = useFakeBedrock({ region: "us-east-1", credentials });
const fixture = useTestGateway(() => ({
  GATEWAY_PROVIDERS: translatedProvidersSetting(anthropic(), bedrock()),
  GATEWAY_API_KEYS: [KEY, ...LIMITED_KEYS].join(","),
  GATEWAY_KEY_LIMITS: JSON.stringify({ "env-2": { tokensPerMinute: 100 }, "env-3": { tokensPerMinute: 100 } }),
  GATEWAY_PRICES: JSON.stringify({ "claude-sonnet-4-5": { input: 3, cachedInput: 0.3, output: 15 }, [BEDROCK_MODEL]: { input: 3, cachedInput: 0.3, output: 15 } }),
}));

const PROVIDERS = [
  { provider: "anthropic", model: "claude-sonnet-4-5", limitedKey: LIMITED_KEYS[0], keyId: "env-2", requests: () => anthropic().requests },
  { provider: "bedrock", model: BEDROCK_MODEL, limitedKey: LIMITED_KEYS[1], keyId: "env-3", requests: () => bedrock().requests },
] as const;

describe.each(PROVIDERS)("bookkeeping for $provider", ({ provider, model, limitedKey, keyId, requests }) => {
  const client = (key = KEY) => fixture.gateway.client(key, { "x-provider": provider });

  it("measures tokens and prices them, cached input at its own price, for a stream whose client did not ask for usage", async () => {
    const stream = await client().chat.completions.create({ model, messages: [{ role: "user", content: "cost" }], stream: true });
    for await (const chunk of stream) void chunk;
    const [summary] = await fixture.gateway.waitForSummaries(1);
    // 40 input + 100 cache reads + 10 cache writes, 20 output: (50 × 3 + 100 × 0.3 + 20 × 15) / 1e6.
    expect(summary?.costUsd).toBeCloseTo(0.00048, 10);
    expect(metricsOf(summary)).toMatchObject({ promptTokens: 150, cachedPromptTokens: 100, completionTokens: 20, totalTokens: 170 });
  });

  it("serves a repeated streamed request from the response cache, the same stream again", async () => {
    const post = () =>
      fetch(`${fixture.gateway.baseURL}chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${KEY}`, "x-provider": provider, "x-gateway-cache-ttl": "60" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "cache me" }], stream: true }),
      });
    const first = await post();
    const firstText = await first.text();
    await fixture.gateway.waitForSummaries(1);
    const second = await post();
    expect([first.headers.get("x-gateway-cache"), second.headers.get("x-gateway-cache")]).toEqual(["MISS", "HIT"]);
    expect(await second.text()).toBe(firstText);
    expect(requests()).toHaveLength(1);
  });

  it("charges a key's token limit with the translated usage", async () => {
    await client(limitedKey).chat.completions.create({ model, messages: [{ role: "user", content: "spend" }] });
    // This request's own summary (its charge is settled before it is logged), not a late one of the test before.
    await vi.waitFor(() => expect(fixture.gateway.summaries.some((summary) => summary.keyId === keyId && summary.status === 200)).toBe(true), { timeout: 5_000 });
    const error = await rejectionOf(client(limitedKey).chat.completions.create({ model, messages: [{ role: "user", content: "again" }] }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(requests()).toHaveLength(1);
  });
});
