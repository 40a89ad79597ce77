/**
 * The price catalogue loads on first use (its data is costly to evaluate);
 * a request's summary waits for it, so no answer goes unpriced.
 */
import { describe, expect, it } from "vitest";
import { RequestRecorder } from "../../functions/shared/core/request-recorder.ts";
import { listPrice } from "../../functions/shared/usage/price-catalogue.ts";

const request = { method: "POST", path: "/v1/chat/completions", query: "", headers: {}, body: undefined, signal: new AbortController().signal };
const usage = { promptTokens: 1_000_000, completionTokens: 0, totalTokens: 1_000_000, cachedPromptTokens: 0, reasoningTokens: 0 };

describe("loading the price catalogue", () => {
  it("has no prices before it has loaded; a recorder waits for it before its summary", async () => {
    expect(listPrice("openai", "gpt-4o-mini")).toBeUndefined();
    const recorder = new RequestRecorder("r1", 0, request, {});
    recorder.servedBy("openai", "gpt-4o", "openai");
    await recorder.pricesReady();
    expect(recorder.summary({ status: 200, outcome: "ok", endedAt: 1, usage }).costUsd).toBeCloseTo(2.5);
    expect(listPrice("openai", "gpt-4o-mini")).toMatchObject({ input: 0.15 });
  });
});
