/**
 * Where the key command reads and writes key records: the local key file or
 * the stack's DynamoDB table. Both keep only what a record holds (hashes and
 * prefixes, never a key), and both apply one change at a time to a record,
 * so two operators cannot overwrite each other's change.
 */
import type { KeyRecord } from "../shared/access/key-record.ts";

/** The key records of one gateway. */
export interface KeyAdminStore {
  /** Where the keys live, for messages (`key file ./keys.json`, `table AiGateway-Store…`). */
  readonly description: string;
  /** Every record, sorted by id. */
  list(): Promise<KeyRecord[]>;
  get(id: string): Promise<KeyRecord | undefined>;
  /** @throws {KeyCommandError} when the id is taken */
  create(record: KeyRecord): Promise<void>;
  /**
   * Reads a record, changes it with `change` and writes it back, again if
   * someone else changed it in between.
   * @throws {KeyCommandError} when there is no record with this id
   */
  update(id: string, change: (record: KeyRecord) => KeyRecord): Promise<KeyRecord>;
  close(): void;
}
