/**
 * The DynamoDB store against a local DynamoDB (dynalite) with the real AWS
 * SDK client: values (gzip, the item size cap, expiry), atomic counters, and
 * two gateway servers, as two Lambda execution environments, sharing one
 * table for the response cache and the key limits.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { RateLimitError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoDbStore } from "../../functions/shared/stores/dynamodb-store.ts";
import { fakeReply } from "../support/fake-openai.ts";
import { useFakeUpstream, useGateway } from "../support/gateway-fixture.ts";
import { startLocalDynamoDb, type LocalDynamoDb } from "../support/local-dynamodb.ts";
import { ensureMinuteLeft, postJson, startStoreGateway, type StoreGateway } from "../support/store-gateway.ts";

const TABLE = "gateway-test";
const KB = 1024;
/**
 * dynalite answers concurrent calls one after another: on busy cores the last
 * of 200 (or of 30 requests' quota checks) wait past the default 1 s bound,
 * which store-timeouts.test.ts tests on its own.
 */
const CONCURRENT_TIMEOUT_MS = 30_000;

let dynamo: LocalDynamoDb;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  await dynamo.createTable(TABLE);
});
afterAll(async () => {
  await dynamo?.close();
});

/** A clock the test moves by hand. */
function manualClock(start = Date.now()) {
  let time = start;
  return { now: () => time, set: (ms: number) => void (time = ms), advance: (ms: number) => void (time += ms) };
}

/** The raw item of a key, as DynamoDB holds it. */
async function rawItem(key: string) {
  const { Item } = await dynamo.client().send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: key } }, ConsistentRead: true }));
  return Item;
}

describe("values", () => {
  it("round-trips a small value", async () => {
    const store = createDynamoDbStore({ tableName: TABLE, client: dynamo.client() });
    const value = Buffer.from('{"hello":"world"}');
    expect(await store.put("small", value, 60)).toBe(true);
    expect(Buffer.from((await store.get("small")) ?? [])).toEqual(value);
    expect(await store.get("never-written")).toBeUndefined();
  });

  it("round-trips binary bytes of every value", async () => {
    const store = createDynamoDbStore({ tableName: TABLE, client: dynamo.client() });
    const every = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
    expect(await store.put("bytes", every, 60)).toBe(true);
    expect(Buffer.from((await store.get("bytes")) ?? [])).toEqual(every);
  });

  it("stores a 1 MB compressible value gzip-compressed, and reads it back whole", async () => {
    const store = createDynamoDbStore({ tableName: TABLE, client: dynamo.client() });
    const line = JSON.stringify({ object: "chat.completion.chunk", choices: [{ delta: { content: "lorem ipsum " } }] });
    const value = Buffer.from(`data: ${line}\n\n`.repeat(Math.ceil((1024 * KB) / (line.length + 8)))).subarray(0, 1024 * KB);
    expect(await store.put("big-compressible", value, 60)).toBe(true);
    const read = await store.get("big-compressible");
    expect(read?.byteLength).toBe(value.byteLength);
    expect(Buffer.from(read ?? []).equals(value)).toBe(true);
    const item = await rawItem("big-compressible");
    expect(item?.z?.BOOL).toBe(true);
    expect(item?.v?.B?.byteLength).toBeLessThan(100 * KB);
  });

  it("stores an incompressible value as it is when it fits", async () => {
    const store = createDynamoDbStore({ tableName: TABLE, client: dynamo.client() });
    const value = randomBytes(370 * KB);
    expect(await store.put("random-370k", value, 60)).toBe(true);
    expect(Buffer.from((await store.get("random-370k")) ?? []).equals(value)).toBe(true);
    expect((await rawItem("random-370k"))?.z?.BOOL).toBe(false);
  });

  it("skips an incompressible value over the cap: put is false, get undefined, no error", async () => {
    const store = createDynamoDbStore({ tableName: TABLE, client: dynamo.client() });
    for (const [key, size] of [
      ["random-381k", 381 * KB],
      ["random-450k", 450 * KB],
      ["random-1m", 1024 * KB],
    ] as const) {
      expect(await store.put(key, randomBytes(size), 60), key).toBe(false);
      expect(await store.get(key), key).toBeUndefined();
      expect(await rawItem(key), key).toBeUndefined();
    }
  });

  it("a value too large replaces nothing: the previous value of the key stays", async () => {
    const store = createDynamoDbStore({ tableName: TABLE, client: dynamo.client() });
    await store.put("kept", Buffer.from("first"), 60);
    expect(await store.put("kept", randomBytes(500 * KB), 60)).toBe(false);
    expect(Buffer.from((await store.get("kept")) ?? []).toString()).toBe("first");
  });

  it("writes the TTL attribute expiresAt (epoch seconds) and reads an expired value as absent", async () => {
    const clock = manualClock(1_900_000_000_000);
    const store = createDynamoDbStore({ tableName: TABLE, client: dynamo.client(), now: clock.now });
    await store.put("expiring", Buffer.from("soon gone"), 10);
    expect((await rawItem("expiring"))?.expiresAt?.N).toBe("1900000010");
    clock.advance(9_999);
    expect(Buffer.from((await store.get("expiring")) ?? []).toString()).toBe("soon gone");
    clock.advance(1);
    // The item is still in the table (TTL deletion is lazy), but it is gone for the store.
    expect(await rawItem("expiring")).toBeDefined();
    expect(await store.get("expiring")).toBeUndefined();
  });

  it("a value never lives longer than its TTL, whatever the millisecond it was written at", async () => {
    const clock = manualClock(1_900_000_000_900);
    const store = createDynamoDbStore({ tableName: TABLE, client: dynamo.client(), now: clock.now });
    await store.put("expiring-ms", Buffer.from("x"), 1);
    clock.advance(1_000);
    expect(await store.get("expiring-ms")).toBeUndefined();
  });

  it("a store failure is an error of the call (the response cache turns it into a miss)", async () => {
    const store = createDynamoDbStore({ tableName: "no-such-table", client: dynamo.client() });
    await expect(store.get("x")).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(store.put("x", Buffer.from("y"), 60)).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(store.add("x", 1, 60)).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });
});

describe("counters", () => {
  it("200 concurrent add(key, 1) give exactly 200, every returned total distinct", async () => {
    const store = createDynamoDbStore({ tableName: TABLE, client: dynamo.client(), timeoutMs: CONCURRENT_TIMEOUT_MS });
    const key = `counter-${randomUUID()}`;
    const totals = await Promise.all(Array.from({ length: 200 }, () => store.add(key, 1, 120)));
    expect(new Set(totals).size).toBe(200);
    expect([...totals].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
    expect(await store.add(key, 0, 120)).toBe(200);
  });

  it("two stores over the same table (two execution environments) share a counter", async () => {
    const first = createDynamoDbStore({ tableName: TABLE, client: dynamo.client(), timeoutMs: CONCURRENT_TIMEOUT_MS });
    const second = createDynamoDbStore({ tableName: TABLE, client: dynamo.client(), timeoutMs: CONCURRENT_TIMEOUT_MS });
    const key = `counter-${randomUUID()}`;
    const totals = await Promise.all(Array.from({ length: 100 }, (_, index) => (index % 2 === 0 ? first : second).add(key, 3, 120)));
    expect(new Set(totals).size).toBe(100);
    expect(Math.max(...totals)).toBe(300);
    expect(await second.add(key, 0, 120)).toBe(300);
  });

  it("a new counter reads 0; its expiresAt is set by the first add and kept by later ones", async () => {
    const clock = manualClock(1_900_000_000_000);
    const store = createDynamoDbStore({ tableName: TABLE, client: dynamo.client(), now: clock.now });
    const key = `counter-${randomUUID()}`;
    expect(await store.add(key, 0, 120)).toBe(0);
    expect((await rawItem(key))?.expiresAt?.N).toBe("1900000120");
    clock.advance(60_000);
    expect(await store.add(key, 5, 120)).toBe(5);
    expect((await rawItem(key))?.expiresAt?.N).toBe("1900000120");
    expect(await store.add(key, 1_000_000, 120)).toBe(1_000_005);
  });
});

describe("two gateway servers sharing one DynamoDB table", () => {
  const PROVIDER_KEY = "sk-provider";
  const KEY_ONE = "gw-key-one-0123456789";
  const KEY_TWO = "gw-key-two-0123456789";
  /** The limited key (env-3), used by the limit test only. */
  const KEY_THREE = "gw-key-three-0123456789";
  const fake = useFakeUpstream({ requireAuth: `Bearer ${PROVIDER_KEY}` });
  // Each "execution environment" has its own client and store over the same table.
  const startServer = () =>
    startStoreGateway(
      {
        OPENAI_BASE_URL: fake.upstream.baseUrl,
        OPENAI_API_KEY: PROVIDER_KEY,
        GATEWAY_API_KEYS: `${KEY_ONE},${KEY_TWO},${KEY_THREE}`,
        GATEWAY_KEY_LIMITS: JSON.stringify({ "env-3": { requestsPerMinute: 10 } }),
        GATEWAY_TABLE_NAME: TABLE,
      },
      { store: createDynamoDbStore({ tableName: TABLE, client: dynamo.client(), timeoutMs: CONCURRENT_TIMEOUT_MS }) },
    );
  const first = useGateway(startServer);
  const second = useGateway(startServer);

  it("an answer cached through one is a HIT through the other, byte for byte", async () => {
    const text = `shared ${randomUUID()}`;
    const body = { model: "gpt-4o", messages: [{ role: "user" as const, content: text }] };
    const headers = { authorization: `Bearer ${KEY_TWO}`, "x-gateway-cache-ttl": "60" };
    const miss = await postJson(first.gateway.baseURL, "chat/completions", body, headers);
    expect(miss.headers.get("x-gateway-cache")).toBe("MISS");
    // The entry is written as the answer ends; the summary comes once that is done.
    await first.gateway.waitForSummaries(1);
    const hit = await postJson(second.gateway.baseURL, "chat/completions", body, headers);
    expect(hit.headers.get("x-gateway-cache")).toBe("HIT");
    expect(hit.text).toBe(miss.text);
    const { data, response } = await second.gateway.client(KEY_TWO, { "x-gateway-cache-ttl": "60" }).chat.completions.create(body).withResponse();
    expect(response.headers.get("x-gateway-cache")).toBe("HIT");
    expect(data.choices[0]?.message.content).toBe(fakeReply(text));
    expect(fake.upstream.requests).toHaveLength(1);
    // Not another key's entry, on either server.
    const other = await postJson(second.gateway.baseURL, "chat/completions", body, { ...headers, authorization: `Bearer ${KEY_ONE}` });
    expect(other.headers.get("x-gateway-cache")).toBe("MISS");
  });

  it("a streamed answer cached through one replays through the other", async () => {
    const text = `shared stream ${randomUUID()}`;
    const body = { model: "gpt-4o", messages: [{ role: "user" as const, content: text }], stream: true as const };
    const read = async (gateway: StoreGateway) => {
      const { data, response } = await gateway.client(KEY_TWO, { "x-gateway-cache-ttl": "60" }).chat.completions.create(body).withResponse();
      let content = "";
      for await (const chunk of data) content += chunk.choices[0]?.delta.content ?? "";
      return [response.headers.get("x-gateway-cache"), content];
    };
    expect(await read(first.gateway)).toEqual(["MISS", fakeReply(text)]);
    await first.gateway.waitForSummaries(1);
    expect(await read(second.gateway)).toEqual(["HIT", fakeReply(text)]);
    expect(fake.upstream.requests).toHaveLength(1);
  });

  it("requestsPerMinute 10 with 30 concurrent requests split across both lets exactly 10 through", async () => {
    await ensureMinuteLeft(10_000);
    const body = { model: "gpt-4o", messages: [{ role: "user" as const, content: "count me" }] };
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, index) => (index % 2 === 0 ? first.gateway : second.gateway).client(KEY_THREE).chat.completions.create(body)),
    );
    const passed = results.filter((result) => result.status === "fulfilled");
    const refused = results.filter((result) => result.status === "rejected" && result.reason instanceof RateLimitError);
    expect(passed).toHaveLength(10);
    expect(refused).toHaveLength(20);
    expect(fake.upstream.requests).toHaveLength(10);
    for (const result of refused) {
      if (result.status === "rejected") expect((result.reason as RateLimitError).type).toBe("requests_per_minute");
    }
    // Both servers let some through and refused some: they counted together.
    const summaries = [...(await first.gateway.waitForSummaries(15)), ...(await second.gateway.waitForSummaries(15))];
    expect(summaries).toHaveLength(30);
    expect(summaries.filter((summary) => summary.status === 429)).toHaveLength(20);
    // The other key has no limit.
    await second.gateway.client(KEY_TWO).chat.completions.create(body);
    expect(fake.upstream.requests).toHaveLength(11);
  });

  it("a gateway whose table is missing still answers: the cache misses and the limits let requests through", async () => {
    const broken = await startStoreGateway(
      {
        OPENAI_BASE_URL: fake.upstream.baseUrl,
        OPENAI_API_KEY: PROVIDER_KEY,
        GATEWAY_API_KEYS: KEY_ONE,
        GATEWAY_KEY_LIMITS: JSON.stringify({ "env-1": { requestsPerMinute: 1 } }),
      },
      { store: createDynamoDbStore({ tableName: "no-such-table", client: dynamo.client() }) },
    );
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      const body = { model: "gpt-4o", messages: [{ role: "user" as const, content: "still there" }] };
      const client = broken.client(KEY_ONE, { "x-gateway-cache-ttl": "60" });
      for (let index = 0; index < 3; index += 1) {
        const { response } = await client.chat.completions.create(body).withResponse();
        expect(response.headers.get("x-gateway-cache")).toBe("MISS");
      }
      await broken.waitForSummaries(3);
      expect(fake.upstream.requests).toHaveLength(3);
      // Each failure is reported by operation, without the store's message.
      expect(errors.map(String).join("\n")).toMatch(/store: (quota check|cache lookup|cache save) failed: ResourceNotFoundException/);
    } finally {
      console.error = original;
      await broken.close();
    }
  });
});
