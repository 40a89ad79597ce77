/**
 * The function as deployed with its table: the exact bundle under
 * aws-lambda-ric, its DynamoDB client (a chunk loaded on first use) against a
 * local DynamoDB. A cold start's first answer is charged to the key's USD
 * budget at its price (the price catalogue loads during that request), and
 * cached compressed, then replayed.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LOCAL_AWS_ENV } from "../support/aws-env.ts";
import { parseEmfLines } from "../support/emf.ts";
import { useFakeUpstream } from "../support/gateway-fixture.ts";
import { useGatewayFunction } from "../support/lambda-fixture.ts";
import { startLocalDynamoDb, type LocalDynamoDb } from "../support/local-dynamodb.ts";

const KEY = "gw-table-test-0123456789";
const TABLE = "gateway";
const BUDGET_USD = 1;

let dynamo: LocalDynamoDb;
beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  await dynamo.createTable(TABLE);
});
afterAll(async () => dynamo?.close());

const fake = useFakeUpstream({ requireAuth: "Bearer sk-provider" });
const fn = useGatewayFunction(() => ({
  ...LOCAL_AWS_ENV,
  AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  GATEWAY_TABLE_NAME: TABLE,
  OPENAI_BASE_URL: fake.upstream.baseUrl,
  OPENAI_API_KEY: "sk-provider",
  GATEWAY_API_KEYS: KEY,
  GATEWAY_KEY_LIMITS: JSON.stringify({ "env-1": { usdPerDay: BUDGET_USD } }),
  GATEWAY_CACHE_TTL_SECONDS: "60",
}));

/** The function's request log lines so far. */
function requestLines(): Record<string, unknown>[] {
  return fn.lambda.logs.filter((line) => line.includes('"message":"request"')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("the function with its DynamoDB table", () => {
  it("charges a cold start's first answer to the key's USD budget at its price, caches it compressed and replays it", async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: `${fn.lambda.url}/v1/`, maxRetries: 0 });
    // Long enough a prompt that the cached entry is stored compressed.
    const body = { model: "gpt-4o", messages: [{ role: "user" as const, content: "cache me ".repeat(500) }] };
    const first = await client.chat.completions.create(body).withResponse();
    expect(first.response.headers.get("x-gateway-cache")).toBe("MISS");
    // The answer is in the cache once its request is logged (the log line waits for the bookkeeping).
    await vi.waitFor(() => expect(requestLines()).toHaveLength(1), { timeout: 10_000, interval: 20 });
    const second = await client.chat.completions.create(body).withResponse();
    expect(second.response.headers.get("x-gateway-cache")).toBe("HIT");
    expect(second.data).toEqual(first.data);

    const [charged] = requestLines();
    expect(charged?.cost_usd).toBeGreaterThan(0);
    const metrics = parseEmfLines(fn.lambda.logs).find((document) => document.gateway_request_id === charged?.gateway_request_id);
    expect(metrics?.BudgetUsedPercent).toBeCloseTo((100 * Number(charged?.cost_usd)) / BUDGET_USD, 2);
    expect(fake.upstream.requests).toHaveLength(1);
    expect(dynamo.calls("PutItem")).toBeGreaterThan(0);
  }, 60_000);
});
