/**
 * The local load test, smaller, against the real Lambda bundle under
 * aws-lambda-ric behind an emulated Function URL: concurrent streamed chat
 * completions (the emulator runs one invocation at a time, so they queue),
 * each compared byte for byte with what the upstream sent, every one logged
 * as `ok` by the function, and the function process's memory bounded.
 */
import type OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { useStarted } from "../support/gateway-fixture.ts";
import { useGatewayFunction } from "../support/lambda-fixture.ts";
import { startRecordingUpstream } from "../support/recording-upstream.ts";
import { describeFailures, loadClient, residentBytes, runStreams, type LoadTally } from "../support/stream-load.ts";

const MB = 1024 * 1024;
const CONCURRENCY = 20;
const TOTAL = 100;

const upstream = useStarted(startRecordingUpstream, { what: "the recording upstream" });
// Passthrough: no gateway keys, the caller's key goes upstream (the recording upstream takes any).
const fn = useGatewayFunction(() => ({ OPENAI_BASE_URL: upstream().baseUrl, GATEWAY_MAX_RETRIES: "0" }));
let client: OpenAI;
beforeAll(() => {
  client = loadClient(fn.lambda.url);
});

function summarize(label: string, tally: LoadTally): string {
  return `${label}: ${tally.results.length} streams, ${(tally.bytes / 1024).toFixed(0)} KB in ${(tally.ms / 1000).toFixed(1)} s, p50 ${tally.p50Ms.toFixed(0)} ms, p99 ${tally.p99Ms.toFixed(0)} ms, ${tally.failures.length} failed`;
}

/** The function's one "request" log line per request, parsed. */
function requestLogs(): { outcome?: string; status?: number; stream?: boolean }[] {
  return fn.lambda.logs
    .map((line) => line.trim())
    .filter((line) => line.startsWith("{") && line.includes('"message":"request"'))
    .map((line) => JSON.parse(line) as { outcome?: string; status?: number; stream?: boolean });
}

describe("streamed chat completions under load, through the Lambda bundle", () => {
  let baselineRss: number;

  it(`warm-up: ${CONCURRENCY * 2} streams, ${CONCURRENCY} at a time, all intact`, async () => {
    const tally = await runStreams(client, upstream(), "lambda-warmup", CONCURRENCY * 2, CONCURRENCY);
    console.info(summarize("warm-up", tally));
    expect(tally.failures, describeFailures(tally)).toHaveLength(0);
    baselineRss = await residentBytes(fn.lambda.pid);
  }, 60_000);

  it(`${TOTAL} streams, ${CONCURRENCY} at a time (queued by the emulator): none lost, none corrupted, every one logged ok`, async () => {
    upstream().reset();
    const logsBefore = requestLogs().length;
    const tally = await runStreams(client, upstream(), "lambda-run", TOTAL, CONCURRENCY);
    console.info(summarize("run", tally));
    expect(tally.failures, describeFailures(tally)).toHaveLength(0);
    expect(upstream().records.size).toBe(TOTAL);
    expect(upstream().abortedCount()).toBe(0);
    // The log line is written as the body ends; reading the function's stdout pipe may lag a little.
    for (let attempt = 0; attempt < 100 && requestLogs().length < logsBefore + TOTAL; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const logs = requestLogs().slice(logsBefore);
    expect(logs).toHaveLength(TOTAL);
    expect(logs.every((log) => log.outcome === "ok" && log.status === 200 && log.stream === true)).toBe(true);
  }, 60_000);

  it("the function process's memory after the run is within a small bound of after the warm-up", async () => {
    const rss = await residentBytes(fn.lambda.pid);
    console.info(`function process rss: ${(baselineRss / MB).toFixed(1)} MB after warm-up, ${(rss / MB).toFixed(1)} MB after ${TOTAL} more streams`);
    expect(rss - baselineRss).toBeLessThan(50 * MB);
  });
});
