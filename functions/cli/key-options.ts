/**
 * The key command's arguments, read and checked before anything is touched:
 * the command, the key id, where the keys live, and the changes asked for.
 * Every mistake is a {@link UsageError} that says what would be right.
 */
import { parseArgs } from "node:util";
import { KEY_ID } from "../shared/access/key-record.ts";
import { endpointFamily } from "../shared/access/permissions.ts";
import { budgetProblem, countProblem, type KeyLimits } from "../shared/config/key-limits.ts";
import { listProblem, type KeyPermissions } from "../shared/config/key-permissions.ts";
import { ENDPOINTS } from "../shared/endpoints/catalogue.ts";
import type { KeyChanges } from "./key-changes.ts";

/** The commands. */
export const COMMANDS = ["create", "list", "show", "update", "rotate", "revoke"] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Where the keys live. */
export type KeyLocation = { readonly kind: "file"; readonly path: string } | { readonly kind: "table"; readonly tableName: string; readonly region?: string };

/** A command, checked. */
export type KeyCommand =
  | { readonly name: "help" }
  | {
      readonly name: CommandName;
      /** The key id (every command but list). */
      readonly id?: string;
      readonly location: KeyLocation;
      readonly changes: KeyChanges;
      /** rotate: how long the previous key keeps working. */
      readonly graceMs: number;
      readonly json: boolean;
    };

/** The arguments are wrong; the message says how to put them right. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The endpoint families a key may be limited to (`gateway` is every key's own: GET /v1/gateway/key). */
export const ENDPOINT_FAMILIES: readonly string[] = [...new Set(ENDPOINTS.map((endpoint) => endpointFamily(endpoint.name)))].filter((family) => family !== "gateway");

export const DEFAULT_GRACE_MS = 24 * 3_600_000;
const MAX_GRACE_MS = 30 * 86_400_000;

const LIMIT_OPTIONS = {
  "requests-per-minute": "requestsPerMinute",
  "tokens-per-minute": "tokensPerMinute",
  "tokens-per-day": "tokensPerDay",
  "usd-per-day": "usdPerDay",
  "usd-per-month": "usdPerMonth",
} as const satisfies Record<string, keyof KeyLimits>;
const PERMISSION_OPTIONS = ["models", "providers", "endpoints"] as const satisfies readonly (keyof KeyPermissions)[];
const CHANGE_OPTIONS = [...Object.keys(LIMIT_OPTIONS), ...PERMISSION_OPTIONS, "expires", "project"];

const OPTIONS = {
  ...Object.fromEntries(CHANGE_OPTIONS.map((name) => [name, { type: "string" }])),
  grace: { type: "string" },
  file: { type: "string" },
  table: { type: "string" },
  region: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Reads the command line (the arguments after `npm run keys --`).
 * @param env where `GATEWAY_KEYS_FILE` and `GATEWAY_KEYS_TABLE` come from
 * @throws {UsageError} for anything that is not a valid command
 */
export function parseKeyCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, now = new Date()): KeyCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0] ?? "Invalid arguments.");
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const [command, id, ...extra] = parsed.positionals;
  if (values.help === true || command === undefined || command === "help") return { name: "help" };
  if (!(COMMANDS as readonly string[]).includes(command)) throw new UsageError(`Unknown command "${command.slice(0, 40)}". Commands: ${COMMANDS.join(", ")}.`);
  const name = command as CommandName;
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${String(extra[0]).slice(0, 40)}".`);
  if (name === "list" && id !== undefined) throw new UsageError(`list takes no key id (got "${id.slice(0, 40)}").`);
  if (name !== "list") {
    if (id === undefined) throw new UsageError(`${name} needs a key id: npm run keys -- ${name} <id>.`);
    if (!KEY_ID.test(id)) throw new UsageError("A key id is 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'.");
  }
  const given = CHANGE_OPTIONS.filter((option) => values[option] !== undefined);
  if (name !== "create" && name !== "update" && given.length > 0) throw new UsageError(`--${given[0]} does not apply to ${name}${name === "rotate" ? " (use update)" : ""}.`);
  if (name === "update" && given.length === 0) throw new UsageError(`update needs a change: any of ${CHANGE_OPTIONS.map((option) => `--${option}`).join(", ")}.`);
  if (name !== "rotate" && values.grace !== undefined) throw new UsageError("--grace applies to rotate only.");
  return {
    name,
    id,
    location: readLocation(values, env),
    changes: readChanges(values, now),
    graceMs: values.grace === undefined ? DEFAULT_GRACE_MS : readGrace(values.grace as string),
    json: values.json === true,
  };
}

function readLocation(values: Record<string, string | boolean | undefined>, env: Readonly<Record<string, string | undefined>>): KeyLocation {
  const file = (values.file as string | undefined) ?? (values.table === undefined ? env.GATEWAY_KEYS_FILE?.trim() || undefined : undefined);
  const table = (values.table as string | undefined) ?? (values.file === undefined ? env.GATEWAY_KEYS_TABLE?.trim() || undefined : undefined);
  if (file !== undefined && table !== undefined) throw new UsageError("Keys live in one place: give --file or --table, not both (GATEWAY_KEYS_FILE and GATEWAY_KEYS_TABLE are both set).");
  if (file !== undefined) {
    if (file === "") throw new UsageError("--file needs a path.");
    return { kind: "file", path: file };
  }
  if (table !== undefined) {
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table)) throw new UsageError("--table must be a DynamoDB table name (3-255 of A-Z, a-z, 0-9, '_', '-', '.'): the stack's KeyTableName output.");
    const region = values.region as string | undefined;
    return region === undefined ? { kind: "table", tableName: table } : { kind: "table", tableName: table, region };
  }
  throw new UsageError(
    "Say where the keys live: --file <path> (or GATEWAY_KEYS_FILE) for a local gateway, or --table <name> (or GATEWAY_KEYS_TABLE) for the stack's table (its KeyTableName output).",
  );
}

function readChanges(values: Record<string, string | boolean | undefined>, now: Date): KeyChanges {
  const limits: Record<string, number | null> = {};
  for (const [option, field] of Object.entries(LIMIT_OPTIONS)) {
    const raw = values[option] as string | undefined;
    if (raw === undefined) continue;
    const budget = field === "usdPerDay" || field === "usdPerMonth";
    limits[field] = removes(raw) ? null : budget ? readBudget(option, raw) : readCount(option, raw);
  }
  const permissions: Record<string, readonly string[] | null> = {};
  for (const option of PERMISSION_OPTIONS) {
    const raw = values[option] as string | undefined;
    if (raw !== undefined) permissions[option] = removes(raw) ? null : readList(option, raw);
  }
  const changes: { -readonly [name in keyof KeyChanges]: KeyChanges[name] } = {};
  if (Object.keys(limits).length > 0) changes.limits = limits;
  if (Object.keys(permissions).length > 0) changes.permissions = permissions;
  const expires = values.expires as string | undefined;
  if (expires !== undefined) changes.expiresAt = removes(expires) ? null : readExpiry(expires, now);
  const project = values.project as string | undefined;
  if (project !== undefined) changes.project = removes(project) ? null : readProject(project);
  return changes;
}

/** `none` removes a setting. */
function removes(raw: string): boolean {
  return raw.trim().toLowerCase() === "none";
}

function readCount(option: string, raw: string): number {
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (countProblem(value) !== undefined) throw new UsageError(`--${option} must be a positive whole number, or none to remove the limit.`);
  return value;
}

function readBudget(option: string, raw: string): number {
  const value = /^\s*\d+(?:\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (budgetProblem(value) !== undefined) throw new UsageError(`--${option} must be an amount of US dollars above 0 (e.g. 5 or 0.50), or none to remove the budget.`);
  return value;
}

function readList(option: (typeof PERMISSION_OPTIONS)[number], raw: string): string[] {
  const list = raw.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
  const normalized = option === "models" ? list : list.map((entry) => entry.toLowerCase());
  if (listProblem(normalized) !== undefined) throw new UsageError(`--${option} must be a comma-separated list of names (no spaces inside a name), or none to allow all.`);
  if (option === "endpoints") {
    const unknown = normalized.find((family) => !ENDPOINT_FAMILIES.includes(family));
    if (unknown !== undefined) throw new UsageError(`--endpoints: ${unknown.slice(0, 40)} is not an endpoint family; families: ${ENDPOINT_FAMILIES.join(", ")}.`);
  }
  return [...new Set(normalized)];
}

function readExpiry(raw: string, now: Date): string {
  const text = raw.trim();
  const time = /^\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d))?$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) throw new UsageError("--expires must be an ISO date (2026-12-31, midnight UTC) or date-time with a zone (2026-12-31T18:00:00Z), or none.");
  if (time <= now.getTime()) throw new UsageError(`--expires must be in the future (${new Date(time).toISOString()} is past); revoke a key to stop it now.`);
  return new Date(time).toISOString();
}

function readProject(raw: string): string {
  const text = raw.trim();
  if (!/^[\x21-\x7e]{1,128}$/.test(text)) throw new UsageError("--project must be a provider project id (1-128 visible characters, e.g. proj_abc123), or none.");
  return text;
}

function readGrace(raw: string): number {
  const match = /^\s*(\d+)\s*(s|m|h|d)?\s*$/.exec(raw);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match?.[2] ?? "s") as "s"];
  const ms = match === null ? Number.NaN : Number(match[1]) * unit;
  if (match === null || (match[2] === undefined && match[1] !== "0") || !(ms <= MAX_GRACE_MS)) {
    throw new UsageError("--grace must be a duration like 24h, 90m, 30s or 7d (at most 30d), or 0 to stop the previous key at once.");
  }
  return ms;
}
