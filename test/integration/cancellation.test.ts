/**
 * A client that goes away stops the work it asked for: the provider's
 * connection is closed at once, whatever the gateway was doing (relaying,
 * waiting for the headers, waiting to retry), no further upstream request is
 * made, and the request is logged as `client_aborted`.
 */
import diagnostics from "node:diagnostics_channel";
import { getEventListeners } from "node:events";
import http, { type ClientRequest, type IncomingMessage } from "node:http";
import net from "node:net";
import { performance } from "node:perf_hooks";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import type { RequestSummary } from "../../functions/shared/observability/request-summary.ts";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";
import { metricsOf, startTestGateway } from "../support/local-gateway.ts";
import { buildRequest } from "../support/raw-http.ts";

const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Tell me a long story" }] };
/**
 * How soon after the client leaves the provider's socket must be closed. The
 * gateway closes it at once; the margin is for scheduling on a busy 2-core
 * machine (under a load of 11, 100 ms was missed by up to 180 ms). A gateway
 * that kept relaying would still be caught by the count of events sent.
 */
const CLOSE_WITHIN_MS = 500;

// Both are reset before each test. Every test but the last ends with the provider's socket destroyed, so a
// socket close seen by a test is its own (an idle pooled socket left by an earlier test could otherwise close meanwhile).
const fixture = useFakeUpstreamAndGateway({
  upstream: { requireAuth: "Bearer sk-caller" },
  env: { GATEWAY_MAX_RETRIES: "2", GATEWAY_RETRY_MAX_DELAY_MS: "5000" },
});

/** Waits until the provider has received `count` requests. */
async function providerReceived(count: number): Promise<void> {
  await fixture.upstream.waitForRequests(count, 2_000);
}

/**
 * Resolves once the gateway (in this process, over node:http) has received the
 * headers of a provider answer with `status`; rejects after `timeoutMs`.
 */
function gatewayReceives(status: number, timeoutMs = 2_000): Promise<void> {
  const channel = diagnostics.channel("http.client.response.finish");
  return new Promise<void>((resolve, reject) => {
    const onResponse = (message: unknown) => {
      if ((message as { request: ClientRequest; response: IncomingMessage }).response.statusCode !== status) return;
      settle();
      resolve();
    };
    const timer = setTimeout(() => {
      settle();
      reject(new Error(`the gateway received no ${status} within ${timeoutMs} ms`));
    }, timeoutMs);
    const settle = () => {
      clearTimeout(timer);
      channel.unsubscribe(onResponse);
    };
    channel.subscribe(onResponse);
  });
}

/** Resolves when the provider receives an `index`-th request (1-based) within `withinMs`; rejects when none comes. */
function anotherRequest(index: number, withinMs: number): Promise<unknown> {
  return fixture.upstream.waitForRequests(index, withinMs);
}

describe("a client that leaves in mid-stream", () => {
  it("aborting the SDK request closes the provider's socket at once", async () => {
    fixture.upstream.enqueue({ kind: "stream", chunks: 100, intervalMs: 30 });
    const controller = new AbortController();
    const stream = await fixture.client.chat.completions.create({ ...chat, stream: true }, { signal: controller.signal });
    let received = 0;
    let socketClosed: Promise<number> | undefined;
    let abortedAt = 0;
    const iteration = (async () => {
      for await (const _chunk of stream) {
        received += 1;
        if (received === 3) {
          socketClosed = fixture.upstream.waitForSocketClose(2_000);
          abortedAt = performance.now();
          controller.abort();
        }
      }
    })();
    await iteration.catch(() => undefined);
    expect(received).toBe(3);
    expect(socketClosed).toBeDefined();
    expect(await socketClosed).toBeLessThan(CLOSE_WITHIN_MS);
    // The provider stopped writing: far fewer than its 100 deltas went out.
    expect(fixture.upstream.lastStreamEvents.length).toBeLessThan(20);
    expect(fixture.upstream.openSockets()).toBe(0);
    expect(fixture.upstream.requests).toHaveLength(1);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ stream: true, outcome: "client_aborted" });
    expect(performance.now() - abortedAt).toBeLessThan(1_000);
  });

  it("destroying a raw socket closes the provider's socket at once", async () => {
    fixture.upstream.enqueue({ kind: "stream", chunks: 100, intervalMs: 30 });
    const port = Number(new URL(fixture.gateway.url).port);
    const body = JSON.stringify({ ...chat, stream: true });
    const socket = net.connect(port, "127.0.0.1");
    socket.write(
      buildRequest("POST", "/v1/chat/completions", { "content-type": "application/json", authorization: "Bearer sk-caller" }, body),
    );
    let received = "";
    await new Promise<void>((resolve, reject) => {
      socket.on("data", (chunk: Buffer) => {
        received += chunk.toString();
        // Headers plus a few events.
        if ((received.match(/data: /g)?.length ?? 0) >= 3) resolve();
      });
      socket.on("error", reject);
    });
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    const socketClosed = fixture.upstream.waitForSocketClose(2_000);
    socket.destroy();
    expect(await socketClosed).toBeLessThan(CLOSE_WITHIN_MS);
    expect(fixture.upstream.lastStreamEvents.length).toBeLessThan(20);
    expect(fixture.upstream.requests).toHaveLength(1);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ stream: true, outcome: "client_aborted" });
  });

  it("the same for the mock provider: its stream stops being produced", async () => {
    const mockGateway = await startTestGateway({ GATEWAY_MOCK_PROVIDER: "true", GATEWAY_MOCK_CHUNK_DELAY_MS: "30" });
    try {
      const controller = new AbortController();
      const long = { model: "mock-gpt-4o", messages: [{ role: "user" as const, content: "word ".repeat(150) }] };
      const stream = await mockGateway.client("sk-anything", { "x-provider": "mock" }).chat.completions.create({ ...long, stream: true }, { signal: controller.signal });
      let received = 0;
      await (async () => {
        for await (const _chunk of stream) {
          received += 1;
          if (received === 3) controller.abort();
        }
      })().catch(() => undefined);
      expect(received).toBe(3);
      const [summary] = await mockGateway.waitForSummaries(1);
      expect(summary).toMatchObject({ provider: "mock", outcome: "client_aborted" });
      // Ended within a few chunk delays of the abort, not after the ~150 words × 30 ms.
      expect(summary?.totalMs).toBeLessThan(1_000);
    } finally {
      await mockGateway.close();
    }
  });
});

describe("a client that leaves before the provider answered (hang)", () => {
  it("the provider's socket closes at once, with no second request", async () => {
    fixture.upstream.enqueue({ kind: "hang" });
    const controller = new AbortController();
    const pending = fixture.client.chat.completions.create({ ...chat, stream: true }, { signal: controller.signal }).catch((error: unknown) => error);
    await providerReceived(1);
    const socketClosed = fixture.upstream.waitForSocketClose(2_000);
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(await socketClosed).toBeLessThan(CLOSE_WITHIN_MS);
    expect(fixture.upstream.openSockets()).toBe(0);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    // Nobody read an answer: logged as 499, the status proxies log for a client that closed the request.
    expect(summary).toMatchObject({ status: 499, outcome: "client_aborted", retries: 0 });
    await expect(anotherRequest(2, 200)).rejects.toThrow(/1 of 2 requests/);
  });

  it("the same with a raw socket destroyed while waiting for the headers", async () => {
    fixture.upstream.enqueue({ kind: "hang" });
    const port = Number(new URL(fixture.gateway.url).port);
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    socket.write(
      buildRequest("POST", "/v1/chat/completions", { "content-type": "application/json", authorization: "Bearer sk-caller" }, JSON.stringify(chat)),
    );
    await providerReceived(1);
    const socketClosed = fixture.upstream.waitForSocketClose(2_000);
    socket.destroy();
    expect(await socketClosed).toBeLessThan(CLOSE_WITHIN_MS);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 499, outcome: "client_aborted" });
  });
});

describe("a client that leaves while the gateway waits to retry", () => {
  it("no retry is sent, the wait ends at once, and the request is client_aborted", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 429, retryAfterMs: 2_000 });
    const controller = new AbortController();
    const rateLimited = gatewayReceives(429);
    const pending = fixture.client.chat.completions.create(chat, { signal: controller.signal }).catch((error: unknown) => error);
    // Once the 429 is in, the gateway is waiting (or about to wait) the 2 s before its retry.
    await rateLimited;
    const abortedAt = performance.now();
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    // The request finished right after the abort, not when the 2 s wait would have ended.
    expect(performance.now() - abortedAt).toBeLessThan(500);
    expect(summary).toMatchObject({ status: 499, outcome: "client_aborted" });
    expect(summary?.totalMs).toBeLessThan(1_000);
    // Past the time the retry would have gone out: still one request.
    await expect(anotherRequest(2, 2_200)).rejects.toThrow(/1 of 2 requests/);
    expect(fixture.upstream.requests).toHaveLength(1);
    expect(fixture.upstream.pending()).toBe(0);
    // At most the one pooled keep-alive connection remains, idle (the 429's body was read in full).
    expect(fixture.upstream.openSockets()).toBeLessThanOrEqual(1);
  }, 10_000);
});

describe("metrics of a client that left", () => {
  const serverErrorsOf = (summary: RequestSummary | undefined) =>
    summary === undefined ? undefined : metricsOf(summary).serverErrors;

  it("leaving before the provider answered is not counted as a server error (no 5xx alarm for a user pressing stop)", async () => {
    fixture.upstream.enqueue({ kind: "hang" });
    const controller = new AbortController();
    const pending = fixture.client.chat.completions.create(chat, { signal: controller.signal }).catch((error: unknown) => error);
    await providerReceived(1);
    controller.abort();
    await pending;
    const [summary] = await fixture.gateway.waitForSummaries(1);
    // Nobody received an error status: the client was gone. Counting it as a 500 inflates ServerErrors.
    expect({ status: summary?.status, outcome: summary?.outcome, errorCode: summary?.errorCode, serverErrors: serverErrorsOf(summary) }).toEqual({
      status: 499,
      outcome: "client_aborted",
      errorCode: undefined,
      serverErrors: 0,
    });
  });

  it("leaving in mid-stream is not counted as a server error either", async () => {
    fixture.upstream.enqueue({ kind: "stream", chunks: 50, intervalMs: 20 });
    const controller = new AbortController();
    const stream = await fixture.client.chat.completions.create({ ...chat, stream: true }, { signal: controller.signal });
    await (async () => {
      for await (const _chunk of stream) controller.abort();
    })().catch(() => undefined);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, outcome: "client_aborted" });
    expect(serverErrorsOf(summary)).toBe(0);
  });
});

describe("after all that", () => {
  it("the gateway still answers normally", async () => {
    const completion = await fixture.client.chat.completions.create(chat);
    expect(completion.choices[0]?.message.content).toBe("Echo: Tell me a long story");
  });
});

describe("one connection, many requests", () => {
  it("leaves no abort listener behind per request: 30 requests on one keep-alive connection, provider and mock", async () => {
    const gateway = await startTestGateway({ GATEWAY_MOCK_PROVIDER: "true", OPENAI_BASE_URL: fixture.upstream.baseUrl });
    // Every abort signal the gateway listens on (Node warns of no growing AbortSignal: the test counts).
    const signals = new Set<AbortSignal>();
    const addEventListener = EventTarget.prototype.addEventListener;
    EventTarget.prototype.addEventListener = function (this: EventTarget, ...args: Parameters<EventTarget["addEventListener"]>) {
      if (this instanceof AbortSignal) signals.add(this);
      return addEventListener.apply(this, args);
    };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      const body = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] });
      for (let index = 0; index < 30; index += 1) {
        const provider = index % 2 === 0 ? "mock" : "openai";
        const status = await new Promise<number>((resolve, reject) => {
          const request = http.request(
            `${gateway.url}/v1/chat/completions`,
            { method: "POST", agent, headers: { "content-type": "application/json", authorization: "Bearer sk-caller", "x-provider": provider } },
            (response) => {
              sockets.add(response.socket);
              response.resume();
              response.on("end", () => resolve(response.statusCode ?? 0));
            },
          );
          request.on("error", reject);
          request.end(body);
        });
        expect(status).toBe(200);
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(sockets.size).toBe(1);
      expect(signals.size).toBeGreaterThan(0);
      expect(Math.max(...[...signals].map((signal) => getEventListeners(signal, "abort").length))).toBeLessThanOrEqual(1);
    } finally {
      EventTarget.prototype.addEventListener = addEventListener;
      agent.destroy();
      await gateway.close();
    }
  });
});
