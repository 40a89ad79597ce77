/**
 * The response cache through the local gateway and the real openai SDK: off
 * unless asked, MISS then HIT with the same bytes, refresh and bypass, errors
 * never kept, streams replayed event by event, canonical bodies, expiry, and
 * one caller never getting another caller's answer.
 */
import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { BadRequestError, InternalServerError, RateLimitError } from "openai";
import { describe, expect, it } from "vitest";
import { fakeReply, type Behaviour } from "../support/fake-openai.ts";
import { useFakeUpstreamAndGateway, useGateway } from "../support/gateway-fixture.ts";
import { rejectionOf } from "../support/openai-errors.ts";
import { postJson, startStoreGateway, type StoreGateway } from "../support/store-gateway.ts";

const TTL = { "x-gateway-cache-ttl": "60" };
const NO_RETRIES = { "x-gateway-max-retries": "0" };

/** The gateway: passthrough, cache off by default, max TTL 3600 s. */
const fixture = useFakeUpstreamAndGateway({ env: { GATEWAY_CACHE_MAX_TTL_SECONDS: "3600" }, start: startStoreGateway });

/** A message no other test uses, so entries cached by one test never answer another. */
function unique(label = "q"): string {
  return `${label} ${randomUUID()}`;
}

function chatBody(text: string, extra: Record<string, unknown> = {}) {
  return { model: "gpt-4o", messages: [{ role: "user" as const, content: text }], ...extra };
}

/** A complete chat completion's JSON text. */
function chatJson(content: string): string {
  return JSON.stringify({
    id: `chatcmpl-raw-${randomUUID()}`,
    object: "chat.completion",
    created: 1_700_000_000,
    model: "gpt-4o",
    choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });
}

/** A complete chat completion answer the fake sends as is, to tell it apart from the fake's echo. */
function rawChat(content: string, match?: Behaviour["match"]): Behaviour {
  return {
    kind: "raw",
    status: 200,
    headers: { "content-type": "application/json", "x-request-id": "req_raw" },
    body: chatJson(content),
    ...(match === undefined ? {} : { match }),
  };
}

/** The assistant text of a chat completion's JSON text. */
function contentOf(text: string): string | null | undefined {
  return (JSON.parse(text) as { choices: { message: { content: string | null } }[] }).choices[0]?.message.content;
}

function cacheHeader(response: { headers: Headers }): string | null {
  return response.headers.get("x-gateway-cache");
}

describe("off unless asked", () => {
  it("without a TTL every request goes upstream, answered with x-gateway-cache: BYPASS", async () => {
    const body = chatBody(unique());
    const first = await postJson(fixture.gateway.baseURL, "chat/completions", body, { authorization: "Bearer sk-a" });
    const second = await postJson(fixture.gateway.baseURL, "chat/completions", body, { authorization: "Bearer sk-a" });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect([cacheHeader(first), cacheHeader(second)]).toEqual(["BYPASS", "BYPASS"]);
    expect(fixture.upstream.requests).toHaveLength(2);
    const summaries = await fixture.gateway.waitForSummaries(2);
    expect(summaries.map((summary) => summary.cache)).toEqual(["bypass", "bypass"]);
    expect(fixture.gateway.metrics).toHaveLength(2);
    for (const metrics of fixture.gateway.metrics) {
      expect(metrics.values.cacheHits).toBeUndefined();
      expect(metrics.values.cacheMisses).toBeUndefined();
    }
  });

  it("x-gateway-cache-ttl: 0 is the cache off", async () => {
    const body = chatBody(unique());
    for (let index = 0; index < 2; index += 1) {
      const response = await postJson(fixture.gateway.baseURL, "chat/completions", body, { authorization: "Bearer sk-a", "x-gateway-cache-ttl": "0" });
      expect(cacheHeader(response)).toBe("BYPASS");
    }
    expect(fixture.upstream.requests).toHaveLength(2);
  });

  it("endpoints whose answers are not a function of the request are never cached (responses, models)", async () => {
    const client = fixture.gateway.client("sk-a", TTL);
    for (let index = 0; index < 2; index += 1) {
      const { response } = await client.responses.create({ model: "gpt-4o", input: "same input" }).withResponse();
      expect(cacheHeader(response)).toBe("BYPASS");
      const list = await client.models.list().withResponse();
      expect(cacheHeader(list.response)).toBe("BYPASS");
    }
    expect(fixture.upstream.requests).toHaveLength(4);
  });
});

describe("x-gateway-cache-ttl", () => {
  it("MISS then HIT with the very same body; upstream sees one request; the SDK parses the HIT", async () => {
    const text = unique();
    const body = chatBody(text);
    const headers = { authorization: "Bearer sk-a", ...TTL };
    const miss = await postJson(fixture.gateway.baseURL, "chat/completions", body, headers);
    await fixture.gateway.waitForSummaries(1);
    const hit = await postJson(fixture.gateway.baseURL, "chat/completions", body, headers);
    expect(miss.status).toBe(200);
    expect(cacheHeader(miss)).toBe("MISS");
    expect(hit.status).toBe(200);
    expect(cacheHeader(hit)).toBe("HIT");
    expect(hit.text).toBe(miss.text);
    expect(hit.headers.get("content-type")).toBe(miss.headers.get("content-type"));
    expect(hit.headers.get("content-length")).toBe(String(Buffer.byteLength(hit.text)));
    expect(hit.headers.get("x-gateway-retries")).toBe("0");
    expect(hit.headers.get("x-gateway-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(hit.headers.get("x-gateway-request-id")).not.toBe(miss.headers.get("x-gateway-request-id"));
    // What belonged to the first call only is not replayed.
    expect(hit.headers.get("x-request-id")).toBeNull();
    expect(hit.headers.get("x-ratelimit-remaining-requests")).toBeNull();

    const { data, response } = await fixture.gateway.client("sk-a", TTL).chat.completions.create(body).withResponse();
    expect(cacheHeader(response)).toBe("HIT");
    expect(data).toEqual(JSON.parse(miss.text));
    expect(data.choices[0]?.message.content).toBe(fakeReply(text));
    expect(fixture.upstream.requests).toHaveLength(1);

    const summaries = await fixture.gateway.waitForSummaries(3);
    expect(summaries.map((summary) => summary.cache)).toEqual(["miss", "hit", "hit"]);
    expect(summaries[0]?.usage?.totalTokens).toBeGreaterThan(0);
    expect(summaries[1]).toMatchObject({ status: 200, outcome: "ok", endpoint: "chat.completions", model: "gpt-4o", retries: 0 });
    expect(summaries[1]?.upstreamMs).toBeUndefined();
    expect(fixture.gateway.metrics.map((metrics) => [metrics.values.cacheHits, metrics.values.cacheMisses])).toEqual([
      [0, 1],
      [1, 0],
      [1, 0],
    ]);
  });

  it("the deployment's GATEWAY_CACHE_TTL_SECONDS caches without the header", async () => {
    const cached = await startStoreGateway({ OPENAI_BASE_URL: fixture.upstream.baseUrl, GATEWAY_CACHE_TTL_SECONDS: "60" });
    try {
      const client = cached.client("sk-a");
      const body = chatBody(unique());
      const first = await client.chat.completions.create(body).withResponse();
      await cached.waitForSummaries(1);
      const second = await client.chat.completions.create(body).withResponse();
      expect([cacheHeader(first.response), cacheHeader(second.response)]).toEqual(["MISS", "HIT"]);
      expect(second.data).toEqual(first.data);
      expect(fixture.upstream.requests).toHaveLength(1);
      // A request can still opt out.
      const optOut = await client.chat.completions.create(body, { headers: { "x-gateway-cache-ttl": "0" } }).withResponse();
      expect(cacheHeader(optOut.response)).toBe("BYPASS");
      expect(fixture.upstream.requests).toHaveLength(2);
    } finally {
      await cached.close();
    }
  });

  it("cache-control: no-cache goes upstream again and stores the fresh answer for the next request", async () => {
    const body = chatBody(unique());
    const headers = { authorization: "Bearer sk-a", ...TTL };
    const first = await postJson(fixture.gateway.baseURL, "chat/completions", body, headers);
    expect(cacheHeader(first)).toBe("MISS");
    await fixture.gateway.waitForSummaries(1);
    fixture.upstream.enqueue(rawChat("refreshed answer"));
    const refreshed = await postJson(fixture.gateway.baseURL, "chat/completions", body, { ...headers, "cache-control": "no-cache" });
    expect(cacheHeader(refreshed)).toBe("MISS");
    expect(contentOf(refreshed.text)).toBe("refreshed answer");
    expect(fixture.upstream.requests).toHaveLength(2);
    await fixture.gateway.waitForSummaries(2);
    const next = await postJson(fixture.gateway.baseURL, "chat/completions", body, headers);
    expect(cacheHeader(next)).toBe("HIT");
    expect(next.text).toBe(refreshed.text);
    expect(fixture.upstream.requests).toHaveLength(2);
    const summaries = await fixture.gateway.waitForSummaries(3);
    expect(summaries.map((summary) => summary.cache)).toEqual(["miss", "miss", "hit"]);
  });

  it("cache-control: no-store bypasses: no lookup, nothing stored, an existing entry left as it was", async () => {
    const body = chatBody(unique());
    const headers = { authorization: "Bearer sk-a", ...TTL };
    const bypassed = await postJson(fixture.gateway.baseURL, "chat/completions", body, { ...headers, "cache-control": "no-store" });
    expect(cacheHeader(bypassed)).toBe("BYPASS");
    await fixture.gateway.waitForSummaries(1);
    const first = await postJson(fixture.gateway.baseURL, "chat/completions", body, headers);
    expect(cacheHeader(first)).toBe("MISS");
    await fixture.gateway.waitForSummaries(2);
    fixture.upstream.enqueue(rawChat("not to be kept"));
    const again = await postJson(fixture.gateway.baseURL, "chat/completions", body, { ...headers, "cache-control": "no-store" });
    expect(cacheHeader(again)).toBe("BYPASS");
    expect(contentOf(again.text)).toBe("not to be kept");
    await fixture.gateway.waitForSummaries(3);
    const hit = await postJson(fixture.gateway.baseURL, "chat/completions", body, headers);
    expect(cacheHeader(hit)).toBe("HIT");
    expect(hit.text).toBe(first.text);
    expect(fixture.upstream.requests).toHaveLength(3);
    const summaries = await fixture.gateway.waitForSummaries(4);
    expect(summaries.map((summary) => summary.cache)).toEqual(["bypass", "miss", "bypass", "hit"]);
  });

  it("an invalid x-gateway-cache-ttl is a 400 invalid_header, before any upstream call", async () => {
    for (const value of ["abc", "-1", "3601", "1.5", ""]) {
      const response = await postJson(fixture.gateway.baseURL, "chat/completions", chatBody(unique()), {
        authorization: "Bearer sk-a",
        "x-gateway-cache-ttl": value,
      });
      expect(response.status, value).toBe(400);
      expect(JSON.parse(response.text)).toEqual({
        error: {
          message: "x-gateway-cache-ttl must be an integer number of seconds from 0 to 3600.",
          type: "invalid_request_error",
          param: "x-gateway-cache-ttl",
          code: "invalid_header",
        },
      });
    }
    const error = await rejectionOf(fixture.gateway.client("sk-a", { "x-gateway-cache-ttl": "86400" }).chat.completions.create(chatBody("x")));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("a HIT validates the request's other gateway headers like a MISS does (x-gateway-max-retries)", async () => {
    const body = chatBody(unique());
    const headers = { authorization: "Bearer sk-a", ...TTL };
    const invalid = { ...headers, "x-gateway-max-retries": "abc" };
    const onMiss = await postJson(fixture.gateway.baseURL, "chat/completions", body, invalid);
    expect(onMiss.status).toBe(400);
    expect(cacheHeader(await postJson(fixture.gateway.baseURL, "chat/completions", body, headers))).toBe("MISS");
    await fixture.gateway.waitForSummaries(2);
    // The same invalid request must not turn valid because an answer happens to be cached.
    const onHit = await postJson(fixture.gateway.baseURL, "chat/completions", body, invalid);
    expect(onHit.status).toBe(400);
    expect(JSON.parse(onHit.text)).toMatchObject({ error: { param: "x-gateway-max-retries", code: "invalid_header" } });
  });

  it("the entry expires after its TTL", async () => {
    const body = chatBody(unique());
    const headers = { authorization: "Bearer sk-a", "x-gateway-cache-ttl": "1" };
    expect(cacheHeader(await postJson(fixture.gateway.baseURL, "chat/completions", body, headers))).toBe("MISS");
    await fixture.gateway.waitForSummaries(1);
    expect(cacheHeader(await postJson(fixture.gateway.baseURL, "chat/completions", body, headers))).toBe("HIT");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(cacheHeader(await postJson(fixture.gateway.baseURL, "chat/completions", body, headers))).toBe("MISS");
    expect(fixture.upstream.requests).toHaveLength(2);
  });
});

describe("errors are never stored", () => {
  it.each([400, 429, 500])("a %i from the provider is relayed, not kept: the next request goes upstream", async (status) => {
    const body = chatBody(unique());
    const client = fixture.gateway.client("sk-a", { ...TTL, ...NO_RETRIES });
    fixture.upstream.enqueue({ kind: "error", status });
    const error = await rejectionOf(client.chat.completions.create(body));
    expect(error).toBeInstanceOf(status === 400 ? BadRequestError : status === 429 ? RateLimitError : InternalServerError);
    expect(error.headers?.get("x-gateway-cache")).toBe("MISS");
    await fixture.gateway.waitForSummaries(1);
    const second = await client.chat.completions.create(body).withResponse();
    expect(cacheHeader(second.response)).toBe("MISS");
    await fixture.gateway.waitForSummaries(2);
    const third = await client.chat.completions.create(body).withResponse();
    expect(cacheHeader(third.response)).toBe("HIT");
    expect(third.data).toEqual(second.data);
    expect(fixture.upstream.requests).toHaveLength(2);
  });

  it("a stream the provider cut short is not kept", async () => {
    const body = chatBody(unique(), { stream: true });
    fixture.upstream.enqueue({ kind: "truncate", afterChunks: 2 });
    const broken = await postJson(fixture.gateway.baseURL, "chat/completions", body, { authorization: "Bearer sk-a", ...TTL });
    expect(broken.text).toContain('"error"');
    await fixture.gateway.waitForSummaries(1);
    const next = await postJson(fixture.gateway.baseURL, "chat/completions", body, { authorization: "Bearer sk-a", ...TTL });
    expect(cacheHeader(next)).toBe("MISS");
    expect(next.text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(fixture.upstream.requests).toHaveLength(2);
  });

  it("a 200 stream that ends with the provider's in-band error event is not kept", async () => {
    const body = chatBody(unique(), { stream: true });
    fixture.upstream.enqueue({ kind: "error-mid-stream", afterChunks: 2, message: "The server had an error while processing your request." });
    const failed = await postJson(fixture.gateway.baseURL, "chat/completions", body, { authorization: "Bearer sk-a", ...TTL });
    expect(failed.status).toBe(200);
    expect(failed.text).toContain('data: {"error"');
    await fixture.gateway.waitForSummaries(1);
    const next = await postJson(fixture.gateway.baseURL, "chat/completions", body, { authorization: "Bearer sk-a", ...TTL });
    // Replaying the failure for the next 60 s would turn one provider hiccup into a minute of errors.
    expect(cacheHeader(next)).toBe("MISS");
    expect(next.text).not.toContain('"error"');
    expect(fixture.upstream.requests).toHaveLength(2);
  });
});

describe("only what can be replayed faithfully is kept", () => {
  it("a gzip-encoded answer is relayed (the SDK decodes it) but not stored: the next request goes upstream", async () => {
    const text = unique();
    const client = fixture.gateway.client("sk-a", TTL);
    for (let index = 0; index < 2; index += 1) {
      fixture.upstream.enqueue({
        kind: "raw",
        status: 200,
        headers: { "content-type": "application/json", "content-encoding": "gzip", "x-request-id": "req_gzip" },
        body: gzipSync(chatJson(`zipped ${index}`)),
      });
      const { data, response } = await client.chat.completions.create(chatBody(text)).withResponse();
      expect(data.choices[0]?.message.content).toBe(`zipped ${index}`);
      expect(cacheHeader(response)).toBe("MISS");
      await fixture.gateway.waitForSummaries(index + 1);
    }
    expect(fixture.upstream.requests).toHaveLength(2);
  });

  it.each([
    ['{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}'],
    [' \n{ "error" : { "message": "Overloaded", "type": "server_error", "param": null, "code": null } }'],
  ])("a 200 whose body is an OpenAI error object (%j) is relayed but not stored", async (errorBody) => {
    const text = unique();
    const body = chatBody(text);
    fixture.upstream.enqueue({ kind: "raw", status: 200, headers: { "content-type": "application/json", "x-request-id": "req_200_error" }, body: errorBody });
    const failed = await postJson(fixture.gateway.baseURL, "chat/completions", body, { authorization: "Bearer sk-a", ...TTL });
    expect(failed.status).toBe(200);
    expect(failed.text).toBe(errorBody);
    await fixture.gateway.waitForSummaries(1);
    // Replaying it would turn one provider hiccup into a minute of errors.
    const next = await fixture.gateway.client("sk-a", TTL).chat.completions.create(body).withResponse();
    expect(cacheHeader(next.response)).toBe("MISS");
    expect(next.data.choices[0]?.message.content).toBe(fakeReply(text));
    expect(fixture.upstream.requests).toHaveLength(2);
  });
});

describe("what is too large or incomplete is not kept", () => {
  it("an answer larger than GATEWAY_CACHE_MAX_ENTRY_BYTES is relayed whole and not stored", async () => {
    const small = await startStoreGateway({ OPENAI_BASE_URL: fixture.upstream.baseUrl, GATEWAY_CACHE_MAX_ENTRY_BYTES: "300" });
    try {
      const headers = { authorization: "Bearer sk-a", ...TTL };
      const text = unique();
      const big = await postJson(small.baseURL, "chat/completions", chatBody(text), headers);
      expect(Buffer.byteLength(big.text)).toBeGreaterThan(300);
      expect(contentOf(big.text)).toBe(fakeReply(text));
      await small.waitForSummaries(1);
      const again = await postJson(small.baseURL, "chat/completions", chatBody(text), headers);
      expect([cacheHeader(big), cacheHeader(again)]).toEqual(["MISS", "MISS"]);
      expect(fixture.upstream.requests).toHaveLength(2);
    } finally {
      await small.close();
    }
  });

  it("a stream the client abandoned half way is not kept", async () => {
    const text = unique();
    fixture.upstream.enqueue({ kind: "stream", chunks: 20, intervalMs: 20 });
    const stream = await fixture.gateway.client("sk-a", TTL).chat.completions.create({ ...chatBody(text), stream: true });
    let chunks = 0;
    for await (const _chunk of stream) {
      chunks += 1;
      if (chunks === 2) break;
    }
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.outcome).toBe("client_aborted");
    const next = await postJson(fixture.gateway.baseURL, "chat/completions", chatBody(text, { stream: true }), { authorization: "Bearer sk-a", ...TTL });
    expect(cacheHeader(next)).toBe("MISS");
    expect(next.text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(fixture.upstream.requests).toHaveLength(2);
  });
});

describe("streams", () => {
  /** Reads a chat stream with the SDK: the text, the number of chunks, and the usage chunk if any. */
  async function readStream(body: ReturnType<typeof chatBody>, headers: Record<string, string> = TTL) {
    const { data: stream, response } = await fixture.gateway
      .client("sk-a", headers)
      .chat.completions.create({ ...body, stream: true })
      .withResponse();
    let text = "";
    let chunks = 0;
    let usage: unknown;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    return { cache: cacheHeader(response), contentType: response.headers.get("content-type"), text, chunks, usage };
  }

  it("a streamed answer is cached; the HIT replays the same SSE bytes, event by event, that the SDK reads to the same content", async () => {
    const text = unique();
    const body = chatBody(text, { stream: true });
    const headers = { authorization: "Bearer sk-a", ...TTL };
    const miss = await postJson(fixture.gateway.baseURL, "chat/completions", body, headers);
    expect(cacheHeader(miss)).toBe("MISS");
    await fixture.gateway.waitForSummaries(1);
    const hit = await postJson(fixture.gateway.baseURL, "chat/completions", body, headers);
    expect(cacheHeader(hit)).toBe("HIT");
    expect(hit.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(hit.headers.get("content-length")).toBeNull();
    expect(hit.text).toBe(miss.text);
    // The client did not ask for usage, so the replay has none either (the gateway asked on its own account).
    expect(hit.text).not.toContain('"usage"');
    const events = hit.text.split("\n\n").slice(0, -1);
    expect(events.every((event) => event.startsWith("data: "))).toBe(true);
    expect(events.at(-1)).toBe("data: [DONE]");

    const read = await readStream(chatBody(text));
    expect(read).toMatchObject({ cache: "HIT", text: fakeReply(text), usage: undefined });
    // Role chunk, five deltas, finish chunk.
    expect(read.chunks).toBe(7);
    expect(fixture.upstream.requests).toHaveLength(1);
    const summaries = await fixture.gateway.waitForSummaries(3);
    expect(summaries.map((summary) => [summary.cache, summary.stream])).toEqual([
      ["miss", true],
      ["hit", true],
      ["hit", true],
    ]);
  });

  it("with stream_options.include_usage the replay keeps the usage chunk, and does not share an entry with the plain stream", async () => {
    const text = unique();
    const plain = await readStream(chatBody(text));
    const withUsageBody = chatBody(text, { stream_options: { include_usage: true } });
    const first = await readStream(withUsageBody);
    expect([plain.cache, first.cache]).toEqual(["MISS", "MISS"]);
    expect(plain.usage).toBeUndefined();
    expect(first.usage).toMatchObject({ total_tokens: expect.any(Number) });
    await fixture.gateway.waitForSummaries(2);
    const again = await readStream(withUsageBody);
    const plainAgain = await readStream(chatBody(text));
    expect(again).toEqual({ ...first, cache: "HIT" });
    expect(plainAgain).toEqual({ ...plain, cache: "HIT" });
    expect(again.chunks).toBe(plain.chunks + 1);
    expect(fixture.upstream.requests).toHaveLength(2);
  });

  it("a streamed and a non-streamed request with otherwise equal bodies have their own entries", async () => {
    const text = unique();
    const client = fixture.gateway.client("sk-a", TTL);
    const whole = await client.chat.completions.create(chatBody(text)).withResponse();
    const streamed = await readStream(chatBody(text));
    expect([cacheHeader(whole.response), streamed.cache]).toEqual(["MISS", "MISS"]);
    expect(fixture.upstream.requests).toHaveLength(2);
  });
});

describe("other endpoints and bodies", () => {
  it("embeddings are cached, the SDK decodes the HIT to the same vectors", async () => {
    const client = fixture.gateway.client("sk-a", TTL);
    const input = unique("embed");
    const first = await client.embeddings.create({ model: "text-embedding-3-small", input }).withResponse();
    await fixture.gateway.waitForSummaries(1);
    const second = await client.embeddings.create({ model: "text-embedding-3-small", input }).withResponse();
    expect([cacheHeader(first.response), cacheHeader(second.response)]).toEqual(["MISS", "HIT"]);
    expect(second.data.data[0]?.embedding).toHaveLength(1536);
    expect(second.data).toEqual(first.data);
    expect(fixture.upstream.requests).toHaveLength(1);
    const other = await client.embeddings.create({ model: "text-embedding-3-small", input: `${input}!` }).withResponse();
    expect(cacheHeader(other.response)).toBe("MISS");
  });

  it("moderations and legacy completions are cached", async () => {
    const client = fixture.gateway.client("sk-a", TTL);
    const input = unique("moderate");
    const moderations = [await client.moderations.create({ input }).withResponse()];
    await fixture.gateway.waitForSummaries(1);
    moderations.push(await client.moderations.create({ input }).withResponse());
    const prompt = unique("complete");
    const completions = [await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt }).withResponse()];
    await fixture.gateway.waitForSummaries(3);
    completions.push(await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt }).withResponse());
    expect([...moderations, ...completions].map(({ response }) => cacheHeader(response))).toEqual(["MISS", "HIT", "MISS", "HIT"]);
    expect(moderations[1]?.data).toEqual(moderations[0]?.data);
    expect(completions[1]?.data).toEqual(completions[0]?.data);
    expect(fixture.upstream.requests).toHaveLength(2);
  });

  it("the order of keys and the spacing of the body do not matter; any value does", async () => {
    const text = unique();
    const headers = { authorization: "Bearer sk-a", ...TTL };
    const escaped = JSON.stringify(text);
    const first = await postJson(
      fixture.gateway.baseURL,
      "chat/completions",
      `{"model":"gpt-4o","messages":[{"role":"user","content":${escaped}}],"temperature":0.5,"metadata":{"a":"1","b":"2"}}`,
      headers,
    );
    expect(cacheHeader(first)).toBe("MISS");
    await fixture.gateway.waitForSummaries(1);
    const reordered = await postJson(
      fixture.gateway.baseURL,
      "chat/completions",
      `{ "metadata": {"b":"2", "a":"1"}, "temperature": 0.50,\n "messages": [ {"content": ${escaped}, "role": "user"} ], "model": "gpt-4o" }`,
      headers,
    );
    expect(cacheHeader(reordered)).toBe("HIT");
    expect(reordered.text).toBe(first.text);
    const variants = [
      { model: "gpt-4o", messages: [{ role: "user", content: text }], temperature: 0.6, metadata: { a: "1", b: "2" } },
      { model: "gpt-4o", messages: [{ role: "user", content: `${text} ` }], temperature: 0.5, metadata: { a: "1", b: "2" } },
      { model: "gpt-4o-mini", messages: [{ role: "user", content: text }], temperature: 0.5, metadata: { a: "1", b: "2" } },
      { model: "gpt-4o", messages: [{ role: "user", content: text }], temperature: 0.5, metadata: { a: "1", b: "3" } },
      { model: "gpt-4o", messages: [{ role: "user", content: text }], temperature: 0.5, metadata: { a: "1", b: "2" }, seed: 1 },
    ];
    for (const variant of variants) {
      const response = await postJson(fixture.gateway.baseURL, "chat/completions", variant, headers);
      expect(cacheHeader(response), JSON.stringify(variant)).toBe("MISS");
    }
    expect(fixture.upstream.requests).toHaveLength(1 + variants.length);
  });

  it("the organization and project headers are part of the key", async () => {
    const body = chatBody(unique());
    const headers = { authorization: "Bearer sk-a", ...TTL };
    const answers: (string | null)[] = [];
    const variants: Record<string, string>[] = [{}, { "openai-organization": "org-a" }, { "openai-organization": "org-b" }, { "openai-project": "proj_a" }];
    for (const extra of variants) {
      answers.push(cacheHeader(await postJson(fixture.gateway.baseURL, "chat/completions", body, { ...headers, ...extra })));
      await fixture.gateway.waitForSummaries(answers.length);
    }
    answers.push(cacheHeader(await postJson(fixture.gateway.baseURL, "chat/completions", body, { ...headers, "openai-organization": "org-a" })));
    expect(answers).toEqual(["MISS", "MISS", "MISS", "MISS", "HIT"]);
  });
});

describe("isolation: one caller never gets another caller's answer", () => {
  const KEY_ONE = "gw-key-one-0123456789";
  const KEY_TWO = "gw-key-two-0123456789";
  const managed = useGateway(() =>
    startStoreGateway({
      OPENAI_BASE_URL: fixture.upstream.baseUrl,
      OPENAI_API_KEY: "sk-provider",
      GATEWAY_API_KEYS: `${KEY_ONE},${KEY_TWO}`,
      GATEWAY_ALLOW_PASSTHROUGH: "true",
    }),
  );

  /**
   * The first caller's answer is a private one (the fake sends it only for that
   * caller's key upstream); the second caller, with the same body, must get a
   * MISS and the fake's echo; then each gets its own answer from the cache.
   */
  async function expectIsolated(target: StoreGateway, first: { key: string; upstreamAuth: string }, second: { key: string; upstreamAuth: string }) {
    const text = unique("private");
    const body = chatBody(text);
    const secret = `for ${first.key} only ${randomUUID()}`;
    fixture.upstream.enqueue(rawChat(secret, (request) => request.headers.authorization === first.upstreamAuth));
    const one = target.client(first.key, TTL);
    const two = target.client(second.key, TTL);

    const firstAnswer = await one.chat.completions.create(body).withResponse();
    expect(cacheHeader(firstAnswer.response)).toBe("MISS");
    expect(firstAnswer.data.choices[0]?.message.content).toBe(secret);
    await target.waitForSummaries(1);
    const firstAgain = await one.chat.completions.create(body).withResponse();
    expect(cacheHeader(firstAgain.response)).toBe("HIT");
    expect(firstAgain.data.choices[0]?.message.content).toBe(secret);

    const secondAnswer = await two.chat.completions.create(body).withResponse();
    expect(cacheHeader(secondAnswer.response)).toBe("MISS");
    expect(secondAnswer.data.choices[0]?.message.content).toBe(fakeReply(text));
    await target.waitForSummaries(3);
    const secondAgain = await two.chat.completions.create(body).withResponse();
    expect(cacheHeader(secondAgain.response)).toBe("HIT");
    expect(secondAgain.data.choices[0]?.message.content).toBe(fakeReply(text));
    const firstLater = await one.chat.completions.create(body).withResponse();
    expect(firstLater.data.choices[0]?.message.content).toBe(secret);

    expect(fixture.upstream.requests.map((request) => request.headers.authorization)).toEqual([first.upstreamAuth, second.upstreamAuth]);
    expect(fixture.upstream.pending()).toBe(0);
  }

  it("two passthrough callers with different provider keys", async () => {
    await expectIsolated(fixture.gateway, { key: "sk-alice", upstreamAuth: "Bearer sk-alice" }, { key: "sk-bob", upstreamAuth: "Bearer sk-bob" });
  });

  it("two managed gateway keys (both call upstream with the gateway's own key)", async () => {
    // The private answer must go to the first key's request: the fake cannot tell the keys apart, so match the first request.
    const text = unique("private");
    const body = chatBody(text);
    const secret = `for env-1 only ${randomUUID()}`;
    fixture.upstream.enqueue(rawChat(secret));
    const one = managed.gateway.client(KEY_ONE, TTL);
    const two = managed.gateway.client(KEY_TWO, TTL);
    const first = await one.chat.completions.create(body).withResponse();
    expect([cacheHeader(first.response), first.data.choices[0]?.message.content]).toEqual(["MISS", secret]);
    await managed.gateway.waitForSummaries(1);
    const second = await two.chat.completions.create(body).withResponse();
    expect([cacheHeader(second.response), second.data.choices[0]?.message.content]).toEqual(["MISS", fakeReply(text)]);
    await managed.gateway.waitForSummaries(2);
    const oneAgain = await one.chat.completions.create(body).withResponse();
    const twoAgain = await two.chat.completions.create(body).withResponse();
    expect([cacheHeader(oneAgain.response), oneAgain.data.choices[0]?.message.content]).toEqual(["HIT", secret]);
    expect([cacheHeader(twoAgain.response), twoAgain.data.choices[0]?.message.content]).toEqual(["HIT", fakeReply(text)]);
    expect(fixture.upstream.requests.map((request) => request.headers.authorization)).toEqual(["Bearer sk-provider", "Bearer sk-provider"]);
    const summaries = await managed.gateway.waitForSummaries(4);
    expect(summaries.map((summary) => [summary.keyId, summary.cache])).toEqual([
      ["env-1", "miss"],
      ["env-2", "miss"],
      ["env-1", "hit"],
      ["env-2", "hit"],
    ]);
  });

  it("a managed caller and then a passthrough caller", async () => {
    await expectIsolated(managed.gateway, { key: KEY_ONE, upstreamAuth: "Bearer sk-provider" }, { key: "sk-carol", upstreamAuth: "Bearer sk-carol" });
  });

  it("a passthrough caller and then a managed caller", async () => {
    await expectIsolated(managed.gateway, { key: "sk-dave", upstreamAuth: "Bearer sk-dave" }, { key: KEY_TWO, upstreamAuth: "Bearer sk-provider" });
  });

  it("a passthrough caller whose key was refused upstream gets no one's entry and leaves none", async () => {
    const text = unique();
    const body = chatBody(text);
    await fixture.gateway.client("sk-good", TTL).chat.completions.create(body);
    await fixture.gateway.waitForSummaries(1);
    fixture.upstream.enqueue({ kind: "error", status: 401, match: (request) => request.headers.authorization === "Bearer sk-wrong" });
    const error = await rejectionOf(fixture.gateway.client("sk-wrong", { ...TTL, ...NO_RETRIES }).chat.completions.create(body));
    expect(error).toMatchObject({ status: 401 });
    expect(fixture.upstream.requests).toHaveLength(2);
  });
});
