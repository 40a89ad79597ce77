/**
 * The price catalogue loads while the first request waits on its provider;
 * that request's summary and its key's charge wait for it, so the first
 * answer of a fresh process (a Lambda cold start) is priced, and charged to
 * a USD budget, like every other. The catalogue is held back here until the
 * client has its answer, as a slow cold start would hold it.
 */
import { describe, expect, it, vi } from "vitest";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";

const catalogue = vi.hoisted(() => Promise.withResolvers<void>());
vi.mock("@pydantic/genai-prices", async (importOriginal) => {
  await catalogue.promise;
  return importOriginal();
});

const fixture = useFakeUpstreamAndGateway({
  env: { OPENAI_API_KEY: "sk-provider", GATEWAY_API_KEYS: "gw-first-request-0123456789", GATEWAY_KEY_LIMITS: JSON.stringify({ "env-1": { usdPerDay: 0.01 } }) },
  apiKey: "gw-first-request-0123456789",
});

describe("the first request of a fresh process", () => {
  it("is priced, and charged to its key's budget at that price, when the catalogue loads after the answer", async () => {
    await fixture.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });
    catalogue.resolve();
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.costUsd).toBeGreaterThan(0);
    expect(summary?.budgetUsedPercent).toBeCloseTo((100 * (summary?.costUsd ?? 0)) / 0.01, 2);
  });
});
