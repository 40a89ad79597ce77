/**
 * Gateway keys in the stack's DynamoDB table (dynalite on loopback, the real
 * AWS SDK configured from the environment as an operator's shell and the
 * function would be): the key command writes the table, two gateways read
 * it as two Lambda execution environments would (GATEWAY_KEYS_TABLE, with
 * their counters in the same table), and the real openai SDK calls through
 * the fake upstream.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DynamoDBClient, PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { RateLimitError, type APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoDbKeyStore } from "../../functions/shared/access/dynamodb-key-store.ts";
import { sha256Hex } from "../../functions/shared/access/key-record.ts";
import { ConfigurationError } from "../../functions/shared/http/errors.ts";
import { approxTokens, fakeReply } from "../support/fake-openai.ts";
import { fetchText } from "../support/fetch.ts";
import { closedPortUrl, useFakeUpstream, useStarted } from "../support/gateway-fixture.ts";
import { createKey, eventually, runKeys, runKeysJson } from "../support/key-command.ts";
import { startLocalDynamoDb, type LocalDynamoDb } from "../support/local-dynamodb.ts";
import { ensureMinuteLeft, startStoreGateway, type StoreGateway } from "../support/store-gateway.ts";

const TABLE = "AiGateway-StoreTable";
const PROVIDER_KEY = "sk-provider";
const KEYS = { GATEWAY_KEYS_TABLE: TABLE };
const TEXT = "How many tokens is this?";
const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: TEXT }] };
const CHAT_TOKENS = 3 + 4 + approxTokens(TEXT) + approxTokens(fakeReply(TEXT));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// The AWS SDK of the command and of the gateways reads its endpoint, region and credentials from the environment.
const AWS_ENV = { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "AKIDLOCAL", AWS_SECRET_ACCESS_KEY: "local-secret" };
const saved: Record<string, string | undefined> = {};
let dynamo: LocalDynamoDb;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  await dynamo.createTable(TABLE);
  for (const [name, value] of Object.entries({ ...AWS_ENV, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint })) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
});
afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await dynamo?.close();
});

const fake = useFakeUpstream({ requireAuth: `Bearer ${PROVIDER_KEY}` });

/** A gateway as one execution environment of the function: keys and counters in the table, key lookups cached `ttl` seconds. */
function useTableGateway(ttl: number) {
  return useStarted(
    () =>
      startStoreGateway({
        OPENAI_BASE_URL: fake.upstream.baseUrl,
        OPENAI_API_KEY: PROVIDER_KEY,
        GATEWAY_KEYS_TABLE: TABLE,
        GATEWAY_TABLE_NAME: TABLE,
        GATEWAY_KEYS_CACHE_TTL_SECONDS: String(ttl),
      }),
    { what: "a gateway", reset: (gateway) => gateway.reset() },
  );
}
const one = useTableGateway(1);
const two = useTableGateway(1);

async function chatStatus(gateway: StoreGateway, key: string): Promise<number> {
  return gateway
    .client(key)
    .chat.completions.create(chat)
    .then(
      () => 200,
      (error: APIError) => error.status ?? 0,
    );
}

async function keyInfo(gateway: StoreGateway, key: string) {
  const answer = await fetchText(`${gateway.baseURL}gateway/key`, { headers: { authorization: `Bearer ${key}` } });
  return { status: answer.status, body: JSON.parse(answer.text) as Record<string, any> };
}

/** Every item of the table, as JSON text. */
async function tableText(): Promise<string> {
  const { Items } = await dynamo.client().send(new ScanCommand({ TableName: TABLE }));
  return JSON.stringify(Items);
}

describe("the key command against the table", () => {
  it("create → use → budget, shared by two execution environments; the table holds hashes, never keys", async () => {
    await ensureMinuteLeft(5_000);
    const key = await createKey(KEYS, "team-a", "--usd-per-day", "0.0002", "--requests-per-minute", "100");
    const items = await tableText();
    expect(items).not.toContain(key);
    expect(items).not.toContain(key.slice(10));
    expect(items).toContain(`key:hash:${sha256Hex(key)}`);

    // New keys are found at once: nothing was cached about them.
    expect(await chatStatus(one(), key)).toBe(200);
    expect(await chatStatus(two(), key)).toBe(200);
    expect(fake.upstream.requests.map((request) => request.headers.authorization)).toEqual([`Bearer ${PROVIDER_KEY}`, `Bearer ${PROVIDER_KEY}`]);
    // Two chats, one in each environment, spent the budget: the counters are the table's.
    const refused = await one()
      .client(key)
      .chat.completions.create(chat)
      .catch((error: APIError) => error);
    expect(refused).toBeInstanceOf(RateLimitError);
    expect(refused).toMatchObject({ status: 429, code: "insufficient_quota" });
    expect((await keyInfo(two(), key)).body.budgets.usd_per_day).toMatchObject({ limit: 0.0002, used: 0.000226 });
    expect((await keyInfo(one(), key)).body.limits.requests_per_minute.used).toBe(3);
  });

  it("lists, shows and updates keys by id; refuses a taken id or an unknown one with a clear message", async () => {
    await createKey(KEYS, "team-b", "--models", "gpt-4o*");
    const taken = await runKeys(KEYS, "create", "team-b");
    expect(taken).toMatchObject({ status: 1, stdout: "" });
    expect(taken.stderr).toBe("keys: A gateway key with id team-b exists already (update or rotate it).\n");
    const unknown = await runKeys(KEYS, "show", "nobody");
    expect(unknown).toMatchObject({ status: 1, stderr: `keys: No gateway key with id nobody in the table ${TABLE}.\n` });
    const updated = await runKeysJson(KEYS, "update", "team-b", "--models", "none", "--endpoints", "chat", "--tokens-per-day", "9000");
    expect(updated).toMatchObject({ id: "team-b", permissions: { endpoints: ["chat"] }, limits: { tokensPerDay: 9000 } });
    expect(await runKeysJson(KEYS, "show", "team-b")).toEqual(updated);
    const listed = await runKeysJson<{ id: string }[]>(KEYS, "list");
    expect(listed.map((entry) => entry.id)).toEqual(expect.arrayContaining(["team-a", "team-b"]));
    const table = await runKeys(KEYS, "list");
    expect(table.stdout).toMatch(/^ID\s+KEY\s+STATUS\s+EXPIRES\s+LIMITS\n/);
    expect(table.stdout).toMatch(/team-b\s+gw-\S{7}…\s+active\s+-\s+9000 tokens\/day/);
  });

  it("revoke: every execution environment refuses the key within its key cache time", async () => {
    const key = await createKey(KEYS, "leaver");
    expect([await chatStatus(one(), key), await chatStatus(two(), key)]).toEqual([200, 200]);
    const revokedAt = Date.now();
    expect((await runKeys(KEYS, "revoke", "leaver")).status).toBe(0);
    for (const gateway of [one(), two()]) {
      expect(await eventually(() => chatStatus(gateway, key), (status) => status === 401, 5_000)).toBe(401);
    }
    // GATEWAY_KEYS_CACHE_TTL_SECONDS=1, with room for a slow machine.
    expect(Date.now() - revokedAt).toBeLessThan(4_000);
  });

  it("rotate: the new key works at once, the previous one until its grace period ends", async () => {
    const old = await createKey(KEYS, "rotating");
    expect(await chatStatus(one(), old)).toBe(200);
    const { key } = await runKeysJson<{ key: string }>(KEYS, "rotate", "rotating", "--grace", "6s");
    expect([await chatStatus(one(), key), await chatStatus(two(), old), await chatStatus(one(), old)]).toEqual([200, 200, 200]);
    expect(await eventually(() => chatStatus(two(), old), (status) => status === 401, 15_000)).toBe(401);
    expect(await chatStatus(two(), key)).toBe(200);
    expect(new Set([...one().summaries, ...two().summaries].map((summary) => summary.keyId))).toEqual(new Set(["rotating", undefined]));
  });

  it("many concurrent requests in two execution environments charging one key end within one request of its limit", async () => {
    const limit = 400;
    const key = await createKey(KEYS, "burst", "--tokens-per-day", String(limit));
    const capped = { ...chat, max_tokens: 20 };
    let admitted = 0;
    for (let wave = 0; wave < 12; wave += 1) {
      const statuses = await Promise.all(
        Array.from({ length: 16 }, (_, index) =>
          (index % 2 === 0 ? one() : two())
            .client(key)
            .chat.completions.create(capped)
            .then(
              () => 200,
              (error: APIError) => error.status ?? 0,
            ),
        ),
      );
      expect(statuses.every((status) => status === 200 || status === 429)).toBe(true);
      admitted += statuses.filter((status) => status === 200).length;
      if (!statuses.includes(200)) break;
    }
    const charged = admitted * CHAT_TOKENS;
    expect(charged).toBeGreaterThanOrEqual(limit);
    expect(charged).toBeLessThan(limit + CHAT_TOKENS);
    expect((await keyInfo(one(), key)).body.limits.tokens_per_day.used).toBe(charged);
  });
});

describe("the table under concurrent commands, and a table the gateway cannot use", () => {
  it("keeps every one of several updates of one key run at once", async () => {
    await createKey(KEYS, "contended");
    const changes = [["--requests-per-minute", "1"], ["--tokens-per-minute", "2"], ["--tokens-per-day", "3"], ["--usd-per-day", "4"], ["--usd-per-month", "5"]];
    const runs = await Promise.all(changes.map((change) => runKeys(KEYS, "update", "contended", ...change)));
    expect(runs.map((run) => run.status)).toEqual([0, 0, 0, 0, 0]);
    expect((await runKeysJson(KEYS, "show", "contended")).limits).toEqual({ requestsPerMinute: 1, tokensPerMinute: 2, tokensPerDay: 3, usdPerDay: 4, usdPerMonth: 5 });
  });

  it("gives an id to one of two commands creating it at once, leaving no pointer of the other's key", async () => {
    const runs = await Promise.all([runKeys(KEYS, "create", "twice", "--json"), runKeys(KEYS, "create", "twice", "--json")]);
    expect(runs.map((run) => run.status).sort()).toEqual([0, 1]);
    expect(runs.find((run) => run.status === 1)?.stderr).toBe("keys: A gateway key with id twice exists already (update or rotate it).\n");
    const { Items } = await dynamo.client().send(new ScanCommand({ TableName: TABLE, FilterExpression: "id = :id", ExpressionAttributeValues: { ":id": { S: "twice" } } }));
    const created = JSON.parse(runs.find((run) => run.status === 0)?.stdout ?? "{}") as { key: string };
    expect(Items?.map((item) => item.pk?.S)).toEqual([`key:hash:${sha256Hex(created.key)}`]);
  });

  it("a missing table is a 500 naming GATEWAY_KEYS_TABLE, a malformed record a 500 naming the record, never the key", async () => {
    const key = `gw-${"m".repeat(43)}`;
    const missing = createDynamoDbKeyStore({ tableName: "no-such-table", client: dynamo.client() });
    const error = await missing.findByHash(sha256Hex(key)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe("The gateway's key table (GATEWAY_KEYS_TABLE) does not exist (ResourceNotFoundException).");
    const admin = dynamo.client();
    await admin.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: `key:hash:${sha256Hex(key)}` }, id: { S: "broken" } } }));
    await admin.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: "key:id:broken" }, record: { S: '{"id":"broken"}' } } }));
    const answer = await fetchText(`${one().baseURL}models`, { headers: { authorization: `Bearer ${key}`, "x-provider": "openai" } });
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.text).error).toMatchObject({ code: "key_record_invalid", message: expect.stringMatching(/^The key table holds a malformed record: key broken\.createdAt/) });
    expect(answer.text).not.toContain(key);
  });

  it("a table that cannot be reached is a 503 to try again", async () => {
    const unreachable = createDynamoDbKeyStore({
      tableName: TABLE,
      client: new DynamoDBClient({ endpoint: await closedPortUrl(), region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" }, maxAttempts: 1 }),
    });
    const error = await unreachable.findByHash(sha256Hex("x")).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 503, code: "key_store_unavailable", headers: { "retry-after": "1" } });
  });
});

describe("a flood of wrong keys", () => {
  const fresh = useTableGateway(30);

  it("costs one table read per key and cache time, and a bounded number of reads when every key differs", async () => {
    const key = await createKey(KEYS, "steady");
    expect(await chatStatus(fresh(), key)).toBe(200);
    const readsBefore = dynamo.calls("GetItem");
    const same = `gw-${"w".repeat(43)}`;
    for (let index = 0; index < 50; index += 1) expect(await chatStatus(fresh(), same)).toBe(401);
    expect(dynamo.calls("GetItem") - readsBefore).toBe(1);

    const started = Date.now();
    const flood = await Promise.all(Array.from({ length: 600 }, (_, index) => chatStatus(fresh(), `gw-${String(index).padStart(43, "x")}`)));
    const seconds = (Date.now() - started) / 1000;
    expect(new Set(flood)).toEqual(new Set([401, 503]));
    // The ration: a burst of 100 lookups, then 50 a second.
    expect(dynamo.calls("GetItem") - readsBefore - 1).toBeLessThanOrEqual(100 + Math.ceil(50 * seconds));
    expect(flood.filter((status) => status === 503).length).toBeGreaterThan(0);
    // A key already known is never rationed.
    expect(await chatStatus(fresh(), key)).toBe(200);
    expect(fake.upstream.requests).toHaveLength(2);
  });
});

describe("npm run keys", () => {
  it("runs as its own process with the caller's AWS credentials and configuration", async () => {
    const run = promisify(execFile);
    const { stdout, stderr } = await run(process.execPath, ["functions/cli/keys.ts", "show", "team-a", "--table", TABLE, "--json"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...AWS_ENV, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint },
    });
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toMatchObject({ id: "team-a", status: "active", limits: { usdPerDay: 0.0002 } });
  });
});
