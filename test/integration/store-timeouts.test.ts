/**
 * A DynamoDB that accepts the connection and never answers, behind the real
 * DynamoDBClient: every call of the store ends within
 * GATEWAY_STORE_TIMEOUT_MS, and the gateway skips it like any store failure
 * (the cache misses, the key limits let the request through, the failure is
 * logged). Then each layer of the bound on its own (see stores/deadline.ts).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../functions/shared/config/config.ts";
import { createGatewayStore } from "../../functions/shared/stores/create-store.ts";
import { createDynamoDbStore } from "../../functions/shared/stores/dynamodb-store.ts";
import { LOCAL_AWS_ENV, setProcessEnv, within } from "../support/aws-env.ts";
import { useFakeUpstream, useGateway, useStarted } from "../support/gateway-fixture.ts";
import { localDynamoDbClient, startLocalDynamoDb } from "../support/local-dynamodb.ts";
import { startSilentServer } from "../support/silent-server.ts";
import { postJson, startStoreGateway } from "../support/store-gateway.ts";

const TABLE = "gateway-timeouts";
const TIMEOUT_MS = 500;
/** Room for two busy cores: a bounded call ends within its bound plus this. */
const SLACK_MS = 3_000;
const PROVIDER_KEY = "sk-provider";
const GATEWAY_KEY = "gw-store-timeouts-0123456789";

const dynamo = useStarted(
  async () => {
    const local = await startLocalDynamoDb();
    await local.createTable(TABLE);
    return local;
  },
  { what: "dynalite" },
);
const silent = useStarted(() => startSilentServer({ forwardTo: dynamo().endpoint }), {
  what: "the silent server",
  reset: (server) => server.setSilent(true),
});

/** Points the clients the gateway creates at the silent server for the tests of the enclosing describe. */
function useSilentDynamoDbEndpoint(): void {
  let restore: (() => void) | undefined;
  beforeAll(() => {
    restore = setProcessEnv({ ...LOCAL_AWS_ENV, AWS_ENDPOINT_URL_DYNAMODB: silent().endpoint });
  });
  afterAll(() => restore?.());
}

/** Runs `work` with console.error captured, and returns what was logged. */
async function capturingErrors(work: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  try {
    await work();
  } finally {
    console.error = original;
  }
  return lines.join("\n");
}

describe("through the gateway, with the store its configuration names", () => {
  useSilentDynamoDbEndpoint();
  const fake = useFakeUpstream({ requireAuth: `Bearer ${PROVIDER_KEY}` });
  const fixture = useGateway(() =>
    startStoreGateway({
      OPENAI_BASE_URL: fake.upstream.baseUrl,
      OPENAI_API_KEY: PROVIDER_KEY,
      GATEWAY_API_KEYS: GATEWAY_KEY,
      GATEWAY_KEY_LIMITS: JSON.stringify({ "env-1": { requestsPerMinute: 1 } }),
      GATEWAY_TABLE_NAME: TABLE,
      GATEWAY_STORE_TIMEOUT_MS: String(TIMEOUT_MS),
    }),
  );

  it("answers within the bounds: the cache misses, the limits let requests through, each skipped call is logged", async () => {
    const headers = { authorization: `Bearer ${GATEWAY_KEY}`, "x-gateway-cache-ttl": "60" };
    const body = { model: "gpt-4o", messages: [{ role: "user" as const, content: `hung store ${randomUUID()}` }] };
    const logged = await capturingErrors(async () => {
      // Two requests for a key allowed one a minute: the limit cannot be counted, so both pass.
      for (let index = 0; index < 2; index += 1) {
        const answer = await within(postJson(fixture.gateway.baseURL, "chat/completions", body, headers), 2 * TIMEOUT_MS + SLACK_MS, "the answer");
        expect(answer.status).toBe(200);
        expect(answer.headers.get("x-gateway-cache")).toBe("MISS");
      }
      // Saving the answer is bounded too: the request completes.
      expect(await fixture.gateway.waitForSummaries(2, TIMEOUT_MS + SLACK_MS)).toHaveLength(2);
    });
    expect(fake.upstream.requests).toHaveLength(2);
    for (const operation of ["quota check", "cache lookup", "cache save"]) {
      expect(logged).toContain(`store: ${operation} failed: DependencyTimeoutError`);
    }
  });
});

describe("each layer of the bound", () => {
  describe("the client the store creates", () => {
    useSilentDynamoDbEndpoint();

    it("ends a hung first attempt at half the bound (throwOnRequestTimeout) and retries it in time", async () => {
      const store = createDynamoDbStore({ tableName: TABLE, timeoutMs: 4 * TIMEOUT_MS });
      const acceptedBefore = silent().accepted;
      void silent()
        .acceptedCount(acceptedBefore + 1)
        .then(() => silent().setSilent(false));
      expect(await within(store.add(`retried-${randomUUID()}`, 1, 60), 4 * TIMEOUT_MS + SLACK_MS, "the retried add")).toBe(1);
      expect(silent().accepted).toBe(acceptedBefore + 2);
    });

    it("is bounded by GATEWAY_STORE_TIMEOUT_MS when the configuration names the table", async () => {
      const store = createGatewayStore(loadConfig({ GATEWAY_TABLE_NAME: TABLE, GATEWAY_STORE_TIMEOUT_MS: "300" }));
      await expect(within(store.get("x"), 300 + SLACK_MS, "the failed call")).rejects.toMatchObject({
        name: "DependencyTimeoutError",
        message: "DynamoDB GetItem did not answer within 300 ms",
      });
    });
  });

  it("aborts each call at the deadline: get, put and add fail, and the hung connections are closed", async () => {
    // A client without a request timeout of its own: only the deadline's signal can end the attempt.
    const store = createDynamoDbStore({ tableName: TABLE, timeoutMs: TIMEOUT_MS, client: localDynamoDbClient(silent().endpoint) });
    const calls: Promise<unknown>[] = [store.get("x"), store.put("x", Buffer.from("y"), 60), store.add("x", 1, 60)];
    // All three awaited at once: the deadlines pass together, and a rejection nobody awaits yet is an unhandled one.
    await Promise.all(
      calls.map((call) => expect(within(call, TIMEOUT_MS + SLACK_MS, "the failed call")).rejects.toMatchObject({ name: "DependencyTimeoutError" })),
    );
    await within(silent().silentClosed(), SLACK_MS, "the hung connections closed");
  });

  it("settles at the deadline even when the wait is out of the signal's reach (credentials that never come)", async () => {
    const client = localDynamoDbClient(silent().endpoint, { credentials: () => new Promise(() => undefined) });
    const store = createDynamoDbStore({ tableName: TABLE, timeoutMs: TIMEOUT_MS, client });
    const acceptedBefore = silent().accepted;
    await expect(within(store.get("x"), TIMEOUT_MS + SLACK_MS, "the failed call")).rejects.toMatchObject({
      name: "DependencyTimeoutError",
      message: `DynamoDB GetItem did not answer within ${TIMEOUT_MS} ms`,
    });
    expect(silent().accepted).toBe(acceptedBefore);
  });
});
