/**
 * Who keeps stored objects apart, by set-up: a gateway key with its own
 * provider project (the recommended set-up: the provider scopes the objects)
 * or its own provider key is left to the provider; keys on the shared key and
 * project are kept apart by the gateway's owner records, which live in DynamoDB
 * in AWS (shared by every execution environment) and fail closed.
 */
import { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoDbStore } from "../../functions/shared/stores/dynamodb-store.ts";
import type { GatewayStore } from "../../functions/shared/stores/types.ts";
import { useFakeUpstream, useGateway } from "../support/gateway-fixture.ts";
import { startLocalDynamoDb, type LocalDynamoDb } from "../support/local-dynamodb.ts";
import { startStoreGateway } from "../support/store-gateway.ts";
import { KEY_A, KEY_B, PROVIDER_KEY, secretStore, useTwoKeys } from "../support/two-keys.ts";

const KEY_C = "gw-team-c-0123456789abcdef";
const KEY_D = "gw-team-d-0123456789abcdef";

async function ids<T extends { id: string }>(pages: AsyncIterable<T>): Promise<string[]> {
  const found: string[] = [];
  for await (const item of pages) found.push(item.id);
  return found;
}

describe("a gateway key with its own provider project", () => {
  const keys = useTwoKeys({
    gatewayKeys: [
      { id: "team-a", key: KEY_A },
      { id: "team-b", key: KEY_B },
      { id: "team-c", key: KEY_C, openai: { project: "proj_team_c" } },
      { id: "team-d", key: KEY_D, openai: { project: "proj_team_d" }, allowAccountHeaders: true },
    ],
  });

  it("calls the provider in its project, which keeps its objects apart; the gateway records and filters nothing", async () => {
    const c = keys.gateway.client(KEY_C);
    const file = await c.files.create({ file: await toFile(Buffer.from("c"), "c.txt"), purpose: "assistants" });
    expect(keys.upstream.requests.at(-1)?.headers["openai-project"]).toBe("proj_team_c");
    // An object of its project the gateway never saw is reachable: the provider, not the gateway, decides.
    const direct = keys.upstream.objects("proj_team_c");
    direct.files.set("file-made-elsewhere", { id: "file-made-elsewhere", object: "file", bytes: 1, created_at: 1, filename: "e.txt", purpose: "assistants", status: "processed" });
    expect((await c.files.retrieve("file-made-elsewhere")).id).toBe("file-made-elsewhere");
    expect((await ids(c.files.list())).sort()).toEqual([file.id, "file-made-elsewhere"].sort());
    // The shared project holds none of it.
    expect(await ids(keys.a.files.list())).toEqual([]);
    await keys.refused(keys.a.files.retrieve(file.id));
  });

  it("a key that may send its own project header is kept apart by the gateway still", async () => {
    const d = keys.gateway.client(KEY_D);
    const file = await d.files.create({ file: await toFile(Buffer.from("d"), "d.txt"), purpose: "assistants" });
    const sneaky = keys.gateway.client(KEY_D, { "openai-project": "proj_team_c" });
    const before = keys.upstream.requests.length;
    await expect(sneaky.files.retrieve("file-made-elsewhere")).rejects.toMatchObject({ status: 404, code: "object_not_found" });
    expect(keys.upstream.requests.length).toBe(before);
    expect((await d.files.retrieve(file.id)).id).toBe(file.id);
  });
});

describe("a gateway key with its own provider key", () => {
  const fake = useFakeUpstream();
  const local = useGateway(() =>
    startStoreGateway(
      { OPENAI_BASE_URL: fake.upstream.baseUrl, GATEWAY_MAX_RETRIES: "0" },
      { credentials: secretStore({ openai: { apiKey: PROVIDER_KEY, project: "proj_shared" }, gatewayKeys: [{ id: "team-e", key: KEY_A, openai: { apiKey: "sk-team-e-own" } }] }) },
    ),
  );

  it("calls with its own key and none of the shared account's headers, and is not filtered by the gateway", async () => {
    const client = local.gateway.client(KEY_A);
    fake.upstream.objects().files.set("file-of-its-account", { id: "file-of-its-account", object: "file", bytes: 1, created_at: 1, filename: "x", purpose: "assistants", status: "processed" });
    expect((await client.files.retrieve("file-of-its-account")).id).toBe("file-of-its-account");
    expect(fake.upstream.requests[0]?.headers.authorization).toBe("Bearer sk-team-e-own");
    expect(fake.upstream.requests[0]?.headers["openai-project"]).toBeUndefined();
  });
});

describe("the owner records", () => {
  let dynamo: LocalDynamoDb;
  beforeAll(async () => {
    dynamo = await startLocalDynamoDb();
    await dynamo.createTable("owners");
  });
  afterAll(async () => {
    await dynamo?.close();
  });
  const fake = useFakeUpstream({ requireAuth: `Bearer ${PROVIDER_KEY}` });
  const credentials = secretStore({ openai: { apiKey: PROVIDER_KEY }, gatewayKeys: [{ id: "team-a", key: KEY_A }, { id: "team-b", key: KEY_B }] });
  const start = () => startStoreGateway({ OPENAI_BASE_URL: fake.upstream.baseUrl, GATEWAY_MAX_RETRIES: "0" }, { credentials, store: createDynamoDbStore({ tableName: "owners", client: dynamo.client(), timeoutMs: 10_000 }) });
  const first = useGateway(start);
  const second = useGateway(start);

  it("are shared in DynamoDB by every execution environment: an object made through one is its owner's through another", async () => {
    const made = await first.gateway.client(KEY_A).files.create({ file: await toFile(Buffer.from("x"), "x.txt"), purpose: "assistants" });
    expect((await second.gateway.client(KEY_A).files.retrieve(made.id)).id).toBe(made.id);
    await expect(second.gateway.client(KEY_B).files.retrieve(made.id)).rejects.toMatchObject({ status: 404, code: "object_not_found" });
    expect(await ids(second.gateway.client(KEY_B).files.list())).toEqual([]);
  });
});

describe("a store that cannot say who owns an object", () => {
  const fake = useFakeUpstream({ requireAuth: `Bearer ${PROVIDER_KEY}` });
  let failing = false;
  const inner: { store?: GatewayStore } = {};
  const store: GatewayStore = {
    get: (key, options) => (failing ? Promise.reject(new Error("store down")) : (inner.store as GatewayStore).get(key, options)),
    put: (key, value, ttl) => (inner.store as GatewayStore).put(key, value, ttl),
    add: (key, amount, ttl) => (inner.store as GatewayStore).add(key, amount, ttl),
  };
  const local = useGateway(async () => {
    const { createMemoryStore } = await import("../../functions/shared/stores/memory-store.ts");
    inner.store = createMemoryStore();
    return startStoreGateway({ OPENAI_BASE_URL: fake.upstream.baseUrl, GATEWAY_MAX_RETRIES: "0" }, { store, credentials: secretStore({ openai: { apiKey: PROVIDER_KEY }, gatewayKeys: [{ id: "team-a", key: KEY_A }] }) });
  });

  it("answers 503 rather than guess, and calls no provider", async () => {
    const client = local.gateway.client(KEY_A);
    const made = await client.files.create({ file: await toFile(Buffer.from("x"), "x.txt"), purpose: "assistants" });
    failing = true;
    const before = fake.upstream.requests.length;
    await expect(client.files.retrieve(made.id)).rejects.toMatchObject({ status: 503, code: "gateway_dependency_unavailable" });
    expect(fake.upstream.requests.length).toBe(before);
    failing = false;
    expect((await client.files.retrieve(made.id)).id).toBe(made.id);
  });
});

describe("a passthrough caller", () => {
  const fake = useFakeUpstream({ requireAuth: "Bearer sk-own-key" });
  const local = useGateway(() => startStoreGateway({ OPENAI_BASE_URL: fake.upstream.baseUrl, GATEWAY_MAX_RETRIES: "0" }));

  it("uses its own provider account: nothing is recorded or filtered", async () => {
    fake.upstream.objects().files.set("file-own", { id: "file-own", object: "file", bytes: 1, created_at: 1, filename: "x", purpose: "assistants", status: "processed" });
    const client = local.gateway.client("sk-own-key");
    expect((await client.files.retrieve("file-own")).id).toBe("file-own");
    expect(await ids(client.files.list())).toEqual(["file-own"]);
  });
});
