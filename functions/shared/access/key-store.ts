/**
 * Where managed gateway keys live: a key file locally (`GATEWAY_KEYS_FILE`),
 * the stack's DynamoDB table in AWS (`GATEWAY_KEYS_TABLE`). Either is looked
 * up by the SHA-256 of the key a caller presents, never by the key. The keys
 * of the secret and of `GATEWAY_API_KEYS` are not in a key store: they come
 * with the credentials and are compared in memory (access/authenticate.ts).
 */
import type { KeyRecord } from "./key-record.ts";

/** A store of managed gateway keys, looked up by hash. */
export interface GatewayKeyStore {
  /**
   * The record holding the key whose SHA-256 (hex) is `sha256`, or undefined
   * when no record does. The record may say the key is revoked, expired or
   * retired: the caller checks with `keyStanding`.
   * @throws {GatewayError} when the store cannot answer (503 unavailable, 500 misconfigured)
   */
  findByHash(sha256: string): Promise<KeyRecord | undefined>;
}

/** The partition keys of the key items in the gateway's DynamoDB table (every other item is the cache's or a counter). */
export const KEY_ITEMS = {
  /** Prefix of every key item; the function may read these items but not write them. */
  prefix: "key:",
  /** One item whose string set `ids` lists every key id, for listings. */
  index: "key:ids",
  /** The record of a key id (attribute `record`: the JSON, `version`: a counter for conditional updates). */
  record: (id: string) => `key:id:${id}`,
  /** A pointer from a key's hash to its id (attribute `id`). */
  hash: (sha256: string) => `key:hash:${sha256}`,
} as const;
