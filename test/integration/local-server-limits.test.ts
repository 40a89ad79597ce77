/**
 * The local server's bounds on clients: a caller without a valid key is
 * refused from its headers (401, connection closed, body unread), connections
 * are capped, and so is the time to send the headers and the whole request
 * (408 `request_timeout` in OpenAI's shape).
 */
import net from "node:net";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalServer, type LocalServer } from "../../functions/local/server.ts";
import { loadConfig } from "../../functions/shared/config/config.ts";
import type { RequestSummary } from "../../functions/shared/observability/request-summary.ts";
import { closedPortUrl } from "../support/gateway-fixture.ts";
import { expectOpenAIError, type TextAnswer } from "../support/openai-errors.ts";
import { buildKeepAliveRequest, buildRequest, rawExchange, type RawExchange } from "../support/raw-http.ts";

const KEY = "gw-limits-key-0123456789";
const SIX_MB = 6 * 1024 * 1024;
const chat = JSON.stringify({ model: "mock-gpt-4o", messages: [{ role: "user", content: "hi" }] });

interface Started {
  readonly server: LocalServer;
  readonly port: number;
  readonly summaries: RequestSummary[];
}

async function start(env: Record<string, string>, limits: { maxConnections?: number; headersTimeoutMs?: number; requestTimeoutMs?: number } = {}): Promise<Started> {
  const summaries: RequestSummary[] = [];
  const server = await startLocalServer({
    config: loadConfig({ OPENAI_BASE_URL: await closedPortUrl(), GATEWAY_MOCK_PROVIDER: "true", GATEWAY_MOCK_CHUNK_DELAY_MS: "0", ...env }),
    server: { host: "127.0.0.1", port: 0, ...limits },
    onRequest: (summary) => summaries.push(summary),
  });
  return { server, port: Number(new URL(server.url).port), summaries };
}

function answerOf(exchange: RawExchange): TextAnswer {
  const response = exchange.response;
  expect(response, `no HTTP response in ${JSON.stringify(exchange.raw.toString("latin1").slice(0, 200))}`).toBeDefined();
  return { status: response?.status ?? 0, headers: { get: (name) => response?.headers.get(name) }, text: response?.body.toString("utf8") ?? "" };
}

/** A request head for `/v1/chat/completions` announcing `length` bytes of body, without the body. */
function headOnly(headers: Record<string, string>, length: number): Buffer {
  return buildRequest("POST", "/v1/chat/completions", { "content-type": "application/json", "x-provider": "mock", ...headers }, undefined, length);
}

describe("a caller without a valid key is refused from its headers", () => {
  let gateway: Started;
  beforeAll(async () => {
    gateway = await start({ GATEWAY_API_KEYS: KEY });
  });
  afterAll(() => gateway.server.close(500));

  it.each([
    ["a wrong key", { authorization: "Bearer gw-wrong-key-0123456789" }],
    ["no key", {}],
  ])("%s and a 6 MB content-length: 401 at once, without waiting for the body, and the connection closed", async (_label, headers) => {
    const exchange = await rawExchange(gateway.port, headOnly({ ...headers, connection: "keep-alive" }, SIX_MB), { timeoutMs: 5_000 });
    expect(exchange.ending).toBe("close");
    expectOpenAIError(answerOf(exchange), 401, { code: "invalid_api_key" });
    expect(exchange.response?.headers.get("connection")).toBe("close");
    expect(exchange.elapsedMs).toBeLessThan(2_000);
  });

  it("with Expect: 100-continue the stranger is never invited to send its body", async () => {
    const refused = await rawExchange(gateway.port, headOnly({ authorization: "Bearer nope", expect: "100-continue" }, SIX_MB), { timeoutMs: 5_000 });
    expect(refused.raw.toString("latin1")).toMatch(/^HTTP\/1\.1 401 /);
    expectOpenAIError(answerOf(refused), 401, { code: "invalid_api_key" });

    // The right key is invited (100 Continue), then answered.
    const socket = net.connect(gateway.port, "127.0.0.1");
    let received = "";
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
    });
    socket.write(headOnly({ authorization: `Bearer ${KEY}`, expect: "100-continue" }, Buffer.byteLength(chat)));
    for (let attempt = 0; attempt < 200 && !received.includes("\r\n\r\n"); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(received).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    socket.write(chat);
    await once(socket, "close");
    expect(received).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
  });

  it("the 401 is logged like any other request; a 404 keeps its answer; a stranger naming an unknown provider learns no provider names (401)", async () => {
    gateway.summaries.splice(0);
    await rawExchange(gateway.port, headOnly({ authorization: "Bearer nope" }, 100), { timeoutMs: 5_000 });
    const notFound = await rawExchange(gateway.port, buildRequest("POST", "/v1/nowhere", {}, "{}"), { timeoutMs: 5_000 });
    expectOpenAIError(answerOf(notFound), 404, { code: "not_found" });
    const unknown = await rawExchange(gateway.port, buildRequest("POST", "/v1/chat/completions", { "x-provider": "anthropic" }, chat), { timeoutMs: 5_000 });
    const { message } = expectOpenAIError(answerOf(unknown), 401, { code: "invalid_api_key" });
    expect(message).not.toContain("openai");
    expect(gateway.summaries[0]).toMatchObject({ status: 401, errorCode: "invalid_api_key", outcome: "gateway_error" });
  });
});

describe("a body read whole keeps its connection", () => {
  let gateway: Started;
  beforeAll(async () => {
    gateway = await start({ GATEWAY_API_KEYS: KEY });
  });
  afterAll(() => gateway.server.close(500));

  it("a body answered at once with a 400 (sent with its headers, read before Node marks the request complete) leaves the connection open for the next request", async () => {
    const socket = net.connect(gateway.port, "127.0.0.1");
    let received = "";
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
    });
    socket.on("error", () => undefined);
    const answers = () => received.split(/(?=HTTP\/1\.1 )/).filter((answer) => /\r\n\r\n\{[^]*\}$/.test(answer));
    const headers = { "content-type": "application/json", "x-provider": "mock", authorization: `Bearer ${KEY}` };
    try {
      socket.write(buildKeepAliveRequest("POST", "/v1/chat/completions", headers, '{"model": "mock-gpt-4o", "messages": ['));
      for (let turn = 0; turn < 500 && answers().length < 1; turn += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(received).toMatch(/^HTTP\/1\.1 400 /);
      expect(received.toLowerCase()).toContain("connection: keep-alive");
      socket.write(buildKeepAliveRequest("POST", "/v1/chat/completions", headers, chat));
      for (let turn = 0; turn < 500 && answers().length < 2; turn += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(answers().map((answer) => answer.slice(0, 12))).toEqual(["HTTP/1.1 400", "HTTP/1.1 200"]);
    } finally {
      socket.destroy();
    }
  });
});

describe("time bounds on sending a request", () => {
  let gateway: Started;
  beforeAll(async () => {
    gateway = await start({}, { headersTimeoutMs: 300, requestTimeoutMs: 600 });
  });
  afterAll(() => gateway.server.close(500));

  it("headers not complete within GATEWAY_HEADERS_TIMEOUT_MS: 408 request_timeout in OpenAI's shape, connection closed", async () => {
    const exchange = await rawExchange(gateway.port, "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nx-provi", { timeoutMs: 5_000 });
    expect(exchange.ending).toBe("close");
    const { message } = expectOpenAIError(answerOf(exchange), 408, { code: "request_timeout" });
    expect(message).toContain("300 ms");
    expect(exchange.elapsedMs).toBeGreaterThanOrEqual(250);
    expect(exchange.elapsedMs).toBeLessThan(3_000);
  });

  it("a connection that sends nothing gets the same 408", async () => {
    const exchange = await rawExchange(gateway.port, "", { timeoutMs: 5_000 });
    expect(exchange.ending).toBe("close");
    expectOpenAIError(answerOf(exchange), 408, { code: "request_timeout" });
  });

  it("a body not complete within GATEWAY_REQUEST_TIMEOUT_MS: 408 request_timeout, logged, connection closed", async () => {
    gateway.summaries.splice(0);
    const partial = Buffer.concat([headOnly({}, 1_000), Buffer.from('{"model":')]);
    const exchange = await rawExchange(gateway.port, partial, { timeoutMs: 5_000 });
    expect(exchange.ending).toBe("close");
    const { message } = expectOpenAIError(answerOf(exchange), 408, { code: "request_timeout" });
    expect(message).toContain("600 ms");
    expect(exchange.response?.headers.get("connection")).toBe("close");
    expect(exchange.elapsedMs).toBeGreaterThanOrEqual(550);
    expect(exchange.elapsedMs).toBeLessThan(4_000);
    for (let attempt = 0; attempt < 100 && gateway.summaries.length === 0; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(gateway.summaries[0]).toMatchObject({ status: 408, errorCode: "request_timeout" });
  });

  it("a request sent in time is answered as usual", async () => {
    const exchange = await rawExchange(gateway.port, buildRequest("POST", "/v1/chat/completions", { "content-type": "application/json", "x-provider": "mock" }, chat), { timeoutMs: 5_000 });
    expect(answerOf(exchange).status).toBe(200);
  });
});

describe("GATEWAY_MAX_CONNECTIONS", () => {
  let gateway: Started;
  const held: net.Socket[] = [];
  beforeAll(async () => {
    gateway = await start({}, { maxConnections: 3 });
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await gateway.server.close(500);
  });

  /** Opens a keep-alive connection and completes one request on it, so the server holds it. */
  async function openIdleConnection(): Promise<net.Socket> {
    const socket = net.connect(gateway.port, "127.0.0.1");
    held.push(socket);
    let received = "";
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
    });
    socket.write("GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nx-provider: mock\r\n\r\n");
    for (let attempt = 0; attempt < 300 && !/"object":"list"/.test(received); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    return socket;
  }

  it("connections past the cap are dropped at once; one freed lets the next in", async () => {
    const open = [await openIdleConnection(), await openIdleConnection(), await openIdleConnection()];
    const dropped = await rawExchange(gateway.port, buildRequest("GET", "/v1/models", { "x-provider": "mock" }), { timeoutMs: 3_000 });
    expect(dropped.ending).toBe("close");
    expect(dropped.raw).toHaveLength(0);
    expect(dropped.elapsedMs).toBeLessThan(1_000);

    open[0]?.destroy();
    let answered: RawExchange | undefined;
    for (let attempt = 0; attempt < 50 && answered?.response?.status !== 200; attempt += 1) {
      answered = await rawExchange(gateway.port, buildRequest("GET", "/v1/models", { "x-provider": "mock" }), { timeoutMs: 3_000 });
    }
    expect(answered?.response?.status).toBe(200);
  });
});
