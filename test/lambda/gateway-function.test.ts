import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { parseEmfLines } from "../support/emf.ts";
import { isTextContentType } from "../support/lambda/function-url.ts";
import { useGatewayFunctionWithSecret } from "../support/lambda-fixture.ts";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gateway-AbCdEf";
const GATEWAY_KEY = "gw-team-a-0123456789abcdef";
const secretWith = (apiKey: string) =>
  JSON.stringify({ openai: { apiKey }, gatewayKeys: [{ id: "team-a", key: GATEWAY_KEY }], allowPassthrough: false });

/** Polls for up to a second until `find` returns something. */
async function eventually<T>(find: () => T | undefined): Promise<T | undefined> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return undefined;
}

const fixture = useGatewayFunctionWithSecret({
  secretId: SECRET_ARN,
  secret: secretWith("sk-provider-1"),
  upstream: { requireAuth: "Bearer sk-provider-1" },
  env: { AWS_SESSION_TOKEN: "session-token-example" },
  apiKey: GATEWAY_KEY,
  headers: { "x-provider": "openai" },
});

describe("the Lambda bundle under aws-lambda-ric behind a Function URL", () => {
  it("answers a non-streamed chat completion with the provider's headers", async () => {
    const { data, response } = await fixture.client.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "Hello!" }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe("Echo: Hello!");
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    expect(response.headers.get("x-gateway-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(fixture.upstream.requests[0]?.headers.authorization).toBe("Bearer sk-provider-1");
  });

  it("streams chat completion chunks as the provider sends them", async () => {
    fixture.upstream.enqueue({ kind: "stream", chunks: 10, intervalMs: 50 });
    const stream = await fixture.client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "count" }],
      stream: true,
    });
    const arrivals: number[] = [];
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) arrivals.push(performance.now());
    }
    expect(arrivals).toHaveLength(10);
    const lastWrite = fixture.upstream.lastStreamWrites.at(-1) ?? 0;
    // The first chunk is in the client's hands while the provider still has ~450 ms of chunks to send.
    expect(lastWrite - (arrivals[0] ?? Infinity)).toBeGreaterThan(300);
  });

  it("publishes a stream's tokens and latencies as EMF when the stream ends, in the same invocation", async () => {
    fixture.upstream.enqueue({ kind: "stream", chunks: 5, intervalMs: 20 });
    const { data: stream, response } = await fixture.client.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "metrics" }], stream: true })
      .withResponse();
    for await (const _chunk of stream) {
      // drain
    }
    const requestId = response.headers.get("x-gateway-request-id");
    // The line is written before the invocation's response ends; reading the function's stdout pipe may lag a little.
    const document = await eventually(() => parseEmfLines(fixture.lambda.logs).find((candidate) => candidate.gateway_request_id === requestId));
    expect(document, fixture.lambda.logs.slice(-5).join("\n")).toBeDefined();
    expect(document).toMatchObject({ provider: "openai", model: "gpt-4o", endpoint: "chat", Requests: 1, ServerErrors: 0 });
    expect(document?.TotalTokens).toBeGreaterThan(0);
    expect(document?.CompletionTokens).toBeGreaterThan(0);
    expect(document?.TimeToFirstByte).toBeGreaterThan(0);
    expect(document?.Latency).toBeGreaterThanOrEqual(document?.TimeToFirstByte as number);
    expect(document?.Latency).toBeGreaterThan(80); // five chunks 20 ms apart
    expect(document?.EstimatedCostUSD).toBeGreaterThan(0);
    expect(document?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service"], ["service", "provider", "model", "endpoint"]]);
    const log = await eventually(() => fixture.lambda.logs.map((line) => line.trim()).find((line) => line.startsWith("{") && line.includes(`"gateway_request_id":"${requestId}"`) && line.includes('"message":"request"')));
    expect(JSON.parse(log ?? "{}")).toMatchObject({
      level: "INFO",
      provider: "openai",
      model: "gpt-4o",
      status: 200,
      stream: true,
      outcome: "ok",
      key_id: "team-a",
      // Logged within the invocation that served the request.
      function_request_id: response.headers.get("x-amzn-requestid"),
    });
  });

  it("relays embeddings and models", async () => {
    const embeddings = await fixture.client.embeddings.create({ model: "text-embedding-3-small", input: ["a", "b"] });
    expect(embeddings.data).toHaveLength(2);
    expect(embeddings.data[0]?.embedding.length).toBeGreaterThan(0);
    const models = await fixture.client.models.list();
    expect(models.data.length).toBeGreaterThan(0);
    const model = await fixture.client.models.retrieve("gpt-4o");
    expect(model.id).toBe("gpt-4o");
  });

  it("relays a provider error as the SDK's error class with the provider's message", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 429, type: "requests", code: "rate_limit_exceeded", message: "Slow down" });
    const error = await fixture.client.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] }, { headers: { "x-gateway-max-retries": "0" } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).message).toContain("Slow down");
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers?.get("retry-after")).toBeTruthy();
  });

  it("refuses a wrong gateway key with 401 and never calls the provider", async () => {
    const stranger = new OpenAI({ apiKey: "gw-wrong-key-000000000", baseURL: `${fixture.lambda.url}/v1/`, maxRetries: 0 });
    const error = await stranger.models.list().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe("invalid_api_key");
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("answers errors before the first byte as OpenAI JSON, not a runtime error", async () => {
    const response = await fetch(`${fixture.lambda.url}/v1/unknown`, { headers: { authorization: `Bearer ${GATEWAY_KEY}` } });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "not_found", param: null });
  });

  it("delivers status and headers of an empty body", async () => {
    fixture.upstream.enqueue({ kind: "raw", status: 202, headers: { "x-request-id": "req_empty", "openai-version": "2020-10-01" }, body: "" });
    const response = await fetch(`${fixture.lambda.url}/v1/models`, { headers: { authorization: `Bearer ${GATEWAY_KEY}` } });
    expect(response.status).toBe(202);
    expect(response.headers.get("x-request-id")).toBe("req_empty");
    expect(await response.text()).toBe("");
  });

  it("decodes a base64-encoded request body", async () => {
    // Function URLs base64-encode a body whose content type is not text-like, and one with no content
    // type at all (fetch sets none for bytes); the gateway takes a body without a content type as JSON.
    expect(isTextContentType(undefined)).toBe(false);
    const body = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "binary-ish é" }] });
    const response = await fetch(`${fixture.lambda.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${GATEWAY_KEY}`, "x-provider": "openai" },
      body: Buffer.from(body),
    });
    expect(await response.text()).toContain("Echo: binary-ish é");
    expect(response.status).toBe(200);
    expect(fixture.upstream.requests[0]?.body.toString()).toBe(body);
  });

  it("never writes a key, an Authorization value, a prompt or a completion to its logs", async () => {
    const prompt = "PROMPT-MARKER-7f3a secret plans";
    await fixture.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: prompt }] });
    const stream = await fixture.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: prompt }], stream: true });
    for await (const _chunk of stream) {
      // drain
    }
    await fixture.client.embeddings.create({ model: "text-embedding-3-small", input: prompt });
    const stranger = new OpenAI({ apiKey: "gw-WRONG-MARKER-5e1d", baseURL: `${fixture.lambda.url}/v1/`, maxRetries: 0 });
    await stranger.models.list().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the last log lines arrive
    const logs = fixture.lambda.logs.join("\n");
    expect(logs).toContain('"message":"request"');
    for (const secret of [GATEWAY_KEY, "sk-provider-1", "gw-WRONG-MARKER-5e1d", "PROMPT-MARKER-7f3a", "Bearer "]) {
      expect(logs).not.toContain(secret);
    }
  });
});
