/**
 * Picks the store the configuration asks for.
 */
import type { GatewayConfig } from "../config/config.ts";
import { createDynamoDbStore } from "./dynamodb-store.ts";
import { createMemoryStore } from "./memory-store.ts";
import type { GatewayStore } from "./types.ts";

/** DynamoDB when `GATEWAY_TABLE_NAME` is set (each call bounded by `GATEWAY_STORE_TIMEOUT_MS`), else memory. */
export function createGatewayStore(config: GatewayConfig): GatewayStore {
  return config.tableName === undefined
    ? createMemoryStore()
    : createDynamoDbStore({ tableName: config.tableName, timeoutMs: config.storeTimeoutMs });
}

/**
 * The store of stored objects' owners and usage counters: its DynamoDB table
 * in AWS (the cache's when they are one); locally a memory store of its own,
 * so that filling the response cache never evicts an owner (an evicted owner
 * locks its key out of the object).
 */
export function createObjectStore(config: GatewayConfig, shared: GatewayStore): GatewayStore {
  if (config.objectsTableName === undefined) return createMemoryStore();
  if (config.objectsTableName === config.tableName) return shared;
  return createDynamoDbStore({ tableName: config.objectsTableName, timeoutMs: config.storeTimeoutMs });
}
