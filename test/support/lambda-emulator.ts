/**
 * Runs a Lambda bundle under the real aws-lambda-ric (Runtime API emulator on
 * 127.0.0.1) behind an emulated Function URL. See ./lambda/ for the protocol
 * details.
 *
 * CLI: node test/support/lambda-emulator.ts --task-root DIR --handler index.handler [--port 3001] [--timeout-ms 60000]
 * (the function process gets this process's environment on top of the Lambda variables).
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { StringDecoder } from "node:string_decoder";
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { RuntimeApiServer } from "./lambda/runtime-api.ts";
import { ACCOUNT_ID, createFunctionUrlServer } from "./lambda/function-url.ts";
import type { CpuLimit } from "./cpu-limit.ts";
import { processCpuMs } from "./process-cpu.ts";

export interface FunctionUrlEmulatorOptions {
  /** Folder holding the bundled handler file (LAMBDA_TASK_ROOT). */
  taskRoot: string;
  /** _HANDLER value, e.g. "index.handler" (file index.mjs, export handler). */
  handler: string;
  /** Extra environment for the function process (merged over a minimal base env; do not leak the test process's whole env except PATH/HOME). */
  env?: Record<string, string>;
  /** Function timeout in ms (default 60000). */
  timeoutMs?: number;
  /** Port of the Function URL front (default: random free port). */
  port?: number;
  /** AWS_LAMBDA_FUNCTION_NAME (default "llm-gateway-emulated"). */
  functionName?: string;
  /** Max time for the runtime to initialise and ask for its first invocation (default 10000, Lambda's init limit). */
  initTimeoutMs?: number;
  /** Called for every log line as it arrives (the line is also pushed to `logs`). */
  onLog?: (line: string, stream: "stdout" | "stderr") => void;
  /** AWS_LAMBDA_FUNCTION_MEMORY_SIZE and the heap flags Lambda derives from it (default 1024). */
  memoryMb?: number;
  /**
   * Lambda Managed Instances mode: sets AWS_LAMBDA_MAX_CONCURRENCY, so the runtime starts its worker
   * threads, and lets the Runtime API run this many invocations at once (default: one at a time).
   */
  maxConcurrency?: number;
  /** Runs the runtime process inside this CPU limit (see cpu-limit.ts). */
  cpuLimit?: CpuLimit;
  /** Node options put before the runtime's entry point (e.g. --cpu-prof). */
  nodeArgs?: readonly string[];
}

export interface FunctionUrlEmulator {
  /** Base URL of the emulated Function URL, e.g. http://127.0.0.1:PORT (no trailing slash). */
  readonly url: string;
  /** Every line the function process wrote to stdout and stderr so far (EMF metrics and logs land here). */
  readonly logs: string[];
  /** Milliseconds from spawning the runtime process until it first called /runtime/invocation/next. */
  readonly readyMs: number;
  /** CPU time (user + system, ms) the runtime process had used when it first called /next; NaN where /proc is missing. */
  readonly readyCpuMs: number;
  /** PID of the runtime process (for memory measurements). */
  readonly pid: number;
  /** Request ids (`x-amzn-requestid`) of invocations whose client went away before the response ended, in order. */
  readonly clientsGone: readonly string[];
  close(): Promise<void>;
}

const DEFAULT_MEMORY_MB = 1024;

/** Walks up from this file to the folder whose node_modules holds aws-lambda-ric. */
function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "node_modules", "aws-lambda-ric", "index.mjs"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("lambda-emulator: node_modules/aws-lambda-ric not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

function captureLines(stream: NodeJS.ReadableStream | null, name: "stdout" | "stderr", sink: (line: string, stream: "stdout" | "stderr") => void): void {
  if (!stream) return;
  const decoder = new StringDecoder("utf8");
  let partial = "";
  const emit = (text: string) => {
    partial += text;
    let nl = partial.indexOf("\n");
    while (nl >= 0) {
      sink(partial.slice(0, nl), name);
      partial = partial.slice(nl + 1);
      nl = partial.indexOf("\n");
    }
  };
  stream.on("data", (chunk: Buffer) => emit(decoder.write(chunk)));
  stream.on("end", () => {
    emit(decoder.end());
    if (partial) sink(partial, name);
    partial = "";
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolvePromise) => {
    if (!server.listening) return resolvePromise();
    server.close(() => resolvePromise());
    server.closeAllConnections();
  });
}

export async function startFunctionUrlEmulator(options: FunctionUrlEmulatorOptions): Promise<FunctionUrlEmulator> {
  const root = findProjectRoot();
  const nodeBin = realpathSync(join(root, "node_modules", ".bin", "node"));
  const ricEntry = join(root, "node_modules", "aws-lambda-ric", "index.mjs");
  const taskRoot = resolve(options.taskRoot);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const functionName = options.functionName ?? "llm-gateway-emulated";
  const memoryMb = options.memoryMb ?? DEFAULT_MEMORY_MB;
  const apiId = randomBytes(16).toString("hex").slice(0, 32);
  const logs: string[] = [];

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let readyResolve!: () => void;
  let readyReject!: (err: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  let initError: string | null = null;
  let spawnedAt = 0;
  let readyAt = 0;
  let readyCpuMs = Number.NaN;

  const runtimeApi = new RuntimeApiServer({
    functionArn: `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:${functionName}`,
    timeoutMs,
    maxConcurrency: options.maxConcurrency,
    onReady: () => {
      readyAt = performance.now();
      if (child?.pid !== undefined) readyCpuMs = processCpuMs(child.pid);
      readyResolve();
    },
    onInitError: (errorType, body) => {
      initError = `${errorType}: ${body}`;
    },
    onTimeout: () => {
      // Lambda kills the sandbox after a timeout; this emulator does not restart it.
      child?.kill("SIGKILL");
    },
  });
  const clientsGone: string[] = [];
  const front = createFunctionUrlServer({
    apiId,
    enqueue: (requestId, event, sink) => runtimeApi.enqueue(requestId, event, sink),
    onClientGone: (requestId) => clientsGone.push(requestId),
  });

  const cleanup = async () => {
    // Kill first, so the runtime does not log a failed /next when its long-poll is cut.
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    await Promise.all([runtimeApi.close(), closeServer(front)]);
    // libuv finishes closing handles in its close-callback phase: let that run before resolving.
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 0));
  };

  try {
    const runtimePort = await runtimeApi.listen();
    await new Promise<void>((res, rej) => {
      front.once("error", rej);
      front.listen(options.port ?? 0, "127.0.0.1", () => res());
    });

    // Same heap flags as Lambda's Node.js bootstrap derives from the memory size.
    const newSpace = Math.floor(memoryMb / 10);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
      LANG: "en_US.UTF-8",
      TZ: "UTC",
      AWS_REGION: "us-east-1",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
      ...(options.maxConcurrency === undefined ? {} : { AWS_LAMBDA_MAX_CONCURRENCY: String(options.maxConcurrency) }),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replace(/-/g, "/")}/[$LATEST]${randomBytes(16).toString("hex")}`,
      ...options.env,
      // Plumbing the runtime needs; not overridable.
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${runtimePort}`,
      LAMBDA_TASK_ROOT: taskRoot,
      _HANDLER: options.handler,
    };
    const nodeArgs = [
      "--expose-gc",
      "--max-http-header-size",
      "81920",
      `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
      `--max-old-space-size=${memoryMb - newSpace}`,
      ...(options.nodeArgs ?? []),
      ricEntry,
      options.handler,
    ];
    const command = options.cpuLimit?.wrap(nodeBin, nodeArgs) ?? { command: nodeBin, args: nodeArgs };
    spawnedAt = performance.now();
    const proc = spawn(command.command, command.args, { cwd: taskRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    exited = new Promise<void>((res) => {
      proc.once("close", () => res());
      proc.once("error", () => res()); // spawn failure: no "close" is guaranteed
    });
    const onLine = (line: string, stream: "stdout" | "stderr") => {
      logs.push(line);
      options.onLog?.(line, stream);
    };
    captureLines(proc.stdout, "stdout", onLine);
    captureLines(proc.stderr, "stderr", onLine);
    proc.once("error", (err) => readyReject(err));
    proc.once("exit", (code, signal) => {
      const reason = `runtime process exited (${signal ?? `code ${code}`})`;
      runtimeApi.markDead(reason);
      readyReject(new Error(`${initError ? `Init error ${initError}; ` : ""}${reason} before its first /next. Logs:\n${logs.slice(-30).join("\n")}`));
    });

    const initTimeoutMs = options.initTimeoutMs ?? 10_000;
    let initTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      ready,
      new Promise<never>((_, rej) => {
        initTimer = setTimeout(() => rej(new Error(`runtime did not call /next within ${initTimeoutMs} ms. Logs:\n${logs.slice(-30).join("\n")}`)), initTimeoutMs);
      }),
    ]).finally(() => clearTimeout(initTimer));
    const readyMs = readyAt - spawnedAt;
    const pid = proc.pid ?? -1;
    const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;

    let closing: Promise<void> | null = null;
    return {
      url,
      logs,
      readyMs,
      readyCpuMs,
      pid,
      clientsGone,
      close: () => (closing ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "task-root": { type: "string" },
      handler: { type: "string", default: "index.handler" },
      port: { type: "string", default: "3001" },
      "timeout-ms": { type: "string", default: "60000" },
    },
  });
  if (!values["task-root"]) {
    console.error("usage: node test/support/lambda-emulator.ts --task-root DIR [--handler index.handler] [--port 3001] [--timeout-ms 60000]");
    process.exit(2);
  }
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  const emulator = await startFunctionUrlEmulator({
    taskRoot: values["task-root"],
    handler: values.handler,
    port: Number(values.port),
    timeoutMs: Number(values["timeout-ms"]),
    env,
    onLog: (line, stream) => (stream === "stdout" ? process.stdout : process.stderr).write(line + "\n"),
  });
  console.log(`Function URL emulator listening on ${emulator.url} (runtime pid ${emulator.pid}, ready in ${emulator.readyMs.toFixed(0)} ms)`);
  const stop = () => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
