/**
 * What the key command does to a key record, as pure functions: a new key,
 * changed limits and permissions, a rotation with a grace period, a
 * revocation. Keys are generated here and leave only through the command's
 * output: a record holds their SHA-256 and prefix.
 */
import { randomBytes } from "node:crypto";
import type { KeyLimits } from "../shared/config/key-limits.ts";
import type { KeyPermissions } from "../shared/config/key-permissions.ts";
import { PREFIX_LENGTH, sha256Hex, type KeyRecord, type KeySecret } from "../shared/access/key-record.ts";

/** Changes to a record; `null` removes a setting. */
export interface KeyChanges {
  readonly limits?: { readonly [name in keyof KeyLimits]?: number | null };
  readonly permissions?: { readonly [name in keyof KeyPermissions]?: readonly string[] | null };
  readonly expiresAt?: string | null;
  readonly project?: string | null;
}

/** A key the command refuses to change as asked (revoked, unknown…). */
export class KeyCommandError extends Error {
  override name = "KeyCommandError";
}

/** A new key and the record entry that stands for it. */
export interface GeneratedKey {
  /** The key itself: shown once, stored nowhere. */
  readonly key: string;
  readonly secret: KeySecret;
}

/** A fresh key: `gw-` and 32 random bytes in base64url (43 characters). */
export function generateKey(now: Date): GeneratedKey {
  const key = `gw-${randomBytes(32).toString("base64url")}`;
  return { key, secret: { sha256: sha256Hex(key), prefix: key.slice(0, PREFIX_LENGTH), createdAt: now.toISOString() } };
}

/** The record of a new key with id `id`. */
export function newRecord(id: string, changes: KeyChanges, generated: GeneratedKey, now: Date): KeyRecord {
  const at = now.toISOString();
  return applyChanges({ id, createdAt: at, updatedAt: at, secrets: [generated.secret] }, changes, now);
}

/** `record` with `changes` applied. */
export function applyChanges(record: KeyRecord, changes: KeyChanges, now: Date): KeyRecord {
  const next: Record<string, unknown> = { ...record, updatedAt: now.toISOString() };
  if (changes.limits !== undefined) next.limits = merge(record.limits, changes.limits);
  if (changes.permissions !== undefined) next.permissions = merge(record.permissions, changes.permissions);
  if (changes.expiresAt !== undefined) setOrRemove(next, "expiresAt", changes.expiresAt);
  if (changes.project !== undefined) setOrRemove(next, "project", changes.project);
  for (const name of ["limits", "permissions"]) if (next[name] === undefined) delete next[name];
  return next as unknown as KeyRecord;
}

/**
 * `record` with a new current key; the previous one works `graceMs` longer
 * (keys rotated earlier keep their own end, and those past it are dropped).
 * @throws {KeyCommandError} for a revoked key
 */
export function rotateRecord(record: KeyRecord, generated: GeneratedKey, graceMs: number, now: Date): KeyRecord {
  if (record.revokedAt !== undefined) throw new KeyCommandError(`Gateway key ${record.id} is revoked; create a key with a new id instead.`);
  const retiresAt = new Date(now.getTime() + graceMs).toISOString();
  const previous = record.secrets
    .map((secret, index) => (index === 0 ? { ...secret, retiresAt } : secret))
    .filter((secret) => secret.retiresAt !== undefined && Date.parse(secret.retiresAt) > now.getTime());
  return { ...record, updatedAt: now.toISOString(), secrets: [generated.secret, ...previous] };
}

/**
 * `record`, revoked now: none of its keys works any more.
 * @throws {KeyCommandError} for a key already revoked
 */
export function revokeRecord(record: KeyRecord, now: Date): KeyRecord {
  if (record.revokedAt !== undefined) throw new KeyCommandError(`Gateway key ${record.id} was already revoked at ${record.revokedAt}.`);
  return { ...record, updatedAt: now.toISOString(), revokedAt: now.toISOString() };
}

function merge<T extends object>(current: T | undefined, changes: { readonly [name: string]: unknown }): T | undefined {
  const merged: Record<string, unknown> = { ...current };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    setOrRemove(merged, name, value);
  }
  return Object.keys(merged).length === 0 ? undefined : (merged as T);
}

function setOrRemove(target: Record<string, unknown>, name: string, value: unknown): void {
  if (value === null) delete target[name];
  else target[name] = value;
}
