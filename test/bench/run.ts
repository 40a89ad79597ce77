/**
 * `npm run bench`: what the gateway adds, measured side by side.
 *
 * Starts a lean fake upstream on loopback and measures, in one run:
 * - direct vs through the local gateway (`npm start`'s server, in its own
 *   process): non-streamed chat latency p50/p99 at concurrency 1 and 32, and
 *   requests per second at 32;
 * - streamed chat: added time to first chunk and added delay per chunk
 *   (upstream send time to client receive time);
 * - the same through the Lambda bundle under aws-lambda-ric (one invocation
 *   at a time, as in one execution environment);
 * - cold start: bundle size, process start to ready, first request, resident
 *   memory after 1,000 requests.
 * Prints a table and writes the figures to test/bench/results/latest.json.
 * Not a test: it does not run in CI. `BENCH_CPU_PROF=1` profiles the gateway.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { synthesizeGatewayBundle } from "../support/lambda-bundle.ts";
import { startFunctionUrlEmulator, type FunctionUrlEmulator } from "../support/lambda-emulator.ts";
import { percentile, runLoad, timedChat, timedStream } from "./bench-client.ts";
import { startBenchUpstream, type BenchUpstream } from "./bench-upstream.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const QUICK = process.env.BENCH_QUICK === "1";
const SEQUENTIAL = QUICK ? 500 : 3_000;
const CONCURRENT = QUICK ? 2_000 : 10_000;
const STREAMS = Number(process.env.BENCH_STREAMS ?? (QUICK ? 10 : 40));
const STREAM_CHUNKS = 50;
const STREAM_INTERVAL_MS = 5;

type Row = Record<string, number | string>;
const results: Record<string, Row> = {};

async function startLocalGateway(upstream: BenchUpstream): Promise<{ url: string; process: ChildProcess }> {
  const args = process.env.BENCH_CPU_PROF === "1" ? ["--cpu-prof", "--cpu-prof-dir", join(ROOT, "test/bench/results")] : [];
  args.push(...(process.env.BENCH_GATEWAY_NODE_FLAGS ?? "").split(" ").filter(Boolean));
  const child = spawn(process.execPath, [...args, "functions/local/server.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: "0", OPENAI_BASE_URL: upstream.baseUrl },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.once("data", (data: Buffer) => {
      const match = /listening on (http:\/\/[\d.:]+)\/v1/.exec(data.toString());
      if (match?.[1] === undefined) reject(new Error(`unexpected output: ${data.toString()}`));
      else resolve(match[1]);
    });
  });
  child.stdout?.resume(); // one log line per request: keep the pipe drained
  return { url: `${url}/v1`, process: child };
}

async function measureChat(name: string, baseUrl: string, concurrencies: readonly number[]): Promise<void> {
  await runLoad(() => timedChat(baseUrl), 300, 8); // warm-up: connections, JIT
  const row: Row = {};
  for (const concurrency of concurrencies) {
    const total = concurrency === 1 ? SEQUENTIAL : CONCURRENT;
    const { latencies, seconds } = await runLoad(() => timedChat(baseUrl), total, concurrency);
    row[`c${concurrency}_p50_ms`] = percentile(latencies, 50);
    row[`c${concurrency}_p99_ms`] = percentile(latencies, 99);
    row[`c${concurrency}_rps`] = Math.round(total / seconds);
  }
  results[`chat_${name}`] = row;
}

async function measureStreams(name: string, baseUrl: string, upstream: BenchUpstream): Promise<void> {
  const firstChunks: number[] = [];
  const firstChunkDelays: number[] = [];
  const raw: number[][] = [];
  const delays: number[] = [];
  for (let index = 0; index < STREAMS; index += 1) {
    const timing = await timedStream(baseUrl, `${name}-${index}`, STREAM_CHUNKS, STREAM_INTERVAL_MS, upstream.sendTimes);
    if (index < 2) continue; // warm-up
    firstChunks.push(timing.firstChunkMs);
    // The first chunk's delay is the time to first chunk, reported on its own; these are the chunks after it.
    delays.push(...timing.chunkDelaysMs.slice(1));
    if (process.env.BENCH_DUMP === "1") raw.push(timing.chunkDelaysMs);
    firstChunkDelays.push(timing.chunkDelaysMs[0] ?? Number.NaN);
  }
  results[`stream_${name}`] = {
    first_chunk_p50_ms: percentile(firstChunks, 50),
    first_chunk_delay_p99_ms: percentile(firstChunkDelays, 99),
    chunk_delay_p50_ms: percentile(delays, 50),
    chunk_delay_p99_ms: percentile(delays, 99),
    chunk_delay_max_ms: Math.max(...delays),
  };
  if (raw.length > 0) writeFileSync(join(ROOT, `test/bench/results/raw-${name}.json`), JSON.stringify(raw));
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

async function measureLambda(upstream: BenchUpstream): Promise<void> {
  const bundle = synthesizeGatewayBundle();
  const { GATEWAY_SECRET_ID: _tokenized, ...environment } = bundle.environment;
  const env = { ...environment, OPENAI_BASE_URL: upstream.baseUrl };
  const readies: number[] = [];
  const firstRequests: number[] = [];
  let emulator: FunctionUrlEmulator | undefined;
  for (let round = 0; round < (QUICK ? 3 : 7); round += 1) {
    await emulator?.close();
    emulator = await startFunctionUrlEmulator({ taskRoot: bundle.taskRoot, handler: bundle.handler, env });
    readies.push(emulator.readyMs);
    firstRequests.push(await timedChat(`${emulator.url}/v1`));
  }
  if (emulator === undefined) throw new Error("no emulator");
  const baseUrl = `${emulator.url}/v1`;
  const bundleFile = join(bundle.taskRoot, "index.mjs");
  results.cold_start = {
    bundle_bytes: statSync(bundleFile).size,
    ready_p50_ms: percentile(readies, 50),
    ready_max_ms: Math.max(...readies),
    first_request_p50_ms: percentile(firstRequests, 50),
  };
  await measureChat("lambda", baseUrl, [1]);
  await runLoad(() => timedChat(baseUrl), 1_000, 1);
  results.cold_start.rss_after_1000_requests_mb = Math.round(rssOf(emulator.pid) * 10) / 10;
  await measureStreams("lambda", baseUrl, upstream);
  await emulator.close();
}

function added(gateway: Row | undefined, direct: Row | undefined, key: string): string {
  const value = Number(gateway?.[key]) - Number(direct?.[key]);
  return Number.isFinite(value) ? value.toFixed(3) : "-";
}

function printTable(): void {
  const direct = results.chat_direct;
  const rows: [string, string, string, string][] = [["measure", "direct", "local gateway", "lambda emulation"]];
  for (const key of ["c1_p50_ms", "c1_p99_ms", "c32_p50_ms", "c32_p99_ms", "c32_rps"]) {
    rows.push([`chat ${key}`, String(direct?.[key] ?? "-"), String(results.chat_local?.[key] ?? "-"), String(results.chat_lambda?.[key] ?? "-")]);
  }
  rows.push(["added chat c1 p50 ms", "", added(results.chat_local, direct, "c1_p50_ms"), added(results.chat_lambda, direct, "c1_p50_ms")]);
  rows.push(["added chat c1 p99 ms", "", added(results.chat_local, direct, "c1_p99_ms"), added(results.chat_lambda, direct, "c1_p99_ms")]);
  rows.push(["added chat c32 p50 ms", "", added(results.chat_local, direct, "c32_p50_ms"), "-"]);
  for (const key of ["first_chunk_p50_ms", "first_chunk_delay_p99_ms", "chunk_delay_p50_ms", "chunk_delay_p99_ms", "chunk_delay_max_ms"]) {
    rows.push([`stream ${key}`, String(results.stream_direct?.[key] ?? "-"), String(results.stream_local?.[key] ?? "-"), String(results.stream_lambda?.[key] ?? "-")]);
  }
  rows.push(["added first chunk ms", "", added(results.stream_local, results.stream_direct, "first_chunk_p50_ms"), added(results.stream_lambda, results.stream_direct, "first_chunk_p50_ms")]);
  rows.push(["added chunk delay p99 ms", "", added(results.stream_local, results.stream_direct, "chunk_delay_p99_ms"), added(results.stream_lambda, results.stream_direct, "chunk_delay_p99_ms")]);
  for (const [key, value] of Object.entries(results.cold_start ?? {})) rows.push([`cold start ${key}`, "", "", String(value)]);
  const format = (value: string) => (/^-?\d+\.\d{4,}$/.test(value) ? Number(value).toFixed(3) : value);
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => format(row[column] ?? "").length)));
  for (const row of rows) console.log(row.map((cell, column) => format(cell).padEnd(widths[column] ?? 0)).join("  "));
}

const upstream = await startBenchUpstream();
const gateway = await startLocalGateway(upstream);
try {
  await measureChat("direct", upstream.baseUrl, [1, 32]);
  await measureChat("local", gateway.url, [1, 32]);
  await measureStreams("direct", upstream.baseUrl, upstream);
  await measureStreams("local", gateway.url, upstream);
  if (process.env.BENCH_SKIP_LAMBDA !== "1") await measureLambda(upstream);
} finally {
  gateway.process.kill("SIGTERM");
  await upstream.close();
}
const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  settings: { sequential: SEQUENTIAL, concurrent: CONCURRENT, streams: STREAMS, streamChunks: STREAM_CHUNKS, streamIntervalMs: STREAM_INTERVAL_MS },
  results,
};
mkdirSync(join(ROOT, "test/bench/results"), { recursive: true });
writeFileSync(join(ROOT, "test/bench/results/latest.json"), `${JSON.stringify(report, null, 2)}\n`);
printTable();
console.log("\nfigures written to test/bench/results/latest.json");
process.exit(0);
