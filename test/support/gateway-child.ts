/**
 * The local gateway in a child process of its own, so a test can measure the
 * gateway's memory apart from its own (clients, upstream, hashes).
 *
 * Run with `node --expose-gc test/support/gateway-child.ts` and an IPC channel;
 * the gateway is configured from the environment like `npm start`. Messages:
 * - child → parent `{ type: "ready", url }` once listening;
 * - parent → child `{ type: "stats" }` → `{ type: "stats", memory, outcomes, statuses, requests }`,
 *   measured after two full garbage collections.
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import { startLocalServer } from "../../functions/local/server.ts";
import { loadConfig } from "../../functions/shared/config/config.ts";

/** What the child reports. */
export interface GatewayChildStats {
  readonly memory: NodeJS.MemoryUsage;
  /** V8's own view: committed heap (total_physical_size), malloc'ed memory, and so on. */
  readonly heap: v8.HeapInfo;
  readonly requests: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly statuses: Readonly<Record<string, number>>;
}

/** A running gateway child process. */
export interface GatewayChild {
  /** e.g. http://127.0.0.1:PORT */
  readonly url: string;
  readonly pid: number;
  /** Memory (after GC) and the requests logged so far. */
  stats(): Promise<GatewayChildStats>;
  close(): Promise<void>;
}

/** Forks the gateway with `env` (on top of PATH and HOME only) and extra Node flags. */
export async function startGatewayChild(env: Record<string, string>, nodeFlags: readonly string[] = []): Promise<GatewayChild> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ["--expose-gc", ...nodeFlags],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env, GATEWAY_CHILD: "1" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [ready] = (await Promise.race([
    once(child, "message"),
    once(child, "exit").then(([code]) => {
      throw new Error(`gateway child exited with ${String(code)} before it was ready`);
    }),
  ])) as [{ type: string; url: string }];
  return {
    url: ready.url,
    pid: child.pid ?? -1,
    async stats() {
      const reply = once(child, "message") as Promise<[GatewayChildStats & { type: string }]>;
      child.send({ type: "stats" });
      const [stats] = await reply;
      return stats;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function main(): Promise<void> {
  const outcomes: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  let requests = 0;
  const server = await startLocalServer({
    config: loadConfig(),
    server: { host: "127.0.0.1", port: 0 },
    onRequest: (summary) => {
      requests += 1;
      outcomes[summary.outcome] = (outcomes[summary.outcome] ?? 0) + 1;
      statuses[summary.status] = (statuses[summary.status] ?? 0) + 1;
    },
  });
  process.on("message", (message: { type?: string }) => {
    if (message.type !== "stats") return;
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    process.send?.({ type: "stats", memory: process.memoryUsage(), heap: v8.getHeapStatistics(), requests, outcomes, statuses });
  });
  process.once("SIGTERM", () => {
    void server.close(500).then(() => process.exit(0));
  });
  process.send?.({ type: "ready", url: server.url });
}

if (process.env.GATEWAY_CHILD === "1" && process.send !== undefined) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
