/**
 * Bad input, from bad JSON to bytes Node's HTTP parser refuses: each is
 * answered with a clear 4xx in OpenAI's error shape, nothing crashes, and the
 * server answers a normal request right after.
 */
import { BadRequestError, NotFoundError } from "openai";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { fetchText } from "../support/fetch.ts";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";
import { metricsOf } from "../support/local-gateway.ts";
import { expectOpenAIError, type TextAnswer } from "../support/openai-errors.ts";
import { buildRequest, rawExchange, type RawResponse } from "../support/raw-http.ts";

const AUTH = { authorization: "Bearer sk-caller" };
const JSON_TYPE = { "content-type": "application/json" };
const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Hi" }] };

const fixture = useFakeUpstreamAndGateway({ upstream: { requireAuth: "Bearer sk-caller" }, env: { GATEWAY_MAX_RETRIES: "0", GATEWAY_MOCK_PROVIDER: "true" } });
const gatewayPort = () => Number(new URL(fixture.gateway.url).port);
let consoleError: MockInstance<typeof console.error>;

beforeEach(() => {
  consoleError = vi.spyOn(console, "error");
});
afterEach(async () => {
  // No request may make the server log an unexpected failure (a crash caught at the top).
  expect(consoleError.mock.calls.map((call) => String(call[0]))).not.toContainEqual(expect.stringContaining("unexpected failure"));
  consoleError.mockRestore();
  // ...and the server still answers a normal request, on a new connection.
  const completion = await fixture.client.chat.completions.create(chat);
  expect(completion.choices[0]?.message.content).toBe("Echo: Hi");
});

function viaFetch(method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array): Promise<TextAnswer> {
  return fetchText(`${fixture.gateway.url}${path}`, { method, headers, body });
}

async function viaSocket(request: string | Buffer, options: { halfClose?: boolean } = {}): Promise<TextAnswer> {
  const exchange = await rawExchange(gatewayPort(), request, { timeoutMs: 3_000, halfClose: options.halfClose ?? false });
  expect(exchange.ending, "the server did not answer or close in time").toBe("close");
  const response: RawResponse | undefined = exchange.response;
  expect(response, `no HTTP response in ${JSON.stringify(exchange.raw.toString("latin1").slice(0, 200))}`).toBeDefined();
  const parsed = response as RawResponse;
  return { status: parsed.status, headers: { get: (name) => parsed.headers.get(name) }, text: parsed.body.toString("utf8") };
}

describe("bodies the gateway refuses", () => {
  it("invalid JSON: 400 invalid_json", async () => {
    for (const body of ["{", '{"model":"gpt-4o",}', "{'model':'gpt-4o'}", "not json at all", '{"a":1}}']) {
      expectOpenAIError(await viaFetch("POST", "/v1/chat/completions", { ...AUTH, ...JSON_TYPE }, body), 400, { code: "invalid_json", message: /not valid JSON/ });
    }
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("JSON that is not an object: 400 invalid_json", async () => {
    for (const body of ["[]", "[1,2]", '"a string"', "42", "null", "true"]) {
      expectOpenAIError(await viaFetch("POST", "/v1/chat/completions", { ...AUTH, ...JSON_TYPE }, body), 400, { code: "invalid_json", message: /must be a JSON object/ });
    }
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("a content type other than JSON: 415 unsupported_media_type", async () => {
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "text/json"]) {
      expectOpenAIError(
        await viaFetch("POST", "/v1/chat/completions", { ...AUTH, "content-type": contentType }, JSON.stringify(chat)),
        415,
        { code: "unsupported_media_type" },
      );
    }
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("an empty body (content-length: 0, or no body at all): 400 invalid_json", async () => {
    expectOpenAIError(await viaFetch("POST", "/v1/chat/completions", { ...AUTH, ...JSON_TYPE }, ""), 400, { code: "invalid_json", message: /empty/ });
    expectOpenAIError(await viaSocket(buildRequest("POST", "/v1/embeddings", { ...AUTH, ...JSON_TYPE })), 400, { code: "invalid_json", message: /empty/ });
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("a body over 6 MB: 413 request_too_large, without calling the provider", async () => {
    const body = JSON.stringify({ model: "text-embedding-3-small", input: "a".repeat(6 * 1024 * 1024 + 1) });
    expectOpenAIError(await viaFetch("POST", "/v1/embeddings", { ...AUTH, ...JSON_TYPE }, body), 413, { code: "request_too_large", message: /6291456 bytes/ });
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("a chunked body over 6 MB that declares no length: 413 as well", async () => {
    const chunk = new TextEncoder().encode("a".repeat(1024 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"model":"m","input":"'));
        if (sent >= 7) {
          controller.enqueue(new TextEncoder().encode('"}'));
          controller.close();
          return;
        }
        sent += 1;
        controller.enqueue(chunk);
      },
    });
    const response = await fetchText(`${fixture.gateway.url}/v1/embeddings`, { method: "POST", headers: { ...AUTH, ...JSON_TYPE }, body: stream });
    expectOpenAIError(response, 413, { code: "request_too_large" });
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("bytes that are not UTF-8: 400 invalid_encoding", async () => {
    const bodies = [
      Buffer.concat([Buffer.from('{"model":"gpt-4o","messages":[{"role":"user","content":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}]}')]),
      Buffer.from([0x7b, 0x22, 0x80, 0x22, 0x3a, 0x31, 0x7d]),
      // An overlong encoding of "/" and a lone surrogate half.
      Buffer.concat([Buffer.from('{"model":"'), Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]), Buffer.from('"}')]),
    ];
    for (const body of bodies) {
      expectOpenAIError(await viaFetch("POST", "/v1/chat/completions", { ...AUTH, ...JSON_TYPE }, body), 400, { code: "invalid_encoding" });
    }
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("a model that is not a string: 400 invalid_type naming param model", async () => {
    for (const model of [42, null, ["gpt-4o"], { id: "gpt-4o" }, true]) {
      expectOpenAIError(
        await viaFetch("POST", "/v1/chat/completions", { ...AUTH, ...JSON_TYPE }, JSON.stringify({ ...chat, model })),
        400,
        { code: "invalid_type", param: "model", message: /'model'/ },
      );
    }
    // The SDK raises it as BadRequestError with the same fields.
    const error = await fixture.client.chat.completions.create({ ...chat, model: 42 as unknown as string }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe("model");
    expect((error as BadRequestError).code).toBe("invalid_type");
    expect(fixture.upstream.requests).toHaveLength(0);
  });
});

describe("requests for something that does not exist", () => {
  it("an unknown path: 404 not_found, also as the SDK's NotFoundError", async () => {
    for (const path of ["/v1/nope", "/v2/chat/completions", "/", "/v1/chat/completions/extra/more", "/v1/models/../secrets", "/v1/models/%2e%2e"]) {
      expectOpenAIError(await viaFetch("GET", path, AUTH), 404, { code: "not_found", message: /Unknown request URL/ });
    }
    const error = await fixture.client.get("/assistants-nope").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("a known path with the wrong method: 405 method_not_allowed with an allow header", async () => {
    const cases: [string, string, string][] = [
      ["GET", "/v1/completions", "POST"],
      ["PUT", "/v1/embeddings", "POST"],
      ["DELETE", "/v1/models", "GET"],
      ["POST", "/v1/models/gpt-4o", "GET"],
      ["PATCH", "/v1/responses", "POST"],
    ];
    for (const [method, path, allow] of cases) {
      const answer = await viaFetch(method, path, { ...AUTH, ...JSON_TYPE }, method === "GET" ? undefined : "{}");
      expectOpenAIError(answer, 405, { code: "method_not_allowed" });
      expect(answer.headers.get("allow")).toBe(allow);
    }
    expect(fixture.upstream.requests).toHaveLength(0);
  });
});

describe("requests Node's HTTP parser refuses (raw bytes)", () => {
  const head = (extra: string) => `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-caller\r\n${extra}Connection: close\r\n\r\n`;

  it.each([
    ["a bare CR inside a header value", "X-Note: a\rb\r\n"],
    ["a bare LF inside a header value (header injection)", "X-Note: a\nX-Injected: b\r\n"],
    ["a CRLF followed by a space (obsolete line folding)", "X-Note: a\r\n b\r\n"],
    ["a NUL byte in a header value", "X-Note: a\u0000b\r\n"],
    ["a space inside a header name", "X Note: a\r\n"],
  ])("%s: 400 malformed_request", async (_name, extra) => {
    expectOpenAIError(await viaSocket(Buffer.from(head(extra), "latin1")), 400, { code: "malformed_request" });
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("a header over 16 KB: 431 headers_too_large", async () => {
    expectOpenAIError(await viaSocket(head(`X-Big: ${"a".repeat(17 * 1024)}\r\n`)), 431, { code: "headers_too_large" });
    expectOpenAIError(await viaSocket(head(`${Array.from({ length: 400 }, (_, index) => `X-H${index}: ${"b".repeat(40)}\r\n`).join("")}`)), 431, { code: "headers_too_large" });
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("a URL over 16 KB: 431 headers_too_large", async () => {
    expectOpenAIError(await viaSocket(`GET /v1/models/${"m".repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), 431, { code: "headers_too_large" });
  });

  it.each([
    ["an unknown method", "FETCH /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
    ["a lower-case method", "get /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
    ["a content-length that is not a number", `POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\nConnection: close\r\n\r\n{}`],
    ["two different content-lengths", `POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}`],
    ["both content-length and chunked", `POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{}`],
    ["an HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"],
    ["a TLS ClientHello", Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]).toString("latin1")],
  ])("%s: 400 malformed_request", async (_name, request) => {
    expectOpenAIError(await viaSocket(Buffer.from(request, "latin1")), 400, { code: "malformed_request" });
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("a body cut short (content-length larger than what was sent, then EOF): 400 malformed_request", async () => {
    const body = JSON.stringify(chat);
    const request = buildRequest("POST", "/v1/chat/completions", { ...AUTH, ...JSON_TYPE }, body, body.length + 20);
    expectOpenAIError(await viaSocket(request, { halfClose: true }), 400, { code: "malformed_request" });
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("a body cut short is not logged or counted as a gateway 500", async () => {
    const body = JSON.stringify(chat);
    const request = buildRequest("POST", "/v1/chat/completions", { ...AUTH, ...JSON_TYPE }, body, body.length + 20);
    await viaSocket(request, { halfClose: true });
    // The client got a 400. If the gateway logs the request at all, it must not be as an internal
    // failure of its own, nor count in ServerErrors (the 5xx alarm).
    const summaries = await fixture.gateway.waitForSummaries(1);
    for (const summary of summaries) {
      const metrics = metricsOf(summary);
      expect({ status: summary.status, outcome: summary.outcome, errorCode: summary.errorCode, serverErrors: metrics.serverErrors }).toMatchObject({ serverErrors: 0 });
      expect(summary.errorCode).not.toBe("internal_error");
    }
  });

  it("an HTTP/1.1 request without a Host header: 400 in OpenAI's shape (not Node's empty 400)", async () => {
    expectOpenAIError(await viaSocket("GET /v1/models HTTP/1.1\r\nAuthorization: Bearer sk-caller\r\nConnection: close\r\n\r\n"), 400, { code: undefined });
  });

  it("an Expect header other than 100-continue: 417 in OpenAI's shape (not Node's empty 417)", async () => {
    const body = JSON.stringify(chat);
    const request = buildRequest("POST", "/v1/chat/completions", { ...AUTH, ...JSON_TYPE, expect: "something-else" }, body);
    expectOpenAIError(await viaSocket(request), 417, { code: undefined });
  });

  it("Expect: 100-continue is honoured: 100, then the normal answer", async () => {
    const body = JSON.stringify(chat);
    const exchange = await rawExchange(gatewayPort(), buildRequest("POST", "/v1/chat/completions", { ...AUTH, ...JSON_TYPE, expect: "100-continue" }, body), { timeoutMs: 3_000 });
    expect(exchange.raw.toString("latin1")).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    expect(JSON.parse(exchange.response?.body.toString() ?? "{}")).toMatchObject({ object: "chat.completion" });
  });
});

describe("deeply nested JSON", () => {
  // 10 KB of brackets: well inside the body limit, but deeper than a recursive JSON.stringify can go.
  const DEPTH = 5_000;
  const nested = `${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`;

  it("in a streamed chat request whose stream_options the gateway must merge: a 4xx, not a gateway 500", async () => {
    const body = `{"model":"gpt-4o","stream":true,"stream_options":null,"messages":[{"role":"user","content":${nested}}]}`;
    const answer = await viaFetch("POST", "/v1/chat/completions", { ...AUTH, ...JSON_TYPE }, body);
    expect({ status: answer.status, body: answer.text.slice(0, 200) }).toMatchObject({ status: expect.any(Number) });
    expect(answer.status, answer.text.slice(0, 200)).toBeLessThan(500);
  });

  it("in a moderation request to the mock provider: a 4xx or an answer, not a gateway 500", async () => {
    const body = `{"model":"mock","input":${nested}}`;
    const answer = await viaFetch("POST", "/v1/moderations", { "x-provider": "mock", ...JSON_TYPE }, body);
    expect(answer.status, answer.text.slice(0, 200)).toBeLessThan(500);
  });

  it("in a request that asks for the response cache (its key is computed over the body): a 4xx, not a gateway 500", async () => {
    const body = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"metadata":${nested}}`;
    const answer = await viaFetch("POST", "/v1/chat/completions", { ...AUTH, ...JSON_TYPE, "x-gateway-cache-ttl": "60" }, body);
    expect(answer.status, answer.text.slice(0, 200)).toBeLessThan(500);
  });

  it("where the gateway does not rewrite the body: passed through to the provider, or refused with a 4xx", async () => {
    const body = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"metadata":${nested}}`;
    const answer = await viaFetch("POST", "/v1/chat/completions", { ...AUTH, ...JSON_TYPE }, body);
    if (fixture.upstream.requests.length === 1) {
      // Whatever the fake makes of it, the answer is the provider's (it carries its x-request-id).
      expect(answer.headers.get("x-request-id")).toMatch(/^req_/);
    } else {
      expectOpenAIError(answer, 400, { code: undefined });
    }
  });
});
