/**
 * `npm run keys -- <command>`: manages the gateway's keys where they live,
 * the local key file (`--file`, GATEWAY_KEYS_FILE) or the stack's DynamoDB
 * table (`--table`, GATEWAY_KEYS_TABLE), with the caller's AWS credentials.
 * Without either, the table is the deployed stack's `KeyTableName` output
 * (`--stack`, by default cdk.json's `gateway:stackName`).
 *
 *   npm run keys -- create team-a --usd-per-day 5 --models 'gpt-4o*'
 *   npm run keys -- rotate team-a --grace 1h
 *
 * A new key is printed once, to stdout; the store keeps its SHA-256 and its
 * first characters only. Exit status: 0 done, 1 refused or failed, 2 bad usage.
 */
import type { KeyRecord } from "../shared/access/key-record.ts";
import type { KeyAdminStore } from "./key-admin-store.ts";
import { applyChanges, generateKey, KeyCommandError, newRecord, revokeRecord, rotateRecord } from "./key-changes.ts";
import { DEFAULT_GRACE_MS, DEFAULT_STACK_NAME, ENDPOINT_FAMILIES, parseKeyCommand, UsageError, type KeyCommand, type StoreLocation } from "./key-options.ts";
import { describeRecord, formatList, formatRecord, summarizeLimits } from "./key-output.ts";
import { createDynamoDbKeyAdmin } from "./dynamodb-key-admin.ts";
import { createFileKeyAdmin } from "./file-key-admin.ts";
import { findKeyTable, KEY_TABLE_OUTPUT } from "./stack-key-table.ts";

/** Where the command writes, and what it reads settings from. */
export interface KeyCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Opens the store a location names (tests may pass their own client). */
  readonly open?: (location: StoreLocation) => KeyAdminStore;
  readonly now?: () => Date;
  /** Bound of the stack lookup (default STACK_LOOKUP_TIMEOUT_MS; tests shorten it). */
  readonly stackLookupTimeoutMs?: number;
}

/** Runs one command line; returns the exit status. */
export async function runKeyCommand(argv: readonly string[], io: KeyCommandIo): Promise<number> {
  const now = io.now ?? (() => new Date());
  let command: KeyCommand;
  try {
    command = parseKeyCommand(argv, io.env, now());
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`keys: ${error.message}\nRun npm run keys -- --help for the commands and options.\n`);
    return 2;
  }
  if (command.name === "help") {
    io.stdout(HELP);
    return 0;
  }
  let location: StoreLocation;
  try {
    location = command.location.kind === "stack" ? await findKeyTable(command.location, io.stackLookupTimeoutMs) : command.location;
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof KeyCommandError)) throw error;
    io.stderr(`keys: ${error.message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
  const store = (io.open ?? openStore)(location);
  try {
    io.stdout(await execute(command, store, now()));
    return 0;
  } catch (error) {
    if (!(error instanceof KeyCommandError)) throw error;
    io.stderr(`keys: ${error.message}\n`);
    return 1;
  } finally {
    store.close();
  }
}

function openStore(location: StoreLocation): KeyAdminStore {
  return location.kind === "file" ? createFileKeyAdmin(location.path) : createDynamoDbKeyAdmin({ tableName: location.tableName, region: location.region });
}

async function execute(command: Exclude<KeyCommand, { name: "help" }>, store: KeyAdminStore, now: Date): Promise<string> {
  const id = command.id as string;
  const show = (record: KeyRecord) => (command.json ? json(describeRecord(record, now)) : formatRecord(record, now));
  switch (command.name) {
    case "list": {
      const records = await store.list();
      return command.json ? json(records.map((record) => describeRecord(record, now))) : formatList(records, now);
    }
    case "show": {
      const record = await store.get(id);
      if (record === undefined) throw new KeyCommandError(`No gateway key with id ${id} in the ${store.description}.`);
      return show(record);
    }
    case "create": {
      const generated = generateKey(now);
      const record = newRecord(id, command.changes, generated, now);
      await store.create(record);
      return command.json
        ? json({ ...describeRecord(record, now), key: generated.key })
        : `Created gateway key ${id} (${summarizeLimits(record.limits)}):\n\n    ${generated.key}\n\n${SHOWN_ONCE}`;
    }
    case "update":
      return show(await store.update(id, (record) => applyChanges(record, command.changes, now)));
    case "rotate": {
      const generated = generateKey(now);
      const record = await store.update(id, (current) => rotateRecord(current, generated, command.graceMs, now));
      const previous = record.secrets[1];
      const grace = previous === undefined ? "The previous key stopped working now." : `The previous key ${previous.prefix}… keeps working until ${previous.retiresAt}.`;
      return command.json
        ? json({ ...describeRecord(record, now), key: generated.key })
        : `Rotated gateway key ${id}. The new key:\n\n    ${generated.key}\n\n${grace}\n${SHOWN_ONCE}`;
    }
    case "revoke": {
      const record = await store.update(id, (current) => revokeRecord(current, now));
      return command.json
        ? json(describeRecord(record, now))
        : `Revoked gateway key ${id}. A gateway reading the ${store.description} refuses it within its key cache time (GATEWAY_KEYS_CACHE_TTL_SECONDS, 30 s by default; about a second for a key file).\n`;
    }
  }
}

const SHOWN_ONCE = "This is the only time the key is shown: keep it in your secret store now. The gateway keeps only its hash.\n";

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

const HELP = `Manage the gateway's keys.

Usage: npm run keys -- <command> [<id>] [options]

Commands:
  create <id>   create a key and print it (once); id: 1-64 of A-Z a-z 0-9 . _ -
  list          list the keys
  show <id>     show a key's settings
  update <id>   change a key's limits, budgets, permissions, expiry or project
  rotate <id>   issue a new key; the previous one keeps working for --grace
  revoke <id>   stop a key

Where the keys live (one of):
  --file <path>      a local key file, as npm start reads it (default: $GATEWAY_KEYS_FILE)
  --table <name>     the stack's DynamoDB key table (default: $GATEWAY_KEYS_TABLE)
  --stack <name>     the deployed stack whose ${KEY_TABLE_OUTPUT} output names the table (deploy with
                     -c gateway:keyManagement=true); without --file, --table or their variables:
                     cdk.json's gateway:stackName (${DEFAULT_STACK_NAME} unless changed)
  --region <region>  the table's or stack's AWS region (default: $AWS_REGION or your profile's)
The table and the stack are read with your AWS credentials (profile, environment or SSO).

Limits and budgets (create, update; "none" removes one):
  --requests-per-minute <n>   --tokens-per-minute <n>   --tokens-per-day <n>
  --usd-per-day <usd>         --usd-per-month <usd>     (spend from the price table, UTC day and month)

Permissions (create, update; comma-separated; "none" allows all):
  --models <names>      model names or globs, e.g. gpt-4o,gpt-4.1*
  --providers <names>   providers or routes, as the x-provider header names them
  --endpoints <names>   endpoint families: ${ENDPOINT_FAMILIES.join(", ")}

Other:
  --expires <date>      ISO date (midnight UTC) or date-time, e.g. 2026-12-31 ("none": never)
  --project <id>        provider project the key's calls go to (OpenAI-Project; "none": the gateway's)
  --grace <duration>    rotate: how long the previous key keeps working (default ${DEFAULT_GRACE_MS / 3_600_000}h; 0 stops it now)
  --json                print JSON (with npm, use npm run --silent keys -- …)
  -h, --help            this help
`;

if (import.meta.main) {
  runKeyCommand(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  }).then(
    (status) => {
      process.exitCode = status;
    },
    (error: unknown) => {
      process.stderr.write(`keys: unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
