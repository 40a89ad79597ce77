/**
 * `npm start` with GATEWAY_KEYS_FILE and `npm run keys`, each as its own
 * process, as an operator runs them: the gateway follows the key file the
 * command writes, and no whole key is ever on disk or in a line either
 * process logs (the command prints a new key once, to stdout, by design).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchText } from "../support/fetch.ts";
import { useFakeUpstream } from "../support/gateway-fixture.ts";
import { eventually } from "../support/key-command.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PROVIDER_KEY = "sk-provider-in-the-environment";
const dir = mkdtempSync(join(tmpdir(), "gateway-keys-process-"));
const KEYS_FILE = join(dir, "keys.json");
const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Hello!" }] };

const fake = useFakeUpstream({ requireAuth: `Bearer ${PROVIDER_KEY}` });
let server: ChildProcess;
let baseURL: string;
/** Every line the gateway process wrote, stdout and stderr. */
const gatewayLines: string[] = [];
/** Everything the command wrote, but the keys it was asked to print. */
const commandOutput: string[] = [];
/** Every key the command made. */
const keys: string[] = [];

const execFileAsync = promisify(execFile);

/** `npm run keys -- …argv` (through npm for `create`, the script directly otherwise, as it is the same), expecting success. */
async function keysCommand(viaNpm: boolean, ...argv: string[]): Promise<string> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, GATEWAY_KEYS_FILE: KEYS_FILE };
  const { stdout, stderr } = viaNpm
    ? await execFileAsync("npm", ["run", "--silent", "keys", "--", ...argv], { cwd: ROOT, env })
    : await execFileAsync(process.execPath, ["functions/cli/keys.ts", ...argv], { cwd: ROOT, env });
  commandOutput.push(stderr);
  const key = /"key": "(gw-[^"]+)"/.exec(stdout)?.[1];
  if (key !== undefined) keys.push(key);
  commandOutput.push(key === undefined ? stdout : stdout.replace(key, "<the key>"));
  return key ?? stdout;
}

function client(key: string): OpenAI {
  return new OpenAI({ apiKey: key, baseURL, maxRetries: 0, defaultHeaders: { "x-provider": "openai" } });
}

async function chatStatus(key: string): Promise<number> {
  return client(key)
    .chat.completions.create(chat)
    .then(
      () => 200,
      (error: { status: number }) => error.status,
    );
}

beforeAll(async () => {
  server = spawn(process.execPath, ["functions/local/server.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: "0", OPENAI_BASE_URL: fake.upstream.baseUrl, OPENAI_API_KEY: PROVIDER_KEY, GATEWAY_KEYS_FILE: KEYS_FILE },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [server.stdout, server.stderr]) stream?.on("data", (chunk: Buffer) => gatewayLines.push(...chunk.toString().split("\n").filter(Boolean)));
  const ready = await eventually(async () => gatewayLines.find((line) => line.includes("listening on")), (line) => line !== undefined, 20_000);
  baseURL = `${/listening on (\S+)/.exec(ready ?? "")?.[1]}/`;
});

afterAll(async () => {
  if (server?.exitCode === null) {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
});

describe("npm start with GATEWAY_KEYS_FILE, and npm run keys", () => {
  it("says where its keys live, takes a new key, a rotated one and a revocation as the file changes", async () => {
    const ready = gatewayLines.find((line) => line.includes("listening on"));
    expect(ready).toContain(`keys: key file ${KEYS_FILE})`);
    const first = await keysCommand(true, "create", "team-a", "--json", "--usd-per-day", "5");
    expect(await eventually(() => chatStatus(first), (status) => status === 200)).toBe(200);
    const stream = await client(first).chat.completions.create({ ...chat, stream: true });
    for await (const _ of stream);
    const info = await fetchText(`${baseURL}gateway/key`, { headers: { authorization: `Bearer ${first}` } });
    expect(JSON.parse(info.text)).toMatchObject({ id: "team-a", budgets: { usd_per_day: { limit: 5 } } });

    const second = await keysCommand(false, "rotate", "team-a", "--json", "--grace", "1h");
    expect(await eventually(() => chatStatus(second), (status) => status === 200)).toBe(200);
    expect(await chatStatus(first)).toBe(200);
    await keysCommand(false, "update", "team-a", "--models", "gpt-4o*");
    await keysCommand(false, "list");
    await keysCommand(false, "show", "team-a", "--json");
    await keysCommand(false, "revoke", "team-a");
    expect(await eventually(() => chatStatus(second), (status) => status === 401)).toBe(401);
    expect(await chatStatus(first)).toBe(401);
    expect(await chatStatus(`gw-${"z".repeat(43)}`)).toBe(401);
    // The gateway names the key by its id.
    expect(gatewayLines.filter((line) => line.includes("POST /v1/chat/completions") && line.includes(" 200 ")).every((line) => line.includes("key=team-a"))).toBe(true);
  });

  it("no whole key, nor its random part, is on disk or in any line the gateway or the command logged", async () => {
    expect(keys).toHaveLength(2);
    const files = readdirSync(dir).map((name) => readFileSync(join(dir, name), "utf8"));
    expect(files.length).toBeGreaterThan(0);
    const haystacks = { disk: files.join("\n"), gateway: gatewayLines.join("\n"), command: commandOutput.join("\n") };
    expect(haystacks.gateway).toContain("key=team-a");
    for (const key of keys) {
      for (const [where, text] of Object.entries(haystacks)) {
        expect(text.includes(key), `${where} holds a key`).toBe(false);
        expect(text.includes(key.slice(10)), `${where} holds a key's secret part`).toBe(false);
      }
    }
    // The provider never saw a gateway key either.
    expect(fake.upstream.requests.every((request) => request.headers.authorization === `Bearer ${PROVIDER_KEY}`)).toBe(true);
  });
});
