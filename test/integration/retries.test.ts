/**
 * Retries: which provider answers the gateway tries again, how long it waits,
 * how a request can change the count, and how a key pool takes the load.
 * The SDK's own retries are off (`maxRetries: 0`), so every retry seen here is the gateway's.
 */
import {
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
} from "openai";
import { describe, expect, it, vi } from "vitest";
import { createCredentials, type CredentialStore } from "../../functions/shared/access/credentials.ts";
import { retryDelayMs } from "../../functions/shared/routing/retry-policy.ts";
import { useFakeUpstreamAndGateway, useTestGateway } from "../support/gateway-fixture.ts";
import { rejectionOf } from "../support/openai-errors.ts";

const MAX_DELAY_MS = 3_000;
const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Hi" }] };

const fixture = useFakeUpstreamAndGateway({
  upstream: { requireAuth: "Bearer sk-caller" },
  env: { GATEWAY_MAX_RETRIES: "2", GATEWAY_RETRY_BASE_DELAY_MS: "10", GATEWAY_RETRY_MAX_DELAY_MS: String(MAX_DELAY_MS) },
});

/** Milliseconds between the provider receiving request `index - 1` and request `index`. */
function gap(index: number): number {
  const before = fixture.upstream.requests[index - 1]?.receivedAt ?? Number.NaN;
  const after = fixture.upstream.requests[index]?.receivedAt ?? Number.NaN;
  return after - before;
}

/** A 429 in OpenAI's shape with exactly the given headers (the fake's `error` behaviour always adds retry-after-ms). */
function rateLimited(headers: Record<string, string>) {
  return {
    kind: "raw" as const,
    status: 429,
    headers: { "content-type": "application/json", "x-request-id": "req_ratelimited", ...headers },
    body: JSON.stringify({ error: { message: "Rate limit reached.", type: "requests", param: null, code: "rate_limit_exceeded" } }),
  };
}

describe("retried answers", () => {
  it.each([429, 500, 502, 503, 504])("%i, then success: the client sees the success and x-gateway-retries: 1", async (status) => {
    fixture.upstream.enqueue({ kind: "error", status, retryAfterMs: 10 });
    const { data, response } = await fixture.client.chat.completions.create(chat).withResponse();
    expect(data.choices[0]?.message.content).toBe("Echo: Hi");
    expect(response.status).toBe(200);
    expect(response.headers.get("x-gateway-retries")).toBe("1");
    expect(fixture.upstream.requests).toHaveLength(2);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, outcome: "ok", retries: 1 });
  });

  it("a connection reset before any answer, then success", async () => {
    fixture.upstream.enqueue({ kind: "reset" });
    const { data, response } = await fixture.client.chat.completions.create(chat).withResponse();
    expect(data.choices[0]?.message.content).toBe("Echo: Hi");
    expect(response.headers.get("x-gateway-retries")).toBe("1");
    expect(fixture.upstream.requests).toHaveLength(2);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, outcome: "ok", retries: 1 });
  });

  it("a stream retried before its first byte still streams every chunk", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 503 });
    fixture.upstream.enqueue({ kind: "stream", chunks: 6, intervalMs: 5 });
    const { data: stream, response } = await fixture.client.chat.completions.create({ ...chat, stream: true }).withResponse();
    expect(response.headers.get("x-gateway-retries")).toBe("1");
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    let text = "";
    let chunks = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe("Echo: Hi");
    expect(chunks).toBe(8); // role chunk, 6 deltas, finish chunk
    expect(finish).toBe("stop");
    expect(fixture.upstream.requests).toHaveLength(2);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, outcome: "ok", stream: true, retries: 1 });
  });
});

describe("answers that are never retried", () => {
  it.each([
    [400, BadRequestError],
    [401, AuthenticationError],
    [403, PermissionDeniedError],
    [404, NotFoundError],
    [422, UnprocessableEntityError],
  ] as const)("%i goes to the client after exactly one upstream request", async (status, errorClass) => {
    fixture.upstream.enqueue({ kind: "error", status });
    const error = await rejectionOf(fixture.client.chat.completions.create(chat));
    expect(error).toBeInstanceOf(errorClass);
    expect(error.status).toBe(status);
    expect(error.headers?.get("x-gateway-retries")).toBe("0");
    expect(fixture.upstream.requests).toHaveLength(1);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status, outcome: "provider_error", retries: 0 });
  });
});

describe("the provider's own wait", () => {
  it("retry-after-ms: 300 is waited for", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 429, retryAfterMs: 300 });
    const { response } = await fixture.client.chat.completions.create(chat).withResponse();
    expect(response.headers.get("x-gateway-retries")).toBe("1");
    expect(gap(1)).toBeGreaterThanOrEqual(280);
    // retry-after-ms wins over the coarser retry-after: 1 the fake sends alongside it.
    expect(gap(1)).toBeLessThan(900);
  });

  it("retry-after: 1 (seconds) is waited for", async () => {
    fixture.upstream.enqueue(rateLimited({ "retry-after": "1" }));
    const { response } = await fixture.client.chat.completions.create(chat).withResponse();
    expect(response.headers.get("x-gateway-retries")).toBe("1");
    expect(gap(1)).toBeGreaterThanOrEqual(980);
    expect(gap(1)).toBeLessThan(1_800);
  });

  it("retry-after as an HTTP date is waited for until that time", async () => {
    // HTTP dates have whole seconds: two seconds from now is 1 to 2 s away.
    const until = new Date(Date.now() + 2_000);
    fixture.upstream.enqueue(rateLimited({ "retry-after": until.toUTCString() }));
    const { response } = await fixture.client.chat.completions.create(chat).withResponse();
    expect(response.headers.get("x-gateway-retries")).toBe("1");
    expect(gap(1)).toBeGreaterThanOrEqual(900);
    expect(gap(1)).toBeLessThan(2_600);
  });

  it("a wait above GATEWAY_RETRY_MAX_DELAY_MS is not waited for: the 429 goes to the client at once", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 429, retryAfterMs: MAX_DELAY_MS + 2_000 });
    const started = performance.now();
    const error = await rejectionOf(fixture.client.chat.completions.create(chat));
    expect(performance.now() - started).toBeLessThan(500);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.headers?.get("x-gateway-retries")).toBe("0");
    expect(error.headers?.get("retry-after-ms")).toBe(String(MAX_DELAY_MS + 2_000));
    expect(fixture.upstream.requests).toHaveLength(1);
  });
});

describe("x-gateway-retry-max-delay-ms", () => {
  it("a cap below the provider's retry-after-ms sends the 429 to the client at once", async () => {
    fixture.upstream.enqueue(rateLimited({ "retry-after-ms": "400" }));
    const started = performance.now();
    const error = await rejectionOf(fixture.client.chat.completions.create(chat, { headers: { "x-gateway-retry-max-delay-ms": "100" } }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.headers?.get("x-gateway-retries")).toBe("0");
    expect(performance.now() - started).toBeLessThan(350);
    expect(fixture.upstream.requests).toHaveLength(1);
  });

  it("a cap above it lets the gateway wait and retry", async () => {
    fixture.upstream.enqueue(rateLimited({ "retry-after-ms": "400" }));
    const { response } = await fixture.client.chat.completions
      .create(chat, { headers: { "x-gateway-retry-max-delay-ms": "1000" } })
      .withResponse();
    expect(response.headers.get("x-gateway-retries")).toBe("1");
    expect(gap(1)).toBeGreaterThanOrEqual(380);
  });

  it("20000, the highest a request may set, is accepted", async () => {
    const { response } = await fixture.client.chat.completions.create(chat, { headers: { "x-gateway-retry-max-delay-ms": "20000" } }).withResponse();
    expect(response.status).toBe(200);
  });

  it.each(["20001", "60000", "abc", "-1", "0x10", ""])("%j is refused with 400 before any upstream request", async (value) => {
    const error = await rejectionOf(fixture.client.chat.completions.create(chat, { headers: { "x-gateway-retry-max-delay-ms": value } }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.param).toBe("x-gateway-retry-max-delay-ms");
    expect(fixture.upstream.requests).toHaveLength(0);
  });
});

describe("x-gateway-max-retries", () => {
  it("0 turns retrying off for the request", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 503 });
    const error = await rejectionOf(fixture.client.chat.completions.create(chat, { headers: { "x-gateway-max-retries": "0" } }));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(503);
    expect(error.headers?.get("x-gateway-retries")).toBe("0");
    expect(fixture.upstream.requests).toHaveLength(1);
  });

  it("3, the most a request may ask for, allows three retries, above the deployment's 2", async () => {
    for (let index = 0; index < 3; index += 1) fixture.upstream.enqueue({ kind: "error", status: 503 });
    const { data, response } = await fixture.client.chat.completions.create(chat, { headers: { "x-gateway-max-retries": "3" } }).withResponse();
    expect(data.choices[0]?.message.content).toBe("Echo: Hi");
    expect(response.headers.get("x-gateway-retries")).toBe("3");
    expect(fixture.upstream.requests).toHaveLength(4);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.retries).toBe(3);
  });

  it.each(["4", "10", "11", "abc", "-1", "1.5", "", "0x3", "1e0"])("%j is refused with 400 before any upstream request", async (value) => {
    const error = await rejectionOf(fixture.client.chat.completions.create(chat, { headers: { "x-gateway-max-retries": value } }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.param).toBe("x-gateway-max-retries");
    expect(error.code).toBe("invalid_header");
    expect(error.type).toBe("invalid_request_error");
    expect(fixture.upstream.requests).toHaveLength(0);
  });
});

describe("GATEWAY_ALLOW_RETRY_HEADERS=false", () => {
  const locked = useTestGateway(() => ({
    OPENAI_BASE_URL: fixture.upstream.baseUrl,
    GATEWAY_MAX_RETRIES: "1",
    GATEWAY_RETRY_BASE_DELAY_MS: "10",
    GATEWAY_ALLOW_RETRY_HEADERS: "false",
  }));

  it.each([
    ["x-gateway-max-retries", "0"],
    ["x-gateway-retry-max-delay-ms", "1000"],
  ])("%s (even a valid %j) is refused with 400 naming it, before any upstream request", async (name, value) => {
    const error = await rejectionOf(locked.client.chat.completions.create(chat, { headers: { [name]: value } }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.param).toBe(name);
    expect(error.code).toBe("header_not_allowed");
    expect(error.type).toBe("invalid_request_error");
    expect(error.message).toContain(name);
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("without the headers, the deployment's own retries apply", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 503 });
    const { response } = await locked.client.chat.completions.create(chat).withResponse();
    expect(response.headers.get("x-gateway-retries")).toBe("1");
    expect(fixture.upstream.requests).toHaveLength(2);
  });
});

describe("exhausted retries", () => {
  it("three 503s with GATEWAY_MAX_RETRIES=2: the client gets the last 503, x-gateway-retries: 2", async () => {
    for (let index = 0; index < 3; index += 1) {
      fixture.upstream.enqueue({ kind: "error", status: 503, message: `overloaded #${index + 1}` });
    }
    const error = await rejectionOf(fixture.client.chat.completions.create(chat));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(503);
    expect(error.message).toContain("overloaded #3");
    expect(error.headers?.get("x-gateway-retries")).toBe("2");
    expect(error.headers?.get("x-request-id")).toMatch(/^req_/);
    expect(fixture.upstream.requests).toHaveLength(3);
    expect(fixture.upstream.pending()).toBe(0);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 503, outcome: "provider_error", retries: 2 });
  });

  it("three resets: the client gets 502 upstream_unavailable after two retries", async () => {
    for (let index = 0; index < 3; index += 1) fixture.upstream.enqueue({ kind: "reset" });
    const error = await rejectionOf(fixture.client.chat.completions.create(chat));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(502);
    expect(error.code).toBe("upstream_unavailable");
    expect(error.headers?.get("x-gateway-retries")).toBe("2");
    expect(fixture.upstream.requests).toHaveLength(3);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 502, outcome: "gateway_error", errorCode: "upstream_unavailable", retries: 2 });
  });
});

describe("backoff", () => {
  const BASE_MS = 50;
  /** Slack for the provider's answer and the gateway's own work around each wait (generous: 2 cores, other tests). */
  const SLACK_MS = 80;
  const RETRIES = 5;
  // Five retries: more than a request may ask for, so the deployment sets them.
  const backoff = useTestGateway(() => ({
    OPENAI_BASE_URL: fixture.upstream.baseUrl,
    GATEWAY_MAX_RETRIES: String(RETRIES),
    GATEWAY_RETRY_BASE_DELAY_MS: String(BASE_MS),
    GATEWAY_RETRY_MAX_DELAY_MS: "10000",
  }));

  it("waits within [0, base·2^n] before retry n, so the bound doubles each time", async () => {
    for (let index = 0; index < RETRIES; index += 1) fixture.upstream.enqueue({ kind: "error", status: 503 });
    const { response } = await backoff.client.chat.completions.create(chat).withResponse();
    expect(response.headers.get("x-gateway-retries")).toBe(String(RETRIES));
    expect(fixture.upstream.requests).toHaveLength(RETRIES + 1);
    const gaps = Array.from({ length: RETRIES }, (_, retry) => gap(retry + 1));
    for (const [retry, waited] of gaps.entries()) {
      expect(waited, `gaps ${gaps.map((value) => value.toFixed(0)).join(", ")}`).toBeLessThanOrEqual(BASE_MS * 2 ** retry + SLACK_MS);
    }
    // All five waits together stay under the sum of the doubled bounds.
    const total = gaps.reduce((sum, value) => sum + value, 0);
    expect(total).toBeLessThanOrEqual(BASE_MS * (2 ** RETRIES - 1) + SLACK_MS * 2);
    // The gateway did wait: with full jitter, five waits totalling under 20 ms has odds of about 1e-7.
    expect(total).toBeGreaterThanOrEqual(20);
    // The bound itself doubles (deterministic: jitter pinned to its maximum and minimum).
    const config = { maxRetries: RETRIES, baseDelayMs: BASE_MS, maxDelayMs: 10_000 };
    const highest = Array.from({ length: RETRIES }, (_, retry) => retryDelayMs(retry, undefined, config, () => 0.999_999));
    expect(highest).toEqual([49, 99, 199, 399, 799]);
    expect(Array.from({ length: RETRIES }, (_, retry) => retryDelayMs(retry, undefined, config, () => 0))).toEqual([0, 0, 0, 0, 0]);
  });

  it("with the jitter at its top, waits the whole bound before each retry: 49, 99, 199, 399 and 799 ms", async () => {
    // The gateway runs in this process: pinning Math.random pins its jitter (nothing else here draws on it).
    const random = vi.spyOn(Math, "random").mockReturnValue(0.999_999);
    try {
      for (let index = 0; index < RETRIES; index += 1) fixture.upstream.enqueue({ kind: "error", status: 503 });
      const { response } = await backoff.client.chat.completions.create(chat).withResponse();
      expect(response.headers.get("x-gateway-retries")).toBe(String(RETRIES));
    } finally {
      random.mockRestore();
    }
    const gaps = Array.from({ length: RETRIES }, (_, retry) => gap(retry + 1));
    const label = `gaps ${gaps.map((value) => value.toFixed(0)).join(", ")}`;
    for (const [retry, waited] of gaps.entries()) {
      const bound = Math.floor(0.999_999 * BASE_MS * 2 ** retry);
      // A timer may fire up to a millisecond early by the clock the fake reads.
      expect(waited, label).toBeGreaterThanOrEqual(bound - 2);
      expect(waited, label).toBeLessThanOrEqual(bound + SLACK_MS);
    }
  });
});

describe("a provider key pool (managed mode)", () => {
  const KEYS = ["sk-a", "sk-b", "sk-c"];
  const GATEWAY_KEY = "gw-pool-0123456789";
  const credentials = createCredentials({
    providers: { openai: { apiKeys: KEYS } },
    gatewayKeys: [{ id: "team-pool", key: GATEWAY_KEY }],
    allowPassthrough: false,
  });
  const store: CredentialStore = { get: async () => credentials, refresh: async () => credentials };
  const pool = useFakeUpstreamAndGateway({
    env: { GATEWAY_MAX_RETRIES: "2", GATEWAY_RETRY_BASE_DELAY_MS: "10" },
    credentials: store,
    apiKey: GATEWAY_KEY,
  });

  const keyOf = (index: number) => String(pool.upstream.requests[index]?.headers.authorization ?? "").replace(/^Bearer /, "");

  it("a 429 on one key moves the retry to the next key in the pool", async () => {
    pool.upstream.enqueue({ kind: "error", status: 429, retryAfterMs: 10 });
    const { data, response } = await pool.client.chat.completions.create(chat).withResponse();
    expect(data.choices[0]?.message.content).toBe("Echo: Hi");
    expect(response.headers.get("x-gateway-retries")).toBe("1");
    expect(pool.upstream.requests).toHaveLength(2);
    const first = KEYS.indexOf(keyOf(0));
    expect(first).toBeGreaterThanOrEqual(0);
    expect(keyOf(1)).toBe(KEYS[(first + 1) % KEYS.length]);
    const [summary] = await pool.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, outcome: "ok", retries: 1, keyId: "team-pool" });
  });

  it("two 429s in a row walk the pool: three attempts, three different keys", async () => {
    pool.upstream.enqueue({ kind: "error", status: 429, retryAfterMs: 10 });
    pool.upstream.enqueue({ kind: "error", status: 429, retryAfterMs: 10 });
    const { response } = await pool.client.chat.completions.create(chat).withResponse();
    expect(response.headers.get("x-gateway-retries")).toBe("2");
    expect(new Set([keyOf(0), keyOf(1), keyOf(2)])).toEqual(new Set(KEYS));
    const [summary] = await pool.gateway.waitForSummaries(1);
    expect(summary?.retries).toBe(2);
  });

  it("successive requests spread over the keys", async () => {
    const ROUNDS = 4;
    for (let index = 0; index < KEYS.length * ROUNDS; index += 1) {
      await pool.client.chat.completions.create(chat);
    }
    const used = pool.upstream.requests.map((_, index) => keyOf(index));
    for (const key of KEYS) expect(used.filter((candidate) => candidate === key)).toHaveLength(ROUNDS);
    // Round robin: no key twice in a row.
    for (let index = 1; index < used.length; index += 1) expect(used[index]).not.toBe(used[index - 1]);
    // The gateway key never goes upstream.
    expect(used).not.toContain(GATEWAY_KEY);
    const summaries = await pool.gateway.waitForSummaries(KEYS.length * ROUNDS);
    expect(summaries.every((summary) => summary.retries === 0 && summary.outcome === "ok")).toBe(true);
  });
});
