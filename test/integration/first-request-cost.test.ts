/**
 * The price catalogue loads while the first request waits on its provider;
 * that request's summary waits for it, so the first answer of a fresh
 * process (a Lambda cold start) is priced like every other.
 */
import { describe, expect, it } from "vitest";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";

const fixture = useFakeUpstreamAndGateway({ env: { OPENAI_API_KEY: "sk-provider", GATEWAY_API_KEYS: "gw-first-request-0123456789" }, apiKey: "gw-first-request-0123456789" });

describe("the first request of a fresh process", () => {
  it("is priced", async () => {
    await fixture.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.costUsd).toBeGreaterThan(0);
  });
});
