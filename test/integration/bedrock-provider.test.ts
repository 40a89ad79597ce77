/**
 * `x-provider: bedrock` end to end: the official openai SDK against the local
 * gateway against a fake Bedrock runtime that checks every SigV4 signature and
 * speaks Converse, ConverseStream's binary event stream and InvokeModel.
 */
import { APIError, BadRequestError, NotFoundError, RateLimitError } from "openai";
import { describe, expect, it } from "vitest";
import { deltasOf, parseSse } from "../support/chunk-events.ts";
import { useTestGateway } from "../support/gateway-fixture.ts";
import { rejectionOf } from "../support/openai-errors.ts";
import { useFakeBedrock, useLocalAwsCredentials } from "../support/translated-fakes.ts";

const GATEWAY_KEY = "gw-bedrock-test-0123456789";
const CLAUDE = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5";
const weather = { type: "function" as const, function: { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } } };

const credentials = useLocalAwsCredentials({ sessionToken: "session-token-example" });
const bedrock = useFakeBedrock({ region: "us-east-1", credentials, apiKey: "ABSKgatewaykey" });
const fixture = useTestGateway(() => ({
  GATEWAY_PROVIDERS: JSON.stringify({ bedrock: { preset: "bedrock", region: "us-east-1", baseUrl: bedrock().baseUrl, models: [CLAUDE, "amazon.titan-embed-text-v2:0"] } }),
  GATEWAY_API_KEYS: GATEWAY_KEY,
  GATEWAY_MAX_RETRIES: "1",
  GATEWAY_RETRY_BASE_DELAY_MS: "1",
}));
const client = () => fixture.gateway.client(GATEWAY_KEY, { "x-provider": "bedrock" });

async function rawStream(body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${fixture.gateway.baseURL}chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${GATEWAY_KEY}`, "x-provider": "bedrock" },
    body: JSON.stringify({ model: CLAUDE, messages: [{ role: "user", content: "Hi" }], stream: true, ...body }),
  });
  return response.text();
}

describe("chat completions through Bedrock Converse", () => {
  it("answers a non-streamed completion over a SigV4-signed Converse call", async () => {
    const { data, response } = await client().chat.completions.create({ model: CLAUDE, messages: [{ role: "user", content: "Hello!" }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe("Echo: Hello!");
    expect(data.usage).toMatchObject({ prompt_tokens: 150, completion_tokens: 20, prompt_tokens_details: { cached_tokens: 100 } });
    const [request] = bedrock().requests;
    expect(request).toMatchObject({ operation: "converse", modelId: CLAUDE, url: "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse" });
    expect(request?.headers["x-amz-security-token"]).toBe("session-token-example");
    expect(response.headers.get("x-request-id")).toBe(data.id.replace("chatcmpl-", ""));
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ provider: "bedrock", model: CLAUDE, status: 200, outcome: "ok" });
  });

  it("streams a tool-calling turn from the binary event stream with dense tool indices and usage recorded", async () => {
    const stream = await client().chat.completions.create({ model: CLAUDE, messages: [{ role: "user", content: "Weather?" }], tools: [weather], stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const deltas = deltasOf(chunks);
    expect(deltas.map((delta) => delta.content ?? "").join("")).toBe("Let me check both cities.");
    const calls = deltas.flatMap((delta) => delta.tool_calls ?? []);
    expect(calls.filter((call) => call.id).map((call) => [call.index, call.id, call.function.name])).toEqual([
      [0, "toolu_01Paris", "weather"],
      [1, "toolu_02Oslo", "weather"],
    ]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("tool_calls");
    expect(chunks.some((chunk) => "usage" in chunk)).toBe(false);
    expect(bedrock().requests[0]?.operation).toBe("converse-stream");
    expect(bedrock().requests[0]?.json).not.toHaveProperty("stream_options");
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.usage).toMatchObject({ promptTokens: 150, completionTokens: 20, cachedPromptTokens: 100 });
  });

  it("sends one usage chunk when asked, then [DONE]", async () => {
    const events = parseSse(await rawStream({ stream_options: { include_usage: true } }));
    expect(events.at(-1)).toBe("[DONE]");
    expect(events.at(-2)).toMatchObject({ choices: [], usage: { prompt_tokens: 150, completion_tokens: 20, total_tokens: 170 } });
  });

  it("calls an application inference profile ARN as one encoded path segment", async () => {
    await client().chat.completions.create({ model: PROFILE_ARN, messages: [{ role: "user", content: "Hi" }] });
    expect(bedrock().requests[0]).toMatchObject({ modelId: PROFILE_ARN, url: `/model/${encodeURIComponent(PROFILE_ARN)}/converse` });
  });

  it("ends the stream with the exception's error event, no [DONE], on an exception frame in mid-stream", async () => {
    bedrock().enqueue({ kind: "exception", after: 3, exception: "throttlingException", message: "Too many tokens, please wait before trying again." });
    const events = parseSse(await rawStream({}));
    expect(events.at(-1)).toEqual({ error: { message: "Too many tokens, please wait before trying again.", type: "rate_limit_error", param: null, code: "rate_limit_exceeded" } });
    expect(events).not.toContain("[DONE]");
    bedrock().enqueue({ kind: "exception", after: 3, exception: "modelStreamErrorException", message: "The model stream broke." });
    const stream = await client().chat.completions.create({ model: CLAUDE, messages: [{ role: "user", content: "Hi" }], stream: true });
    const error = await rejectionOf(
      (async () => {
        for await (const chunk of stream) void chunk;
      })(),
    );
    expect(error).toBeInstanceOf(APIError);
    expect(error.message).toMatch(/The model stream broke/);
  });

  it("ends the stream with an error event on a frame whose CRC does not match", async () => {
    bedrock().enqueue({ kind: "bad-crc", after: 2 });
    const events = parseSse(await rawStream({}));
    expect(events.at(-1)).toMatchObject({ error: { code: "upstream_malformed_stream", message: expect.stringMatching(/checksum/) } });
  });

  it("retries a ThrottlingException and relays it as a RateLimitError when it persists", async () => {
    bedrock().enqueue({ kind: "error", status: 429, exception: "ThrottlingException", message: "Too many requests, please wait before trying again." });
    bedrock().enqueue({ kind: "error", status: 429, exception: "ThrottlingException", message: "Too many requests, please wait before trying again." });
    const error = await rejectionOf(client().chat.completions.create({ model: CLAUDE, messages: [{ role: "user", content: "Hi" }] }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.error).toEqual({ message: "Too many requests, please wait before trying again.", type: "rate_limit_error", param: null, code: "rate_limit_exceeded" });
    expect(bedrock().requests).toHaveLength(2);
  });

  it("relays a ValidationException as a 400 with Bedrock's message", async () => {
    bedrock().enqueue({ kind: "error", status: 400, exception: "ValidationException", message: "The provided model identifier is invalid." });
    const error = await rejectionOf(client().chat.completions.create({ model: "nope", messages: [{ role: "user", content: "Hi" }] }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.error).toMatchObject({ message: "The provided model identifier is invalid.", code: "invalid_request" });
  });

  it("refuses an http(s) image URL with a 400 and never fetches it", async () => {
    const error = await rejectionOf(
      client().chat.completions.create({ model: CLAUDE, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "http://127.0.0.1:1/cat.png" } }] }] }),
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.message).toMatch(/data URLs/);
    expect(bedrock().requests).toHaveLength(0);
  });

  it("answers 400 naming what it serves for an endpoint Bedrock does not have here", async () => {
    const error = await rejectionOf(client().moderations.create({ input: "x" }));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/bedrock does not serve POST \/v1\/moderations; it serves POST \/v1\/chat\/completions, POST \/v1\/embeddings, GET \/v1\/models/);
  });
});

describe("embeddings through Bedrock InvokeModel", () => {
  it("splits a Titan list into one call per text and merges the answers in order, with usage", async () => {
    const answer = await client().embeddings.create({ model: "amazon.titan-embed-text-v2:0", input: ["one", "two words", "three more words"], dimensions: 256 });
    expect(answer.data.map((item) => [item.index, item.embedding.length])).toEqual([
      [0, 256],
      [1, 256],
      [2, 256],
    ]);
    expect(answer.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
    expect(bedrock().requests.map((request) => request.json.inputText).sort()).toEqual(["one", "three more words", "two words"]);
    expect(bedrock().requests.every((request) => request.operation === "invoke" && request.json.dimensions === 256)).toBe(true);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.usage).toMatchObject({ promptTokens: 6 });
  });

  it("embeds a Cohere list in one call, usage from Bedrock's token-count header, base64 when asked", async () => {
    const response = await fetch(`${fixture.gateway.baseURL}embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${GATEWAY_KEY}`, "x-provider": "bedrock" },
      body: JSON.stringify({ model: "cohere.embed-english-v3", input: ["a", "b"], encoding_format: "base64" }),
    });
    const answer = (await response.json()) as { data: { index: number; embedding: string }[]; usage: unknown };
    expect(answer.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    expect(answer.data.map((item) => Buffer.from(item.embedding, "base64").byteLength)).toEqual([4096, 4096]);
    expect(bedrock().requests).toHaveLength(1);
  });
});

describe("models through Bedrock", () => {
  it("lists the configured models and inference profiles without calling Bedrock", async () => {
    const models = [];
    for await (const model of client().models.list()) models.push(model.id);
    expect(models).toEqual([CLAUDE, "amazon.titan-embed-text-v2:0"]);
    expect((await client().models.retrieve(CLAUDE)).id).toBe(CLAUDE);
    expect(await rejectionOf(client().models.retrieve("amazon.nova-pro-v1:0"))).toBeInstanceOf(NotFoundError);
    expect(bedrock().requests).toHaveLength(0);
  });
});

describe("Bedrock with an API key", () => {
  const withKey = useTestGateway(() => ({
    GATEWAY_PROVIDERS: JSON.stringify({ bedrock: { preset: "bedrock", region: "us-east-1", baseUrl: bedrock().baseUrl, apiKey: "ABSKgatewaykey" } }),
    GATEWAY_API_KEYS: GATEWAY_KEY,
  }));

  it("sends the key as a bearer token instead of a signature", async () => {
    const completion = await withKey.gateway.client(GATEWAY_KEY, { "x-provider": "bedrock" }).chat.completions.create({ model: CLAUDE, messages: [{ role: "user", content: "key" }] });
    expect(completion.choices[0]?.message.content).toBe("Echo: key");
    expect(bedrock().requests[0]?.headers.authorization).toBe("Bearer ABSKgatewaykey");
    expect(bedrock().requests[0]?.headers["x-amz-date"]).toBeUndefined();
  });
});
