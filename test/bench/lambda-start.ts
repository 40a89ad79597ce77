/**
 * Starts of the Lambda bundle under aws-lambda-ric, measured beside a start
 * of an empty streaming handler in the same rounds (cold start), and at
 * Lambda's memory sizes with the CPU Lambda gives them (memory sweep).
 */
import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCpuLimit, lambdaCpuShare, type CpuLimit } from "../support/cpu-limit.ts";
import type { LambdaBundle } from "../support/lambda-bundle.ts";
import { startFunctionUrlEmulator } from "../support/lambda-emulator.ts";
import { percentile, timedChat, timedStream } from "./bench-client.ts";
import type { BenchUpstream } from "./bench-upstream.ts";

/** The bundle's size: the entry (what a cold start reads) and every file. */
export function bundleBytes(bundle: LambdaBundle): { entry: number; total: number } {
  let total = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".mjs")) total += statSync(path).size;
    }
  };
  walk(bundle.taskRoot);
  return { entry: statSync(join(bundle.taskRoot, "index.mjs")).size, total };
}

/** An empty streaming handler, the floor of a cold start. */
export function emptyHandlerRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "empty-handler-"));
  writeFileSync(join(root, "index.mjs"), "export const handler = awslambda.streamifyResponse(async (event, responseStream) => { responseStream.end(); });\n");
  return root;
}

/** The function's environment for the benchmark: the bundle's own, without its secret (a token), calling the bench upstream. */
export function benchEnvironment(bundle: LambdaBundle, upstream: BenchUpstream): Record<string, string> {
  const { GATEWAY_SECRET_ID: _tokenized, ...environment } = bundle.environment;
  return { ...environment, OPENAI_BASE_URL: upstream.baseUrl };
}

/** Cold start figures: medians over interleaved rounds. */
export interface ColdStart {
  readonly rounds: number;
  readonly emptyReadyMs: number;
  readonly gatewayReadyMs: number;
  readonly emptyReadyCpuMs: number;
  readonly gatewayReadyCpuMs: number;
  readonly readyRatio: number;
  readonly readyCpuRatio: number;
  readonly firstRequestMs: number;
}

/** Starts the empty handler and the gateway in turn, `rounds` times each; the gateway answers one request each time. */
export async function measureColdStart(bundle: LambdaBundle, upstream: BenchUpstream, rounds: number): Promise<ColdStart> {
  const empty = emptyHandlerRoot();
  const env = benchEnvironment(bundle, upstream);
  const wall: Record<"empty" | "gateway", number[]> = { empty: [], gateway: [] };
  const cpu: Record<"empty" | "gateway", number[]> = { empty: [], gateway: [] };
  const firstRequests: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    for (const which of round % 2 === 0 ? (["empty", "gateway"] as const) : (["gateway", "empty"] as const)) {
      const emulator = await startFunctionUrlEmulator(
        which === "empty" ? { taskRoot: empty, handler: "index.handler" } : { taskRoot: bundle.taskRoot, handler: bundle.handler, env },
      );
      wall[which].push(emulator.readyMs);
      cpu[which].push(emulator.readyCpuMs);
      if (which === "gateway") firstRequests.push(await timedChat(`${emulator.url}/v1`));
      await emulator.close();
    }
  }
  const median = (values: number[]) => percentile(values, 50);
  return {
    rounds,
    emptyReadyMs: median(wall.empty),
    gatewayReadyMs: median(wall.gateway),
    emptyReadyCpuMs: median(cpu.empty),
    gatewayReadyCpuMs: median(cpu.gateway),
    readyRatio: median(wall.gateway) / median(wall.empty),
    readyCpuRatio: median(cpu.gateway) / median(cpu.empty),
    firstRequestMs: median(firstRequests),
  };
}

/** One memory size's figures: medians over the rounds. */
export interface MemoryFigures {
  readonly memoryMb: number;
  readonly cpuShare: number;
  readonly readyMs: number;
  readonly firstRequestMs: number;
  readonly firstChunkMs: number;
  readonly chunkDelayP50Ms: number;
  readonly chunkDelayP99Ms: number;
}

/**
 * Runs the bundle at each memory size with its CPU limited as Lambda limits
 * it (memory / 1,769 MB of a vCPU) and AWS_LAMBDA_FUNCTION_MEMORY_SIZE set,
 * interleaving the sizes round by round: time to ready, the first request
 * (non-streamed), then `streams` streams of 50 chunks 5 ms apart (time to
 * first chunk, per-chunk delay after the first).
 * @returns undefined, with the reason, where no cgroup CPU controller is writable
 */
export async function measureMemorySweep(
  bundle: LambdaBundle,
  upstream: BenchUpstream,
  options: { sizes: readonly number[]; rounds: number; streams: number },
): Promise<MemoryFigures[] | { skipped: string }> {
  const limits = new Map<number, CpuLimit>();
  try {
    for (const memoryMb of options.sizes) limits.set(memoryMb, createCpuLimit(lambdaCpuShare(memoryMb)));
  } catch (error) {
    for (const limit of limits.values()) limit.remove();
    return { skipped: (error as Error).message };
  }
  const env = benchEnvironment(bundle, upstream);
  const samples = new Map(options.sizes.map((size) => [size, { ready: [] as number[], first: [] as number[], firstChunk: [] as number[], delays: [] as number[] }]));
  try {
    for (let round = 0; round < options.rounds; round += 1) {
      const order = options.sizes.map((_, index) => options.sizes[(index + round) % options.sizes.length] as number);
      for (const memoryMb of order) {
        const sample = samples.get(memoryMb) as { ready: number[]; first: number[]; firstChunk: number[]; delays: number[] };
        const emulator = await startFunctionUrlEmulator({
          taskRoot: bundle.taskRoot,
          handler: bundle.handler,
          env,
          memoryMb,
          cpuLimit: limits.get(memoryMb),
          initTimeoutMs: 60_000,
        });
        try {
          sample.ready.push(emulator.readyMs);
          sample.first.push(await timedChat(`${emulator.url}/v1`));
          for (let index = 0; index < options.streams; index += 1) {
            const timing = await timedStream(`${emulator.url}/v1`, `sweep-${memoryMb}-${round}-${index}`, 50, 5, upstream.sendTimes);
            sample.firstChunk.push(timing.firstChunkMs);
            sample.delays.push(...timing.chunkDelaysMs.slice(1));
          }
        } finally {
          await emulator.close();
        }
      }
    }
  } finally {
    for (const limit of limits.values()) limit.remove();
  }
  return options.sizes.map((memoryMb) => {
    const sample = samples.get(memoryMb) as { ready: number[]; first: number[]; firstChunk: number[]; delays: number[] };
    return {
      memoryMb,
      cpuShare: lambdaCpuShare(memoryMb),
      readyMs: percentile(sample.ready, 50),
      firstRequestMs: percentile(sample.first, 50),
      firstChunkMs: percentile(sample.firstChunk, 50),
      chunkDelayP50Ms: percentile(sample.delays, 50),
      chunkDelayP99Ms: percentile(sample.delays, 99),
    };
  });
}
