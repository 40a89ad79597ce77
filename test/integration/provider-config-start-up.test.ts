/**
 * `npm start` refuses an invalid provider or route entry at start-up, with a
 * message naming the entry and field and never a key.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const KEY = "gsk_start-up-secret-0123456789";

async function start(env: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["functions/local/server.ts"], { cwd: ROOT, env: { PATH: process.env.PATH, PORT: "0", ...env }, timeout: 20_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe("npm start with an invalid provider or route", () => {
  it("stops at start-up naming the provider entry and field, without the key", async () => {
    const { code, output } = await start({ GATEWAY_PROVIDERS: JSON.stringify({ groq: { preset: "groq", apiKey: KEY, apiKeys: [KEY] } }) });
    expect(code).toBe(1);
    expect(output).toContain("GATEWAY_PROVIDERS.groq sets both apiKey and apiKeys");
    expect(output).not.toContain(KEY);
  });

  it("stops at start-up naming the route and target that name no provider", async () => {
    const { code, output } = await start({ GATEWAY_ROUTES: JSON.stringify({ smart: { targets: [{ provider: "openai" }, { provider: "groq" }] } }) });
    expect(code).toBe(1);
    expect(output).toContain("GATEWAY_ROUTES.smart.targets[1].provider names no configured provider");
  });
});
