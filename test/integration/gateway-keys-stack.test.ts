/**
 * `npm run keys` finding the key table from the deployed stack: the real
 * CloudFormation client reads the stack's KeyTableName output from a fake
 * CloudFormation on loopback (its query protocol), and the real DynamoDB
 * client writes that table in dynalite, both configured from the environment
 * as an operator's shell would be (AWS_ENDPOINT_URL_*, AWS_REGION, keys).
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKeyCommand } from "../../functions/cli/keys.ts";
import { sha256Hex } from "../../functions/shared/access/key-record.ts";
import { startFakeCloudFormation, type FakeCloudFormation } from "../support/fake-cloudformation.ts";
import { createKey, runKeys, runKeysJson } from "../support/key-command.ts";
import { startLocalDynamoDb, type LocalDynamoDb } from "../support/local-dynamodb.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The table of the stack cdk.json names (AiGateway), and of a second stack. */
const TABLE = "AiGateway-StoreTable1A2B3C-XYZ";
const OTHER_TABLE = "Other-StoreTable9Z-ABC";
const AWS_ENV = { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "AKIDLOCAL", AWS_SECRET_ACCESS_KEY: "local-secret" };
const saved: Record<string, string | undefined> = {};
let dynamo: LocalDynamoDb;
let cloudformation: FakeCloudFormation;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  await dynamo.createTable(TABLE);
  await dynamo.createTable(OTHER_TABLE);
  cloudformation = await startFakeCloudFormation({
    AiGateway: { GatewayUrl: "https://example.lambda-url.us-east-1.on.aws/", KeyTableName: TABLE, FunctionName: "AiGateway-Fn" },
    "Other-Gateway": { KeyTableName: OTHER_TABLE },
    "Plain-Gateway": { GatewayUrl: "https://plain.lambda-url.us-east-1.on.aws/" },
  });
  const env = { ...AWS_ENV, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_ENDPOINT_URL_CLOUDFORMATION: cloudformation.endpoint, GATEWAY_KEYS_FILE: undefined, GATEWAY_KEYS_TABLE: undefined };
  for (const [name, value] of Object.entries(env)) {
    saved[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await dynamo?.close();
  await cloudformation?.close();
});

/** Every item of a table, as JSON text. */
async function tableText(table: string): Promise<string> {
  const { Items } = await dynamo.client().send(new ScanCommand({ TableName: table }));
  return JSON.stringify(Items ?? []);
}

describe("the key command finds the table from the stack output", () => {
  it("with no --file, --table or their variables: cdk.json's stack, AiGateway; create a key there, then list it", async () => {
    const callsBefore = cloudformation.calls.length;
    const key = await createKey({}, "stack-team", "--usd-per-day", "5");
    expect(cloudformation.calls.slice(callsBefore)).toEqual([{ stackName: "AiGateway", region: "us-east-1", signed: true }]);
    const items = await tableText(TABLE);
    expect(items).toContain(`key:hash:${sha256Hex(key)}`);
    expect(items).not.toContain(key);

    const listed = await runKeysJson<{ id: string; limits: Record<string, number> }[]>({}, "list");
    expect(listed).toEqual([expect.objectContaining({ id: "stack-team", limits: { usdPerDay: 5 } })]);
    const revoked = await runKeys({}, "revoke", "stack-team");
    expect(revoked).toMatchObject({ status: 0, stderr: "" });
    expect(revoked.stdout).toContain(`A gateway reading the table ${TABLE} refuses it`);
  });

  it("--stack <name> names another stack, and wins over GATEWAY_KEYS_TABLE; --region is the region it is signed for", async () => {
    const callsBefore = cloudformation.calls.length;
    await createKey({ GATEWAY_KEYS_TABLE: TABLE }, "other-team", "--stack", "Other-Gateway", "--region", "eu-west-2");
    expect(cloudformation.calls.slice(callsBefore)).toEqual([{ stackName: "Other-Gateway", region: "eu-west-2", signed: true }]);
    expect(await tableText(OTHER_TABLE)).toContain('"other-team"');
    expect(await tableText(TABLE)).not.toContain('"other-team"');
    const listed = await runKeysJson<{ id: string }[]>({}, "list", "--stack", "Other-Gateway");
    expect(listed.map((entry) => entry.id)).toEqual(["other-team"]);
  });

  it("--table or GATEWAY_KEYS_TABLE still name the table without asking CloudFormation", async () => {
    const callsBefore = cloudformation.calls.length;
    expect((await runKeysJson<unknown[]>({ GATEWAY_KEYS_TABLE: OTHER_TABLE }, "list")).length).toBe(1);
    expect((await runKeysJson<unknown[]>({}, "list", "--table", OTHER_TABLE)).length).toBe(1);
    expect(cloudformation.calls.length).toBe(callsBefore);
  });

  it("a stack that does not exist, or keeps no keys, is bad usage (status 2) that says what to do, and writes nothing", async () => {
    const before = await tableText(TABLE);
    const missing = await runKeys({}, "create", "nobody", "--stack", "Missing-Stack");
    expect(missing).toMatchObject({ status: 2, stdout: "" });
    expect(missing.stderr).toBe(
      "keys: No stack Missing-Stack in us-east-1 (Stack with id Missing-Stack does not exist). Give the deployed stack's name with --stack <name> and its region with --region <region>, or the table with --table <name>.\n",
    );
    const plain = await runKeys({}, "create", "nobody", "--stack", "Plain-Gateway");
    expect(plain).toMatchObject({ status: 2, stdout: "" });
    expect(plain.stderr).toBe(
      "keys: The stack Plain-Gateway (us-east-1) has no KeyTableName output: it keeps no gateway keys. Deploy it with key management on: npx cdk deploy -c gateway:keyManagement=true, or give --table <name> or --file <path>.\n",
    );
    expect(await tableText(TABLE)).toBe(before);
  });

  it("a CloudFormation that does not answer ends the command within its bound (status 1), touching nothing", async () => {
    cloudformation.hang = true;
    try {
      const started = Date.now();
      let stdout = "";
      let stderr = "";
      const io = { stdout: (text: string) => void (stdout += text), stderr: (text: string) => void (stderr += text), env: {}, stackLookupTimeoutMs: 1_000 };
      const status = await Promise.race([
        runKeyCommand(["create", "held"], io),
        new Promise<string>((resolve) => setTimeout(() => resolve("still waiting"), 15_000)),
      ]);
      expect(status).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(stdout).toBe("");
      expect(stderr).toBe("keys: CloudFormation did not answer within 1 s looking up the stack AiGateway in us-east-1; try again, or give --table <name>.\n");
    } finally {
      cloudformation.hang = false;
    }
  });
});

describe("npm run keys as its own process", () => {
  const run = promisify(execFile);
  /** An operator's shell: no profile, no instance metadata to fall back on. */
  const shell = (env: Record<string, string>) => ({
    PATH: process.env.PATH ?? "",
    HOME: mkdtempSync(join(tmpdir(), "keys-home-")),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_CLOUDFORMATION: cloudformation.endpoint,
    ...env,
  });

  it("finds the table through the stack with the caller's credentials and AWS_REGION", async () => {
    await createKey({ GATEWAY_KEYS_TABLE: TABLE }, "process-team");
    const callsBefore = cloudformation.calls.length;
    const { stdout, stderr } = await run("npm", ["run", "--silent", "keys", "--", "show", "process-team", "--json"], {
      cwd: ROOT,
      env: shell({ ...AWS_ENV, AWS_REGION: "eu-central-1" }),
    });
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toMatchObject({ id: "process-team", status: "active" });
    expect(cloudformation.calls.slice(callsBefore)).toEqual([{ stackName: "AiGateway", region: "eu-central-1", signed: true }]);
  });

  it("without AWS credentials says so, with status 2", async () => {
    const callsBefore = cloudformation.calls.length;
    const failed = await run(process.execPath, ["functions/cli/keys.ts", "list"], { cwd: ROOT, env: shell({ AWS_REGION: "us-east-1" }) }).catch(
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 2, stdout: "" });
    expect(failed.stderr).toMatch(
      /^keys: No AWS credentials to read the stack AiGateway \(Could not load credentials from any providers\)\. The command uses yours: a profile \(AWS_PROFILE\), the environment or SSO \(aws sso login\)\.\n$/,
    );
    expect(cloudformation.calls.length).toBe(callsBefore);
  });

  it("without a region says so, with status 2", async () => {
    const failed = await run(process.execPath, ["functions/cli/keys.ts", "list"], { cwd: ROOT, env: shell({ AWS_ACCESS_KEY_ID: "AKIDLOCAL", AWS_SECRET_ACCESS_KEY: "local-secret" }) }).catch(
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 2, stdout: "", stderr: "keys: No AWS region: give --region <region>, set AWS_REGION, or set a region in your AWS profile.\n" });
  });
});
