/**
 * Picks the managed key store the configuration asks for, if any.
 */
import type { KeyStoreConfig } from "../config/config.ts";
import { createDynamoDbKeyStore } from "./dynamodb-key-store.ts";
import { createFileKeyStore } from "./file-key-store.ts";
import { createKeyLookupCache } from "./key-lookup-cache.ts";
import type { GatewayKeyStore } from "./key-store.ts";

/** The key file (followed as it changes), or the key table behind the lookup cache; undefined without either. */
export function createKeyStore(config: KeyStoreConfig | undefined, onReloadError?: (error: Error) => void): GatewayKeyStore | undefined {
  if (config === undefined) return undefined;
  if (config.source === "file") return createFileKeyStore({ path: config.path, onReloadError });
  return createKeyLookupCache(createDynamoDbKeyStore({ tableName: config.tableName }), { ttlMs: config.cacheTtlMs });
}
