/**
 * Time bounds: connect, first byte, idle (between body chunks) and total.
 * A bound hit before the headers is a 504 in OpenAI's shape; one hit in
 * mid-stream ends the stream with an error event and no [DONE]. A slow
 * client is not a silent provider.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { APIError, InternalServerError } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../functions/shared/config.ts";
import { measureRequest, ModelDimensionLimiter } from "../../functions/shared/observability/request-metrics.ts";
import type { RequestSummary } from "../../functions/shared/request-summary.ts";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.ts";
import { startTestGateway, type TestGateway } from "../support/local-gateway.ts";
import { isOpenAIErrorShape, sseEvents } from "../support/raw-http.ts";

const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Hi" }] };

let upstream: FakeOpenAI;

beforeAll(async () => {
  upstream = await startFakeOpenAI({ requireAuth: "Bearer sk-caller" });
});
afterAll(async () => {
  await upstream.close();
});
beforeEach(() => {
  upstream.reset();
});

async function rejection(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}

/** Posts a streamed chat request with fetch and returns the whole body as text. */
async function rawStream(gateway: TestGateway, body: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const response = await fetch(`${gateway.baseURL}chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-caller" },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

/** The last event of an SSE body, parsed as the gateway's error event (checked to be exactly OpenAI's shape). */
function lastErrorEvent(text: string): { message: string; type: string; param: string | null; code: string | null } {
  const events = sseEvents(text);
  const last = events.at(-1) ?? "";
  expect(last.startsWith("data: ")).toBe(true);
  const payload = JSON.parse(last.slice("data: ".length)) as unknown;
  expect(isOpenAIErrorShape(payload)).toBe(true);
  expect(Object.keys((payload as { error: object }).error)).toEqual(["message", "type", "param", "code"]);
  return (payload as { error: { message: string; type: string; param: string | null; code: string | null } }).error;
}

/** Waits for `drain`; false when the response closed first. Removes both listeners either way. */
function drainedOrClosed(response: http.ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (result: boolean) => () => {
      response.off("drain", onDrain);
      response.off("close", onClose);
      resolve(result);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    response.on("drain", onDrain);
    response.on("close", onClose);
  });
}

function metricsOf(summary: RequestSummary | undefined) {
  if (summary === undefined) throw new Error("no summary");
  return measureRequest(summary, loadConfig({}).observability.prices, new ModelDimensionLimiter()).values;
}

describe("first-byte timeout", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ OPENAI_BASE_URL: upstream.baseUrl, GATEWAY_FIRST_BYTE_TIMEOUT_MS: "200", GATEWAY_MAX_RETRIES: "0" });
  });
  afterAll(async () => {
    await gateway.close();
  });
  beforeEach(() => gateway.reset());

  it("a provider that never answers is a 504 upstream_timeout after ~200 ms, and its connection is closed", async () => {
    upstream.enqueue({ kind: "hang" });
    const socketClosed = upstream.waitForSocketClose(3_000);
    const started = performance.now();
    const error = await rejection(gateway.client("sk-caller").chat.completions.create(chat));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(504);
    expect(error.code).toBe("upstream_timeout");
    expect(error.type).toBe("server_error");
    expect(error.param).toBeNull();
    expect(error.message).toContain("200 ms");
    expect(error.headers?.get("content-type")).toBe("application/json");
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(1_000);
    expect(await socketClosed).toBeLessThan(1_000);
    const [summary] = await gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 504, outcome: "timeout", errorCode: "upstream_timeout", retries: 0 });
    expect(metricsOf(summary)).toMatchObject({ timeouts: 1, serverErrors: 1, streamErrors: 0 });
  });

  it("is not retried even when the request allows retries (the provider may have started on it)", async () => {
    upstream.enqueue({ kind: "hang" });
    const error = await rejection(
      gateway.client("sk-caller", { "x-gateway-max-retries": "2" }).chat.completions.create({ ...chat, stream: true }),
    );
    expect(error.status).toBe(504);
    expect(error.headers?.get("x-gateway-retries")).toBe("0");
    expect(upstream.requests).toHaveLength(1);
  });
});

describe("idle timeout in mid-stream", () => {
  const IDLE_MS = 200;
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ OPENAI_BASE_URL: upstream.baseUrl, GATEWAY_IDLE_TIMEOUT_MS: String(IDLE_MS), GATEWAY_MAX_RETRIES: "0" });
  });
  afterAll(async () => {
    await gateway.close();
  });
  beforeEach(() => gateway.reset());

  it("ends the client's stream with an error event and no [DONE], and closes the provider's connection", async () => {
    // The role chunk goes at once, then 600 ms of silence before the first delta.
    upstream.enqueue({ kind: "stream", chunks: 3, intervalMs: 600 });
    const socketClosed = upstream.waitForSocketClose(3_000);
    const started = performance.now();
    const { status, text } = await rawStream(gateway, { ...chat, stream: true, stream_options: { include_usage: true } });
    const elapsed = performance.now() - started;
    expect(status).toBe(200);
    expect(text).not.toContain("[DONE]");
    // What the provider sent is relayed untouched, then the error event follows as an event of its own.
    expect(text.startsWith(upstream.lastStreamEvents.join(""))).toBe(true);
    expect(sseEvents(text)).toHaveLength(upstream.lastStreamEvents.length + 1);
    expect(lastErrorEvent(text)).toEqual({
      message: `The provider sent nothing for ${IDLE_MS} ms.`,
      type: "server_error",
      param: null,
      code: "upstream_timeout",
    });
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS - 5);
    expect(elapsed).toBeLessThan(600);
    expect(await socketClosed).toBeLessThan(1_000);
    const [summary] = await gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, stream: true, outcome: "timeout" });
    expect(metricsOf(summary)).toMatchObject({ timeouts: 1, streamErrors: 1, serverErrors: 1 });
  });

  it("the SDK's for await throws an APIError with the gateway's message", async () => {
    upstream.enqueue({ kind: "stream", chunks: 3, intervalMs: 600 });
    const stream = await gateway.client("sk-caller").chat.completions.create({ ...chat, stream: true });
    const received: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const chunk of stream) received.push(chunk.choices[0]?.delta.role ?? chunk.choices[0]?.delta.content ?? "");
      })(),
    );
    expect(received).toEqual(["assistant"]);
    expect(error.message).toContain(`The provider sent nothing for ${IDLE_MS} ms.`);
    expect(error.code).toBe("upstream_timeout");
    expect(error.type).toBe("server_error");
  });

  it("a stream whose chunks come faster than the idle bound is never cut, however long it lasts", async () => {
    upstream.enqueue({ kind: "stream", chunks: 12, intervalMs: IDLE_MS / 2 });
    const { text } = await rawStream(gateway, { ...chat, stream: true, stream_options: { include_usage: true } });
    expect(text).toBe(upstream.lastStreamEvents.join(""));
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
  });
});

describe("total timeout", () => {
  const TOTAL_MS = 700;
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({
      OPENAI_BASE_URL: upstream.baseUrl,
      GATEWAY_TOTAL_TIMEOUT_MS: String(TOTAL_MS),
      GATEWAY_IDLE_TIMEOUT_MS: "5000",
      GATEWAY_MAX_RETRIES: "0",
    });
  });
  afterAll(async () => {
    await gateway.close();
  });
  beforeEach(() => gateway.reset());

  it("ends a long, steady stream at the limit with an error event and no [DONE]", async () => {
    // 20 deltas 100 ms apart: two seconds, well inside the idle bound, well past the total one.
    upstream.enqueue({ kind: "stream", chunks: 20, intervalMs: 100 });
    const socketClosed = upstream.waitForSocketClose(3_000);
    const started = performance.now();
    const { status, text } = await rawStream(gateway, { ...chat, stream: true, stream_options: { include_usage: true } });
    const elapsed = performance.now() - started;
    expect(status).toBe(200);
    expect(text).not.toContain("[DONE]");
    expect(sseEvents(text).length).toBeGreaterThan(3);
    expect(lastErrorEvent(text)).toEqual({
      message: "The request took longer than the gateway's total time limit.",
      type: "server_error",
      param: null,
      code: "upstream_timeout",
    });
    expect(elapsed).toBeGreaterThanOrEqual(TOTAL_MS - 50);
    expect(elapsed).toBeLessThan(TOTAL_MS + 500);
    expect(await socketClosed).toBeLessThan(1_000);
    const [summary] = await gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, outcome: "timeout" });
    expect(metricsOf(summary)).toMatchObject({ timeouts: 1, streamErrors: 1 });
  });

  it("the SDK raises it as an APIError mid-stream", async () => {
    upstream.enqueue({ kind: "stream", chunks: 20, intervalMs: 100 });
    const stream = await gateway.client("sk-caller").chat.completions.create({ ...chat, stream: true });
    let chunks = 0;
    const error = await rejection(
      (async () => {
        for await (const _chunk of stream) chunks += 1;
      })(),
    );
    expect(chunks).toBeGreaterThan(2);
    expect(error.message).toContain("total time limit");
    expect(error.code).toBe("upstream_timeout");
  });
});

describe("connect timeout", () => {
  // A listening socket whose owner never accepts: with a backlog of 0 the kernel queues one
  // connection, then drops further SYNs, so a connect to it hangs (no Node API stops accepting).
  const CONNECT_MS = 200;
  let holder: ChildProcess;
  let filler: net.Socket;
  let gateway: TestGateway;

  beforeAll(async () => {
    holder = spawn("python3", ["-c", 'import socket,sys\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()'], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const [line] = (await once(holder.stdout ?? new net.Socket(), "data")) as [Buffer];
    const port = Number(line.toString().trim());
    filler = net.connect(port, "127.0.0.1");
    await once(filler, "connect");
    gateway = await startTestGateway({
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
      GATEWAY_CONNECT_TIMEOUT_MS: String(CONNECT_MS),
      GATEWAY_MAX_RETRIES: "0",
      GATEWAY_RETRY_BASE_DELAY_MS: "10",
    });
  });
  afterAll(async () => {
    await gateway?.close();
    filler?.destroy();
    holder?.kill();
  });
  beforeEach(() => gateway.reset());

  it("a connect that never completes is a 504 upstream_connect_timeout after ~200 ms", async () => {
    const started = performance.now();
    const error = await rejection(gateway.client("sk-caller").chat.completions.create(chat));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(504);
    expect(error.code).toBe("upstream_connect_timeout");
    expect(error.message).toContain(`${CONNECT_MS} ms`);
    expect(elapsed).toBeGreaterThanOrEqual(CONNECT_MS - 5);
    expect(elapsed).toBeLessThan(1_000);
    const [summary] = await gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 504, outcome: "timeout", errorCode: "upstream_connect_timeout" });
  });

  it("is retried (the provider never saw the request): two retries, then the 504", async () => {
    const started = performance.now();
    const error = await rejection(gateway.client("sk-caller", { "x-gateway-max-retries": "2" }).chat.completions.create(chat));
    const elapsed = performance.now() - started;
    expect(error.status).toBe(504);
    expect(error.code).toBe("upstream_connect_timeout");
    expect(error.headers?.get("x-gateway-retries")).toBe("2");
    expect(elapsed).toBeGreaterThanOrEqual(3 * CONNECT_MS - 15);
    expect(elapsed).toBeLessThan(2_000);
    const [summary] = await gateway.waitForSummaries(1);
    expect(summary?.retries).toBe(2);
  });
});

describe("a refused connection", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    gateway = await startTestGateway({ OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, GATEWAY_MAX_RETRIES: "2", GATEWAY_RETRY_BASE_DELAY_MS: "10" });
  });
  afterAll(async () => {
    await gateway.close();
  });

  it("is a 502 upstream_unavailable after the retries", async () => {
    const error = await rejection(gateway.client("sk-caller").chat.completions.create(chat));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(502);
    expect(error.code).toBe("upstream_unavailable");
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.headers?.get("x-gateway-retries")).toBe("2");
    const [summary] = await gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 502, outcome: "gateway_error", retries: 2 });
  });
});

describe("a slow client is not an idle provider", () => {
  // Small streams fit in the socket buffers whatever the client does, so the gateway never waits on it.
  // Here the provider sends ~24 MB as fast as the gateway takes it: with a client that stops reading,
  // the buffers fill, the gateway's writes wait for drain, and the provider is held back by backpressure.
  const IDLE_MS = 300;
  const EVENTS = 384;
  const PAYLOAD = "x".repeat(64 * 1024);
  let bigUpstream: http.Server;
  let gateway: TestGateway;
  /** How long each of the provider's writes waited for drain. */
  let blockedMs: number[] = [];
  let sentBytes = 0;

  beforeAll(async () => {
    bigUpstream = http.createServer((request, response) => {
      request.resume();
      request.on("end", async () => {
        response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_big" });
        response.flushHeaders();
        for (let index = 0; index < EVENTS && !response.destroyed; index += 1) {
          const event = `data: ${JSON.stringify({ id: "chatcmpl-big", object: "chat.completion.chunk", created: 1, model: "gpt-4o", choices: [{ index: 0, delta: { content: PAYLOAD }, finish_reason: null }], usage: null })}\n\n`;
          sentBytes += Buffer.byteLength(event);
          if (!response.write(event)) {
            const waitStarted = performance.now();
            const drained = await drainedOrClosed(response);
            blockedMs.push(performance.now() - waitStarted);
            if (!drained) return;
          }
        }
        sentBytes += Buffer.byteLength("data: [DONE]\n\n");
        response.end("data: [DONE]\n\n");
      });
    });
    await new Promise<void>((resolve) => bigUpstream.listen(0, "127.0.0.1", resolve));
    const { port } = bigUpstream.address() as AddressInfo;
    gateway = await startTestGateway({
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
      GATEWAY_IDLE_TIMEOUT_MS: String(IDLE_MS),
      GATEWAY_MAX_RETRIES: "0",
    });
  });
  afterAll(async () => {
    await gateway.close();
    bigUpstream.closeAllConnections();
    await new Promise((resolve) => bigUpstream.close(resolve));
  });

  it("pausing reads for 3× the idle bound while the provider is held back does not cut the stream", async () => {
    blockedMs = [];
    sentBytes = 0;
    const url = new URL(`${gateway.baseURL}chat/completions`);
    const body = JSON.stringify({ ...chat, stream: true, stream_options: { include_usage: true } });
    const received = await new Promise<Buffer>((resolve, reject) => {
      const request = http.request(
        url,
        { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer sk-caller", "content-length": Buffer.byteLength(body) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.once("data", (first: Buffer) => {
            chunks.push(first);
            response.pause();
            // The client is busy: nothing is read for three idle periods.
            void sleep(3 * IDLE_MS).then(() => {
              response.on("data", (chunk: Buffer) => chunks.push(chunk));
              response.resume();
            });
          });
          response.on("end", () => resolve(Buffer.concat(chunks)));
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(body);
    });
    // The test's premise: the provider really was held back for longer than the idle bound.
    expect(Math.max(0, ...blockedMs)).toBeGreaterThan(IDLE_MS);
    const text = received.toString("utf8");
    const errorAt = text.indexOf('data: {"error"');
    expect(errorAt === -1 ? "" : text.slice(errorAt).trim(), "the stream was cut by an error event").toBe("");
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(received.length).toBe(sentBytes);
    const [summary] = await gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, outcome: "ok" });
  }, 20_000);
});
