/**
 * What the key command prints: a record described for people (one key per
 * line, or one setting per line) or as JSON. A key itself appears only in
 * the answer to create and rotate, once.
 */
import { recordStatus, type KeyRecord } from "../shared/access/key-record.ts";
import type { KeyLimits } from "../shared/config/key-limits.ts";

/** A record as `--json` shows it, in the key file's own names: everything but the hashes. */
export function describeRecord(record: KeyRecord, now: Date): Record<string, unknown> {
  const [current, ...previous] = record.secrets;
  return {
    id: record.id,
    status: recordStatus(record, now.getTime()),
    prefix: current?.prefix,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    revokedAt: record.revokedAt ?? null,
    expiresAt: record.expiresAt ?? null,
    project: record.project ?? null,
    limits: record.limits ?? {},
    permissions: record.permissions ?? {},
    previousKeys: previous.map((secret) => ({ prefix: secret.prefix, retiresAt: secret.retiresAt ?? null })),
  };
}

/** Limits and budgets in a few words: `60 requests/min, 1000000 tokens/day, $5/day`. */
export function summarizeLimits(limits: KeyLimits | undefined): string {
  if (limits === undefined) return "no limits";
  const parts = [
    limits.requestsPerMinute === undefined ? undefined : `${limits.requestsPerMinute} requests/min`,
    limits.tokensPerMinute === undefined ? undefined : `${limits.tokensPerMinute} tokens/min`,
    limits.tokensPerDay === undefined ? undefined : `${limits.tokensPerDay} tokens/day`,
    limits.usdPerDay === undefined ? undefined : `$${limits.usdPerDay}/day`,
    limits.usdPerMonth === undefined ? undefined : `$${limits.usdPerMonth}/month`,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? "no limits" : parts.join(", ");
}

/** A record, one setting per line. */
export function formatRecord(record: KeyRecord, now: Date): string {
  const [current, ...previous] = record.secrets;
  const permissions = record.permissions;
  const lines = [
    `id:          ${record.id}`,
    `status:      ${recordStatus(record, now.getTime())}${record.revokedAt === undefined ? "" : ` (revoked at ${record.revokedAt})`}`,
    `key:         ${current?.prefix ?? "?"}… (created ${current?.createdAt ?? "?"})`,
    ...previous.map((secret) => `previous:    ${secret.prefix}… works until ${secret.retiresAt ?? "?"}`),
    `expires:     ${record.expiresAt ?? "never"}`,
    `limits:      ${summarizeLimits(record.limits)}`,
    `models:      ${permissions?.models?.join(", ") ?? "all"}`,
    `providers:   ${permissions?.providers?.join(", ") ?? "all"}`,
    `endpoints:   ${permissions?.endpoints?.join(", ") ?? "all"}`,
    `project:     ${record.project ?? "the gateway's"}`,
    `created:     ${record.createdAt}`,
    `updated:     ${record.updatedAt}`,
  ];
  return `${lines.join("\n")}\n`;
}

/** Records as a table: id, prefix, status, limits. */
export function formatList(records: readonly KeyRecord[], now: Date): string {
  if (records.length === 0) return "No gateway keys yet. Create one with: npm run keys -- create <id>\n";
  const rows = [["ID", "KEY", "STATUS", "EXPIRES", "LIMITS"], ...records.map((record) => [
    record.id,
    `${record.secrets[0]?.prefix ?? "?"}…`,
    recordStatus(record, now.getTime()),
    record.expiresAt ?? "-",
    summarizeLimits(record.limits),
  ])];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return `${rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join("  ")).join("\n")}\n`;
}
