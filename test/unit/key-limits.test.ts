/**
 * Key limits and budgets over a real memory store: the windows (UTC minute,
 * day, calendar month), reserve-then-settle accounting, the refusal a
 * request gets (rate limit or spent budget), and what a request reserves.
 */
import { describe, expect, it } from "vitest";
import {
  formatUsd,
  KeyBudgetError,
  KeyRateLimitError,
  limitWindows,
  readKeyUsage,
  reserveKeyLimits,
  settleKeyLimits,
  toMicroUsd,
} from "../../functions/shared/access/key-limits.ts";
import { checkPermissions, KeyPermissionError, matchesGlob } from "../../functions/shared/access/permissions.ts";
import { DEFAULT_OUTPUT_RESERVATION, estimateReservation } from "../../functions/shared/access/reservation-estimate.ts";
import type { Caller } from "../../functions/shared/access/authenticate.ts";
import type { KeyPermissions } from "../../functions/shared/config/key-permissions.ts";
import { ENDPOINTS } from "../../functions/shared/endpoints/catalogue.ts";
import { createMemoryStore } from "../../functions/shared/stores/memory-store.ts";

const NOW = Date.UTC(2026, 10, 29, 10, 15, 30); // 2026-11-29T10:15:30Z
const endpoint = (name: string) => ENDPOINTS.find((candidate) => candidate.name === name)!;

describe("limit windows", () => {
  it("are the UTC minute, the UTC day and the calendar month, each with its own counter", () => {
    const windows = limitWindows("team-a", { requestsPerMinute: 1, tokensPerMinute: 2, tokensPerDay: 3, usdPerDay: 4.5, usdPerMonth: 100 }, NOW);
    expect(windows.map((window) => [window.name, window.limit, new Date(window.endsAt).toISOString()])).toEqual([
      ["requests_per_minute", 1, "2026-11-29T10:16:00.000Z"],
      ["tokens_per_minute", 2, "2026-11-29T10:16:00.000Z"],
      ["tokens_per_day", 3, "2026-11-30T00:00:00.000Z"],
      ["usd_per_day", 4_500_000, "2026-11-30T00:00:00.000Z"],
      ["usd_per_month", 100_000_000, "2026-12-01T00:00:00.000Z"],
    ]);
    expect(windows.at(-1)?.counter).toBe("quota:team-a:usdm:2026-11");
    // December's month ends with the year; the counter outlives its window.
    const december = limitWindows("k", { usdPerMonth: 1 }, Date.UTC(2026, 11, 31, 23, 59));
    expect(new Date(december[0]!.endsAt).toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(december[0]!.ttlSeconds).toBeGreaterThan(86_400);
  });

  it("count spend in whole micro-dollars, never rounded down, and write it for people", () => {
    expect(toMicroUsd(5)).toBe(5_000_000);
    expect(toMicroUsd(0.000_123_4)).toBe(124);
    expect(toMicroUsd(0.1 + 0.2)).toBe(300_000);
    expect([formatUsd(5_000_000), formatUsd(10_000), formatUsd(123), formatUsd(5_012_340)]).toEqual(["$5.00", "$0.01", "$0.000123", "$5.01234"]);
  });
});

describe("reserve, then settle", () => {
  it("reserves the estimate, settles to what was used, and refuses once the window was spent before the request", async () => {
    const store = createMemoryStore();
    const limits = { tokensPerMinute: 100 };
    const first = await reserveKeyLimits(store, "k", limits, { tokens: 60, microUsd: 0 }, NOW);
    expect(first?.refusal).toBeUndefined();
    // A second request in flight sees the first one's reservation.
    const second = await reserveKeyLimits(store, "k", limits, { tokens: 60, microUsd: 0 }, NOW);
    expect(second?.refusal).toBeUndefined();
    const third = await reserveKeyLimits(store, "k", limits, { tokens: 60, microUsd: 0 }, NOW);
    expect(third?.refusal).toBeInstanceOf(KeyRateLimitError);
    expect(third?.refusal?.message).toBe("Rate limit reached for gateway key k on tokens per minute: limit 100, used 120. Try again later.");
    await settleKeyLimits(store, third!.reservation, { tokens: 0, microUsd: 0 });
    const [after] = await settleKeyLimits(store, first!.reservation, { tokens: 30, microUsd: 0 });
    expect(after?.used).toBe(90);
    await settleKeyLimits(store, second!.reservation, { tokens: 30, microUsd: 0 });
    expect((await readKeyUsage(store, "k", limits, NOW))[0]?.used).toBe(60);
  });

  it("refuses a spent budget with 429 insufficient_quota naming the budget, and no retry before it resets", async () => {
    const store = createMemoryStore();
    const limits = { usdPerDay: 0.01, requestsPerMinute: 100 };
    const admitted = await reserveKeyLimits(store, "team-a", limits, { tokens: 10, microUsd: 2_000 }, NOW);
    await settleKeyLimits(store, admitted!.reservation, { tokens: 10, microUsd: 10_500 });
    const refused = await reserveKeyLimits(store, "team-a", limits, { tokens: 10, microUsd: 2_000 }, NOW);
    const error = refused?.refusal as KeyBudgetError;
    expect(error).toBeInstanceOf(KeyBudgetError);
    expect(error.toJSON()).toEqual({
      error: {
        message: "Budget reached for gateway key team-a: its daily budget (usd_per_day) is $0.01 and $0.0105 has been spent. It resets at 2026-11-30T00:00:00.000Z.",
        type: "insufficient_quota",
        param: null,
        code: "insufficient_quota",
      },
    });
    expect(error.status).toBe(429);
    expect(error.headers).toMatchObject({ "retry-after": String(13 * 3600 + 44 * 60 + 30), "x-should-retry": "false", "x-ratelimit-limit-requests": "100" });
  });

  it("names the window that resets last when several are spent", async () => {
    const store = createMemoryStore();
    const limits = { requestsPerMinute: 1, usdPerMonth: 0.000_001 };
    const admitted = await reserveKeyLimits(store, "k", limits, { tokens: 0, microUsd: 1 }, NOW);
    expect(admitted?.refusal).toBeUndefined();
    const refused = await reserveKeyLimits(store, "k", limits, { tokens: 0, microUsd: 1 }, NOW);
    expect(refused?.refusal).toBeInstanceOf(KeyBudgetError);
    expect(refused?.refusal?.message).toContain("monthly budget (usd_per_month)");
  });

  it("lets many concurrent requests end at most one request past the limit", async () => {
    const store = createMemoryStore();
    const limits = { tokensPerDay: 1_000 };
    const used = 70;
    let charged = 0;
    // Waves of 25 concurrent requests, each reserving its cap (100) and using 70, until the key is spent.
    for (let wave = 0; wave < 10; wave += 1) {
      const results = await Promise.all(Array.from({ length: 25 }, () => reserveKeyLimits(store, "k", limits, { tokens: 100, microUsd: 0 }, NOW)));
      await Promise.all(results.map((result) => settleKeyLimits(store, result!.reservation, { tokens: result!.refusal === undefined ? used : 0, microUsd: 0 })));
      charged += results.filter((result) => result?.refusal === undefined).length * used;
    }
    expect(charged).toBeGreaterThanOrEqual(1_000);
    expect(charged).toBeLessThan(1_000 + used);
    expect((await readKeyUsage(store, "k", limits, NOW))[0]?.used).toBe(charged);
  });
});

describe("what a request reserves", () => {
  it("its body / 4 as input, and its output cap times n, else the default output reservation", () => {
    expect(estimateReservation(endpoint("chat.completions"), { max_tokens: 50, n: 2 }, 400)).toMatchObject({ promptTokens: 100, completionTokens: 100, totalTokens: 200 });
    expect(estimateReservation(endpoint("responses"), { max_output_tokens: 30 }, 8)).toMatchObject({ promptTokens: 2, completionTokens: 30 });
    expect(estimateReservation(endpoint("chat.completions"), { max_completion_tokens: 7, max_tokens: 9 }, 0)).toMatchObject({ completionTokens: 7 });
    expect(estimateReservation(endpoint("completions"), {}, 4)).toMatchObject({ completionTokens: DEFAULT_OUTPUT_RESERVATION });
    expect(estimateReservation(endpoint("chat.completions"), { max_tokens: -5, n: 1e9 }, 4)).toMatchObject({ completionTokens: DEFAULT_OUTPUT_RESERVATION });
    expect(estimateReservation(endpoint("embeddings"), { input: "x" }, 40)).toMatchObject({ promptTokens: 10, completionTokens: 0 });
    expect(estimateReservation(endpoint("models.list"), undefined, 0)).toMatchObject({ totalTokens: 0 });
  });
});

describe("permissions", () => {
  const caller = (permissions: KeyPermissions): Caller => ({
    mode: "managed",
    keyId: "team-a",
    keyDigest: "d",
    permissions,
  });
  const scope = { endpoint: "chat.completions", provider: "openai", model: "gpt-4o-mini", takesModel: true };

  it("match model names and globs exactly, case and all", () => {
    expect(matchesGlob("gpt-4o", "gpt-4o")).toBe(true);
    expect(matchesGlob("gpt-4o", "gpt-4o-mini")).toBe(false);
    expect(matchesGlob("gpt-4o*", "gpt-4o-mini")).toBe(true);
    expect(matchesGlob("*-mini", "o4-mini")).toBe(true);
    expect(matchesGlob("gpt-4.?", "gpt-4.1")).toBe(true);
    expect(matchesGlob("gpt-4.?", "gpt-401")).toBe(false);
    expect(matchesGlob("GPT-4o*", "gpt-4o")).toBe(false);
    expect(matchesGlob("a+b(c)*", "a+b(c)d")).toBe(true);
  });

  it("refuse with 403 what the key may not use, saying what it may", () => {
    const refuse = (permissions: Parameters<typeof caller>[0], change: Partial<typeof scope> = {}) => {
      try {
        checkPermissions(caller(permissions), { ...scope, ...change });
      } catch (error) {
        expect(error).toBeInstanceOf(KeyPermissionError);
        return (error as KeyPermissionError).toJSON().error;
      }
      return undefined;
    };
    expect(refuse({ models: ["gpt-4o*"], providers: ["openai"], endpoints: ["chat"] })).toBeUndefined();
    expect(refuse({ models: ["gpt-4.1*", "o3"] })).toEqual({
      message: "Gateway key team-a may not use model gpt-4o-mini; it may use: gpt-4.1*, o3.",
      type: "invalid_request_error",
      param: "model",
      code: "permission_denied",
    });
    expect(refuse({ models: ["gpt-4o"] }, { model: undefined })?.message).toBe("Gateway key team-a may only use the models gpt-4o; name one in the request.");
    expect(refuse({ models: ["gpt-4o"] }, { endpoint: "models.list", model: undefined, takesModel: false })).toBeUndefined();
    expect(refuse({ providers: ["mock"] })).toMatchObject({ message: "Gateway key team-a may not use provider openai; it may use: mock.", param: "x-provider" });
    expect(refuse({ endpoints: ["chat", "models"] }, { endpoint: "embeddings" })?.message).toBe(
      "Gateway key team-a may not call embeddings endpoints; it may call: chat, models.",
    );
    expect(refuse({ endpoints: ["models"] }, { endpoint: "models.retrieve" })).toBeUndefined();
  });

  it("leave callers without a key store's permissions alone", () => {
    expect(() => checkPermissions({ mode: "passthrough", authorization: "Bearer sk" }, scope)).not.toThrow();
    expect(() => checkPermissions({ mode: "managed", keyId: "env-1", keyDigest: "d" }, scope)).not.toThrow();
  });
});
