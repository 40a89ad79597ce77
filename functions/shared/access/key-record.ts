/**
 * A managed gateway key as the key file and the key table hold it: its id,
 * limits, budgets and permissions, and only the SHA-256 of the key itself
 * (with a short prefix to recognise it by), never the key.
 *
 * ```json
 * {
 *   "id": "team-a",
 *   "createdAt": "2026-11-29T10:00:00.000Z", "updatedAt": "2026-11-29T10:00:00.000Z",
 *   "limits": { "requestsPerMinute": 60, "usdPerDay": 5 },
 *   "permissions": { "models": ["gpt-4o*"], "endpoints": ["chat"] },
 *   "secrets": [{ "sha256": "9f86d0…", "prefix": "gw-AbCdEfG", "createdAt": "2026-11-29T10:00:00.000Z" }]
 * }
 * ```
 * `secrets` lists the current key first, then rotated keys still inside their
 * grace period (`retiresAt`).
 */
import { createHash } from "node:crypto";
import { parseKeyLimits, type KeyLimits } from "../config/key-limits.ts";
import { parseKeyPermissions, type KeyPermissions } from "../config/key-permissions.ts";

/** One key of a record: its SHA-256 (hex) and its first characters. */
export interface KeySecret {
  readonly sha256: string;
  readonly prefix: string;
  readonly createdAt: string;
  /** Set when the key was rotated away: it works until then. */
  readonly retiresAt?: string;
}

/** A managed gateway key. */
export interface KeyRecord {
  readonly id: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly revokedAt?: string;
  /** The key stops working at this time. */
  readonly expiresAt?: string;
  readonly limits?: KeyLimits;
  readonly permissions?: KeyPermissions;
  /** The provider project the key's calls go to (`OpenAI-Project`), instead of the gateway's. */
  readonly project?: string;
  /** Newest first: the current key, then rotated ones in their grace period. */
  readonly secrets: readonly KeySecret[];
}

/** Key ids: what logs, metrics and counters name a key by. */
export const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A generated gateway key: `gw-` and 32 random bytes in base64url. */
export const GENERATED_KEY = /^gw-[A-Za-z0-9_-]{43}$/;

/** How many characters of a key are kept to recognise it (`gw-` and 7 more: 42 of its 256 bits). */
export const PREFIX_LENGTH = 10;

/** A key record (or key file) cannot be used; the message names the field, never a key. */
export class KeyRecordError extends Error {
  override name = "KeyRecordError";
}

/** The SHA-256 of a key, hex: how records and lookups name it. */
export function sha256Hex(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Validates a record read from the key file or the key table. */
export function parseKeyRecord(value: unknown, field = "key"): KeyRecord {
  if (!isObject(value)) throw new KeyRecordError(`${field} must be an object`);
  if (typeof value.id !== "string" || !KEY_ID.test(value.id)) throw new KeyRecordError(`${field}.id must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'`);
  const record: Record<string, unknown> = {
    id: value.id,
    createdAt: time(value.createdAt, `${field}.createdAt`),
    updatedAt: time(value.updatedAt, `${field}.updatedAt`),
    secrets: parseSecrets(value.secrets, `${field}.secrets`),
  };
  if (value.revokedAt !== undefined) record.revokedAt = time(value.revokedAt, `${field}.revokedAt`);
  if (value.expiresAt !== undefined) record.expiresAt = time(value.expiresAt, `${field}.expiresAt`);
  if (value.project !== undefined) {
    if (typeof value.project !== "string" || !/^[\x21-\x7e]{1,128}$/.test(value.project)) throw new KeyRecordError(`${field}.project must be 1-128 visible characters`);
    record.project = value.project;
  }
  if (value.limits !== undefined) {
    const limits = parseKeyLimits(value.limits, `${field}.limits`);
    if (typeof limits === "string") throw new KeyRecordError(limits);
    record.limits = limits;
  }
  if (value.permissions !== undefined) {
    const permissions = parseKeyPermissions(value.permissions, `${field}.permissions`);
    if (typeof permissions === "string") throw new KeyRecordError(permissions);
    record.permissions = permissions;
  }
  return record as unknown as KeyRecord;
}

function parseSecrets(value: unknown, field: string): KeySecret[] {
  if (!Array.isArray(value) || value.length === 0) throw new KeyRecordError(`${field} must be a non-empty list`);
  return value.map((entry, index) => {
    const at = `${field}[${index}]`;
    if (!isObject(entry)) throw new KeyRecordError(`${at} must be an object`);
    if (typeof entry.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(entry.sha256)) throw new KeyRecordError(`${at}.sha256 must be 64 lower-case hex digits`);
    if (typeof entry.prefix !== "string" || !/^gw-[A-Za-z0-9_-]{1,16}$/.test(entry.prefix)) throw new KeyRecordError(`${at}.prefix must be gw- and a few key characters`);
    const secret: Record<string, string> = { sha256: entry.sha256, prefix: entry.prefix, createdAt: time(entry.createdAt, `${at}.createdAt`) };
    if (entry.retiresAt !== undefined) secret.retiresAt = time(entry.retiresAt, `${at}.retiresAt`);
    return secret as unknown as KeySecret;
  });
}

/** Whether a key found by its hash may be used now, and why not. */
export type KeyStanding = { readonly usable: true } | { readonly usable: false; readonly reason: string };

/** Checks a record's key of hash `sha256` at time `now` (ms): revoked, expired and retired keys are refused, with a reason for their holder. */
export function keyStanding(record: KeyRecord, sha256: string, now: number): KeyStanding {
  const secret = record.secrets.find((candidate) => candidate.sha256 === sha256);
  if (secret === undefined) return { usable: false, reason: "Incorrect gateway key provided." };
  if (record.revokedAt !== undefined && Date.parse(record.revokedAt) <= now) return { usable: false, reason: "This gateway key has been revoked." };
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now) return { usable: false, reason: `This gateway key expired at ${record.expiresAt}.` };
  if (secret.retiresAt !== undefined && Date.parse(secret.retiresAt) <= now) {
    return { usable: false, reason: `This gateway key was rotated; its grace period ended at ${secret.retiresAt}. Use the new key.` };
  }
  return { usable: true };
}

/** What a record says of its state at `now`, for listings. */
export function recordStatus(record: KeyRecord, now: number): "active" | "revoked" | "expired" {
  if (record.revokedAt !== undefined && Date.parse(record.revokedAt) <= now) return "revoked";
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now) return "expired";
  return "active";
}

/** A key file: `{"version": 1, "keys": [record, …]}`, ids and hashes unique. */
export function parseKeyFile(text: string): KeyRecord[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new KeyRecordError("the key file is not valid JSON");
  }
  if (!isObject(document) || document.version !== 1 || !Array.isArray(document.keys)) {
    throw new KeyRecordError('the key file must be an object {"version": 1, "keys": [...]}');
  }
  const records = document.keys.map((entry, index) => parseKeyRecord(entry, `keys[${index}]`));
  const ids = new Set<string>();
  const hashes = new Set<string>();
  records.forEach((record, index) => {
    if (ids.has(record.id)) throw new KeyRecordError(`keys[${index}].id repeats the id ${record.id}`);
    ids.add(record.id);
    for (const secret of record.secrets) {
      if (hashes.has(secret.sha256)) throw new KeyRecordError(`keys[${index}].secrets repeats a key hash of another entry`);
      hashes.add(secret.sha256);
    }
  });
  return records;
}

/** The key file's text for `records`. */
export function formatKeyFile(records: readonly KeyRecord[]): string {
  return `${JSON.stringify({ version: 1, keys: records }, null, 2)}\n`;
}

function time(value: unknown, field: string): string {
  if (typeof value !== "string" || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new KeyRecordError(`${field} must be an ISO date-time in UTC (…Z)`);
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
