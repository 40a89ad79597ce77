/**
 * Per-gateway-key limits through the local gateway and the real openai SDK:
 * requests per minute, tokens per minute and tokens per day, counted in fixed
 * UTC windows; over a limit the gateway itself answers 429 (OpenAI's error
 * shape, `retry-after`, `x-ratelimit-*`) without calling the provider.
 */
import { randomUUID } from "node:crypto";
import { RateLimitError, type APIError } from "openai";
import { beforeEach, describe, expect, it } from "vitest";
import { parseSecret } from "../../functions/shared/access/parse-secret.ts";
import { createMemoryStore } from "../../functions/shared/stores/memory-store.ts";
import { approxTokens, fakeReply } from "../support/fake-openai.ts";
import { useFakeUpstream, useGateway } from "../support/gateway-fixture.ts";
import { rejectionOf } from "../support/openai-errors.ts";
import { ensureMinuteLeft, startStoreGateway, type StoreGateway } from "../support/store-gateway.ts";

const PROVIDER_KEY = "sk-provider";
const KEY_ONE = "gw-key-one-0123456789";
const KEY_TWO = "gw-key-two-0123456789";
const KEY_THREE = "gw-key-three-0123456789";
const DURATION = /^(?:\d+h)?(?:\d+m)?\d+s$/;

const TEXT = "How many tokens is this?";
const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: TEXT }] };
/** What the fake charges for `chat`, streamed or not: 3 + 4 per message + ceil(chars / 4), plus the echo's tokens. */
const CHAT_TOKENS = 3 + 4 + approxTokens(TEXT) + approxTokens(fakeReply(TEXT));

const fake = useFakeUpstream({ requireAuth: `Bearer ${PROVIDER_KEY}` });

function managedEnv(limits: Record<string, unknown>, keys = [KEY_ONE, KEY_TWO]): Record<string, string> {
  return {
    OPENAI_BASE_URL: fake.upstream.baseUrl,
    OPENAI_API_KEY: PROVIDER_KEY,
    GATEWAY_API_KEYS: keys.join(","),
    GATEWAY_KEY_LIMITS: JSON.stringify(limits),
  };
}

/** Seconds from now to the end of the current UTC window of `lengthMs`. */
function secondsLeft(lengthMs: number): number {
  return Math.ceil((lengthMs - (Date.now() % lengthMs)) / 1000);
}

/** Reads a chat stream with the SDK; returns the text and the usage the client saw. */
async function streamChat(gateway: StoreGateway, key: string, includeUsage: boolean) {
  const stream = await gateway
    .client(key)
    .chat.completions.create({ ...chat, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) });
  let text = "";
  let usage: unknown;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, usage };
}

describe("requests per minute", () => {
  const fixture = useGateway(() => startStoreGateway(managedEnv({ "env-1": { requestsPerMinute: 3 } })));

  it("the 4th request of a minute is the gateway's own 429, with OpenAI's error and rate-limit headers; the other key is unaffected", async () => {
    await ensureMinuteLeft(5_000);
    const one = fixture.gateway.client(KEY_ONE);
    for (let index = 0; index < 3; index += 1) {
      const completion = await one.chat.completions.create(chat);
      expect(completion.choices[0]?.message.content).toBe(fakeReply(TEXT));
    }
    expect(fake.upstream.requests).toHaveLength(3);

    // A retry budget does not matter: the gateway's own 429 is never retried upstream.
    const error = await rejectionOf(one.chat.completions.create(chat, { headers: { "x-gateway-max-retries": "3" } }));
    const expectedRetryAfter = secondsLeft(60_000);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.status).toBe(429);
    expect(error.type).toBe("requests_per_minute");
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.param).toBeNull();
    expect(error.message).toContain("Rate limit reached for gateway key env-1 on requests per minute: limit 3, used 4.");
    const headers = error.headers;
    const retryAfter = Number(headers?.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(Math.abs(retryAfter - expectedRetryAfter)).toBeLessThanOrEqual(1);
    expect(headers?.get("x-ratelimit-limit-requests")).toBe("3");
    expect(headers?.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(headers?.get("x-ratelimit-reset-requests")).toMatch(DURATION);
    const reset = /^(?:(\d+)m)?(\d+)s$/.exec(headers?.get("x-ratelimit-reset-requests") ?? "");
    expect(Number(reset?.[1] ?? 0) * 60 + Number(reset?.[2])).toBe(retryAfter);
    // Only the limits the key has are described.
    expect(headers?.get("x-ratelimit-limit-tokens")).toBeNull();
    expect(headers?.get("x-gateway-retries")).toBe("0");
    expect(headers?.get("x-gateway-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers?.get("x-gateway-cache")).toBeNull();
    expect(fake.upstream.requests).toHaveLength(3);

    // Refused again for the rest of the minute, streams included.
    const again = await rejectionOf(one.chat.completions.create({ ...chat, stream: true }));
    expect(again).toBeInstanceOf(RateLimitError);
    expect(again.headers?.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(fake.upstream.requests).toHaveLength(3);

    // The other key has no limit and is not slowed by this one.
    const two = fixture.gateway.client(KEY_TWO);
    for (let index = 0; index < 5; index += 1) {
      const { response } = await two.chat.completions.create(chat).withResponse();
      // Answers that pass keep the provider's own headers.
      expect(response.headers.get("x-ratelimit-limit-requests")).toBe("10000");
    }
    expect(fake.upstream.requests).toHaveLength(8);

    const summaries = await fixture.gateway.waitForSummaries(10);
    const refused = summaries.filter((summary) => summary.status === 429);
    expect(refused).toHaveLength(2);
    for (const summary of refused) {
      expect(summary).toMatchObject({ keyId: "env-1", outcome: "gateway_error", errorCode: "rate_limit_exceeded", endpoint: "chat.completions" });
      expect(summary.upstreamMs).toBeUndefined();
    }
    expect(fixture.gateway.metrics.map((metrics) => metrics.values.rateLimited)).toEqual([0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    expect(fixture.gateway.metrics[3]?.dimensions.keyId).toBe("env-1");
  });
});

describe("limits from the secret (gatewayKeys[].limits)", () => {
  const credentials = parseSecret(
    JSON.stringify({
      openai: { apiKey: PROVIDER_KEY },
      gatewayKeys: [
        { id: "team-a", key: KEY_ONE, limits: { requestsPerMinute: 1 } },
        { id: "team-b", key: KEY_TWO },
      ],
    }),
  );
  const resolved = Promise.resolve(credentials);
  const fixture = useGateway(() =>
    startStoreGateway({ OPENAI_BASE_URL: fake.upstream.baseUrl }, { credentials: { get: () => resolved, refresh: () => resolved } }),
  );

  it("apply per key id, named in the error", async () => {
    await ensureMinuteLeft(5_000);
    await fixture.gateway.client(KEY_ONE).chat.completions.create(chat);
    const error = await rejectionOf(fixture.gateway.client(KEY_ONE).chat.completions.create(chat));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.message).toContain("gateway key team-a on requests per minute: limit 1, used 2");
    expect(error.headers?.get("x-ratelimit-limit-requests")).toBe("1");
    for (let index = 0; index < 3; index += 1) await fixture.gateway.client(KEY_TWO).chat.completions.create(chat);
    expect(fake.upstream.requests).toHaveLength(4);
    const summaries = await fixture.gateway.waitForSummaries(5);
    expect(summaries.map((summary) => [summary.keyId, summary.status])).toEqual([
      ["team-a", 200],
      ["team-a", 429],
      ["team-b", 200],
      ["team-b", 200],
      ["team-b", 200],
    ]);
  });
});

describe("tokens per minute", () => {
  const LIMIT = 2 * CHAT_TOKENS;
  const fixture = useGateway(() => startStoreGateway(managedEnv({ "*": { tokensPerMinute: LIMIT } }, [KEY_ONE, KEY_TWO, KEY_THREE])));
  beforeEach(async () => {
    // Each test spends a key's minute budget in two answers: keep them in one minute.
    await ensureMinuteLeft(5_000);
    fixture.gateway.reset();
  });

  function expectTokensRefused(error: APIError, type = "tokens_per_minute", suffix = "tokens") {
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.type).toBe(type);
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.headers?.get(`x-ratelimit-limit-${suffix}`)).toBe(String(LIMIT));
    expect(error.headers?.get(`x-ratelimit-remaining-${suffix}`)).toBe("0");
    expect(error.headers?.get(`x-ratelimit-reset-${suffix}`)).toMatch(DURATION);
    expect(Number(error.headers?.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(error.headers?.get("x-ratelimit-limit-requests")).toBeNull();
  }

  it("non-streamed answers are charged their usage; at the limit the next request is 429 tokens_per_minute", async () => {
    const client = fixture.gateway.client(KEY_ONE);
    const first = await client.chat.completions.create(chat);
    expect(first.usage?.total_tokens).toBe(CHAT_TOKENS);
    await fixture.gateway.waitForSummaries(1);
    await client.chat.completions.create(chat);
    // Charging happens as the answer ends; the summary is written once it is done.
    await fixture.gateway.waitForSummaries(2);
    const error = await rejectionOf(client.chat.completions.create(chat));
    expectTokensRefused(error);
    expect(error.message).toContain(`on tokens per minute: limit ${LIMIT}, used ${LIMIT}.`);
    expect(fake.upstream.requests).toHaveLength(2);
    const summaries = await fixture.gateway.waitForSummaries(3);
    expect(summaries[2]).toMatchObject({ status: 429, keyId: "env-1", errorCode: "rate_limit_exceeded" });
    expect(fixture.gateway.metrics[2]?.values.rateLimited).toBe(1);
  });

  it("a streamed answer without include_usage is charged too (the client still sees no usage)", async () => {
    for (let index = 0; index < 2; index += 1) {
      const read = await streamChat(fixture.gateway, KEY_TWO, false);
      expect(read).toEqual({ text: fakeReply(TEXT), usage: undefined });
      const summaries = await fixture.gateway.waitForSummaries(index + 1);
      expect(summaries[index]?.usage?.totalTokens).toBe(CHAT_TOKENS);
    }
    const error = await rejectionOf(fixture.gateway.client(KEY_TWO).chat.completions.create({ ...chat, stream: true }));
    expectTokensRefused(error);
    expect(fake.upstream.requests).toHaveLength(2);
  });

  it("a streamed answer with include_usage is charged once, like a non-streamed one", async () => {
    const read = await streamChat(fixture.gateway, KEY_THREE, true);
    expect(read.usage).toMatchObject({ total_tokens: CHAT_TOKENS });
    await fixture.gateway.waitForSummaries(1);
    // Still under the limit after one answer.
    await fixture.gateway.client(KEY_THREE).chat.completions.create(chat);
    await fixture.gateway.waitForSummaries(2);
    expectTokensRefused(await rejectionOf(fixture.gateway.client(KEY_THREE).chat.completions.create(chat)));
    expect(fake.upstream.requests).toHaveLength(2);
  });
});

describe("tokens per day", () => {
  const LIMIT = 2 * CHAT_TOKENS;
  const fixture = useGateway(() => startStoreGateway(managedEnv({ "*": { tokensPerDay: LIMIT, requestsPerMinute: 100 } })));

  it("once a key's tokens of the UTC day reach the limit, the next request is 429 tokens_per_day until midnight", async () => {
    // Midnight is a minute boundary: keep clear of it.
    await ensureMinuteLeft(5_000);
    const client = fixture.gateway.client(KEY_ONE);
    await client.chat.completions.create(chat);
    await fixture.gateway.waitForSummaries(1);
    await streamChat(fixture.gateway, KEY_ONE, false);
    await fixture.gateway.waitForSummaries(2);
    const error = await rejectionOf(client.chat.completions.create(chat));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.type).toBe("tokens_per_day");
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.message).toContain(`on tokens per day: limit ${LIMIT}, used ${LIMIT}.`);
    const headers = error.headers;
    expect(headers?.get("x-ratelimit-limit-tokens-day")).toBe(String(LIMIT));
    expect(headers?.get("x-ratelimit-remaining-tokens-day")).toBe("0");
    expect(headers?.get("x-ratelimit-reset-tokens-day")).toMatch(DURATION);
    // The other limits of the key are described as well.
    expect(headers?.get("x-ratelimit-limit-requests")).toBe("100");
    expect(headers?.get("x-ratelimit-remaining-requests")).toBe("97");
    const retryAfter = Number(headers?.get("retry-after"));
    expect(Math.abs(retryAfter - secondsLeft(86_400_000))).toBeLessThanOrEqual(1);
    const reset = /^(?:(\d+)h)?(?:(\d+)m)?(\d+)s$/.exec(headers?.get("x-ratelimit-reset-tokens-day") ?? "");
    expect(Number(reset?.[1] ?? 0) * 3600 + Number(reset?.[2] ?? 0) * 60 + Number(reset?.[3])).toBe(retryAfter);
    expect(fake.upstream.requests).toHaveLength(2);

    // The other key has its own day.
    await fixture.gateway.client(KEY_TWO).chat.completions.create(chat);
    expect(fake.upstream.requests).toHaveLength(3);
    const summaries = await fixture.gateway.waitForSummaries(4);
    expect(fixture.gateway.metrics.map((metrics) => metrics.values.rateLimited)).toEqual([0, 0, 1, 0]);
    expect(summaries[2]).toMatchObject({ keyId: "env-1", status: 429 });
  });
});

describe("limits and the response cache", () => {
  const LIMIT = 2 * CHAT_TOKENS;
  const fixture = useGateway(() => startStoreGateway(managedEnv({ "env-1": { tokensPerMinute: LIMIT } })));

  it("a cache hit spends no tokens of the key", async () => {
    await ensureMinuteLeft(5_000);
    const client = fixture.gateway.client(KEY_ONE, { "x-gateway-cache-ttl": "60" });
    const first = await client.chat.completions.create(chat).withResponse();
    expect(first.response.headers.get("x-gateway-cache")).toBe("MISS");
    await fixture.gateway.waitForSummaries(1);
    for (let index = 0; index < 3; index += 1) {
      const hit = await client.chat.completions.create(chat).withResponse();
      expect(hit.response.headers.get("x-gateway-cache")).toBe("HIT");
    }
    await fixture.gateway.waitForSummaries(4);
    // One answer charged so far: a different request still passes, and then the budget is spent.
    await client.chat.completions.create({ ...chat, temperature: 0 });
    await fixture.gateway.waitForSummaries(5);
    const error = await rejectionOf(client.chat.completions.create({ ...chat, temperature: 1 }));
    expect(error.type).toBe("tokens_per_minute");
    expect(fake.upstream.requests).toHaveLength(2);
  });
});

describe("the memory store's eviction", () => {
  // A small store: 32 KB of values (2 KB at most each), so a few dozen cached answers fill it.
  const fixture = useGateway(() =>
    startStoreGateway(managedEnv({ "env-1": { requestsPerMinute: 2 } }), { store: createMemoryStore({ maxBytes: 32 * 1024 }) }),
  );

  it("another key filling the cache does not reset a key's request count", async () => {
    await ensureMinuteLeft(10_000);
    const one = fixture.gateway.client(KEY_ONE);
    await one.chat.completions.create(chat);
    await one.chat.completions.create(chat);
    expect(await rejectionOf(one.chat.completions.create(chat))).toBeInstanceOf(RateLimitError);
    const two = fixture.gateway.client(KEY_TWO, { "x-gateway-cache-ttl": "60" });
    for (let index = 0; index < 60; index += 1) {
      const { response } = await two.chat.completions.create({ ...chat, user: randomUUID() }).withResponse();
      expect(response.headers.get("x-gateway-cache")).toBe("MISS");
    }
    await fixture.gateway.waitForSummaries(63);
    const error = await rejectionOf(one.chat.completions.create(chat));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(fake.upstream.requests).toHaveLength(62);
  });
});
