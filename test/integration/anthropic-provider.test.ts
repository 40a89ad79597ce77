/**
 * `x-provider: anthropic` end to end: the official openai SDK against the
 * local gateway against a fake Anthropic API speaking the Messages wire.
 */
import { APIError, BadRequestError, InternalServerError, RateLimitError } from "openai";
import { describe, expect, it } from "vitest";
import { deltasOf, parseSse } from "../support/chunk-events.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { useStarted, useTestGateway } from "../support/gateway-fixture.ts";
import { rejectionOf } from "../support/openai-errors.ts";

const GATEWAY_KEY = "gw-anthropic-test-0123456789";
const PROVIDER_KEY = "sk-ant-gateway-key";
const weather = { type: "function" as const, function: { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } } };

const anthropic = useStarted(() => startFakeAnthropic({ apiKey: PROVIDER_KEY }), { what: "the fake Anthropic API", reset: (fake) => fake.reset() });
const fixture = useTestGateway(() => ({
  GATEWAY_PROVIDERS: JSON.stringify({ anthropic: { preset: "anthropic", baseUrl: anthropic().baseUrl, apiKey: PROVIDER_KEY } }),
  GATEWAY_API_KEYS: GATEWAY_KEY,
  GATEWAY_MAX_RETRIES: "1",
  GATEWAY_RETRY_BASE_DELAY_MS: "1",
}));
const client = () => fixture.gateway.client(GATEWAY_KEY, { "x-provider": "anthropic" });

/** A raw streamed request, for what the SDK hides. */
async function rawStream(body: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const response = await fetch(`${fixture.gateway.baseURL}chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${GATEWAY_KEY}`, "x-provider": "anthropic" },
    body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }], stream: true, ...body }),
  });
  return { status: response.status, text: await response.text() };
}

describe("chat completions through Anthropic", () => {
  it("answers a non-streamed completion with usage, the provider's request id, and Anthropic's auth headers", async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: "claude-sonnet-4-5", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello!" }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe("Echo: Hello!");
    expect(data.usage).toMatchObject({ prompt_tokens: 150, completion_tokens: 20, total_tokens: 170, prompt_tokens_details: { cached_tokens: 100 } });
    expect(response.headers.get("x-request-id")).toBe("req_011CFake");
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("3999");
    const [request] = anthropic().requests;
    expect(request?.headers).toMatchObject({ "x-api-key": PROVIDER_KEY, "anthropic-version": "2023-06-01" });
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.json).toMatchObject({ model: "claude-sonnet-4-5", max_tokens: 4096, system: [{ type: "text", text: "Be brief." }] });
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ provider: "anthropic", model: "claude-sonnet-4-5", status: 200, outcome: "ok" });
    expect(summary?.usage).toMatchObject({ promptTokens: 150, completionTokens: 20, cachedPromptTokens: 100 });
  });

  it("streams a tool-calling turn: role first, dense tool indices, arguments in pieces, no usage chunk unasked, yet usage recorded", async () => {
    const stream = await client().chat.completions.create({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Weather?" }], tools: [weather], stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    expect(chunks.every((chunk) => chunk.choices.length === 1 && !("usage" in chunk))).toBe(true);
    const deltas = deltasOf(chunks);
    expect(deltas.map((delta) => delta.content ?? "").join("")).toBe("Let me check both cities.");
    const calls = deltas.flatMap((delta) => delta.tool_calls ?? []);
    expect(calls.filter((call) => call.id).map((call) => [call.index, call.id])).toEqual([
      [0, "toolu_01Paris"],
      [1, "toolu_02Oslo"],
    ]);
    expect(calls.filter((call) => call.index === 1).map((call) => call.function.arguments).join("")).toBe('{"city":"Oslo"}');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("tool_calls");
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ stream: true, outcome: "ok" });
    expect(summary?.usage).toMatchObject({ promptTokens: 150, completionTokens: 20 });
  });

  it("sends the usage chunk (choices: []) when the client asks for it, then [DONE]", async () => {
    const { text } = await rawStream({ stream_options: { include_usage: true } });
    const events = parseSse(text);
    expect(events.at(-1)).toBe("[DONE]");
    expect(events.at(-2)).toMatchObject({ choices: [], usage: { prompt_tokens: 150, completion_tokens: 20, total_tokens: 170 } });
    expect(events.filter((event) => event !== "[DONE]" && event.usage)).toHaveLength(1);
  });

  it("ends the stream with an error event and no [DONE] on an error event in mid-stream, which the SDK raises", async () => {
    anthropic().enqueue({ kind: "stream-error", after: 4, type: "overloaded_error", message: "Overloaded" });
    const { text } = await rawStream({});
    expect(parseSse(text).at(-1)).toEqual({ error: { message: "Overloaded", type: "server_error", param: null, code: "overloaded" } });
    expect(text).not.toContain("[DONE]");
    anthropic().enqueue({ kind: "stream-error", after: 4, type: "overloaded_error", message: "Overloaded" });
    const stream = await client().chat.completions.create({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }], stream: true });
    const error = await rejectionOf(
      (async () => {
        for await (const chunk of stream) void chunk;
      })(),
    );
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toMatch(/Overloaded/);
    const summaries = await fixture.gateway.waitForSummaries(2);
    expect(summaries[0]?.outcome).toBe("upstream_failure");
  });

  it("stops reading Anthropic's stream when the client goes away", async () => {
    anthropic().enqueue({ kind: "answer", answer: { blocks: [{ type: "text", text: "a long answer ".repeat(20) }], stopReason: "end_turn" }, intervalMs: 100 });
    const controller = new AbortController();
    const stream = await client().chat.completions.create({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }], stream: true }, { signal: controller.signal });
    const started = performance.now();
    await rejectionOf(
      (async () => {
        for await (const chunk of stream) if (chunk.choices[0]?.delta.content) controller.abort();
      })(),
    ).catch(() => undefined);
    // The provider would write for about 5 s more; its connection closes as soon as the client leaves.
    expect(await anthropic().lastStreamClosed()).toBe(false);
    expect(performance.now() - started).toBeLessThan(3_000);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.outcome).toBe("client_aborted");
  });

  it("reports the model's thinking as reasoning_content, with reasoning_effort as a thinking budget", async () => {
    const { text } = await rawStream({ reasoning_effort: "low" });
    const deltas = deltasOf(parseSse(text));
    expect(deltas.map((delta) => delta.reasoning_content ?? "").join("")).toBe("Thinking it through.");
    expect(anthropic().requests[0]?.json).toMatchObject({ thinking: { type: "enabled", budget_tokens: 2048 }, max_tokens: 2048 + 4096 });
  });

  it("ends the stream with an error event when Anthropic's stream stops before message_stop", async () => {
    anthropic().enqueue({ kind: "cut", after: 5 });
    const { text } = await rawStream({});
    expect(parseSse(text).at(-1)).toMatchObject({ error: { code: "upstream_stream_truncated" } });
  });
});

describe("Anthropic's errors in OpenAI's shape", () => {
  it("relays a 429 with its retry-after (too long to wait for) as a RateLimitError", async () => {
    anthropic().enqueue({ kind: "error", status: 429, type: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit", headers: { "retry-after": "30" } });
    const error = await rejectionOf(client().chat.completions.create({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }] }));
    expect(error).toBeInstanceOf(RateLimitError);
    const rateLimited = error as RateLimitError;
    expect(rateLimited.headers?.get("retry-after")).toBe("30");
    expect(rateLimited.error).toEqual({ message: "Number of request tokens has exceeded your per-minute rate limit", type: "rate_limit_error", param: null, code: "rate_limit_exceeded" });
    expect(anthropic().requests).toHaveLength(1);
  });

  it("retries a 529 overloaded_error, and answers 503 in OpenAI's shape when it persists", async () => {
    anthropic().enqueue({ kind: "error", status: 529, type: "overloaded_error", message: "Overloaded" });
    const recovered = await client().chat.completions.create({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "again" }] });
    expect(recovered.choices[0]?.message.content).toBe("Echo: again");
    expect(anthropic().requests).toHaveLength(2);
    anthropic().reset();
    anthropic().enqueue({ kind: "error", status: 529, type: "overloaded_error", message: "Overloaded" });
    anthropic().enqueue({ kind: "error", status: 529, type: "overloaded_error", message: "Overloaded" });
    const error = await rejectionOf(client().chat.completions.create({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }] }));
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as InternalServerError).status).toBe(503);
    expect((error as InternalServerError).error).toMatchObject({ message: "Overloaded", code: "overloaded" });
  });

  it("relays a 400 with Anthropic's own message", async () => {
    anthropic().enqueue({ kind: "error", status: 400, type: "invalid_request_error", message: "prompt is too long: 210000 tokens > 200000 maximum" });
    const error = await rejectionOf(client().chat.completions.create({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }] }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).error).toMatchObject({ message: "prompt is too long: 210000 tokens > 200000 maximum", type: "invalid_request_error" });
  });

  it("refuses what Messages cannot take with a 400 before calling Anthropic", async () => {
    const error = await rejectionOf(client().chat.completions.create({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }], n: 2 }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).error).toMatchObject({ param: "n", code: "unsupported_parameter" });
    expect(anthropic().requests).toHaveLength(0);
  });

  it("answers 400 naming what it serves for an endpoint Anthropic does not have", async () => {
    const error = await rejectionOf(client().embeddings.create({ model: "claude-sonnet-4-5", input: "x" }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).message).toMatch(
      /anthropic does not serve POST \/v1\/embeddings; it serves POST \/v1\/chat\/completions, GET \/v1\/models, GET \/v1\/models\/\{model\}/,
    );
    expect(anthropic().requests).toHaveLength(0);
  });
});

describe("models through Anthropic", () => {
  it("lists Anthropic's models in OpenAI's shape", async () => {
    const models = [];
    for await (const model of client().models.list()) models.push(model);
    expect(models).toEqual([
      { id: "claude-sonnet-4-5-20250929", object: "model", created: 1759104000, owned_by: "anthropic" },
      { id: "claude-haiku-4-5-20251001", object: "model", created: 1759104000, owned_by: "anthropic" },
    ]);
    expect(anthropic().requests[0]?.url).toBe("/v1/models?limit=1000");
    expect(await client().models.retrieve("claude-haiku-4-5-20251001")).toMatchObject({ id: "claude-haiku-4-5-20251001", owned_by: "anthropic" });
  });
});

describe("passthrough to Anthropic", () => {
  const passthrough = useTestGateway(() => ({ GATEWAY_PROVIDERS: JSON.stringify({ anthropic: { preset: "anthropic", baseUrl: anthropic().baseUrl } }) }));

  it("sends the caller's own bearer key as x-api-key", async () => {
    const own = passthrough.gateway.client(PROVIDER_KEY, { "x-provider": "anthropic" });
    const completion = await own.chat.completions.create({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "mine" }] });
    expect(completion.choices[0]?.message.content).toBe("Echo: mine");
    expect(anthropic().requests[0]?.headers["x-api-key"]).toBe(PROVIDER_KEY);
  });
});

describe("time bounds on a translated stream", () => {
  const stalled = useTestGateway(() => ({
    GATEWAY_PROVIDERS: JSON.stringify({ anthropic: { preset: "anthropic", baseUrl: anthropic().baseUrl, apiKey: PROVIDER_KEY } }),
    GATEWAY_API_KEYS: GATEWAY_KEY, GATEWAY_IDLE_TIMEOUT_MS: "300" }));

  it("ends a stalled stream with the gateway's timeout event and closes Anthropic's connection", async () => {
    anthropic().enqueue({ kind: "answer", answer: { blocks: [{ type: "text", text: "slow words here" }], stopReason: "end_turn" }, intervalMs: 1_000 });
    const response = await fetch(`${stalled.gateway.baseURL}chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${GATEWAY_KEY}`, "x-provider": "anthropic" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }], stream: true }),
    });
    const events = parseSse(await response.text());
    expect(events.at(-1)).toMatchObject({ error: { code: "upstream_timeout" } });
    expect(await anthropic().lastStreamClosed()).toBe(false);
  });
});
