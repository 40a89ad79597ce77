/**
 * The key command's arguments, read and checked before anything is touched:
 * the command, the key id, where the keys live, and the changes asked for.
 * Every mistake is a {@link UsageError} that says what would be right.
 */
import { readFileSync } from "node:fs";
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

/** Where the keys live: a key file or a table, named. */
export type StoreLocation = { readonly kind: "file"; readonly path: string } | { readonly kind: "table"; readonly tableName: string; readonly region?: string };

/** The deployed stack whose `KeyTableName` output names the key table. */
export interface StackLocation {
  readonly kind: "stack";
  readonly stackName: string;
  readonly region?: string;
}

/** Where the keys live, as the command line says it. */
export type KeyLocation = StoreLocation | StackLocation;

/** A DynamoDB table name. */
export const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
/** A CloudFormation stack name. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
/** The stack name infra/app.ts deploys when cdk.json does not name one. */
export const DEFAULT_STACK_NAME = "AiGateway";
const CDK_JSON = new URL("../../cdk.json", import.meta.url);

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

/**
 * The endpoint families a key may be limited to: not `gateway` (every key's own: GET /v1/gateway/key),
 * nor the admin endpoints the gateway refuses to every key.
 */
export const ENDPOINT_FAMILIES: readonly string[] = [
  ...new Set(ENDPOINTS.filter((endpoint) => endpoint.answeredBy === undefined && endpoint.refusal !== "admin").map((endpoint) => endpointFamily(endpoint.name))),
];

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
  stack: { type: "string" },
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
  const stack = values.stack as string | undefined;
  const named = values.file !== undefined || values.table !== undefined;
  if (stack !== undefined && named) throw new UsageError("Keys live in one place: give --stack (which finds the table) or --file or --table, not two.");
  // An option wins over the other variable; --stack over both variables.
  const file = (values.file as string | undefined) ?? (values.table === undefined && stack === undefined ? env.GATEWAY_KEYS_FILE?.trim() || undefined : undefined);
  const table = (values.table as string | undefined) ?? (values.file === undefined && stack === undefined ? env.GATEWAY_KEYS_TABLE?.trim() || undefined : undefined);
  if (file !== undefined && table !== undefined) throw new UsageError("Keys live in one place: give --file or --table, not both (GATEWAY_KEYS_FILE and GATEWAY_KEYS_TABLE are both set).");
  if (file !== undefined) {
    if (file === "") throw new UsageError("--file needs a path.");
    return { kind: "file", path: file };
  }
  // Without --region the AWS SDK finds one as it does for the aws CLI: AWS_REGION, then the profile.
  const region = values.region as string | undefined;
  if (table !== undefined) {
    if (!TABLE_NAME.test(table)) throw new UsageError("--table must be a DynamoDB table name (3-255 of A-Z, a-z, 0-9, '_', '-', '.'): the stack's KeyTableName output.");
    return region === undefined ? { kind: "table", tableName: table } : { kind: "table", tableName: table, region };
  }
  const stackName = stack ?? readCdkStackName();
  if (!STACK_NAME.test(stackName)) throw new UsageError("--stack must be a CloudFormation stack name (a letter, then up to 127 of A-Z, a-z, 0-9, '-').");
  return region === undefined ? { kind: "stack", stackName } : { kind: "stack", stackName, region };
}

/**
 * The stack name `npx cdk deploy` uses: cdk.json's context `gateway:stackName`
 * (as infra/app.ts reads it), or {@link DEFAULT_STACK_NAME} without one.
 * @throws {UsageError} when cdk.json is unreadable JSON or names no valid stack
 */
export function readCdkStackName(path: URL | string = CDK_JSON): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return DEFAULT_STACK_NAME;
  }
  let name: unknown;
  try {
    name = (JSON.parse(text) as { context?: Record<string, unknown> } | null)?.context?.["gateway:stackName"];
  } catch (error) {
    throw new UsageError(`cdk.json is not valid JSON (${(error as Error).message}); name the stack with --stack <name>.`);
  }
  if (name === undefined) return DEFAULT_STACK_NAME;
  if (typeof name !== "string" || !STACK_NAME.test(name)) throw new UsageError("cdk.json's gateway:stackName is not a CloudFormation stack name; name the stack with --stack <name>.");
  return name;
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
