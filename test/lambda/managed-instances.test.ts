/**
 * Lambda Managed Instances mode: the exact bundle, with the environment the
 * stack gives it on a capacity provider (gateway:managedInstances), under
 * aws-lambda-ric with AWS_LAMBDA_MAX_CONCURRENCY set, so the runtime starts
 * its worker threads and runs invocations at once. The provider is called by
 * host name (localhost), so its DNS lookups go through libuv's pool as they do
 * on AWS.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEmfLines } from "../support/emf.ts";
import { startFakeSecretsManager, type FakeSecretsManager } from "../support/fake-secrets-manager.ts";
import { synthesizeGatewayBundle, type LambdaBundle } from "../support/lambda-bundle.ts";
import { startFunctionUrlEmulator, type FunctionUrlEmulator } from "../support/lambda-emulator.ts";
import { startRecordingUpstream, streamEvents, type RecordingUpstream } from "../support/recording-upstream.ts";

const SECRET_ID = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gateway-MiXeDa";
const GATEWAY_KEY = "gw-managed-instances-key-0001";
const STREAMS = 50;

interface StreamOutcome {
  readonly id: string;
  readonly model: string;
  readonly status: number;
  readonly identical: boolean;
  readonly gatewayRequestId: string | null;
  readonly lambdaRequestId: string | null;
  readonly firstByteMs: number;
  readonly totalMs: number;
}

let bundle: LambdaBundle;
let upstream: RecordingUpstream;
let secrets: FakeSecretsManager;
let lambda: FunctionUrlEmulator;
let client: OpenAI;
let workerThreads: number;
const scratch: string[] = [];

/** The function's environment on Managed Instances, the upstream by host name, a fake Secrets Manager. */
function functionEnv(): Record<string, string> {
  return {
    ...bundle.environment,
    GATEWAY_SECRET_ID: SECRET_ID,
    OPENAI_BASE_URL: upstream.baseUrl.replace("127.0.0.1", "localhost"),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "secret-access-key-example",
    GATEWAY_MAX_RETRIES: "0",
  };
}

function startFunction(env: Record<string, string>, taskRoot = bundle.taskRoot, handler = bundle.handler): Promise<FunctionUrlEmulator> {
  return startFunctionUrlEmulator({ taskRoot, handler, env, maxConcurrency: bundle.maxConcurrency, initTimeoutMs: 60_000 });
}

/** Streams one chat completion as the SDK does and checks its bytes against the upstream's record. */
async function streamAs(sdk: OpenAI, id: string, model: string, writeDelayMs = 0): Promise<StreamOutcome> {
  const started = performance.now();
  const response = await sdk.chat.completions
    .create({
      model,
      messages: [{ role: "user", content: `stream ${id}` }],
      stream: true,
      stream_options: { include_usage: true },
      user: id,
      metadata: writeDelayMs > 0 ? { write_delay_ms: String(writeDelayMs) } : undefined,
    })
    .asResponse();
  const hash = createHash("sha256");
  let firstByteMs = -1;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (firstByteMs < 0) firstByteMs = performance.now() - started;
    hash.update(chunk);
  }
  return {
    id,
    model,
    status: response.status,
    identical: upstream.records.get(id)?.sha256 === hash.digest("hex"),
    gatewayRequestId: response.headers.get("x-gateway-request-id"),
    lambdaRequestId: response.headers.get("x-amzn-requestid"),
    firstByteMs,
    totalMs: performance.now() - started,
  };
}

/** Completion tokens the upstream reports for a stream (its content deltas). */
function completionTokens(id: string, model: string): number {
  return streamEvents(id, model, true).length - 4;
}

/** The function's request log lines, by gateway request id. */
function requestLogs(emulator: FunctionUrlEmulator): Map<string, Record<string, unknown>> {
  const logs = new Map<string, Record<string, unknown>>();
  for (const line of emulator.logs) {
    if (!line.startsWith("{") || !line.includes('"message":"request"')) continue;
    const record = JSON.parse(line) as Record<string, unknown>;
    logs.set(String(record.gateway_request_id), record);
  }
  return logs;
}

/**
 * A short stream started while a long one streams on the same worker thread (the runtime given one
 * worker, so both land on it): the short one's time to first byte, and the long one's duration.
 */
async function shortBehindLong(taskRoot: string, handler: string, label: string): Promise<{ short: StreamOutcome; long: StreamOutcome }> {
  const emulator = await startFunction({ ...functionEnv(), AWS_LAMBDA_NODEJS_WORKER_COUNT: "1" }, taskRoot, handler);
  try {
    const sdk = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: `${emulator.url}/v1/`, maxRetries: 0, timeout: 30_000 });
    upstream.setBarrier(0);
    const before = upstream.requestCount();
    const long = streamAs(sdk, `${label}-long`, "gpt-4o", 300);
    for (let waited = 0; upstream.requestCount() === before && waited < 10_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    const short = await streamAs(sdk, `${label}-short`, "gpt-4o");
    return { short, long: await long };
  } finally {
    await emulator.close();
  }
}

beforeAll(async () => {
  bundle = synthesizeGatewayBundle({ "gateway:managedInstances": true });
  workerThreads = Number(bundle.environment.AWS_LAMBDA_NODEJS_WORKER_COUNT);
  [upstream, secrets] = await Promise.all([startRecordingUpstream(), startFakeSecretsManager()]);
  secrets.setSecret(SECRET_ID, JSON.stringify({ openai: { apiKey: "sk-provider-key" }, gatewayKeys: [{ id: "team-a", key: GATEWAY_KEY }] }));
  lambda = await startFunction(functionEnv());
  client = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: `${lambda.url}/v1/`, maxRetries: 0, timeout: 30_000 });
}, 120_000);

afterAll(async () => {
  await lambda?.close();
  await Promise.all([upstream?.close(), secrets?.close()]);
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe("the gateway on Lambda Managed Instances (aws-lambda-ric with AWS_LAMBDA_MAX_CONCURRENCY)", () => {
  let outcomes: StreamOutcome[];

  it(`runs ${STREAMS} streamed invocations at once in one runtime process, each byte for byte what the provider sent`, async () => {
    expect(bundle.maxConcurrency).toBeGreaterThanOrEqual(STREAMS);
    expect(workerThreads).toBe(8);
    // The provider holds every first byte until all the streams have reached it: they are in flight together.
    upstream.setBarrier(STREAMS, 20_000);
    outcomes = await Promise.all(Array.from({ length: STREAMS }, (_, index) => streamAs(client, `mi-${index}`, `model-${index}`)));
    expect(upstream.maxInFlight()).toBeGreaterThanOrEqual(STREAMS);
    expect(outcomes.filter((outcome) => outcome.status !== 200 || !outcome.identical).map((outcome) => outcome.id)).toEqual([]);
  }, 60_000);

  it("logs each invocation's request line with its own request ids, model and tokens", async () => {
    let logs = requestLogs(lambda);
    for (let waited = 0; logs.size < STREAMS && waited < 5_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      logs = requestLogs(lambda);
    }
    for (const outcome of outcomes) {
      const log = logs.get(String(outcome.gatewayRequestId));
      expect(log, outcome.id).toMatchObject({
        function_request_id: outcome.lambdaRequestId,
        model: outcome.model,
        completion_tokens: completionTokens(outcome.id, outcome.model),
        key_id: "team-a",
        outcome: "ok",
      });
    }
  });

  it("publishes one EMF document per invocation, carrying only that invocation's model and tokens", () => {
    const documents = parseEmfLines(lambda.logs).filter((document) => typeof document.gateway_request_id === "string");
    for (const outcome of outcomes) {
      const own = documents.filter((document) => document.gateway_request_id === outcome.gatewayRequestId);
      expect(own, outcome.id).toHaveLength(1);
      expect(own[0], outcome.id).toMatchObject({ model: outcome.model, CompletionTokens: completionTokens(outcome.id, outcome.model), Requests: 1 });
    }
  });

  it("shares one secret cache and one connection pool among the invocations of each worker thread", async () => {
    // At most one fetch per worker thread for all the invocations.
    expect(secrets.calls).toBeGreaterThan(0);
    expect(secrets.calls).toBeLessThanOrEqual(workerThreads);
    // Later invocations, one at a time, reuse the pooled connections to the provider.
    const connections = upstream.connectionCount();
    for (let index = 0; index < 2 * workerThreads; index += 1) {
      const outcome = await streamAs(client, `mi-again-${index}`, "gpt-4o");
      expect(outcome.identical).toBe(true);
    }
    expect(upstream.connectionCount()).toBe(connections);
  }, 60_000);

  it("starts a short stream at once while a long one streams on the same worker thread (aws-lambda-ric alone makes it wait)", async () => {
    const { short, long } = await shortBehindLong(bundle.taskRoot, bundle.handler, "gateway");
    console.info(`gateway: short stream's first byte after ${short.firstByteMs.toFixed(0)} ms; the long stream took ${long.totalMs.toFixed(0)} ms`);
    expect(long.identical && short.identical).toBe(true);
    expect(long.totalMs).toBeGreaterThan(1_000);
    expect(short.firstByteMs).toBeLessThan(long.totalMs / 3);

    // The same with a bare streaming handler: the runtime client sends one response at a time per worker thread.
    const probeRoot = mkdtempSync(join(tmpdir(), "ric-probe-"));
    scratch.push(probeRoot);
    writeFileSync(join(probeRoot, "index.mjs"), PROBE_HANDLER);
    const bare = await shortBehindLong(probeRoot, "index.handler", "ric");
    console.info(`aws-lambda-ric alone: short stream's first byte after ${bare.short.firstByteMs.toFixed(0)} ms; the long stream took ${bare.long.totalMs.toFixed(0)} ms`);
    expect(bare.short.firstByteMs).toBeGreaterThan(bare.long.totalMs / 2);
  }, 60_000);

  it("without the stack's UV_THREADPOOL_SIZE, the worker threads' long-polls hold every pool thread and a cold request hangs", async () => {
    const { UV_THREADPOOL_SIZE: _pool, ...withoutPool } = functionEnv();
    const stalled = await startFunction(withoutPool);
    try {
      const sdk = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: `${stalled.url}/v1/`, maxRetries: 0, timeout: 4_000 });
      // Its first request reads the Secrets Manager client's chunk (async file reads) and looks the
      // provider up (getaddrinfo): both run on the pool, behind eight waiting long-polls. The stall
      // ends either at the client's timeout or at the gateway's own secret deadline (a 503).
      await expect(sdk.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], stream: true, user: "stalled" })).rejects.toThrow(
        /timed out|Secrets Manager did not answer within/i,
      );
    } finally {
      await stalled.close();
    }
  }, 60_000);
});

/** A bare streaming handler: the provider's stream piped to the response, nothing else. */
const PROBE_HANDLER = String.raw`
import http from "node:http";
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const url = new URL(process.env.OPENAI_BASE_URL + "/chat/completions");
  const upstream = await new Promise((resolve, reject) => {
    const request = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json" } }, resolve);
    request.on("error", reject);
    request.end(event.body);
  });
  const out = awslambda.HttpResponseStream.from(responseStream, { statusCode: upstream.statusCode, headers: { "content-type": "text/event-stream" } });
  for await (const chunk of upstream) out.write(chunk);
  out.end();
});
`;
