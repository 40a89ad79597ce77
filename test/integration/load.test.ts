/**
 * Load through the local gateway (in a child process of its own): many
 * concurrent streamed chat completions, each compared byte for byte (sha256)
 * with what the upstream sent for it, and the gateway's memory after the run
 * compared with before (after a warm-up round, after forced GCs).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { startGatewayChild, type GatewayChildStats } from "../support/gateway-child.ts";
import { useStarted } from "../support/gateway-fixture.ts";
import { startRecordingUpstream } from "../support/recording-upstream.ts";
import { describeFailures, loadClient, runStreams, type LoadTally } from "../support/stream-load.ts";
import type OpenAI from "openai";

const MB = 1024 * 1024;

const upstream = useStarted(startRecordingUpstream, { what: "the recording upstream" });
// The young generation is fixed at its usual maximum (16 MB semi-spaces) from the start: otherwise V8
// grows it under load whenever its heuristics say so and keeps the pages (up to ~50 MB of RSS, seen
// here as committed heap going 80 → 128 MB with live heap flat), which is heap sizing, not a leak.
const gateway = useStarted(
  () => startGatewayChild({ OPENAI_BASE_URL: upstream().baseUrl, GATEWAY_MAX_RETRIES: "0" }, ["--min-semi-space-size=16", "--max-semi-space-size=16"]),
  { what: "the gateway" },
);
let client: OpenAI;
beforeAll(() => {
  client = loadClient(gateway().url);
});

function summarize(label: string, tally: LoadTally): string {
  return `${label}: ${tally.results.length} streams, ${(tally.bytes / MB).toFixed(1)} MB in ${(tally.ms / 1000).toFixed(1)} s, p50 ${tally.p50Ms.toFixed(0)} ms, p99 ${tally.p99Ms.toFixed(0)} ms, ${tally.failures.length} failed`;
}

/** Resident memory that is not V8's committed heap. */
const outsideHeap = (stats: GatewayChildStats) => stats.memory.rss - stats.heap.total_physical_size;

function memoryLine(label: string, stats: GatewayChildStats): string {
  const { rss, heapUsed, external, arrayBuffers } = stats.memory;
  return (
    `${label}: rss ${(rss / MB).toFixed(1)} MB (V8 heap committed ${(stats.heap.total_physical_size / MB).toFixed(1)} MB, outside it ${(outsideHeap(stats) / MB).toFixed(1)} MB), ` +
    `heap used ${(heapUsed / MB).toFixed(1)} MB, external ${(external / MB).toFixed(1)} MB, arrayBuffers ${(arrayBuffers / MB).toFixed(1)} MB`
  );
}

describe("streamed chat completions under load, through the local gateway", () => {
  let baseline: GatewayChildStats;

  /** 200 streams at once: the upstream holds every stream until all 200 are open through the gateway. */
  async function burst(prefix: string): Promise<LoadTally> {
    upstream().reset();
    upstream().setBarrier(200, 20_000);
    upstream().setWriteDelay(2);
    try {
      return await runStreams(client, upstream(), prefix, 200, 200);
    } finally {
      upstream().setBarrier(0);
      upstream().setWriteDelay(0);
    }
  }

  it("warm-up (two rounds of the measured run's shape): bursts of 200, then 2,000 and 1,000 streams 100 at a time, all intact", async () => {
    // Connection pools, parser and buffer pools, JIT code: the baseline is taken once they have settled.
    for (const [round, count] of [[1, 2_000], [2, 1_000]] as const) {
      const first = await burst(`warmup${round}-burst`);
      const second = await runStreams(client, upstream(), `warmup${round}`, count, 100);
      console.info(`${summarize(`warm-up ${round} burst`, first)}\n${summarize(`warm-up ${round} run`, second)}`);
      expect(first.failures, describeFailures(first)).toHaveLength(0);
      expect(second.failures, describeFailures(second)).toHaveLength(0);
    }
    baseline = await gateway().stats();
    console.info(memoryLine("after warm-up", baseline));
  }, 60_000);

  it("200 concurrent streams: none lost, none corrupted", async () => {
    const tally = await burst("burst");
    console.info(`${summarize("burst", tally)}; the upstream had up to ${upstream().maxInFlight()} at once`);
    expect(tally.failures, describeFailures(tally)).toHaveLength(0);
    // All 200 were open through the gateway at the same moment (the barrier released on the 200th, not on its timeout).
    expect(upstream().maxInFlight()).toBe(200);
    expect(tally.ms).toBeLessThan(20_000);
    expect(upstream().abortedCount()).toBe(0);
  }, 60_000);

  it("2,000 streams, 100 at a time: none lost, none corrupted, every request logged ok", async () => {
    upstream().reset();
    const before = await gateway().stats();
    const tally = await runStreams(client, upstream(), "run", 2_000, 100);
    console.info(summarize("run", tally));
    expect(tally.failures, describeFailures(tally)).toHaveLength(0);
    expect(upstream().records.size).toBe(2_000);
    expect(upstream().abortedCount()).toBe(0);
    const after = await gateway().stats();
    expect(after.requests - before.requests).toBe(2_000);
    expect((after.outcomes.ok ?? 0) - (before.outcomes.ok ?? 0)).toBe(2_000);
    expect(tally.ms).toBeLessThan(45_000);
  }, 90_000);

  it("the gateway's memory after the runs is within a small bound of after the warm-up", async () => {
    const after = await gateway().stats();
    console.info(memoryLine("after 2,200 more streams", after));
    // After full GCs, live JS memory must not have grown with the request count...
    expect(after.memory.heapUsed - baseline.memory.heapUsed).toBeLessThan(8 * MB);
    // ...nor memory outside V8's heap (sockets, buffers, native allocations)...
    expect(outsideHeap(after) - outsideHeap(baseline)).toBeLessThan(30 * MB);
    // ...and the process as a whole stays within a small bound.
    expect(after.memory.rss - baseline.memory.rss).toBeLessThan(50 * MB);
  });
});
