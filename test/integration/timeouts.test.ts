/**
 * Time bounds: connect, first byte, idle (between body chunks) and total.
 * A bound hit before the headers is a 504 in OpenAI's shape; one hit in
 * mid-stream ends the stream with an error event and no [DONE]. A slow
 * client is not a silent provider.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { InternalServerError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Behaviour } from "../support/fake-openai.ts";
import { postJson } from "../support/fetch.ts";
import { closedPortUrl, useFakeUpstream, useHttpUpstream, useTestGateway } from "../support/gateway-fixture.ts";
import { metricsOf, type TestGateway } from "../support/local-gateway.ts";
import { expectEndsWithErrorEvent, rejectionOf } from "../support/openai-errors.ts";
import { sseEvents } from "../support/raw-http.ts";

const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Hi" }] };

const fake = useFakeUpstream({ requireAuth: "Bearer sk-caller" });

/** Posts a streamed chat request with fetch and returns the whole body as text. */
const rawStream = (gateway: TestGateway, body: Record<string, unknown>) => postJson(gateway.baseURL, "chat/completions", body, { authorization: "Bearer sk-caller" });

/**
 * Streams a chat request (with include_usage) through `gateway` while the fake plays `behaviour`:
 * the answer, how long it took, and the ms until the provider's socket closed.
 */
async function timedStream(gateway: TestGateway, behaviour: Behaviour) {
  fake.upstream.enqueue(behaviour);
  const socketClosed = fake.upstream.waitForSocketClose(3_000);
  const started = performance.now();
  const { status, text } = await rawStream(gateway, { ...chat, stream: true, stream_options: { include_usage: true } });
  return { status, text, elapsed: performance.now() - started, socketClosed };
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

describe("first-byte timeout", () => {
  const fixture = useTestGateway(() => ({ OPENAI_BASE_URL: fake.upstream.baseUrl, GATEWAY_FIRST_BYTE_TIMEOUT_MS: "200", GATEWAY_MAX_RETRIES: "0" }));

  it("a provider that never answers is a 504 upstream_timeout after ~200 ms, and its connection is closed", async () => {
    fake.upstream.enqueue({ kind: "hang" });
    const socketClosed = fake.upstream.waitForSocketClose(3_000);
    const started = performance.now();
    const error = await rejectionOf(fixture.client.chat.completions.create(chat));
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
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 504, outcome: "timeout", errorCode: "upstream_timeout", retries: 0 });
    expect(metricsOf(summary)).toMatchObject({ timeouts: 1, serverErrors: 1, streamErrors: 0 });
  });

  it("is not retried even when the request allows retries (the provider may have started on it)", async () => {
    fake.upstream.enqueue({ kind: "hang" });
    const error = await rejectionOf(
      fixture.gateway.client("sk-caller", { "x-gateway-max-retries": "2" }).chat.completions.create({ ...chat, stream: true }),
    );
    expect(error.status).toBe(504);
    expect(error.headers?.get("x-gateway-retries")).toBe("0");
    expect(fake.upstream.requests).toHaveLength(1);
  });
});

describe("idle timeout in mid-stream", () => {
  const IDLE_MS = 200;
  const fixture = useTestGateway(() => ({ OPENAI_BASE_URL: fake.upstream.baseUrl, GATEWAY_IDLE_TIMEOUT_MS: String(IDLE_MS), GATEWAY_MAX_RETRIES: "0" }));

  it("ends the client's stream with an error event and no [DONE], and closes the provider's connection", async () => {
    // The role chunk goes at once, then 600 ms of silence before the first delta.
    const { status, text, elapsed, socketClosed } = await timedStream(fixture.gateway, { kind: "stream", chunks: 3, intervalMs: 600 });
    expect(status).toBe(200);
    expect(text).not.toContain("[DONE]");
    // What the provider sent is relayed untouched, then the error event follows as an event of its own.
    expect(text.startsWith(fake.upstream.lastStreamEvents.join(""))).toBe(true);
    expect(sseEvents(text)).toHaveLength(fake.upstream.lastStreamEvents.length + 1);
    expect(expectEndsWithErrorEvent(text)).toEqual({
      message: `The provider sent nothing for ${IDLE_MS} ms.`,
      type: "server_error",
      param: null,
      code: "upstream_timeout",
    });
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS - 5);
    expect(elapsed).toBeLessThan(600);
    expect(await socketClosed).toBeLessThan(1_000);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, stream: true, outcome: "timeout" });
    expect(metricsOf(summary)).toMatchObject({ timeouts: 1, streamErrors: 1, serverErrors: 1 });
  });

  it("the SDK's for await throws an APIError with the gateway's message", async () => {
    fake.upstream.enqueue({ kind: "stream", chunks: 3, intervalMs: 600 });
    const stream = await fixture.client.chat.completions.create({ ...chat, stream: true });
    const received: string[] = [];
    const error = await rejectionOf(
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
    fake.upstream.enqueue({ kind: "stream", chunks: 12, intervalMs: IDLE_MS / 2 });
    const { text } = await rawStream(fixture.gateway, { ...chat, stream: true, stream_options: { include_usage: true } });
    expect(text).toBe(fake.upstream.lastStreamEvents.join(""));
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
  });
});

describe("total timeout", () => {
  const TOTAL_MS = 700;
  const fixture = useTestGateway(() => ({
    OPENAI_BASE_URL: fake.upstream.baseUrl,
    GATEWAY_TOTAL_TIMEOUT_MS: String(TOTAL_MS),
    GATEWAY_IDLE_TIMEOUT_MS: "5000",
    GATEWAY_MAX_RETRIES: "0",
  }));

  it("ends a long, steady stream at the limit with an error event and no [DONE]", async () => {
    // 20 deltas 100 ms apart: two seconds, well inside the idle bound, well past the total one.
    const { status, text, elapsed, socketClosed } = await timedStream(fixture.gateway, { kind: "stream", chunks: 20, intervalMs: 100 });
    expect(status).toBe(200);
    expect(text).not.toContain("[DONE]");
    expect(sseEvents(text).length).toBeGreaterThan(3);
    expect(expectEndsWithErrorEvent(text)).toEqual({
      message: "The request took longer than the gateway's total time limit.",
      type: "server_error",
      param: null,
      code: "upstream_timeout",
    });
    expect(elapsed).toBeGreaterThanOrEqual(TOTAL_MS - 50);
    expect(elapsed).toBeLessThan(TOTAL_MS + 500);
    expect(await socketClosed).toBeLessThan(1_000);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, outcome: "timeout" });
    expect(metricsOf(summary)).toMatchObject({ timeouts: 1, streamErrors: 1 });
  });

  it("the SDK raises it as an APIError mid-stream", async () => {
    fake.upstream.enqueue({ kind: "stream", chunks: 20, intervalMs: 100 });
    const stream = await fixture.client.chat.completions.create({ ...chat, stream: true });
    let chunks = 0;
    const error = await rejectionOf(
      (async () => {
        for await (const _chunk of stream) chunks += 1;
      })(),
    );
    expect(chunks).toBeGreaterThan(2);
    expect(error.message).toContain("total time limit");
    expect(error.code).toBe("upstream_timeout");
  });
});

describe("total timeout, counted from the request's start", () => {
  const TOTAL_MS = 1_500;
  const HEADERS_AFTER_MS = 800;
  // Headers after 800 ms, then a delta every 50 ms for far longer than the bound.
  const slowStart = useHttpUpstream((request, response) => {
    request.resume();
    const timer = setTimeout(() => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      let sent = 0;
      const ticker = setInterval(() => {
        sent += 1;
        response.write(`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"${sent}"},"finish_reason":null}]}\n\n`);
        if (sent === 200) {
          clearInterval(ticker);
          response.end("data: [DONE]\n\n");
        }
      }, 50);
      response.on("close", () => clearInterval(ticker));
    }, HEADERS_AFTER_MS);
    response.on("close", () => clearTimeout(timer));
  });
  const fixture = useTestGateway(() => ({
    OPENAI_BASE_URL: slowStart.baseUrl,
    GATEWAY_TOTAL_TIMEOUT_MS: String(TOTAL_MS),
    GATEWAY_IDLE_TIMEOUT_MS: "5000",
    GATEWAY_MAX_RETRIES: "0",
  }));

  it("a stream whose headers came late has only the rest of the request's time, not the whole bound again", async () => {
    const started = performance.now();
    const { status, text } = await rawStream(fixture.gateway, { ...chat, stream: true });
    const elapsed = performance.now() - started;
    expect(status).toBe(200);
    expect(expectEndsWithErrorEvent(text)).toMatchObject({ code: "upstream_timeout" });
    expect(elapsed).toBeGreaterThanOrEqual(TOTAL_MS - 50);
    // The whole bound again from the headers would end it at 2,300 ms or later: a margin of 400 ms for a busy machine.
    expect(elapsed).toBeLessThan(HEADERS_AFTER_MS + TOTAL_MS - 300);
    // The summary says when the headers came.
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.upstreamHeadersMs).toBeGreaterThanOrEqual(HEADERS_AFTER_MS - 50);
    expect(summary?.upstreamHeadersMs).toBeLessThan(summary?.totalMs ?? 0);
  });
});

describe("connect timeout", () => {
  // A listening socket whose owner never accepts: with a backlog of 0 the kernel queues one
  // connection, then drops further SYNs, so a connect to it hangs (no Node API stops accepting).
  const CONNECT_MS = 200;
  let holder: ChildProcess;
  let filler: net.Socket;
  let port: number;

  beforeAll(async () => {
    holder = spawn("python3", ["-c", 'import socket,sys\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()'], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const [line] = (await once(holder.stdout ?? new net.Socket(), "data")) as [Buffer];
    port = Number(line.toString().trim());
    filler = net.connect(port, "127.0.0.1");
    await once(filler, "connect");
  });
  afterAll(() => {
    filler?.destroy();
    holder?.kill();
  });
  // Registered after the holder's hooks: starts after it, and is closed before it.
  const fixture = useTestGateway(() => ({
    OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
    GATEWAY_CONNECT_TIMEOUT_MS: String(CONNECT_MS),
    GATEWAY_MAX_RETRIES: "0",
    GATEWAY_RETRY_BASE_DELAY_MS: "10",
  }));

  it("a connect that never completes is a 504 upstream_connect_timeout after ~200 ms", async () => {
    const started = performance.now();
    const error = await rejectionOf(fixture.client.chat.completions.create(chat));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(504);
    expect(error.code).toBe("upstream_connect_timeout");
    expect(error.message).toContain(`${CONNECT_MS} ms`);
    expect(elapsed).toBeGreaterThanOrEqual(CONNECT_MS - 5);
    expect(elapsed).toBeLessThan(1_000);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 504, outcome: "timeout", errorCode: "upstream_connect_timeout" });
  });

  it("is retried (the provider never saw the request): two retries, then the 504", async () => {
    const started = performance.now();
    const error = await rejectionOf(fixture.gateway.client("sk-caller", { "x-gateway-max-retries": "2" }).chat.completions.create(chat));
    const elapsed = performance.now() - started;
    expect(error.status).toBe(504);
    expect(error.code).toBe("upstream_connect_timeout");
    expect(error.headers?.get("x-gateway-retries")).toBe("2");
    expect(elapsed).toBeGreaterThanOrEqual(3 * CONNECT_MS - 15);
    expect(elapsed).toBeLessThan(2_000);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.retries).toBe(2);
  });
});

describe("a refused connection", () => {
  const fixture = useTestGateway(async () => ({ OPENAI_BASE_URL: await closedPortUrl(), GATEWAY_MAX_RETRIES: "2", GATEWAY_RETRY_BASE_DELAY_MS: "10" }));

  it("is a 502 upstream_unavailable after the retries", async () => {
    const error = await rejectionOf(fixture.client.chat.completions.create(chat));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(502);
    expect(error.code).toBe("upstream_unavailable");
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.headers?.get("x-gateway-retries")).toBe("2");
    const [summary] = await fixture.gateway.waitForSummaries(1);
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
  /** How long each of the provider's writes waited for drain. */
  let blockedMs: number[] = [];
  let sentBytes = 0;

  const bigUpstream = useHttpUpstream((request, response) => {
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
  const fixture = useTestGateway(() => ({
    OPENAI_BASE_URL: bigUpstream.baseUrl,
    GATEWAY_IDLE_TIMEOUT_MS: String(IDLE_MS),
    GATEWAY_MAX_RETRIES: "0",
  }));

  it("pausing reads for 3× the idle bound while the provider is held back does not cut the stream", async () => {
    blockedMs = [];
    sentBytes = 0;
    const url = new URL(`${fixture.gateway.baseURL}chat/completions`);
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
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, outcome: "ok" });
  }, 20_000);
});
