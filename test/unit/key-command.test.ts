/**
 * The key command's arguments and its changes to a record: clear errors for
 * bad input (exit status 2, nothing touched), and what create, update,
 * rotate and revoke do to a record.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyChanges, generateKey, KeyCommandError, newRecord, revokeRecord, rotateRecord } from "../../functions/cli/key-changes.ts";
import { parseKeyCommand, readCdkStackName } from "../../functions/cli/key-options.ts";
import { sha256Hex } from "../../functions/shared/access/key-record.ts";
import { runKeys } from "../support/key-command.ts";

const NOW = new Date("2026-11-29T10:00:00.000Z");
const FILE = { GATEWAY_KEYS_FILE: "/tmp/keys.json" };

describe("the command line", () => {
  it("reads a create with every option", () => {
    const command = parseKeyCommand(
      [
        "create", "team-a",
        "--requests-per-minute", "60", "--tokens-per-minute", "100000", "--tokens-per-day", "2000000",
        "--usd-per-day", "5", "--usd-per-month", "100.50",
        "--models", "gpt-4o, gpt-4.1*", "--providers", "OpenAI,mock", "--endpoints", "chat,Embeddings",
        "--expires", "2027-01-31", "--project", "proj_abc", "--json",
      ],
      FILE,
      NOW,
    );
    expect(command).toEqual({
      name: "create",
      id: "team-a",
      location: { kind: "file", path: "/tmp/keys.json" },
      changes: {
        limits: { requestsPerMinute: 60, tokensPerMinute: 100_000, tokensPerDay: 2_000_000, usdPerDay: 5, usdPerMonth: 100.5 },
        permissions: { models: ["gpt-4o", "gpt-4.1*"], providers: ["openai", "mock"], endpoints: ["chat", "embeddings"] },
        expiresAt: "2027-01-31T00:00:00.000Z",
        project: "proj_abc",
      },
      graceMs: 86_400_000,
      json: true,
    });
  });

  it("finds the keys from --file, --table (with --region) or the environment", () => {
    expect(parseKeyCommand(["list", "--table", "AiGateway-StoreTable1-X", "--region", "eu-west-1"], {}, NOW)).toMatchObject({
      location: { kind: "table", tableName: "AiGateway-StoreTable1-X", region: "eu-west-1" },
    });
    expect(parseKeyCommand(["list"], { GATEWAY_KEYS_TABLE: "T-1x" }, NOW)).toMatchObject({ location: { kind: "table", tableName: "T-1x" } });
    // An option wins over the other variable.
    expect(parseKeyCommand(["list", "--file", "k.json"], { GATEWAY_KEYS_TABLE: "T-1x" }, NOW)).toMatchObject({ location: { kind: "file", path: "k.json" } });
    expect(parseKeyCommand(["rotate", "a", "--grace", "90m"], FILE, NOW)).toMatchObject({ graceMs: 5_400_000 });
    expect(parseKeyCommand(["rotate", "a", "--grace", "0"], FILE, NOW)).toMatchObject({ graceMs: 0 });
    expect(parseKeyCommand(["update", "a", "--usd-per-day", "none", "--models", "none"], FILE, NOW)).toMatchObject({
      changes: { limits: { usdPerDay: null }, permissions: { models: null } },
    });
    expect(parseKeyCommand(["--help"], {}, NOW)).toEqual({ name: "help" });
    expect(parseKeyCommand([], {}, NOW)).toEqual({ name: "help" });
  });

  it.each([
    [["frobnicate"], /Unknown command "frobnicate"\. Commands: create, list, show, update, rotate, revoke\./],
    [["create"], /create needs a key id: npm run keys -- create <id>\./],
    [["create", "team a"], /A key id is 1-64 characters/],
    [["create", "a", "b"], /Unexpected argument "b"/],
    [["list", "a"], /list takes no key id/],
    [["create", "a", "--colour", "red"], /Unknown option '--colour'/],
    [["create", "a", "--requests-per-minute", "1.5"], /--requests-per-minute must be a positive whole number, or none/],
    [["create", "a", "--tokens-per-day", "0"], /--tokens-per-day must be a positive whole number/],
    [["create", "a", "--usd-per-day=-3"], /--usd-per-day must be an amount of US dollars above 0 \(e\.g\. 5 or 0\.50\)/],
    [["create", "a", "--usd-per-day", "-3"], /Option '--usd-per-day' argument is ambiguous/],
    [["create", "a", "--usd-per-month", "$5"], /--usd-per-month must be an amount of US dollars/],
    [["create", "a", "--endpoints", "chat,telepathy"], /--endpoints: telepathy is not an endpoint family; families: chat, completions, responses, embeddings, moderations, models, .*audio/],
    [["create", "a", "--endpoints", "chat,admin"], /--endpoints: admin is not an endpoint family/],
    [["create", "a", "--models", ","], /--models must be a comma-separated list of names/],
    [["create", "a", "--expires", "next week"], /--expires must be an ISO date \(2026-12-31, midnight UTC\)/],
    [["create", "a", "--expires", "2026-01-01"], /--expires must be in the future \(2026-01-01T00:00:00\.000Z is past\)/],
    [["create", "a", "--grace", "1h"], /--grace applies to rotate only/],
    [["rotate", "a", "--grace", "5"], /--grace must be a duration like 24h/],
    [["rotate", "a", "--grace", "31d"], /at most 30d/],
    [["rotate", "a", "--models", "x"], /--models does not apply to rotate \(use update\)/],
    [["update", "a"], /update needs a change: any of --requests-per-minute/],
    [["revoke", "a", "--usd-per-day", "1"], /--usd-per-day does not apply to revoke/],
    [["list", "--table", "no spaces allowed"], /--table must be a DynamoDB table name/],
  ])("refuses %j with a clear message", (argv, message) => {
    expect(() => parseKeyCommand(argv, FILE, NOW)).toThrow(message);
  });

  it("without --file, --table or their variables, finds the table from the stack cdk.json names; --stack names another", () => {
    expect(parseKeyCommand(["list"], {}, NOW)).toMatchObject({ location: { kind: "stack", stackName: "AiGateway" } });
    expect(parseKeyCommand(["list", "--stack", "Team-Gw2", "--region", "eu-west-1"], {}, NOW)).toMatchObject({
      location: { kind: "stack", stackName: "Team-Gw2", region: "eu-west-1" },
    });
    // --stack wins over the variables, as an option does.
    expect(parseKeyCommand(["list", "--stack", "Team-Gw2"], { GATEWAY_KEYS_TABLE: "T-1x", GATEWAY_KEYS_FILE: "k.json" }, NOW)).toMatchObject({
      location: { kind: "stack", stackName: "Team-Gw2" },
    });
    expect(() => parseKeyCommand(["list", "--stack", "2fast"], {}, NOW)).toThrow(/--stack must be a CloudFormation stack name/);
    expect(() => parseKeyCommand(["list", "--stack", "A", "--table", "T-1x"], {}, NOW)).toThrow(/give --stack \(which finds the table\) or --file or --table, not two/);
    expect(() => parseKeyCommand(["list", "--file", "k.json", "--table", "T-1x"], {}, NOW)).toThrow(/give --file or --table, not both/);
  });

  it("reads the stack name from cdk.json's gateway:stackName, as the deploy does", () => {
    const dir = mkdtempSync(join(tmpdir(), "cdk-json-"));
    const write = (text: string) => {
      const path = join(dir, `cdk-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(path, text);
      return path;
    };
    expect(readCdkStackName(write(JSON.stringify({ app: "node infra/app.ts", context: { "gateway:stackName": "TeamGateway" } })))).toBe("TeamGateway");
    expect(readCdkStackName(write(JSON.stringify({ context: {} })))).toBe("AiGateway");
    expect(readCdkStackName(join(dir, "absent.json"))).toBe("AiGateway");
    expect(() => readCdkStackName(write("{ not json"))).toThrow(/cdk\.json is not valid JSON .*--stack <name>/);
    expect(() => readCdkStackName(write(JSON.stringify({ context: { "gateway:stackName": "no spaces" } })))).toThrow(/gateway:stackName is not a CloudFormation stack name/);
  });

  it("answers bad usage with status 2 and a hint on stderr, touching nothing", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "keys-")), "keys.json");
    const run = await runKeys({ GATEWAY_KEYS_FILE: path }, "create", "a", "--usd-per-day", "lots");
    expect(run).toMatchObject({ status: 2, stdout: "" });
    expect(run.stderr).toBe(
      "keys: --usd-per-day must be an amount of US dollars above 0 (e.g. 5 or 0.50), or none to remove the budget.\nRun npm run keys -- --help for the commands and options.\n",
    );
    expect(existsSync(path)).toBe(false);
    const help = await runKeys({}, "--help");
    expect(help.status).toBe(0);
    for (const option of ["--requests-per-minute", "--tokens-per-minute", "--tokens-per-day", "--usd-per-day", "--usd-per-month", "--models", "--providers", "--endpoints", "--expires", "--project", "--grace", "--table", "--file", "--stack", "--region", "--json"]) {
      expect(help.stdout).toContain(option);
    }
  });
});

describe("changes to a record", () => {
  const generated = generateKey(NOW);

  it("a generated key is gw- and 43 base64url characters; the record keeps its hash and prefix only", () => {
    expect(generated.key).toMatch(/^gw-[A-Za-z0-9_-]{43}$/);
    expect(generated.secret).toEqual({ sha256: sha256Hex(generated.key), prefix: generated.key.slice(0, 10), createdAt: NOW.toISOString() });
    expect(JSON.stringify(newRecord("a", {}, generated, NOW))).not.toContain(generated.key);
    expect(generateKey(NOW).key).not.toBe(generated.key);
  });

  it("update merges limits and permissions, and none removes them", () => {
    const record = newRecord("a", { limits: { usdPerDay: 5, requestsPerMinute: 10 }, permissions: { models: ["gpt-4o"] }, project: "p" }, generated, NOW);
    const later = new Date(NOW.getTime() + 1_000);
    const changed = applyChanges(record, { limits: { usdPerDay: null, tokensPerDay: 7 }, permissions: { models: null, endpoints: ["chat"] }, project: null }, later);
    expect(changed).toEqual({ ...record, updatedAt: later.toISOString(), limits: { requestsPerMinute: 10, tokensPerDay: 7 }, permissions: { endpoints: ["chat"] }, project: undefined });
    expect("project" in changed).toBe(false);
    expect(applyChanges(changed, { permissions: { endpoints: null } }, later).permissions).toBeUndefined();
  });

  it("rotation puts the new key first and retires the old one after the grace period; keys past theirs are dropped", () => {
    const record = newRecord("a", {}, generated, NOW);
    const second = generateKey(NOW);
    const rotated = rotateRecord(record, second, 3_600_000, NOW);
    expect(rotated.secrets).toEqual([second.secret, { ...generated.secret, retiresAt: "2026-11-29T11:00:00.000Z" }]);
    const third = generateKey(NOW);
    const twoHoursLater = new Date(NOW.getTime() + 2 * 3_600_000);
    expect(rotateRecord(rotated, third, 60_000, twoHoursLater).secrets.map((secret) => secret.sha256)).toEqual([third.secret.sha256, second.secret.sha256]);
    expect(rotateRecord(record, second, 0, NOW).secrets).toEqual([second.secret]);
  });

  it("a revoked key cannot be revoked again or rotated", () => {
    const revoked = revokeRecord(newRecord("a", {}, generated, NOW), NOW);
    expect(revoked.revokedAt).toBe(NOW.toISOString());
    expect(() => revokeRecord(revoked, NOW)).toThrow(KeyCommandError);
    expect(() => rotateRecord(revoked, generateKey(NOW), 0, NOW)).toThrow(/Gateway key a is revoked; create a key with a new id instead\./);
  });
});
