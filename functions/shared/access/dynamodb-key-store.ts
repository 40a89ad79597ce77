/**
 * Managed gateway keys from the stack's DynamoDB table (`GATEWAY_KEYS_TABLE`):
 * the item `key:hash:<sha256>` points to a key id, and the item `key:id:<id>`
 * holds its record, which alone says whether the key works (a revoked key's
 * pointer stays; its record says it is revoked). Two reads per lookup, so
 * wrap the store in the lookup cache (key-lookup-cache.ts).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ConfigurationError, DependencyUnavailableError, GatewayError } from "../http/errors.ts";
import { KeyRecordError, parseKeyRecord, type KeyRecord } from "./key-record.ts";
import { KEY_ITEMS, type GatewayKeyStore } from "./key-store.ts";

/** Options of the DynamoDB key store. */
export interface DynamoDbKeyStoreOptions {
  readonly tableName: string;
  /** The client to use (tests pass one with a local endpoint); created on first use otherwise. */
  readonly client?: DynamoDBClient;
}

/** Creates the store. */
export function createDynamoDbKeyStore(options: DynamoDbKeyStoreOptions): GatewayKeyStore {
  let client = options.client;
  async function getItem(pk: string, attribute: string): Promise<string | undefined> {
    // The SDK is loaded on the first lookup, not at start-up (test/lambda/cold-start.test.ts).
    const sdk = await import("../stores/dynamodb-sdk.ts");
    client ??= new sdk.DynamoDBClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 } });
    const output = await client.send(
      new sdk.GetItemCommand({ TableName: options.tableName, Key: { pk: { S: pk } }, ProjectionExpression: "#a", ExpressionAttributeNames: { "#a": attribute } }),
    );
    return output.Item?.[attribute]?.S;
  }

  return {
    async findByHash(sha256) {
      try {
        const id = await getItem(KEY_ITEMS.hash(sha256), "id");
        if (id === undefined) return undefined;
        const json = await getItem(KEY_ITEMS.record(id), "record");
        return json === undefined ? undefined : parseStoredRecord(json, id);
      } catch (error) {
        throw describeFailure(error);
      }
    },
  };
}

function parseStoredRecord(json: string, id: string): KeyRecord {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new KeyRecordError(`the record of key ${id} is not valid JSON`);
  }
  return parseKeyRecord(value, `key ${id}`);
}

const CONFIGURATION_FAULTS: Readonly<Record<string, string>> = {
  ResourceNotFoundException: "The gateway's key table (GATEWAY_KEYS_TABLE) does not exist",
  AccessDeniedException: "The gateway is not allowed to read its key table (GATEWAY_KEYS_TABLE)",
};

/** A lookup failure as the error a caller gets: it names the cause, never a key. */
function describeFailure(error: unknown): GatewayError {
  if (error instanceof KeyRecordError) return new ConfigurationError(`The key table holds a malformed record: ${error.message}.`, { code: "key_record_invalid" });
  const name = error instanceof Error ? error.name : "UnknownError";
  const fault = CONFIGURATION_FAULTS[name];
  if (fault !== undefined) return new ConfigurationError(`${fault} (${name}).`, { code: "key_store_unavailable" });
  return new DependencyUnavailableError(`The gateway's key table cannot be read (${name}); try again.`, {
    code: "key_store_unavailable",
    headers: { "retry-after": "1" },
  });
}
