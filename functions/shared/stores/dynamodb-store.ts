/**
 * The DynamoDB store: one on-demand table keyed by `pk`, with a TTL attribute
 * `expiresAt` (epoch seconds). Counters use `ADD`, so concurrent execution
 * environments agree; values are gzip-compressed, and a value still too large
 * for an item (400 KB) is skipped. Every call has a deadline (see
 * deadline.ts): past it the call fails like any store failure, which the
 * cache and the key limits skip.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { boundedClientOptions, withDeadline } from "./deadline.ts";
import type { GatewayStore } from "./types.ts";

/** Options of the DynamoDB store. */
export interface DynamoDbStoreOptions {
  readonly tableName: string;
  /** The client to use (tests pass one with a local endpoint). */
  readonly client?: DynamoDBClient;
  /** The longest one call may take, retries included (`GATEWAY_STORE_TIMEOUT_MS`; default 1 s). */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** An item holds at most 400 KB; leave room for the key and attributes. */
const MAX_VALUE_BYTES = 380 * 1024;

type DynamoDbSdk = typeof import("./dynamodb-sdk.ts");

// Loaded on first use, not at start-up: a deployment without the table never evaluates the
// SDK client (esbuild keeps a dynamic import() lazy in the one-file bundle; see
// test/lambda/cold-start.test.ts).
let sdkLoading: Promise<DynamoDbSdk> | undefined;
function loadDynamoDbSdk(): Promise<DynamoDbSdk> {
  return (sdkLoading ??= import("./dynamodb-sdk.ts"));
}

/** Creates the store; its client is created on first use. */
export function createDynamoDbStore(options: DynamoDbStoreOptions): GatewayStore {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 1_000;
  let client = options.client;
  /** Runs one call on the client (created on first use, its SDK loaded on first use) within the deadline. */
  const bounded = async <T>(operation: string, call: (sdk: DynamoDbSdk, client: DynamoDBClient, abortSignal: AbortSignal) => Promise<T>): Promise<T> => {
    const sdk = await loadDynamoDbSdk();
    const current = (client ??= new sdk.DynamoDBClient(boundedClientOptions(timeoutMs)));
    return withDeadline(`DynamoDB ${operation}`, timeoutMs, (abortSignal) => call(sdk, current, abortSignal));
  };
  const expiry = (ttlSeconds: number) => String(Math.ceil(now() / 1000) + ttlSeconds);

  return {
    async get(key, readOptions) {
      const read = (sdk: DynamoDbSdk) => new sdk.GetItemCommand({ TableName: options.tableName, Key: { pk: { S: key } }, ConsistentRead: readOptions?.consistent === true });
      const output = await bounded("GetItem", (sdk, dynamo, abortSignal) => dynamo.send(read(sdk), { abortSignal }));
      const item = output.Item;
      // TTL deletion is lazy (it can take days): an expired item is treated as gone.
      if (item?.v?.B === undefined || Number(item.expiresAtMs?.N ?? Number(item.expiresAt?.N) * 1000) <= now()) return undefined;
      return item.z?.BOOL === true ? (await loadDynamoDbSdk()).gunzipSync(item.v.B) : item.v.B;
    },
    async put(key, value, ttlSeconds) {
      const compressed = (await loadDynamoDbSdk()).gzipSync(value);
      const useCompressed = compressed.byteLength < value.byteLength;
      const stored = useCompressed ? compressed : value;
      if (stored.byteLength > MAX_VALUE_BYTES) return false;
      const item = {
        pk: { S: key },
        v: { B: stored },
        z: { BOOL: useCompressed },
        // Seconds for DynamoDB's own TTL deletion; milliseconds for reads, which must not outlive the TTL.
        expiresAt: { N: expiry(ttlSeconds) },
        expiresAtMs: { N: String(now() + ttlSeconds * 1000) },
      };
      await bounded("PutItem", (sdk, dynamo, abortSignal) => dynamo.send(new sdk.PutItemCommand({ TableName: options.tableName, Item: item }), { abortSignal }));
      return true;
    },
    async add(key, amount, ttlSeconds) {
      const update = (sdk: DynamoDbSdk) => new sdk.UpdateItemCommand({
        TableName: options.tableName,
        Key: { pk: { S: key } },
        UpdateExpression: "ADD #count :amount SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)",
        ExpressionAttributeNames: { "#count": "c", "#expiresAt": "expiresAt" },
        ExpressionAttributeValues: { ":amount": { N: String(amount) }, ":expiresAt": { N: expiry(ttlSeconds) } },
        ReturnValues: "UPDATED_NEW",
      });
      const output = await bounded("UpdateItem", (sdk, dynamo, abortSignal) => dynamo.send(update(sdk), { abortSignal }));
      return Number(output.Attributes?.c?.N ?? amount);
    },
  };
}
