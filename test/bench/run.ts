/**
 * `npm run bench`: what the gateway adds, and what it costs, measured side by
 * side in one run. Starts a lean fake upstream on loopback and measures:
 * - direct vs through the local gateway (`npm start`'s server, in its own
 *   process): non-streamed chat latency p50/p99 at concurrency 1 and 32,
 *   requests per second at 32; streamed chat: added time to first chunk and
 *   added delay per chunk;
 * - the hot path: CPU per non-streamed request and added p50 of the gateway
 *   beside a bare node:http pipe proxy that served the same requests before,
 *   and beside one that served none, in interleaved rounds (hot-path.ts);
 * - the Lambda bundle under aws-lambda-ric: cold start beside an empty
 *   handler in interleaved rounds, the same latency and stream figures, its
 *   CPU per stream, and its memory sizes with the CPU Lambda gives them
 *   (lambda-start.ts);
 * - the gateway's own bill beside the model's (cost-model.ts).
 * The machine is shared: absolute figures move with the neighbours' load, so
 * every comparison is a ratio or a difference measured in the same run.
 * Prints tables and writes the figures to test/bench/results/latest.json.
 * Not a test: it does not run in CI. `BENCH_CPU_PROF=1` profiles the gateway.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { synthesizeGatewayBundle, type LambdaBundle } from "../support/lambda-bundle.ts";
import { startFunctionUrlEmulator } from "../support/lambda-emulator.ts";
import { processCpuMs } from "../support/process-cpu.ts";
import { percentile, runLoad, timedChat, timedStream } from "./bench-client.ts";
import { startBenchUpstream, type BenchUpstream } from "./bench-upstream.ts";
import { measureHotPath, startPipeProxy, type HotPathFigures } from "./hot-path.ts";
import { benchEnvironment, bundleBytes, measureColdStart, measureMemorySweep } from "./lambda-start.ts";
import { fixed, printCostTables, printTable } from "./report.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const QUICK = process.env.BENCH_QUICK === "1";
const SEQUENTIAL = QUICK ? 500 : 3_000;
const CONCURRENT = QUICK ? 2_000 : 10_000;
const STREAMS = Number(process.env.BENCH_STREAMS ?? (QUICK ? 10 : 40));
const STREAM_CHUNKS = 50;
const STREAM_INTERVAL_MS = 5;
// The warm-up brings every target to the JIT's steady state. Node 24's V8 moves a function from
// Maglev to TurboFan after about 10,500 calls when it runs once per request (--trace-opt): the
// gateway's request path did so in one wave of ~90 compilations (~400 ms of the compiler thread's
// CPU) at requests 10,000-12,000, which a 10,000-request warm-up left inside the measured rounds.
// Past 12,000 the gateway's compiler is quiet (1-3 compilations per 2,000 requests).
// Each target runs in `processes` processes (hot-path.ts: two processes of the same gateway can
// spend up to 7% apart per request), its figure the mean over them.
const HOT_PATH = { rounds: QUICK ? 4 : 10, requests: QUICK ? 1_000 : 2_000, warmup: QUICK ? 12_000 : 20_000, processes: QUICK ? 1 : 3 };
const COLD_START_ROUNDS = QUICK ? 3 : 11;
const SWEEP = { sizes: [128, 256, 512, 1024], rounds: QUICK ? 1 : 3, streams: QUICK ? 2 : 5 };

type Row = Record<string, number | string>;
const results: Record<string, unknown> = {};

/** The local gateway in its own process; its log goes to a file, so a busy reader of a pipe never holds it up. */
async function startLocalGateway(upstream: BenchUpstream): Promise<{ url: string; process: ChildProcess }> {
  const args = process.env.BENCH_CPU_PROF === "1" ? ["--cpu-prof", "--cpu-prof-dir", join(ROOT, "test/bench/results")] : [];
  args.push(...(process.env.BENCH_GATEWAY_NODE_FLAGS ?? "").split(" ").filter(Boolean));
  const log = join(mkdtempSync(join(tmpdir(), "bench-gateway-")), "stdout.log");
  const child = spawn("/bin/sh", ["-c", `exec "$0" "$@" > '${log}'`, process.execPath, ...args, "functions/local/server.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: "0", OPENAI_BASE_URL: upstream.baseUrl },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let waited = 0; waited < 30_000; waited += 20) {
    const match = /listening on (http:\/\/[\d.:]+)\/v1/.exec(readLog(log));
    if (match?.[1] !== undefined) return { url: `${match[1]}/v1`, process: child };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the local gateway did not start: ${readLog(log)}`);
}

function readLog(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
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

/** The requests measureChat and measureStreams send to the first gateway, unmeasured. */
async function serveLikeTheFirst(baseUrl: string, upstream: BenchUpstream): Promise<void> {
  await runLoad(() => timedChat(baseUrl), 300, 8);
  await runLoad(() => timedChat(baseUrl), SEQUENTIAL, 1);
  await runLoad(() => timedChat(baseUrl), CONCURRENT, 32);
  for (let index = 0; index < STREAMS; index += 1) await timedStream(baseUrl, `history-${index}`, STREAM_CHUNKS, STREAM_INTERVAL_MS, upstream.sendTimes);
}

/** Streams through `baseUrl`; with `pid`, also the CPU that process spent per stream. */
async function measureStreams(name: string, baseUrl: string, upstream: BenchUpstream, pid?: number): Promise<void> {
  const firstChunks: number[] = [];
  const firstChunkDelays: number[] = [];
  const raw: number[][] = [];
  const delays: number[] = [];
  let cpuMs = 0;
  for (let index = 0; index < STREAMS; index += 1) {
    const before = pid === undefined ? 0 : processCpuMs(pid);
    const timing = await timedStream(baseUrl, `${name}-${index}`, STREAM_CHUNKS, STREAM_INTERVAL_MS, upstream.sendTimes);
    if (index < 2) continue; // warm-up
    if (pid !== undefined) cpuMs += processCpuMs(pid) - before;
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
    ...(pid === undefined ? {} : { cpu_ms_per_stream: cpuMs / (STREAMS - 2) }),
  };
  if (raw.length > 0) writeFileSync(join(ROOT, `test/bench/results/raw-${name}.json`), JSON.stringify(raw));
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

async function measureLambda(bundle: LambdaBundle, upstream: BenchUpstream): Promise<void> {
  results.cold_start = { ...(await measureColdStart(bundle, upstream, COLD_START_ROUNDS)), bundle: bundleBytes(bundle) };
  const emulator = await startFunctionUrlEmulator({ taskRoot: bundle.taskRoot, handler: bundle.handler, env: benchEnvironment(bundle, upstream) });
  try {
    const baseUrl = `${emulator.url}/v1`;
    await measureChat("lambda", baseUrl, [1]);
    await runLoad(() => timedChat(baseUrl), 1_000, 1);
    (results.cold_start as Row).rss_after_1000_requests_mb = Math.round(rssOf(emulator.pid) * 10) / 10;
    await measureStreams("lambda", baseUrl, upstream, emulator.pid);
  } finally {
    await emulator.close();
  }
}

const upstream = await startBenchUpstream();
const gateway = await startLocalGateway(upstream);
const pipe = await startPipeProxy(ROOT, new URL(upstream.baseUrl).origin);
// The hot path's other processes of each target (see HOT_PATH).
const gateways = [gateway];
const pipes = [pipe];
// Pipe proxies that serve nothing before their hot path: the stricter bound, reported beside.
const freshPipes: (typeof pipe)[] = [];
try {
  await measureChat("direct", upstream.baseUrl, [1, 32]);
  await measureChat("local", gateway.url, [1, 32]);
  await measureStreams("direct", upstream.baseUrl, upstream);
  await measureStreams("local", gateway.url, upstream, gateway.process.pid);
  // The gateways and the pipe proxies they are measured against first serve what the first
  // gateway served: the JIT's state follows what a process has run, and that history often made
  // a pipe proxy spend more CPU per request than a fresh one (hot-path.ts).
  await serveLikeTheFirst(`${pipe.url}/v1`, upstream);
  for (let index = 1; index < HOT_PATH.processes; index += 1) {
    const other = await startLocalGateway(upstream);
    gateways.push(other);
    await serveLikeTheFirst(other.url, upstream);
    const otherPipe = await startPipeProxy(ROOT, new URL(upstream.baseUrl).origin);
    pipes.push(otherPipe);
    await serveLikeTheFirst(`${otherPipe.url}/v1`, upstream);
  }
  for (let index = 0; index < HOT_PATH.processes; index += 1) freshPipes.push(await startPipeProxy(ROOT, new URL(upstream.baseUrl).origin));
  results.hot_path = await measureHotPath(
    [
      { name: "direct", baseUrl: upstream.baseUrl },
      ...pipes.map((each, index) => ({ name: `pipe ${index + 1}`, group: "pipe", baseUrl: `${each.url}/v1`, pid: each.process.pid })),
      ...freshPipes.map((each, index) => ({ name: `fresh pipe ${index + 1}`, group: "fresh pipe", baseUrl: `${each.url}/v1`, pid: each.process.pid })),
      ...gateways.map((each, index) => ({ name: `gateway ${index + 1}`, group: "gateway", baseUrl: each.url, pid: each.process.pid })),
    ],
    HOT_PATH,
  );
  // The others are done: nothing of theirs runs beside what comes next.
  for (const each of [...gateways.splice(1), ...pipes.splice(1), ...freshPipes.splice(0)]) each.process.kill("SIGTERM");
  if (process.env.BENCH_SKIP_LAMBDA !== "1") {
    const bundle = synthesizeGatewayBundle();
    await measureLambda(bundle, upstream);
    if (process.env.BENCH_SKIP_SWEEP !== "1") results.memory_sweep = await measureMemorySweep(bundle, upstream, SWEEP);
  }
} finally {
  for (const each of [...gateways, ...pipes, ...freshPipes]) each.process.kill("SIGTERM");
  await upstream.close();
}

printLatencyTable();
printHotPath();
printLambdaStart();
const perStream = (results.stream_lambda as Row | undefined)?.cpu_ms_per_stream ?? (results.stream_local as Row | undefined)?.cpu_ms_per_stream;
results.cost = printCostTables(Number(perStream) / 1000);
console.log("\nThe machine is shared and noisy: absolute figures move with the neighbours' load; compare within a run (ratios, differences).");

const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  settings: { sequential: SEQUENTIAL, concurrent: CONCURRENT, streams: STREAMS, streamChunks: STREAM_CHUNKS, streamIntervalMs: STREAM_INTERVAL_MS, hotPath: HOT_PATH, sweep: SWEEP },
  results,
};
mkdirSync(join(ROOT, "test/bench/results"), { recursive: true });
writeFileSync(join(ROOT, "test/bench/results/latest.json"), `${JSON.stringify(report, null, 2)}\n`);
console.log("figures written to test/bench/results/latest.json");
process.exit(0);

function added(gateway: unknown, direct: unknown, key: string): string {
  return fixed(Number((gateway as Row | undefined)?.[key]) - Number((direct as Row | undefined)?.[key]), 3);
}

function cell(row: unknown, key: string): string {
  const value = (row as Row | undefined)?.[key];
  return typeof value === "number" ? (Number.isInteger(value) ? String(value) : value.toFixed(3)) : (value ?? "-");
}

function printLatencyTable(): void {
  const rows: string[][] = [["measure", "direct", "local gateway", "lambda emulation"]];
  for (const key of ["c1_p50_ms", "c1_p99_ms", "c32_p50_ms", "c32_p99_ms", "c32_rps"]) {
    rows.push([`chat ${key}`, cell(results.chat_direct, key), cell(results.chat_local, key), cell(results.chat_lambda, key)]);
  }
  rows.push(["added chat c1 p50 ms", "", added(results.chat_local, results.chat_direct, "c1_p50_ms"), added(results.chat_lambda, results.chat_direct, "c1_p50_ms")]);
  rows.push(["added chat c1 p99 ms", "", added(results.chat_local, results.chat_direct, "c1_p99_ms"), added(results.chat_lambda, results.chat_direct, "c1_p99_ms")]);
  for (const key of ["first_chunk_p50_ms", "first_chunk_delay_p99_ms", "chunk_delay_p50_ms", "chunk_delay_p99_ms", "chunk_delay_max_ms", "cpu_ms_per_stream"]) {
    rows.push([`stream ${key}`, cell(results.stream_direct, key), cell(results.stream_local, key), cell(results.stream_lambda, key)]);
  }
  rows.push(["added first chunk ms", "", added(results.stream_local, results.stream_direct, "first_chunk_p50_ms"), added(results.stream_lambda, results.stream_direct, "first_chunk_p50_ms")]);
  rows.push(["added chunk delay p99 ms", "", added(results.stream_local, results.stream_direct, "chunk_delay_p99_ms"), added(results.stream_lambda, results.stream_direct, "chunk_delay_p99_ms")]);
  printTable("Latency (ms) and throughput: direct to the upstream, through the local gateway, through the Lambda bundle", rows);
}

function printHotPath(): void {
  const hot = results.hot_path as Record<string, HotPathFigures> | undefined;
  if (hot === undefined) return;
  const { direct, pipe: proxy, gateway: core, "fresh pipe": fresh } = hot;
  if (direct === undefined || proxy === undefined || core === undefined || fresh === undefined) return;
  const cpuRatio = core.cpuUsPerRequest / proxy.cpuUsPerRequest;
  const freshRatio = core.cpuUsPerRequest / fresh.cpuUsPerRequest;
  // Each round's ratio (the two measured back to back): their spread shows how much of a difference is the machine's.
  const roundRatios = core.cpuUsByRound.map((cpu, round) => cpu / (proxy.cpuUsByRound[round] ?? Number.NaN)).sort((a, b) => a - b);
  const addedPipe = proxy.p50Ms - direct.p50Ms;
  const addedGateway = core.p50Ms - direct.p50Ms;
  const addedFresh = fresh.p50Ms - direct.p50Ms;
  Object.assign(results.hot_path as object, { cpu_ratio: cpuRatio, cpu_ratio_fresh_pipe: freshRatio, added_p50_pipe_ms: addedPipe, added_p50_fresh_pipe_ms: addedFresh, added_p50_gateway_ms: addedGateway });
  const processes = (figures: HotPathFigures) => figures.cpuUsByProcess.map((cpu) => fixed(cpu, 1)).join(" / ");
  printTable(`Hot path, non-streamed chat, one keep-alive socket per process, ${HOT_PATH.processes} process(es) each, ${HOT_PATH.rounds} interleaved rounds of ${HOT_PATH.requests}`, [
    ["", "CPU µs/request", "p50 ms", "added p50 ms"],
    ["bare node:http pipe proxy, same history", fixed(proxy.cpuUsPerRequest, 1), fixed(proxy.p50Ms, 3), fixed(addedPipe, 3)],
    ["bare node:http pipe proxy, fresh", fixed(fresh.cpuUsPerRequest, 1), fixed(fresh.p50Ms, 3), fixed(addedFresh, 3)],
    ["local gateway", fixed(core.cpuUsPerRequest, 1), fixed(core.p50Ms, 3), fixed(addedGateway, 3)],
    ["gateway / pipe", `${fixed(cpuRatio)}x (target <= 1.5x)`, "", `${fixed(addedGateway - addedPipe, 3)} (target <= 0.1)`],
    ["gateway / fresh pipe", `${fixed(freshRatio)}x`, "", fixed(addedGateway - addedFresh, 3)],
    ["CPU µs/request of each process, pipe | fresh | gateway", `${processes(proxy)} | ${processes(fresh)} | ${processes(core)}`, "", ""],
    ["per round, lowest / median / highest", `${roundRatios.map((ratio) => fixed(ratio)).filter((_, index, all) => index === 0 || index === all.length - 1 || index === Math.floor(all.length / 2)).join(" / ")}`, "", ""],
  ]);
}

function printLambdaStart(): void {
  const cold = results.cold_start as (Row & { bundle?: { entry: number; total: number } }) | undefined;
  if (cold !== undefined) {
    printTable(`Cold start under aws-lambda-ric, medians of ${cold.rounds} interleaved rounds`, [
      ["", "empty handler", "gateway", "gateway / empty"],
      ["ready (process start to first /next), ms", fixed(Number(cold.emptyReadyMs), 0), fixed(Number(cold.gatewayReadyMs), 0), `${fixed(Number(cold.readyRatio))}x (target <= 1.5x)`],
      ["CPU until ready, ms", fixed(Number(cold.emptyReadyCpuMs), 0), fixed(Number(cold.gatewayReadyCpuMs), 0), `${fixed(Number(cold.readyCpuRatio))}x`],
      ["first request, ms", "", fixed(Number(cold.firstRequestMs), 1), ""],
      ["bundle: entry / all files, KB", "", `${((cold.bundle?.entry ?? 0) / 1024).toFixed(0)} / ${((cold.bundle?.total ?? 0) / 1024).toFixed(0)}`, ""],
      ["resident memory after 1,000 requests, MB", "", String(cold.rss_after_1000_requests_mb ?? "-"), ""],
    ]);
  }
  const sweep = results.memory_sweep as { memoryMb: number; cpuShare: number; readyMs: number; firstRequestMs: number; firstChunkMs: number; chunkDelayP50Ms: number; chunkDelayP99Ms: number }[] | { skipped: string } | undefined;
  if (sweep === undefined) return;
  if (!Array.isArray(sweep)) return void console.log(`\nMemory sweep skipped: ${sweep.skipped}`);
  printTable(`Memory sizes, CPU limited to memory / 1,769 MB of a vCPU (cgroup quota), medians of ${SWEEP.rounds} interleaved rounds, ${SWEEP.streams} streams of 50 chunks 5 ms apart each`, [
    ["memory", "vCPU", "ready ms", "first request ms", "first chunk ms", "chunk delay p50 ms", "chunk delay p99 ms"],
    ...sweep.map((row) => [`${row.memoryMb} MB`, fixed(row.cpuShare, 3), fixed(row.readyMs, 0), fixed(row.firstRequestMs, 0), fixed(row.firstChunkMs, 1), fixed(row.chunkDelayP50Ms, 2), fixed(row.chunkDelayP99Ms, 1)]),
  ]);
}
