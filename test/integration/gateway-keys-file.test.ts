/**
 * Gateway keys in a local key file: the key command (`npm run keys`) writes
 * the file, a local gateway (GATEWAY_KEYS_FILE) follows it, and the real
 * openai SDK calls through the fake OpenAI upstream: create → use → limits →
 * budget → permissions → GET /v1/gateway/key → revoke → rotate with grace,
 * and many concurrent requests charging one key.
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthenticationError, PermissionDeniedError, RateLimitError, type APIError } from "openai";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../functions/shared/access/key-record.ts";
import { approxTokens, fakeReply } from "../support/fake-openai.ts";
import { fetchText } from "../support/fetch.ts";
import { useFakeUpstream, useGateway } from "../support/gateway-fixture.ts";
import { createKey, eventually, runKeys, runKeysJson } from "../support/key-command.ts";
import { rejectionOf } from "../support/openai-errors.ts";
import { ensureMinuteLeft, startStoreGateway } from "../support/store-gateway.ts";

const PROVIDER_KEY = "sk-provider";
const TEXT = "How many tokens is this?";
const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: TEXT }] };
/** What one `chat` costs at gpt-4o's list price ($2.50 in, $10 out per million): 13 prompt and 8 completion tokens. */
const PROMPT_TOKENS = 3 + 4 + approxTokens(TEXT);
const CHAT_COST_USD = (PROMPT_TOKENS * 2.5 + approxTokens(fakeReply(TEXT)) * 10) / 1_000_000;

const dir = mkdtempSync(join(tmpdir(), "gateway-keys-"));
const KEYS = { GATEWAY_KEYS_FILE: join(dir, "keys.json") };

const fake = useFakeUpstream({ requireAuth: `Bearer ${PROVIDER_KEY}` });
const fixture = useGateway(() => startStoreGateway({ OPENAI_BASE_URL: fake.upstream.baseUrl, OPENAI_API_KEY: PROVIDER_KEY, GATEWAY_MOCK_PROVIDER: "true", ...KEYS }));

/** GET /v1/gateway/key with `key`. */
async function keyInfo(key: string) {
  const answer = await fetchText(`${fixture.gateway.baseURL}gateway/key`, { headers: { authorization: `Bearer ${key}` } });
  return { status: answer.status, headers: answer.headers, body: JSON.parse(answer.text) as Record<string, any> };
}

/** The status of one chat completion with `key` (the SDK's error status, or 200). */
async function chatStatus(key: string): Promise<number> {
  return (await chatError(key))?.status ?? 200;
}

/** What the SDK raised for one chat completion with `key`, or undefined when it succeeded. */
async function chatError(key: string): Promise<APIError | undefined> {
  return fixture.gateway
    .client(key)
    .chat.completions.create(chat)
    .then(
      () => undefined,
      (error: unknown) => error as APIError,
    );
}

/** Waits until the gateway has read a new key from the file (asking about a key counts against nothing). */
async function known(key: string): Promise<void> {
  expect(await eventually(() => keyInfo(key).then((info) => info.status), (status) => status === 200)).toBe(200);
}

/** The summaries of `keyId`'s chat completions that ended with `status`, once there are `count` of them. */
async function summariesOf(keyId: string, status: number, count: number) {
  const matching = () =>
    fixture.gateway.summaries.filter((summary) => summary.keyId === keyId && summary.status === status && summary.endpoint === "chat.completions");
  await eventually(async () => matching().length, (length) => length >= count);
  return matching();
}

describe("a key from the key command", () => {
  it("is created once, kept on disk only as its hash, and works through the gateway with the gateway's provider key", async () => {
    const key = await createKey(KEYS, "team-a");
    const onDisk = readFileSync(KEYS.GATEWAY_KEYS_FILE, "utf8");
    expect(onDisk).not.toContain(key);
    expect(onDisk).not.toContain(key.slice(10));
    expect(onDisk).toContain(sha256Hex(key));
    expect(statSync(KEYS.GATEWAY_KEYS_FILE).mode & 0o777).toBe(0o600);

    await known(key);
    const completion = await fixture.gateway.client(key).chat.completions.create(chat);
    expect(completion.choices[0]?.message.content).toBe(fakeReply(TEXT));
    expect(fake.upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(await summariesOf("team-a", 200, 1)).toHaveLength(1);

    // Listed by id and prefix, never by key.
    const listed = await runKeysJson<{ id: string; prefix: string; status: string }[]>(KEYS, "list");
    expect(listed.find((entry) => entry.id === "team-a")).toMatchObject({ prefix: key.slice(0, 10), status: "active" });
    expect(JSON.stringify(listed)).not.toContain(key);
  });

  it("a wrong gw- key is 401, and passthrough is off by default with a key file", async () => {
    const wrong = await rejectionOf(fixture.gateway.client(`gw-${"x".repeat(43)}`).chat.completions.create(chat));
    expect(wrong).toBeInstanceOf(AuthenticationError);
    expect(wrong.message).toContain("Incorrect gateway key provided.");
    const passthrough = await rejectionOf(fixture.gateway.client("sk-my-own-key").chat.completions.create(chat));
    expect(passthrough.status).toBe(401);
    expect(fake.upstream.requests).toHaveLength(0);
  });
});

describe("limits and budgets", () => {
  it("requests per minute: the third request of the minute is the gateway's own 429", async () => {
    await ensureMinuteLeft(8_000);
    const key = await createKey(KEYS, "rpm", "--requests-per-minute", "2");
    await known(key);
    expect([await chatStatus(key), await chatStatus(key)]).toEqual([200, 200]);
    const error = await chatError(key);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ code: "rate_limit_exceeded", type: "requests_per_minute" });
    expect(fake.upstream.requests).toHaveLength(2);
  });

  it("USD per day: spend from the price table, then 429 insufficient_quota naming the budget, and the key sees what it spent", async () => {
    // Two chats cost 2 × $0.0001125; the budget is spent by the second.
    const key = await createKey(KEYS, "budget", "--usd-per-day", "0.0002", "--usd-per-month", "10");
    await known(key);
    expect(await chatStatus(key)).toBe(200);
    const stream = await fixture.gateway.client(key).chat.completions.create({ ...chat, stream: true });
    for await (const _ of stream);
    const charged = await summariesOf("budget", 200, 2);
    expect(charged.map((summary) => summary.costUsd)).toEqual([CHAT_COST_USD, CHAT_COST_USD]);
    expect(charged.map((summary) => summary.budgetUsedPercent)).toEqual([56.5, 113]);

    const error = await chatError(key);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, code: "insufficient_quota", type: "insufficient_quota" });
    expect(error?.message).toMatch(
      /^429 Budget reached for gateway key budget: its daily budget \(usd_per_day\) is \$0\.0002 and \$0\.000226 has been spent\. It resets at \d{4}-\d\d-\d\dT00:00:00\.000Z\.$/,
    );
    expect(error?.headers?.get("x-should-retry")).toBe("false");
    expect(Number(error?.headers?.get("retry-after"))).toBeGreaterThan(0);
    expect(fake.upstream.requests).toHaveLength(2);
    const [refused] = await summariesOf("budget", 429, 1);
    expect(refused).toMatchObject({ errorCode: "insufficient_quota", outcome: "gateway_error" });
    expect(fixture.gateway.metrics[fixture.gateway.summaries.indexOf(refused!)]?.values.rateLimited).toBe(1);

    const info = await keyInfo(key);
    expect(info.status).toBe(200);
    expect(info.body.budgets.usd_per_day).toMatchObject({ limit: 0.0002, used: 0.000226, remaining: 0 });
    expect(info.body.budgets.usd_per_month).toMatchObject({ limit: 10, used: 0.000226, remaining: 9.999774 });
    const now = new Date();
    expect(Date.parse(info.body.budgets.usd_per_month.resets_at)).toBe(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  });

  it("a raised budget lets the key go on (update)", async () => {
    const key = await createKey(KEYS, "raise", "--usd-per-day", "0.0001");
    await known(key);
    expect([await chatStatus(key), await chatStatus(key)]).toEqual([200, 429]);
    const updated = await runKeysJson<{ limits: Record<string, number> }>(KEYS, "update", "raise", "--usd-per-day", "1", "--tokens-per-day", "5000");
    expect(updated.limits).toEqual({ usdPerDay: 1, tokensPerDay: 5000 });
    expect(await eventually(() => chatStatus(key), (status) => status === 200)).toBe(200);
  });

  it("a request that gets no answer, or a cached one, gives its reservation back and is charged nothing", async () => {
    const key = await createKey(KEYS, "refunds", "--tokens-per-day", "100000", "--usd-per-day", "1");
    await known(key);
    const once = fixture.gateway.client(key, { "x-gateway-max-retries": "0" });
    fake.upstream.enqueue({ kind: "error", status: 500 });
    expect(await rejectionOf(once.chat.completions.create(chat))).toMatchObject({ status: 500 });
    fake.upstream.enqueue({ kind: "reset" });
    expect(await rejectionOf(once.chat.completions.create(chat))).toMatchObject({ status: 502 });
    const cached = fixture.gateway.client(key, { "x-gateway-cache-ttl": "60" });
    await cached.chat.completions.create(chat);
    const { response } = await cached.chat.completions.create(chat).withResponse();
    expect(response.headers.get("x-gateway-cache")).toBe("HIT");
    const { limits, budgets } = (await keyInfo(key)).body;
    // Only the one answer the provider gave is charged.
    expect(limits.tokens_per_day.used).toBe(PROMPT_TOKENS + approxTokens(fakeReply(TEXT)));
    expect(budgets.usd_per_day.used).toBe(Math.ceil(CHAT_COST_USD * 1e6) / 1e6);
  });

  it("many concurrent requests charging one key end within one request of its token limit", async () => {
    const limit = 400;
    const key = await createKey(KEYS, "burst", "--tokens-per-day", String(limit));
    await known(key);
    // With an output cap, what a request reserves bounds what it uses.
    const capped = { ...chat, max_tokens: 20 };
    const client = fixture.gateway.client(key);
    let admitted = 0;
    for (let wave = 0; wave < 12; wave += 1) {
      const statuses = await Promise.all(
        Array.from({ length: 20 }, () => client.chat.completions.create(capped).then(() => 200, (error: APIError) => error.status ?? 0)),
      );
      expect(statuses.every((status) => status === 200 || status === 429)).toBe(true);
      admitted += statuses.filter((status) => status === 200).length;
      if (!statuses.includes(200)) break;
    }
    const answered = await summariesOf("burst", 200, admitted);
    const charged = answered.reduce((sum, summary) => sum + (summary.usage?.totalTokens ?? 0), 0);
    const oneRequest = PROMPT_TOKENS + approxTokens(fakeReply(TEXT));
    expect(answered.every((summary) => summary.usage?.totalTokens === oneRequest)).toBe(true);
    expect(charged).toBeGreaterThanOrEqual(limit);
    expect(charged).toBeLessThan(limit + oneRequest);
    expect((await keyInfo(key)).body.limits.tokens_per_day.used).toBe(charged);
  });
});

describe("permissions", () => {
  it("a request outside the key's models, providers or endpoints is a 403 before any upstream call", async () => {
    const key = await createKey(KEYS, "scoped", "--models", "gpt-4o*,o3", "--endpoints", "chat,models", "--providers", "openai");
    const client = fixture.gateway.client(key);
    await known(key);
    await client.chat.completions.create({ ...chat, model: "gpt-4o-mini" });
    expect(fake.upstream.requests).toHaveLength(1);

    const model = await rejectionOf(client.chat.completions.create({ ...chat, model: "gpt-4.1" }));
    expect(model).toBeInstanceOf(PermissionDeniedError);
    expect(model).toMatchObject({ status: 403, code: "permission_denied", param: "model" });
    expect(model.message).toContain("Gateway key scoped may not use model gpt-4.1; it may use: gpt-4o*, o3.");
    const endpoint = await rejectionOf(client.embeddings.create({ model: "gpt-4o", input: "x" }));
    expect(endpoint).toMatchObject({ status: 403, message: expect.stringContaining("may not call embeddings endpoints; it may call: chat, models.") });
    const provider = await rejectionOf(fixture.gateway.client(key, { "x-provider": "mock" }).chat.completions.create(chat));
    expect(provider).toMatchObject({ status: 403, param: "x-provider" });
    expect(fake.upstream.requests).toHaveLength(1);
    // Listing models names none: allowed.
    expect((await client.models.list()).data.length).toBeGreaterThan(0);
  });
});

describe("GET /v1/gateway/key", () => {
  it("describes the caller's own key only: id, prefix, limits with their windows, permissions", async () => {
    await ensureMinuteLeft(5_000);
    const key = await createKey(KEYS, "self", "--requests-per-minute", "50", "--models", "gpt-4o", "--project", "proj_self");
    const other = await createKey(KEYS, "someone-else", "--usd-per-day", "3");
    await known(key);
    expect(await chatStatus(key)).toBe(200);
    // The key's project goes to the provider with the gateway's provider key.
    expect(fake.upstream.requests.at(-1)?.headers["openai-project"]).toBe("proj_self");
    const info = await keyInfo(key);
    expect(info.headers.get("cache-control")).toBe("no-store");
    expect(info.headers.get("x-gateway-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(info.body).toMatchObject({
      object: "gateway.key",
      id: "self",
      prefix: key.slice(0, 10),
      expires_at: null,
      project: "proj_self",
      permissions: { models: ["gpt-4o"], providers: null, endpoints: null },
      budgets: {},
    });
    // The chat counted; asking does not.
    expect(info.body.limits.requests_per_minute).toMatchObject({ limit: 50, used: 1, remaining: 49 });
    expect(info.body.limits.requests_per_minute.resets_in_seconds).toBeLessThanOrEqual(60);
    expect(JSON.stringify(info.body)).not.toContain("someone-else");
    // Nothing in the request can name another key.
    const asked = await fetchText(`${fixture.gateway.baseURL}gateway/key?id=someone-else`, {
      headers: { authorization: `Bearer ${key}`, "x-gateway-key-id": "someone-else" },
    });
    expect(JSON.parse(asked.text).id).toBe("self");
    expect((await keyInfo(other)).body).toMatchObject({ id: "someone-else", budgets: { usd_per_day: { limit: 3, used: 0 } } });
    expect(fake.upstream.requests).toHaveLength(1);
  });

  describe("in mixed mode", () => {
    const mixed = useGateway(() =>
      startStoreGateway({ OPENAI_BASE_URL: fake.upstream.baseUrl, OPENAI_API_KEY: PROVIDER_KEY, ...KEYS, GATEWAY_ALLOW_PASSTHROUGH: "true" }),
    );

    it("is 401 for a caller with its own provider key: it has no gateway key to describe", async () => {
      const answer = await fetchText(`${mixed.gateway.baseURL}gateway/key`, { headers: { authorization: "Bearer sk-my-own-key" } });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.text).error).toMatchObject({
        code: "invalid_api_key",
        message: "GET /v1/gateway/key describes a gateway key; send one as 'Authorization: Bearer <gateway key>'.",
      });
      expect(fake.upstream.requests).toHaveLength(0);
    });
  });

  it("is 401 without a gateway key, and 405 for other methods", async () => {
    const anonymous = await fetchText(`${fixture.gateway.baseURL}gateway/key`);
    expect(anonymous.status).toBe(401);
    const posted = await fetchText(`${fixture.gateway.baseURL}gateway/key`, { method: "POST" });
    expect(posted.status).toBe(405);
  });
});

describe("the key file under concurrent commands", () => {
  it("keeps every change when commands run at once", async () => {
    const runs = await Promise.all(Array.from({ length: 8 }, (_, index) => runKeys(KEYS, "create", `parallel-${index}`)));
    expect(runs.map((run) => run.status)).toEqual(Array(8).fill(0));
    const ids = (await runKeysJson<{ id: string }[]>(KEYS, "list")).map((entry) => entry.id);
    for (let index = 0; index < 8; index += 1) expect(ids).toContain(`parallel-${index}`);
  });
});

describe("revoke and rotate", () => {
  it("a revoked key stops working as soon as the gateway sees the file change", async () => {
    const key = await createKey(KEYS, "leaver");
    await known(key);
    const revoked = await runKeys(KEYS, "revoke", "leaver");
    expect(revoked.status).toBe(0);
    expect(revoked.stdout).toContain("Revoked gateway key leaver.");
    const error = await eventually(() => chatError(key), (result) => result?.status === 401);
    expect(error).toMatchObject({ status: 401, code: "invalid_api_key" });
    expect(error?.message).toContain("This gateway key has been revoked.");
    expect((await runKeysJson<{ status: string }>(KEYS, "show", "leaver")).status).toBe("revoked");
  });

  it("a rotated key's predecessor keeps working for the grace period, then stops", async () => {
    const old = await createKey(KEYS, "rotating");
    await known(old);
    const rotated = await runKeysJson<{ key: string; previousKeys: { prefix: string; retiresAt: string }[] }>(KEYS, "rotate", "rotating", "--grace", "5s");
    expect(rotated.key).not.toBe(old);
    expect(rotated.previousKeys).toEqual([{ prefix: old.slice(0, 10), retiresAt: expect.any(String) }]);
    await known(rotated.key);
    expect([await chatStatus(rotated.key), await chatStatus(old)]).toEqual([200, 200]);
    expect(await eventually(() => chatStatus(old), (status) => status === 401, 10_000)).toBe(401);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(rotated.previousKeys[0]!.retiresAt));
    expect(await chatStatus(rotated.key)).toBe(200);
    // Both keys are one key id: summaries name it, never a key.
    expect((await summariesOf("rotating", 200, 3)).length).toBeGreaterThanOrEqual(3);
  });

  it("rotation with --grace 0 stops the old key at once; an expired key stops at its expiry", async () => {
    const old = await createKey(KEYS, "leaked", "--expires", new Date(Date.now() + 6_000).toISOString());
    await known(old);
    const { key } = await runKeysJson<{ key: string }>(KEYS, "rotate", "leaked", "--grace", "0");
    expect(await eventually(() => chatStatus(old), (status) => status === 401)).toBe(401);
    expect(await chatStatus(key)).toBe(200);
    const expired = await eventually(() => chatError(key), (result) => result?.status === 401, 10_000);
    expect(expired?.message).toMatch(/This gateway key expired at \d{4}-/);
  });
});
