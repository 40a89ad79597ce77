/**
 * The key command (`npm run keys`) run in-process for tests, as an operator
 * runs it, with its output captured; and waiting for a gateway to see what it
 * changed.
 */
import { expect } from "vitest";
import { runKeyCommand } from "../../functions/cli/keys.ts";

/** What one run printed, and its exit status. */
export interface KeyCommandRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run keys -- …argv` with `env` (GATEWAY_KEYS_FILE or GATEWAY_KEYS_TABLE) in this process. */
export async function runKeys(env: Record<string, string>, ...argv: string[]): Promise<KeyCommandRun> {
  let stdout = "";
  let stderr = "";
  const status = await runKeyCommand(argv, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    env,
  });
  return { status, stdout, stderr };
}

/** Runs a command that must succeed with `--json`, and returns what it printed, parsed. */
export async function runKeysJson<T = Record<string, unknown>>(env: Record<string, string>, ...argv: string[]): Promise<T> {
  const run = await runKeys(env, ...argv, "--json");
  expect(run, run.stderr).toMatchObject({ status: 0, stderr: "" });
  return JSON.parse(run.stdout) as T;
}

/** Creates a key and returns it (the only time it is shown). */
export async function createKey(env: Record<string, string>, id: string, ...options: string[]): Promise<string> {
  const created = await runKeysJson<{ id: string; key: string }>(env, "create", id, ...options);
  expect(created.id).toBe(id);
  expect(created.key).toMatch(/^gw-[A-Za-z0-9_-]{43}$/);
  return created.key;
}

/**
 * Calls `probe` until `done` holds for its result (at most `timeoutMs`), and returns that result:
 * for changes a gateway sees after its key file check or its key cache TTL.
 */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
