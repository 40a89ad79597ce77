import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "node:http";
import type { OutgoingHttpHeaders } from "node:http";
import { startFunctionUrlEmulator } from "../support/lambda-emulator.ts";
import type { FunctionUrlEmulator } from "../support/lambda-emulator.ts";

// Hand-written handler module: no project imports, only the `awslambda` global from aws-lambda-ric.
const HANDLER_SOURCE = String.raw`
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const json = (stream, statusCode = 200) =>
  awslambda.HttpResponseStream.from(stream, { statusCode, headers: { "content-type": "application/json" } });

export const streaming = awslambda.streamifyResponse(async (event, responseStream, context) => {
  switch ("/" + event.rawPath.split("/")[1]) {
    case "/throw":
      throw new Error("boom before any write");
    case "/throw-mid": {
      const stream = json(responseStream);
      stream.write("partial");
      await sleep(20);
      throw new Error("boom mid-stream");
    }
    case "/end-only":
      // aws-lambda-ric only emits the prelude from write(); end(data) alone skips it (Function URLs answer 502).
      json(responseStream, 404).end("not found");
      return;
    case "/no-prelude":
      responseStream.setContentType("text/plain");
      responseStream.write("raw bytes");
      responseStream.end();
      return;
    case "/sleep": {
      const startedAt = Date.now();
      await sleep(100);
      const stream = json(responseStream);
      stream.write(JSON.stringify({ startedAt, endedAt: Date.now() }));
      stream.end();
      return;
    }
    case "/echo": {
      const stream = json(responseStream);
      stream.write(JSON.stringify({ event, awsRequestId: context.awsRequestId, remainingMs: context.getRemainingTimeInMillis() }));
      stream.end();
      return;
    }
    default: {
      const stream = awslambda.HttpResponseStream.from(responseStream, {
        statusCode: 201,
        headers: { "content-type": "text/event-stream", "x-custom": "yes" },
        cookies: ["session=abc; Path=/"],
      });
      process.stdout.write(JSON.stringify({ _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: "EmulatorTest", Dimensions: [[]], Metrics: [{ Name: "Chunks", Unit: "Count" }] }] }, Chunks: 5 }) + "\n");
      console.log("handler log line", event.rawPath);
      for (let i = 0; i < 5; i++) {
        if (i > 0) await sleep(50);
        stream.write("data: " + JSON.stringify({ i, writtenAt: Date.now() }) + "\n\n");
      }
      stream.end();
    }
  }
});

export const buffered = async (event) => {
  switch (event.rawPath) {
    case "/throw":
      throw new Error("buffered boom");
    case "/value":
      return { hello: "world", n: 1 };
    case "/binary":
      return { statusCode: 200, headers: { "content-type": "application/octet-stream" }, body: Buffer.from([0, 1, 2, 255]).toString("base64"), isBase64Encoded: true };
    default:
      return { statusCode: 202, headers: { "content-type": "text/plain", "x-buffered": "1" }, cookies: ["a=1", "b=2"], body: "hello " + event.queryStringParameters?.name };
  }
};

export const slow = async () => {
  await sleep(5000);
  return "too late";
};
`;

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** node:http request with full control over headers (duplicates, cookies) and no connection pooling. */
function rawRequest(url: string, options: { method?: string; headers?: OutgoingHttpHeaders; body?: Buffer | string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const LEAK_TYPES = ["ProcessWrap", "TCPServerWrap", "TCPSocketWrap", "PipeWrap"];
function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) if (LEAK_TYPES.includes(type)) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

describe("Function URL emulator running aws-lambda-ric", () => {
  let taskRoot: string;
  let baseline: Record<string, number>;
  let streaming: FunctionUrlEmulator;
  let buffered: FunctionUrlEmulator;

  beforeAll(async () => {
    baseline = handleCounts();
    taskRoot = mkdtempSync(join(tmpdir(), "lambda-emulator-test-"));
    writeFileSync(join(taskRoot, "index.mjs"), HANDLER_SOURCE);
    [streaming, buffered] = await Promise.all([
      startFunctionUrlEmulator({ taskRoot, handler: "index.streaming", env: { EMULATOR_TEST: "1" } }),
      startFunctionUrlEmulator({ taskRoot, handler: "index.buffered" }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([streaming?.close(), buffered?.close()]);
    if (taskRoot) rmSync(taskRoot, { recursive: true, force: true });
  });

  it("starts the runtime and reports pid and init time", () => {
    expect(streaming.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(streaming.pid).toBeGreaterThan(0);
    expect(streaming.readyMs).toBeGreaterThan(0);
    expect(streaming.readyMs).toBeLessThan(10_000);
  });

  it("relays a streamed response's status, headers, cookies and body chunks as they are written", async () => {
    const startedAt = Date.now();
    const res = await fetch(`${streaming.url}/stream`);
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("x-custom")).toBe("yes");
    expect(res.headers.getSetCookie()).toEqual(["session=abc; Path=/"]);
    expect(res.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);

    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let firstChunkAt = 0;
    let reads = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      reads++;
      firstChunkAt ||= Date.now();
      text += decoder.decode(value, { stream: true });
    }
    const events = text.split("\n\n").filter(Boolean).map((block) => JSON.parse(block.replace(/^data: /, "")) as { i: number; writtenAt: number });
    expect(events.map((e) => e.i)).toEqual([0, 1, 2, 3, 4]);
    const lastWrittenAt = events[4]!.writtenAt;
    // ~200 ms between first and last write: the first chunk must reach us well before the last is written.
    expect(lastWrittenAt - events[0]!.writtenAt).toBeGreaterThanOrEqual(150);
    expect(firstChunkAt).toBeLessThan(lastWrittenAt - 100);
    expect(firstChunkAt - startedAt).toBeLessThan(1_000);
    expect(reads).toBeGreaterThanOrEqual(3);
  });

  it("captures raw stdout (EMF) and console.log lines in logs", async () => {
    const emf = streaming.logs.find((line) => line.startsWith('{"_aws"'));
    expect(emf).toBeDefined();
    expect(JSON.parse(emf!)).toMatchObject({ Chunks: 5, _aws: { CloudWatchMetrics: [{ Namespace: "EmulatorTest" }] } });
    // aws-lambda-ric's patched console: "<ISO time>\t<request id>\tINFO\t<message>"
    expect(streaming.logs.some((line) => /\tINFO\thandler log line \/stream$/.test(line))).toBe(true);
  });

  it("builds a payload format 2.0 event like Function URLs do", async () => {
    const body = JSON.stringify({ model: "x", messages: [] });
    const res = await rawRequest(`${streaming.url}/echo/some%20path?a=1&a=2&b=x%20y&flag`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Multi": ["one", "two"], Cookie: "c1=v1; c2=v2", "User-Agent": "emulator-test" },
      body,
    });
    expect(res.status).toBe(200);
    const { event, awsRequestId, remainingMs } = JSON.parse(res.body.toString()) as {
      event: Record<string, any>;
      awsRequestId: string;
      remainingMs: number;
    };
    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/echo/some%20path",
      rawQueryString: "a=1&a=2&b=x%20y&flag",
      queryStringParameters: { a: "1,2", b: "x y", flag: "" },
      cookies: ["c1=v1", "c2=v2"],
      body,
      isBase64Encoded: false,
      requestContext: {
        http: { method: "POST", path: "/echo/some%20path", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "emulator-test" },
        stage: "$default",
        routeKey: "$default",
        requestId: awsRequestId,
      },
    });
    expect(event.headers["content-type"]).toBe("application/json");
    expect(event.headers["x-multi"]).toBe("one,two");
    expect(event.headers["user-agent"]).toBe("emulator-test");
    expect(event.headers.cookie).toBeUndefined();
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(typeof event.requestContext.timeEpoch).toBe("number");
    expect(event.requestContext.domainName).toBe(streaming.url.slice("http://".length));
    expect(res.headers["x-amzn-requestid"]).toBe(awsRequestId);
    expect(remainingMs).toBeGreaterThan(50_000);
    expect(remainingMs).toBeLessThanOrEqual(60_000);
  });

  it("base64-encodes non-text bodies and omits an empty body", async () => {
    const binary = await rawRequest(`${streaming.url}/echo`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from([0, 1, 2, 255]),
    });
    const binaryEvent = (JSON.parse(binary.body.toString()) as { event: Record<string, unknown> }).event;
    expect(binaryEvent).toMatchObject({ body: "AAEC/w==", isBase64Encoded: true, rawQueryString: "" });
    expect(binaryEvent).not.toHaveProperty("queryStringParameters");

    const empty = await rawRequest(`${streaming.url}/echo`);
    const emptyEvent = (JSON.parse(empty.body.toString()) as { event: Record<string, unknown> }).event;
    expect(emptyEvent).not.toHaveProperty("body");
    expect(emptyEvent.isBase64Encoded).toBe(false);
  });

  it("streams without a prelude as a plain 200 with the stream's content type", async () => {
    const res = await rawRequest(`${streaming.url}/no-prelude`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/plain");
    expect(res.body.toString()).toBe("raw bytes");
  });

  it("keeps the runtime going when the client disconnects mid-stream", async () => {
    const controller = new AbortController();
    const res = await fetch(`${streaming.url}/stream?disconnect`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    // The function still finishes its 5 writes (~200 ms) and the runtime asks for the next invocation.
    const next = await rawRequest(`${streaming.url}/no-prelude`);
    expect(next.status).toBe(200);
    expect(next.body.toString()).toBe("raw bytes");
  });

  it("answers 502 when HttpResponseStream.from() is followed by end(data) without write()", async () => {
    const res = await rawRequest(`${streaming.url}/end-only`);
    expect(res.status).toBe(502);
  });

  it("runs one invocation at a time and queues the rest", async () => {
    const results = await Promise.all([0, 1, 2].map(() => rawRequest(`${streaming.url}/sleep`)));
    const spans = results.map((r) => JSON.parse(r.body.toString()) as { startedAt: number; endedAt: number }).sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.startedAt).toBeGreaterThanOrEqual(spans[i - 1]!.endedAt);
  });

  it("maps a streaming handler that throws to 502, and truncates when it throws mid-stream", async () => {
    const res = await rawRequest(`${streaming.url}/throw`);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body.toString())).toEqual({ Message: "Internal Server Error" });
    expect(streaming.logs.some((line) => line.includes("boom before any write"))).toBe(true);

    const mid = await fetch(`${streaming.url}/throw-mid`);
    expect(mid.status).toBe(200);
    await expect(mid.text()).rejects.toThrow();

    // The runtime survives handler errors.
    expect((await rawRequest(`${streaming.url}/no-prelude`)).status).toBe(200);
  });

  it("maps buffered responses like Function URLs", async () => {
    const custom = await rawRequest(`${buffered.url}/custom?name=lambda`);
    expect(custom.status).toBe(202);
    expect(custom.headers["content-type"]).toBe("text/plain");
    expect(custom.headers["x-buffered"]).toBe("1");
    expect(custom.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    expect(custom.body.toString()).toBe("hello lambda");

    const value = await rawRequest(`${buffered.url}/value`);
    expect(value.status).toBe(200);
    expect(value.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(value.body.toString())).toEqual({ hello: "world", n: 1 });

    const binary = await rawRequest(`${buffered.url}/binary`);
    expect([...binary.body]).toEqual([0, 1, 2, 255]);

    const thrown = await rawRequest(`${buffered.url}/throw`);
    expect(thrown.status).toBe(502);
    expect(JSON.parse(thrown.body.toString())).toEqual({ Message: "Internal Server Error" });
    expect(buffered.logs.some((line) => line.includes("buffered boom"))).toBe(true);
  });

  it("enforces the timeout with a 502 and kills the runtime", async () => {
    const emulator = await startFunctionUrlEmulator({ taskRoot, handler: "index.slow", timeoutMs: 300 });
    try {
      const startedAt = Date.now();
      const res = await rawRequest(`${emulator.url}/`);
      expect(res.status).toBe(502);
      expect(Date.now() - startedAt).toBeLessThan(2_000);
      await expect.poll(() => isAlive(emulator.pid), { timeout: 2_000 }).toBe(false);
      expect((await rawRequest(`${emulator.url}/`)).status).toBe(502);
    } finally {
      await emulator.close();
    }
  });

  it("with a max concurrency (Managed Instances mode), runs invocations at once on the runtime's worker threads", async () => {
    const emulator = await startFunctionUrlEmulator({ taskRoot, handler: "index.streaming", maxConcurrency: 4, env: { AWS_LAMBDA_NODEJS_WORKER_COUNT: "2" } });
    try {
      const results = await Promise.all([0, 1, 2, 3].map(() => rawRequest(`${emulator.url}/sleep`)));
      const spans = results.map((r) => JSON.parse(r.body.toString()) as { startedAt: number; endedAt: number });
      // Each sleeps 100 ms; run one at a time they would span 400 ms.
      const overall = Math.max(...spans.map((span) => span.endedAt)) - Math.min(...spans.map((span) => span.startedAt));
      expect(overall).toBeLessThan(300);
      // Never more than the max at once: a fifth waits for one of the four.
      const five = await Promise.all([0, 1, 2, 3, 4].map(() => rawRequest(`${emulator.url}/sleep`)));
      const starts = five.map((r) => (JSON.parse(r.body.toString()) as { startedAt: number }).startedAt).sort((a, b) => a - b);
      expect((starts[4] ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(90);
    } finally {
      await emulator.close();
    }
  });

  it("rejects start when the handler cannot be loaded", async () => {
    await expect(startFunctionUrlEmulator({ taskRoot, handler: "index.missing" })).rejects.toThrow(/HandlerNotFound/);
  });

  it("close() kills the runtime and releases every server, socket and pipe", async () => {
    const pids = [streaming.pid, buffered.pid];
    const urls = [streaming.url, buffered.url];
    await Promise.all([streaming.close(), buffered.close()]);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    // Our servers, the child process and its stdio pipes are gone as soon as close() resolves.
    const own = (counts: Record<string, number>) => ({ ...counts, TCPSocketWrap: 0 });
    expect(own(handleCounts())).toEqual(own(baseline));
    for (const url of urls) await expect(fetch(url)).rejects.toThrow();
    // Client-side keep-alive sockets (undici's pool in this process) close once they see the server hang up.
    await expect.poll(() => handleCounts(), { timeout: 2_000 }).toEqual(baseline);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
