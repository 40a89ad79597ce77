/**
 * Errors: the provider's are relayed unchanged and raised by the SDK as the
 * right class; the gateway's own are in OpenAI's shape with the right status.
 */
import http from "node:http";
import { performance } from "node:perf_hooks";
import {
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from "openai";
import { describe, expect, it } from "vitest";
import { fetchText } from "../support/fetch.ts";
import { closedPortUrl, useFakeUpstreamAndGateway, useTestGateway } from "../support/gateway-fixture.ts";
import { expectOpenAIError, GATEWAY_REQUEST_ID as REQUEST_ID, rejectionOf } from "../support/openai-errors.ts";
import { rawExchange } from "../support/raw-http.ts";

const SMALL_LIMIT = 512;

// Gateway retries (where the gateway has them) are off: these tests are about what reaches the client
// when the provider's answer is final.
const fixture = useFakeUpstreamAndGateway({ upstream: { requireAuth: "Bearer sk-caller" }, env: { GATEWAY_MAX_RETRIES: "0" } });

/** A request the SDK cannot express (bad bodies, wrong methods, odd headers). */
function send(
  method: string,
  path: string,
  options: { body?: string | Uint8Array | ReadableStream<Uint8Array>; headers?: Record<string, string>; base?: string } = {},
) {
  return fetchText(`${options.base ?? fixture.gateway.url}${path}`, {
    method,
    headers: { authorization: "Bearer sk-caller", ...options.headers },
    body: options.body,
  });
}

const postJson = (path: string, body: string, headers: Record<string, string> = {}) =>
  send("POST", path, { body, headers: { "content-type": "application/json", ...headers } });

const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Hi" }] };

describe("provider errors are relayed unchanged", () => {
  it("status, body byte for byte, and the rate-limit and request-id headers", async () => {
    const body = '{\n    "error": {\n        "message": "Rate limit reached for gpt-4o: caf\\u00e9 \u00e9t\u00e9 \ud83d\ude80",\n        "type": "requests",\n        "param": null,\n        "code": "rate_limit_exceeded"\n    }\n}\n';
    const headers = {
      "content-type": "application/json; charset=utf-8",
      "retry-after": "20",
      "retry-after-ms": "19500",
      "x-ratelimit-limit-requests": "500",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "19.5s",
      "x-ratelimit-limit-tokens": "30000",
      "x-ratelimit-remaining-tokens": "0",
      "x-ratelimit-reset-tokens": "1m2s",
      "x-request-id": "req_ratelimited0123456789",
      "openai-processing-ms": "12",
    };
    fixture.upstream.enqueue({ kind: "raw", status: 429, headers, body });
    const response = await postJson("/v1/chat/completions", JSON.stringify(chat));
    expect(response.status).toBe(429);
    expect(response.text).toBe(body);
    for (const [name, value] of Object.entries(headers)) expect(response.headers.get(name), name).toBe(value);
    expect(response.headers.get("x-gateway-request-id")).toMatch(REQUEST_ID);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 429, outcome: "provider_error", upstreamRequestId: "req_ratelimited0123456789" });
  });

  it("401 is raised as AuthenticationError with the provider's message", async () => {
    const error = await rejectionOf(fixture.gateway.client("sk-wrong-key-0123456789").chat.completions.create(chat));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.status).toBe(401);
    expect(error.code).toBe("invalid_api_key");
    // The fake masks the key as api.openai.com does; the gateway passes the message on unchanged.
    expect(error.message).toMatch(/^401 Incorrect API key provided: sk-\*+6789\. You can find your API key/);
    expect(error.requestID).toMatch(/^req_/);
    expect(error.headers?.get("x-gateway-request-id")).toMatch(REQUEST_ID);
  });

  it("429 is raised as RateLimitError with retry-after headers", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 429, message: "Slow down, please.", retryAfterMs: 2500 });
    const error = await rejectionOf(fixture.client.chat.completions.create(chat));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.status).toBe(429);
    expect(error.message).toBe("429 Slow down, please.");
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.type).toBe("requests");
    expect(error.headers?.get("retry-after")).toBe("3");
    expect(error.headers?.get("retry-after-ms")).toBe("2500");
    expect(error.headers?.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(error.headers?.get("x-ratelimit-limit-tokens")).toBe("30000000");
  });

  it("400 is raised as BadRequestError with the provider's param and code", async () => {
    fixture.upstream.enqueue({
      kind: "error",
      status: 400,
      message: "Invalid value for 'temperature': must be at most 2.",
      param: "temperature",
      code: "invalid_value",
      headers: { "x-request-id": "req_badrequest0001" },
    });
    const error = await rejectionOf(fixture.client.chat.completions.create({ ...chat, temperature: 3 }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, param: "temperature", code: "invalid_value", type: "invalid_request_error" });
    expect(error.message).toBe("400 Invalid value for 'temperature': must be at most 2.");
    expect(error.requestID).toBe("req_badrequest0001");
  });

  it("500 is raised as InternalServerError with the provider's message", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 500, message: "The server had an error while processing your request." });
    const error = await rejectionOf(fixture.client.chat.completions.create(chat));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(500);
    expect(error.type).toBe("server_error");
    expect(error.message).toBe("500 The server had an error while processing your request.");
  });

  it("403 and 404 are raised as PermissionDeniedError and NotFoundError", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 403, message: "Country, region, or territory not supported" });
    expect(await rejectionOf(fixture.client.chat.completions.create(chat))).toBeInstanceOf(PermissionDeniedError);
    fixture.upstream.enqueue({ kind: "error", status: 404, message: "The model `gpt-9` does not exist", code: "model_not_found" });
    const notFound = await rejectionOf(fixture.client.chat.completions.create({ ...chat, model: "gpt-9" }));
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(notFound.code).toBe("model_not_found");
  });

  it("a provider error on a stream request is relayed as the same error", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 429, message: "Stream rate limited.", match: "/v1/chat/completions" });
    const error = await rejectionOf(fixture.client.chat.completions.create({ ...chat, stream: true }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.message).toBe("429 Stream rate limited.");
  });
});

describe("the gateway's own errors, in OpenAI's shape", () => {
  it("400 for a body that is not valid JSON", async () => {
    const response = await postJson("/v1/chat/completions", '{"model": "gpt-4o", "messages": [');
    expectOpenAIError(response, 400, { type: "invalid_request_error", code: "invalid_json", message: /not valid JSON/ });
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("400 for a body that is a JSON array or a JSON string", async () => {
    for (const body of ['[{"model":"gpt-4o"}]', '"just a string"', "42", "null"]) {
      const response = await postJson("/v1/chat/completions", body);
      expectOpenAIError(response, 400, { type: "invalid_request_error", code: "invalid_json", message: "The request body must be a JSON object." });
    }
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("400 for an empty body", async () => {
    expectOpenAIError(await send("POST", "/v1/embeddings", { headers: { "content-type": "application/json" } }), 400, {
      type: "invalid_request_error",
      code: "invalid_json",
      message: /empty/,
    });
    expectOpenAIError(await postJson("/v1/embeddings", ""), 400, { type: "invalid_request_error", code: "invalid_json" });
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("400 naming param model when the model is not a string, also raised by the SDK", async () => {
    const response = await postJson("/v1/chat/completions", '{"model": 4, "messages": []}');
    expectOpenAIError(response, 400, {
      type: "invalid_request_error",
      code: "invalid_type",
      param: "model",
      message: "Invalid type for 'model': expected a string, but got a number instead.",
    });
    const error = await rejectionOf(fixture.client.chat.completions.create({ ...chat, model: ["gpt-4o"] as unknown as string }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.param).toBe("model");
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("400 for a body that is not UTF-8", async () => {
    const response = await send("POST", "/v1/chat/completions", {
      body: new Uint8Array([0x7b, 0x22, 0x6d, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
      headers: { "content-type": "application/json" },
    });
    expectOpenAIError(response, 400, { type: "invalid_request_error", code: "invalid_encoding" });
  });

  it("415 for a content type other than JSON", async () => {
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const response = await send("POST", "/v1/chat/completions", { body: JSON.stringify(chat), headers: { "content-type": contentType } });
      expectOpenAIError(response, 415, { type: "invalid_request_error", code: "unsupported_media_type", message: new RegExp(contentType.split(";")[0] ?? "") });
    }
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("404 for an unknown path under /v1, also raised by the SDK as NotFoundError", async () => {
    expectOpenAIError(await send("GET", "/v1/assistants"), 404, { type: "invalid_request_error", code: "not_found", message: /\/v1\/assistants/ });
    expectOpenAIError(await send("POST", "/v1/chat/completion", { body: "{}" }), 404, { type: "invalid_request_error", code: "not_found" });
    const error = await rejectionOf(fixture.client.get("/assistants"));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.code).toBe("not_found");
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("404 for a path outside /v1", async () => {
    for (const path of ["/", "/health", "/v2/models", "/chat/completions"]) {
      expectOpenAIError(await send("GET", path), 404, { type: "invalid_request_error", code: "not_found" });
    }
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("405 with an allow header for a known path and the wrong method", async () => {
    const getChat = await send("GET", "/v1/completions");
    expectOpenAIError(getChat, 405, { type: "invalid_request_error", code: "method_not_allowed" });
    expect(getChat.headers.get("allow")).toBe("POST");
    const postModels = await send("POST", "/v1/models", { body: "{}", headers: { "content-type": "application/json" } });
    expectOpenAIError(postModels, 405, { type: "invalid_request_error", code: "method_not_allowed" });
    expect(postModels.headers.get("allow")).toBe("GET");
    const deleteModel = await send("DELETE", "/v1/models/gpt-4o");
    expect(deleteModel.status).toBe(405);
    expect(deleteModel.headers.get("allow")).toBe("GET");
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("400 for an unknown x-provider, listing the supported ones (openai; the mock is off by default)", async () => {
    const response = await postJson("/v1/chat/completions", JSON.stringify(chat), { "x-provider": "anthropic" });
    const { message } = expectOpenAIError(response, 400, { type: "invalid_request_error", code: "unknown_provider", param: "x-provider" });
    expect(message).toContain('"anthropic"');
    expect(message).toContain("Supported providers: openai.");
    const error = await rejectionOf(fixture.gateway.client("sk-caller", { "x-provider": "azure" }).models.list());
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.message).toContain("Supported providers: openai.");
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("x-provider is case-insensitive: OpenAI works", async () => {
    const completion = await fixture.gateway.client("sk-caller", { "x-provider": "OpenAI" }).chat.completions.create(chat);
    expect(completion.choices[0]?.message.content).toBe("Echo: Hi");
    const shouted = await fixture.gateway.client("sk-caller", { "x-provider": " OPENAI " }).models.retrieve("gpt-4o");
    expect(shouted.id).toBe("gpt-4o");
    expect(fixture.upstream.requests).toHaveLength(2);
    const summaries = await fixture.gateway.waitForSummaries(2);
    expect(summaries.map((summary) => summary.provider)).toEqual(["openai", "openai"]);
  });

  it("checks the route before the provider and the provider before the body", async () => {
    expect((await send("GET", "/v1/nope", { headers: { "x-provider": "nope" } })).status).toBe(404);
    expect((await send("GET", "/v1/completions", { headers: { "x-provider": "nope" } })).status).toBe(405);
    expect((await postJson("/v1/chat/completions", "not json", { "x-provider": "nope" })).status).toBe(400);
  });
});

describe("413 for a body over the limit", () => {
  const small = useTestGateway(() => ({ OPENAI_BASE_URL: fixture.upstream.baseUrl, GATEWAY_MAX_BODY_BYTES: String(SMALL_LIMIT), GATEWAY_MAX_RETRIES: "0" }));

  it("refuses a body over GATEWAY_MAX_BODY_BYTES and accepts one at the limit", async () => {
    const over = JSON.stringify({ model: "text-embedding-3-small", input: "x".repeat(SMALL_LIMIT) });
    const response = await send("POST", "/v1/embeddings", { base: small.gateway.url, body: over, headers: { "content-type": "application/json" } });
    expectOpenAIError(response, 413, {
      type: "invalid_request_error",
      code: "request_too_large",
      message: `The request body is larger than the gateway's limit of ${SMALL_LIMIT} bytes.`,
    });
    const padding = SMALL_LIMIT - JSON.stringify({ model: "text-embedding-3-small", input: "" }).length;
    const atLimit = JSON.stringify({ model: "text-embedding-3-small", input: "y".repeat(padding) });
    expect(Buffer.byteLength(atLimit)).toBe(SMALL_LIMIT);
    const ok = await send("POST", "/v1/embeddings", { base: small.gateway.url, body: atLimit, headers: { "content-type": "application/json" } });
    expect(ok.status).toBe(200);
    expect(fixture.upstream.requests).toHaveLength(1);
  });

  it("refuses an oversized chunked body that declares no length", async () => {
    const chunk = new TextEncoder().encode(`{"model":"m","input":"${"z".repeat(SMALL_LIMIT)}"}`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk.subarray(0, 100));
        controller.enqueue(chunk.subarray(100));
        controller.close();
      },
    });
    const response = await send("POST", "/v1/embeddings", { base: small.gateway.url, body, headers: { "content-type": "application/json" } });
    expectOpenAIError(response, 413, { type: "invalid_request_error", code: "request_too_large" });
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("the SDK raises the 413 as an APIError with the gateway's message", async () => {
    const error = await rejectionOf(small.client.embeddings.create({ model: "m", input: "w".repeat(2 * SMALL_LIMIT) }));
    expect(error.status).toBe(413);
    expect(error.code).toBe("request_too_large");
  });

  it("refuses a real body over 6 MB against the default limit, without calling the provider", async () => {
    const body = JSON.stringify({ model: "text-embedding-3-small", input: "a".repeat(6 * 1024 * 1024) });
    const response = await postJson("/v1/embeddings", body);
    expectOpenAIError(response, 413, {
      type: "invalid_request_error",
      code: "request_too_large",
      message: `The request body is larger than the gateway's limit of ${6 * 1024 * 1024} bytes (6 MiB).`,
    });
    expect(fixture.upstream.requests).toHaveLength(0);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 413, outcome: "gateway_error", errorCode: "request_too_large" });
  });
});

describe("an unreachable provider", () => {
  const closedPort = useTestGateway(async () => ({
    OPENAI_BASE_URL: await closedPortUrl(),
    GATEWAY_CONNECT_TIMEOUT_MS: "1000",
    GATEWAY_MAX_RETRIES: "0",
  }));

  it("502 when the provider's port is closed", async () => {
    const response = await send("POST", "/v1/chat/completions", {
      base: closedPort.gateway.url,
      body: JSON.stringify(chat),
      headers: { "content-type": "application/json" },
    });
    expectOpenAIError(response, 502, { type: "server_error", code: "upstream_unavailable", message: /ECONNREFUSED/ });
    const error = await rejectionOf(closedPort.client.chat.completions.create(chat));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(502);
    expect(error.code).toBe("upstream_unavailable");
    const summaries = await closedPort.gateway.waitForSummaries(2);
    expect(summaries[0]).toMatchObject({ status: 502, outcome: "gateway_error", errorCode: "upstream_unavailable" });
  });
});

describe("a provider that never answers", () => {
  const impatient = useTestGateway(() => ({ OPENAI_BASE_URL: fixture.upstream.baseUrl, GATEWAY_FIRST_BYTE_TIMEOUT_MS: "200", GATEWAY_MAX_RETRIES: "0" }));

  it("504 after the first-byte timeout, closing the upstream connection", async () => {
    fixture.upstream.enqueue({ kind: "hang" });
    const socketClosed = fixture.upstream.waitForSocketClose(3_000);
    const started = performance.now();
    const error = await rejectionOf(impatient.client.chat.completions.create(chat));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(504);
    expect(error.code).toBe("upstream_timeout");
    expect(error.type).toBe("server_error");
    expect(error.message).toContain("200 ms");
    expect(error.headers?.get("x-gateway-request-id")).toMatch(REQUEST_ID);
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(1_500);
    await socketClosed;
    const [summary] = await impatient.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 504, outcome: "timeout", errorCode: "upstream_timeout" });
  });

  it("the same 504 for a stream request, in OpenAI's shape", async () => {
    fixture.upstream.enqueue({ kind: "hang" });
    const response = await send("POST", "/v1/chat/completions", {
      base: impatient.gateway.url,
      body: JSON.stringify({ ...chat, stream: true }),
      headers: { "content-type": "application/json" },
    });
    expectOpenAIError(response, 504, { type: "server_error", code: "upstream_timeout" });
  });
});

describe("response headers", () => {
  /** Raw node:http GET, to see every header as sent (fetch hides some). */
  function rawGet(path: string): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      http.get(`${fixture.gateway.url}${path}`, { headers: { authorization: "Bearer sk-caller" } }, (response) => {
        response.resume();
        resolve(response);
      }).on("error", reject);
    });
  }

  it("hop-by-hop headers and set-cookie from the provider are not passed through", async () => {
    fixture.upstream.enqueue({
      kind: "raw",
      status: 200,
      headers: {
        "content-type": "application/json",
        connection: "x-hop-secret",
        "x-hop-secret": "hop-only",
        "keep-alive": "timeout=99, max=7",
        "proxy-authenticate": "Basic realm=upstream",
        "set-cookie": "__cf_bm=abc; path=/; domain=.api.openai.com",
        "alt-svc": 'h3=":443"; ma=86400',
        trailer: "x-checksum",
        "transfer-encoding": "chunked",
        "x-end-to-end": "kept",
        "openai-version": "2020-10-01",
      },
      body: '{"object":"list","data":[]}',
    });
    const response = await rawGet("/v1/models");
    const names = response.rawHeaders.filter((_, index) => index % 2 === 0).map((name) => name.toLowerCase());
    expect(names).not.toContain("x-hop-secret");
    expect(names).not.toContain("proxy-authenticate");
    expect(names).not.toContain("set-cookie");
    expect(names).not.toContain("alt-svc");
    expect(names).not.toContain("trailer");
    expect(response.headers["keep-alive"]).not.toContain("timeout=99");
    expect(response.headers.connection).not.toContain("x-hop-secret");
    // Not on the allow-list (see response-headers.test.ts): an end-to-end header of the provider's own is dropped too.
    expect(response.headers["x-end-to-end"]).toBeUndefined();
    expect(response.headers["openai-version"]).toBe("2020-10-01");
    expect(response.headers["x-gateway-request-id"]).toMatch(REQUEST_ID);
  });

  it("the provider's usual headers arrive without its cookie, edge headers or account", async () => {
    const response = await rawGet("/v1/models");
    expect(response.statusCode).toBe(200);
    expect(response.headers["set-cookie"]).toBeUndefined();
    expect(response.headers["alt-svc"]).toBeUndefined();
    expect(response.headers["cf-ray"]).toBeUndefined();
    expect(response.headers["openai-organization"]).toBeUndefined();
    expect(response.headers["openai-processing-ms"]).toMatch(/^\d+$/);
    expect(response.headers["x-ratelimit-limit-requests"]).toBe("10000");
    expect(response.headers["x-request-id"]).toMatch(/^req_/);
  });

  it("every response, success or error, carries a distinct x-gateway-request-id", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 503 });
    const responses = await Promise.all([
      send("GET", "/v1/models"),
      send("GET", "/v1/models"),
      send("GET", "/v1/nowhere"),
      send("PUT", "/v1/models"),
      postJson("/v1/chat/completions", "{"),
    ]);
    const ids = responses.map((response) => response.headers.get("x-gateway-request-id"));
    for (const id of ids) expect(id).toMatch(REQUEST_ID);
    expect(new Set(ids).size).toBe(ids.length);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 400, 404, 405, 503]);
  });
});

describe("requests Node's HTTP parser refuses", () => {
  /** Sends `request` as is on a new connection and parses the answer. */
  async function exchange(request: string): Promise<{ status?: number; headers: ReadonlyMap<string, string>; body: string }> {
    const { response } = await rawExchange(Number(new URL(fixture.gateway.url).port), request, { timeoutMs: 10_000 });
    return { status: response?.status, headers: response?.headers ?? new Map(), body: response?.body.toString("utf8") ?? "" };
  }

  it("get a 400 in OpenAI's shape", async () => {
    const response = await exchange("GET /v1/models HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n");
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: { message: "The request is malformed and cannot be parsed as HTTP.", type: "invalid_request_error", param: null, code: "malformed_request" },
    });
  });

  it("also carry an x-gateway-request-id", async () => {
    const response = await exchange("GET /v1/models HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n");
    expect(response.status).toBe(400);
    expect(response.headers.get("x-gateway-request-id")).toMatch(REQUEST_ID);
  });
});
