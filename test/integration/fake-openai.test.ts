/**
 * Proves that test/support/fake-openai.ts speaks the wire the official `openai` SDK
 * parses: every endpoint, every error behaviour, and how the SDK reacts to broken
 * streams (the gateway has to reproduce / detect the same things).
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import OpenAI, {
  APIConnectionError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from "openai";
import { gunzipSync } from "node:zlib";
import { request as httpRequest } from "node:http";
import { approxTokens, fakeReply, startFakeOpenAI } from "../support/fake-openai.ts";
import { useFakeUpstream } from "../support/gateway-fixture.ts";

// Reset before each test.
const fixture = useFakeUpstream();
let client: OpenAI;

beforeAll(() => {
  client = new OpenAI({ apiKey: "sk-test", baseURL: fixture.upstream.baseUrl, maxRetries: 0, timeout: 5_000 });
});

afterEach(() => {
  expect(fixture.upstream.pending()).toBe(0); // every queued behaviour was consumed by its test
});

const user = (content: string) => [{ role: "user" as const, content }];

/** Raw HTTP request against the fake (no SDK), for things the SDK hides. */
function raw(
  method: string,
  url: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: { "content-type": "application/json", ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("chat completions", () => {
  it("non-stream: chat.completion object, usage details, headers", async () => {
    const { data, response, request_id } = await client.chat.completions
      .create({ model: "gpt-4o-mini", messages: user("Hello there") })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.id).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(data.model).toBe("gpt-4o-mini");
    expect(typeof data.created).toBe("number");
    expect(data.system_fingerprint).toMatch(/^fp_/);
    expect(data.choices).toHaveLength(1);
    expect(data.choices[0]?.message).toMatchObject({ role: "assistant", content: fakeReply("Hello there"), refusal: null });
    expect(data.choices[0]?.finish_reason).toBe("stop");
    const u = data.usage!;
    expect(u.completion_tokens).toBe(approxTokens(fakeReply("Hello there")));
    expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
    expect(u.prompt_tokens_details).toEqual({ cached_tokens: 0, audio_tokens: 0 });
    expect(u.completion_tokens_details?.reasoning_tokens).toBe(0);

    expect(request_id).toMatch(/^req_[0-9a-f]{32}$/);
    expect((data as { _request_id?: string | null })._request_id).toBe(request_id);
    const h = response.headers;
    expect(h.get("content-type")).toBe("application/json");
    expect(h.get("openai-version")).toBe("2020-10-01");
    expect(h.get("openai-organization")).toBeTruthy();
    expect(Number(h.get("openai-processing-ms"))).toBeGreaterThanOrEqual(1);
    for (const k of ["requests", "tokens"]) {
      expect(h.get(`x-ratelimit-limit-${k}`)).toMatch(/^\d+$/);
      expect(h.get(`x-ratelimit-remaining-${k}`)).toMatch(/^\d+$/);
      expect(h.get(`x-ratelimit-reset-${k}`)).toMatch(/^[\d.]+m?s$/);
    }

    const rec = fixture.upstream.requests[0]!;
    expect(rec.method).toBe("POST");
    expect(rec.url).toBe("/v1/chat/completions");
    expect(rec.headers["authorization"]).toBe("Bearer sk-test");
    expect(rec.json).toMatchObject({ model: "gpt-4o-mini", messages: user("Hello there") });
  });

  it("stream without include_usage: role chunk, content deltas, stop chunk, no usage field", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-4o", messages: user("stream me"), stream: true });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    // role chunk + 5 content deltas + finish chunk ([DONE] is consumed by the SDK)
    expect(chunks).toHaveLength(7);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === "gpt-4o")).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: "assistant", content: "", refusal: null });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(fakeReply("stream me"));
    expect(chunks.at(-1)!.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    expect(chunks.every((c) => !("usage" in c))).toBe(true);
    expect(fixture.upstream.lastStreamWrites).toHaveLength(8); // 7 chunks + [DONE], each its own write
    expect(fixture.upstream.lastStreamEvents.at(-1)).toBe("data: [DONE]\n\n");
  });

  it("stream with include_usage: usage:null on every chunk, then choices:[] + usage", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: user("count"),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: approxTokens(fakeReply("count")) });
    expect(last.usage!.total_tokens).toBe(last.usage!.prompt_tokens + last.usage!.completion_tokens);
    expect(last.usage!.prompt_tokens_details).toEqual({ cached_tokens: 0, audio_tokens: 0 });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("stop");
  });

  it("stream behaviour: explicit content, chunk spacing recorded in lastStreamWrites", async () => {
    fixture.upstream.enqueue({ kind: "stream", content: ["a", "b", "c"], intervalMs: 25 });
    const stream = await client.chat.completions.create({ model: "gpt-4o", messages: user("x"), stream: true });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    expect(text).toBe("abc");
    const w = fixture.upstream.lastStreamWrites;
    expect(w).toHaveLength(6); // role, a, b, c, stop, [DONE]
    for (const i of [1, 2, 3]) expect(w[i]! - w[i - 1]!).toBeGreaterThanOrEqual(20);
  });

  it("SDK helper chat.completions.stream() accumulates the fake's chunks", async () => {
    const final = await client.chat.completions
      .stream({ model: "gpt-4o-mini", messages: user("helper"), stream_options: { include_usage: true } })
      .finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(fakeReply("helper"));
    expect(final.usage?.total_tokens).toBeGreaterThan(0);
  });

  it("max_tokens cuts the text with finish_reason length", async () => {
    const r = await client.chat.completions.create({ model: "gpt-4o-mini", messages: user("a long long message"), max_tokens: 1 });
    expect(r.choices[0]?.finish_reason).toBe("length");
    expect(r.usage?.completion_tokens).toBe(1);
  });
});

describe("legacy completions", () => {
  it("non-stream text_completion", async () => {
    const r = await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Say hi" });
    expect(r.object).toBe("text_completion");
    expect(r.id).toMatch(/^cmpl-/);
    expect(r.choices[0]).toMatchObject({ text: fakeReply("Say hi"), index: 0, finish_reason: "stop", logprobs: null });
    expect(r.usage?.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
  });

  it("stream with include_usage", async () => {
    const stream = await client.completions.create({
      model: "gpt-3.5-turbo-instruct",
      prompt: "Say hi",
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.every((c) => c.object === "text_completion")).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.text ?? "").join("")).toBe(fakeReply("Say hi"));
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("stop");
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(approxTokens(fakeReply("Say hi")));
  });
});

describe("responses API", () => {
  it("non-stream response object with output message and usage", async () => {
    const r = await client.responses.create({ model: "gpt-4.1", input: "What is up?", instructions: "be brief" });
    expect(r.object).toBe("response");
    expect(r.id).toMatch(/^resp_[0-9a-f]{50}$/);
    expect(r.status).toBe("completed");
    expect(r.model).toBe("gpt-4.1");
    expect(r.instructions).toBe("be brief");
    expect(r.output_text).toBe(fakeReply("What is up?")); // computed by the SDK from output[]
    expect(r.output[0]).toMatchObject({ type: "message", role: "assistant", status: "completed" });
    expect(r.usage).toMatchObject({
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: approxTokens(fakeReply("What is up?")),
      output_tokens_details: { reasoning_tokens: 0 },
    });
    expect(r.usage!.total_tokens).toBe(r.usage!.input_tokens + r.usage!.output_tokens);
  });

  it("stream: the real event sequence, sequence_number, usage on response.completed, no [DONE]", async () => {
    const stream = await client.responses.create({
      model: "gpt-4.1-mini",
      input: [{ role: "user", content: "hello stream" }],
      stream: true,
    });
    const events = [];
    for await (const e of stream) events.push(e);
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      ...Array(5).fill("response.output_text.delta"),
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const deltas = events.flatMap((e) => (e.type === "response.output_text.delta" ? [e.delta] : []));
    expect(deltas.join("")).toBe(fakeReply("hello stream"));
    const done = events.at(-1)!;
    if (done.type !== "response.completed") throw new Error("expected response.completed");
    expect(done.response.usage?.output_tokens).toBe(approxTokens(fakeReply("hello stream")));
    expect(fixture.upstream.lastStreamEvents[0]).toMatch(/^event: response\.created\ndata: \{/);
    expect(fixture.upstream.lastStreamEvents.some((t) => t.includes("[DONE]"))).toBe(false);
  });

  it("SDK helper responses.stream() validates and assembles the events", async () => {
    const final = await client.responses.stream({ model: "gpt-4.1", input: "assemble" }).finalResponse();
    expect(final.output_text).toBe(fakeReply("assemble"));
    expect(final.usage?.total_tokens).toBeGreaterThan(0);
  });
});

describe("embeddings, moderations, models", () => {
  it("embeddings: SDK requests base64 by default and decodes it; float on request; same vectors", async () => {
    const def = await client.embeddings.create({ model: "text-embedding-3-small", input: ["one", "two"] });
    expect(fixture.upstream.requests[0]!.json).toMatchObject({ encoding_format: "base64" }); // SDK default on the wire
    expect(def.object).toBe("list");
    expect(def.data).toHaveLength(2);
    expect(def.data[0]!.object).toBe("embedding");
    expect(def.data[1]!.index).toBe(1);
    expect(def.data[0]!.embedding).toHaveLength(1536);
    expect(typeof def.data[0]!.embedding[0]).toBe("number");
    expect(def.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });

    const flt = await client.embeddings.create({
      model: "text-embedding-3-small",
      input: ["one", "two"],
      encoding_format: "float",
    });
    expect(fixture.upstream.requests[1]!.json).toMatchObject({ encoding_format: "float" });
    expect(flt.data[0]!.embedding).toEqual(def.data[0]!.embedding); // float32-exact values
    expect(flt.data[1]!.embedding).not.toEqual(flt.data[0]!.embedding);

    const b64 = await client.embeddings.create({
      model: "text-embedding-3-large",
      input: "one",
      encoding_format: "base64",
      dimensions: 8,
    });
    // explicit base64 is passed through undecoded
    expect(typeof b64.data[0]!.embedding).toBe("string");
    expect(Buffer.from(b64.data[0]!.embedding as unknown as string, "base64")).toHaveLength(32);
  });

  it("moderations", async () => {
    const r = await client.moderations.create({ model: "omni-moderation-latest", input: ["hello", "I will kill it"] });
    expect(r.id).toMatch(/^modr-/);
    expect(r.model).toBe("omni-moderation-latest");
    expect(r.results.map((x) => x.flagged)).toEqual([false, true]);
    expect(r.results[1]!.categories.violence).toBe(true);
    expect(r.results[0]!.category_scores["self-harm/intent"]).toBeTypeOf("number");
  });

  it("models list, retrieve, unknown id → NotFoundError model_not_found", async () => {
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    expect(ids).toContain("gpt-4o-mini");
    expect(page.data[0]).toMatchObject({ object: "model", owned_by: "system" });
    const ids2: string[] = [];
    for await (const m of client.models.list()) ids2.push(m.id);
    expect(ids2).toEqual(ids);

    const m = await client.models.retrieve("gpt-4o");
    expect(m).toMatchObject({ id: "gpt-4o", object: "model" });

    const err = await client.models.retrieve("gpt-nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).code).toBe("model_not_found");
    expect((err as NotFoundError).message).toBe("404 The model `gpt-nope` does not exist or you do not have access to it.");
  });
});

describe("errors surface as the SDK's classes", () => {
  it("401 with requireAuth (separate fake)", async () => {
    const authed = await startFakeOpenAI({ requireAuth: "Bearer sk-good" });
    try {
      const bad = new OpenAI({ apiKey: "sk-wrong-key-123456", baseURL: authed.baseUrl, maxRetries: 0 });
      const err = await bad.models.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthenticationError);
      expect((err as AuthenticationError).status).toBe(401);
      expect((err as AuthenticationError).code).toBe("invalid_api_key");
      expect((err as AuthenticationError).message).toMatch(/^401 Incorrect API key provided: sk-\*+3456\./);
      expect((err as AuthenticationError).requestID).toMatch(/^req_/);

      const good = new OpenAI({ apiKey: "sk-good", baseURL: authed.baseUrl, maxRetries: 0 });
      expect((await good.models.retrieve("gpt-4o")).id).toBe("gpt-4o");
    } finally {
      await authed.close();
    }
  });

  it("429 → RateLimitError with retry-after / retry-after-ms", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 429, retryAfterMs: 1500 });
    const err = await client.chat.completions.create({ model: "gpt-4o-mini", messages: user("x") }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    const e = err as RateLimitError;
    expect(e.status).toBe(429);
    expect(e.code).toBe("rate_limit_exceeded");
    expect(e.type).toBe("requests");
    expect(e.message).toMatch(/^429 Rate limit reached/);
    expect(e.headers.get("retry-after")).toBe("2");
    expect(e.headers.get("retry-after-ms")).toBe("1500");
  });

  it("400 / 500 / custom 404 with custom message, type, code, param and headers", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 400, message: "bad thing", param: "messages", code: "invalid_value" });
    fixture.upstream.enqueue({ kind: "error", status: 500 });
    fixture.upstream.enqueue({ kind: "error", status: 404, message: "nope", headers: { "x-custom": "1" } });
    const call = () => client.chat.completions.create({ model: "gpt-4o-mini", messages: user("x") }).catch((e: unknown) => e);

    const e400 = await call();
    expect(e400).toBeInstanceOf(BadRequestError);
    expect((e400 as BadRequestError).message).toBe("400 bad thing");
    expect((e400 as BadRequestError).param).toBe("messages");
    expect((e400 as BadRequestError).code).toBe("invalid_value");
    expect((e400 as BadRequestError).type).toBe("invalid_request_error");

    const e500 = await call();
    expect(e500).toBeInstanceOf(InternalServerError);
    expect((e500 as InternalServerError).message).toBe(
      "500 The server had an error while processing your request. Sorry about that!",
    );

    const e404 = await call();
    expect(e404).toBeInstanceOf(NotFoundError);
    expect((e404 as NotFoundError).headers.get("x-custom")).toBe("1");

    // queue drained → default behaviour again
    expect((await call()) as object).toHaveProperty("object", "chat.completion");
  });

  it("error on a stream request is a plain JSON error before any SSE", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 503 });
    const err = await client.chat.completions
      .create({ model: "gpt-4o-mini", messages: user("x"), stream: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as InternalServerError).status).toBe(503);
  });

  it("validation, unknown path and invalid JSON are OpenAI-shaped errors", async () => {
    const noMsgs = await client.chat.completions
      .create({ model: "gpt-4o-mini" } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(noMsgs).toBeInstanceOf(BadRequestError);
    expect((noMsgs as BadRequestError).code).toBe("missing_required_parameter");

    const unknown = await client.post("/nope", { body: {} }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect((unknown as NotFoundError).message).toBe("404 Invalid URL (POST /v1/nope)");

    const bad = await raw("POST", `${fixture.upstream.baseUrl}/chat/completions`, "{not json");
    expect(bad.status).toBe(400);
    expect(bad.headers["content-type"]).toBe("application/json");
    expect(bad.headers["x-request-id"]).toMatch(/^req_/);
    const parsed = JSON.parse(bad.body.toString()) as { error: Record<string, unknown> };
    expect(parsed.error).toMatchObject({ type: "invalid_request_error", param: null, code: null });
    expect(String(parsed.error["message"])).toMatch(/could not parse the JSON body/);
    expect(fixture.upstream.requests.at(-1)!.json).toBeUndefined();
    expect(fixture.upstream.requests.at(-1)!.body.toString()).toBe("{not json");
  });

  it("raw behaviour: non-JSON 502 from a proxy becomes InternalServerError with the text", async () => {
    fixture.upstream.enqueue({ kind: "raw", status: 502, headers: { "content-type": "text/html" }, body: "<html>Bad Gateway</html>" });
    const err = await client.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as InternalServerError).message).toBe("502 <html>Bad Gateway</html>");
  });
});

describe("broken streams: what the SDK does (the gateway must match)", () => {
  it("truncate (clean EOF, no [DONE]): chat iteration ENDS EARLY WITHOUT ERROR", async () => {
    fixture.upstream.enqueue({ kind: "truncate", afterChunks: 3 });
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: user("cut"), stream: true });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks).toHaveLength(3); // role + 2 deltas, no finish_reason chunk, and no exception
    expect(chunks.some((c) => c.choices[0]?.finish_reason === "stop")).toBe(false);
  });

  it("truncate on responses: raw iteration ends silently; stream() helper RESOLVES with the in_progress snapshot", async () => {
    fixture.upstream.enqueue({ kind: "truncate", afterChunks: 5 });
    const stream = await client.responses.create({ model: "gpt-4.1", input: "cut", stream: true });
    const types: string[] = [];
    for await (const e of stream) types.push(e.type);
    expect(types).toHaveLength(5);
    expect(types).not.toContain("response.completed");

    // finalResponse() does not reject on a clean EOF after response events: it returns the partial snapshot.
    fixture.upstream.enqueue({ kind: "truncate", afterChunks: 5 });
    const partial = await client.responses.stream({ model: "gpt-4.1", input: "cut" }).finalResponse();
    expect(partial.status).toBe("in_progress");
    expect(partial.usage).toBeNull();
    expect(partial.output_text).toBe(fakeReply("cut").slice(0, 2)); // first of 5 deltas only
  });

  it("truncate on chat: the stream() helper's finalChatCompletion() rejects (no finish_reason)", async () => {
    fixture.upstream.enqueue({ kind: "truncate", afterChunks: 3 });
    const err = await client.chat.completions
      .stream({ model: "gpt-4o-mini", messages: user("cut") })
      .finalChatCompletion()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
  });

  it("destroy-mid-stream (TCP reset): iteration THROWS TypeError('terminated') after the sent chunks", async () => {
    fixture.upstream.enqueue({ kind: "destroy-mid-stream", afterChunks: 3 });
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: user("boom"), stream: true });
    const got: unknown[] = [];
    const err = await (async () => {
      for await (const c of stream) got.push(c);
    })().catch((e: unknown) => e);
    expect(got).toHaveLength(3);
    // Not wrapped by the SDK: undici's TypeError('terminated') with cause ECONNRESET; not an APIError.
    expect(err).toBeInstanceOf(TypeError);
    expect(err).not.toBeInstanceOf(APIError);
    expect((err as Error).message).toBe("terminated");
    expect(((err as Error).cause as { code?: string } | undefined)?.code).toBe("ECONNRESET");
  });

  it("error-mid-stream: chat `data: {error}` throws a bare APIError with status undefined", async () => {
    fixture.upstream.enqueue({ kind: "error-mid-stream", afterChunks: 2, message: "upstream exploded", type: "server_error" });
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: user("x"), stream: true });
    let n = 0;
    const err = await (async () => {
      for await (const _ of stream) n++;
    })().catch((e: unknown) => e);
    expect(n).toBe(2);
    expect(err).toBeInstanceOf(APIError);
    expect(err).not.toBeInstanceOf(InternalServerError);
    expect((err as APIError).status).toBeUndefined();
    expect((err as APIError).message).toBe("upstream exploded");
    expect((err as APIError).type).toBe("server_error");
    expect(fixture.upstream.lastStreamEvents.at(-1)).toBe(
      'data: {"error":{"message":"upstream exploded","type":"server_error","param":null,"code":null}}\n\n',
    );
  });

  it("error-mid-stream: responses `event: error` throws APIError with the event's message/code", async () => {
    fixture.upstream.enqueue({ kind: "error-mid-stream", afterChunks: 4, message: "overloaded", code: "server_is_overloaded" });
    const stream = await client.responses.create({ model: "gpt-4.1", input: "x", stream: true });
    const err = await (async () => {
      for await (const _ of stream) void _;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBeUndefined();
    expect((err as APIError).message).toBe("overloaded");
    expect((err as APIError).code).toBe("server_is_overloaded");
    expect(fixture.upstream.lastStreamEvents.at(-1)).toMatch(/^event: error\ndata: \{"type":"error","code":"server_is_overloaded",.*"sequence_number":4\}\n\n$/);
  });
});

describe("connection-level behaviours", () => {
  it("hang + client abort: socket closes on the fake side (waitForSocketClose)", async () => {
    fixture.upstream.enqueue({ kind: "hang" });
    const ac = new AbortController();
    const p = client.chat.completions
      .create({ model: "gpt-4o-mini", messages: user("x") }, { signal: ac.signal })
      .catch((e: unknown) => e);
    await expect.poll(() => fixture.upstream.requests.length).toBe(1);
    expect(fixture.upstream.openSockets()).toBeGreaterThanOrEqual(1);
    const closed = fixture.upstream.waitForSocketClose(2_000);
    ac.abort();
    expect(await p).toBeInstanceOf(APIUserAbortError);
    const ms = await closed;
    expect(ms).toBeLessThan(1_000);
  });

  it("breaking out of a stream early closes the upstream socket", async () => {
    fixture.upstream.enqueue({ kind: "stream", chunks: 50, intervalMs: 10 });
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: user("x"), stream: true });
    const closed = fixture.upstream.waitForSocketClose(2_000);
    let n = 0;
    for await (const _ of stream) if (++n === 3) break;
    expect(await closed).toBeLessThan(1_000);
    expect(fixture.upstream.lastStreamWrites.length).toBeLessThan(20);
  });

  it("waitForSocketClose rejects on timeout", async () => {
    await expect(fixture.upstream.waitForSocketClose(20)).rejects.toThrow(/no socket closed/);
  });

  it("close() destroys hanging sockets and resolves", async () => {
    const f = await startFakeOpenAI();
    const c = new OpenAI({ apiKey: "sk-test", baseURL: f.baseUrl, maxRetries: 0 });
    f.enqueue({ kind: "hang" });
    const p = c.models.list().catch((e: unknown) => e);
    await expect.poll(() => f.requests.length).toBe(1);
    const t0 = performance.now();
    await f.close();
    expect(performance.now() - t0).toBeLessThan(500);
    expect(f.openSockets()).toBe(0);
    expect(await p).toBeInstanceOf(APIConnectionError);
  });

  it("reset → APIConnectionError; delay → default answer after the delay", async () => {
    fixture.upstream.enqueue({ kind: "reset" });
    expect(await client.models.list().catch((e: unknown) => e)).toBeInstanceOf(APIConnectionError);

    fixture.upstream.enqueue({ kind: "delay", ms: 60 });
    const t0 = performance.now();
    const r = await client.chat.completions.create({ model: "gpt-4o-mini", messages: user("slow") });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    expect(r.choices[0]?.message.content).toBe(fakeReply("slow"));
  });

  it("stream behaviours only match streaming requests unless `match` says otherwise", async () => {
    fixture.upstream.enqueue({ kind: "truncate", afterChunks: 1 });
    fixture.upstream.enqueue({ kind: "error", status: 500, match: "/v1/embeddings" });
    // non-stream chat request: neither behaviour matches
    expect((await client.chat.completions.create({ model: "gpt-4o-mini", messages: user("x") })).object).toBe(
      "chat.completion",
    );
    expect(fixture.upstream.pending()).toBe(2);
    expect(await client.embeddings.create({ model: "text-embedding-3-small", input: "x" }).catch((e: unknown) => e)).toBeInstanceOf(
      InternalServerError,
    );
    const s = await client.chat.completions.create({ model: "gpt-4o-mini", messages: user("x"), stream: true });
    let n = 0;
    for await (const _ of s) n++;
    expect(n).toBe(1);
  });

  it("keep-alive: sequential requests reuse one socket", async () => {
    const before = fixture.upstream.totalSockets();
    for (let i = 0; i < 5; i++) await client.models.retrieve("gpt-4o");
    expect(fixture.upstream.totalSockets() - before).toBeLessThanOrEqual(1);
  });

  it("compression: gzip option encodes JSON when accepted (fetch decodes transparently)", async () => {
    const f = await startFakeOpenAI({ compression: "gzip" });
    try {
      const rr = await raw("GET", `${f.baseUrl}/models/gpt-4o`, undefined, { "accept-encoding": "gzip" });
      expect(rr.headers["content-encoding"]).toBe("gzip");
      expect(JSON.parse(gunzipSync(rr.body).toString())).toMatchObject({ id: "gpt-4o" });
      const c = new OpenAI({ apiKey: "sk-test", baseURL: f.baseUrl, maxRetries: 0 });
      expect((await c.models.retrieve("gpt-4o")).id).toBe("gpt-4o");
    } finally {
      await f.close();
    }
  });
});

describe("stream framing and waiting on the fake", () => {
  it.each([["\r\n"], ["\r"]] as const)("lineEnd %j frames every event with it, and the SDK reads the same stream", async (lineEnd) => {
    fixture.upstream.enqueue({ kind: "stream", lineEnd, content: ["a", "b"] });
    const stream = await client.chat.completions.create({ model: "gpt-4o", messages: user("x"), stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("ab");
    const events = fixture.upstream.lastStreamEvents;
    expect(events.at(-1)).toBe(`data: [DONE]${lineEnd}${lineEnd}`);
    for (const event of events) expect(event.replaceAll(lineEnd, "")).not.toMatch(/[\r\n]/);
  });

  it("waitForRequests resolves when the request arrives, and rejects when none does", async () => {
    const arrived = fixture.upstream.waitForRequests(1, 2_000);
    await client.models.list();
    expect(await arrived).toHaveLength(1);
    await expect(fixture.upstream.waitForRequests(2, 50)).rejects.toThrow("1 of 2 requests");
  });

  it("lastStreamDone resolves once the stream has stopped writing, as soon as its client has gone", async () => {
    fixture.upstream.enqueue({ kind: "stream", chunks: 10, intervalMs: 200 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: "gpt-4o", messages: user("x"), stream: true }, { signal: controller.signal });
    const started = performance.now();
    await (async () => {
      for await (const _chunk of stream) controller.abort();
    })().catch(() => undefined);
    await fixture.upstream.lastStreamDone;
    // Well before the ~2 s the whole stream takes; the role chunk and at most a delta or two went out.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(fixture.upstream.lastStreamEvents.length).toBeLessThan(4);
  });
});
