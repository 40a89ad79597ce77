/**
 * Every endpoint the gateway forwards, called with the openai SDK through the
 * gateway to the fake OpenAI upstream.
 */
import OpenAI, { NotFoundError } from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_MODELS } from "../support/fake-openai.ts";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";

const FINE_TUNED = "ft:gpt-4o-mini:acme:custom:abc123";

const fixture = useFakeUpstreamAndGateway({ upstream: { requireAuth: "Bearer sk-caller", models: [...DEFAULT_MODELS, FINE_TUNED] } });
afterEach(() => {
  expect(fixture.upstream.pending()).toBe(0);
});

/** The one request the upstream saw. */
function upstreamRequest() {
  expect(fixture.upstream.requests).toHaveLength(1);
  const [request] = fixture.upstream.requests;
  if (request === undefined) throw new Error("no upstream request");
  return request;
}

async function onlySummary() {
  const summaries = await fixture.gateway.waitForSummaries(1);
  expect(summaries).toHaveLength(1);
  return summaries[0];
}

describe("POST /v1/completions", () => {
  it("returns a non-streamed completion and records its usage", async () => {
    const completion = await fixture.client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Say hi", max_tokens: 50 });
    expect(completion.object).toBe("text_completion");
    expect(completion.choices[0]?.text).toBe("Echo: Say hi");
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);

    const request = upstreamRequest();
    expect(request.method).toBe("POST");
    expect(request.url).toBe("/v1/completions");
    expect(request.json).toEqual({ model: "gpt-3.5-turbo-instruct", prompt: "Say hi", max_tokens: 50 });
    expect(request.headers.authorization).toBe("Bearer sk-caller");

    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "completions", model: "gpt-3.5-turbo-instruct", stream: false, status: 200, outcome: "ok" });
    expect(summary?.usage).toMatchObject({
      promptTokens: completion.usage?.prompt_tokens,
      completionTokens: completion.usage?.completion_tokens,
      totalTokens: completion.usage?.total_tokens,
    });
  });

  it("streams a completion with the include_usage chunk", async () => {
    const stream = await fixture.client.completions.create({
      model: "gpt-3.5-turbo-instruct",
      prompt: "Stream me",
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.text ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Echo: Stream me");
    expect(chunks).toBeGreaterThan(2);
    expect(usage?.total_tokens).toBeGreaterThan(0);

    const request = upstreamRequest();
    expect(request.method).toBe("POST");
    expect(request.url).toBe("/v1/completions");
    expect(request.json).toMatchObject({ stream: true, stream_options: { include_usage: true } });

    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "completions", stream: true, status: 200, outcome: "ok" });
    expect(summary?.usage?.totalTokens).toBe(usage?.total_tokens);
  });
});

describe("POST /v1/responses", () => {
  it("returns a non-streamed response with output_text and usage", async () => {
    const response = await fixture.client.responses.create({ model: "gpt-4.1", input: "Hello there", instructions: "Be brief." });
    expect(response.object).toBe("response");
    expect(response.status).toBe("completed");
    expect(response.output_text).toBe("Echo: Hello there");
    expect(response.usage?.input_tokens).toBeGreaterThan(0);

    const request = upstreamRequest();
    expect(request.method).toBe("POST");
    expect(request.url).toBe("/v1/responses");
    expect(request.json).toEqual({ model: "gpt-4.1", input: "Hello there", instructions: "Be brief." });

    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "responses", model: "gpt-4.1", stream: false, status: 200, outcome: "ok" });
    expect(summary?.usage).toMatchObject({
      promptTokens: response.usage?.input_tokens,
      completionTokens: response.usage?.output_tokens,
      totalTokens: response.usage?.total_tokens,
    });
  });

  it("streams response events with for await, ending with response.completed", async () => {
    const stream = await fixture.client.responses.create({ model: "gpt-4.1", input: "Stream a response", stream: true });
    const types: string[] = [];
    let text = "";
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") completed = event.response;
    }
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(types).toContain("response.output_text.delta");
    expect(text).toBe("Echo: Stream a response");
    expect(completed?.output_text ?? text).toBe("Echo: Stream a response");
    expect(completed?.usage?.total_tokens).toBeGreaterThan(0);

    const request = upstreamRequest();
    expect(request.method).toBe("POST");
    expect(request.url).toBe("/v1/responses");
    expect(request.json).toMatchObject({ stream: true });

    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "responses", stream: true, status: 200, outcome: "ok" });
    expect(summary?.usage).toMatchObject({
      promptTokens: completed?.usage?.input_tokens,
      completionTokens: completed?.usage?.output_tokens,
      totalTokens: completed?.usage?.total_tokens,
    });
  });
});

describe("POST /v1/embeddings", () => {
  it("decodes the SDK's default base64 encoding into the same floats as encoding_format float", async () => {
    const base64 = await fixture.client.embeddings.create({ model: "text-embedding-3-small", input: "embed me" });
    expect(upstreamRequest().json).toEqual({ model: "text-embedding-3-small", input: "embed me", encoding_format: "base64" });
    expect(upstreamRequest().url).toBe("/v1/embeddings");
    fixture.upstream.reset();

    const float = await fixture.client.embeddings.create({ model: "text-embedding-3-small", input: "embed me", encoding_format: "float" });
    expect(upstreamRequest().json).toMatchObject({ encoding_format: "float" });

    const decoded = base64.data[0]?.embedding;
    const floats = float.data[0]?.embedding;
    expect(decoded).toHaveLength(1536);
    expect(decoded?.every((value) => typeof value === "number" && Number.isFinite(value))).toBe(true);
    expect(decoded).toEqual(floats);
    expect(base64.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it("embeds a list of inputs and records the prompt tokens", async () => {
    const result = await fixture.client.embeddings.create({ model: "text-embedding-3-large", input: ["one", "two", "three"], dimensions: 8 });
    expect(result.data.map((item) => item.index)).toEqual([0, 1, 2]);
    expect(result.data.every((item) => item.embedding.length === 8)).toBe(true);
    const request = upstreamRequest();
    expect(request.method).toBe("POST");
    expect(request.url).toBe("/v1/embeddings");

    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "embeddings", model: "text-embedding-3-large", status: 200, outcome: "ok" });
    expect(summary?.usage).toMatchObject({
      promptTokens: result.usage.prompt_tokens,
      completionTokens: 0,
      totalTokens: result.usage.total_tokens,
    });
  });
});

describe("POST /v1/moderations", () => {
  it("returns the moderation results", async () => {
    const result = await fixture.client.moderations.create({ model: "omni-moderation-latest", input: ["I will attack the castle", "hello"] });
    expect(result.results).toHaveLength(2);
    expect(result.results[0]?.flagged).toBe(true);
    expect(result.results[0]?.categories.violence).toBe(true);
    expect(result.results[1]?.flagged).toBe(false);

    const request = upstreamRequest();
    expect(request.method).toBe("POST");
    expect(request.url).toBe("/v1/moderations");
    expect(request.json).toEqual({ model: "omni-moderation-latest", input: ["I will attack the castle", "hello"] });

    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "moderations", model: "omni-moderation-latest", status: 200, outcome: "ok" });
    expect(summary?.usage).toBeUndefined();
  });
});

describe("GET /v1/models", () => {
  it("lists the models", async () => {
    const page = await fixture.client.models.list();
    const ids = page.data.map((model) => model.id);
    expect(ids).toContain("gpt-4o");
    expect(ids).toContain(FINE_TUNED);
    expect(page.data.every((model) => model.object === "model")).toBe(true);

    const request = upstreamRequest();
    expect(request.method).toBe("GET");
    expect(request.url).toBe("/v1/models");
    expect(request.body.byteLength).toBe(0);
    expect(request.headers["content-length"]).toBeUndefined();

    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "models.list", method: "GET", model: undefined, status: 200, outcome: "ok" });
    expect(summary?.usage).toBeUndefined();
  });
});

describe("GET /v1/models/{id}", () => {
  it("retrieves one model", async () => {
    const model = await fixture.client.models.retrieve("gpt-4o");
    expect(model).toMatchObject({ id: "gpt-4o", object: "model", owned_by: "system" });

    const request = upstreamRequest();
    expect(request.method).toBe("GET");
    expect(request.url).toBe("/v1/models/gpt-4o");

    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "models.retrieve", model: "gpt-4o", status: 200, outcome: "ok" });
  });

  it("retrieves a fine-tuned model with colons in its id", async () => {
    const model = await fixture.client.models.retrieve(FINE_TUNED);
    expect(model.id).toBe(FINE_TUNED);
    expect(upstreamRequest().url).toBe(`/v1/models/${FINE_TUNED}`);
    expect(await onlySummary()).toMatchObject({ endpoint: "models.retrieve", model: FINE_TUNED });
  });

  it("forwards a percent-encoded id as sent and logs it decoded", async () => {
    // The SDK leaves ':' alone; other clients encode it, which only raw fetch can show.
    const response = await fetch(`${fixture.gateway.baseURL}models/${encodeURIComponent(FINE_TUNED)}`, {
      headers: { authorization: "Bearer sk-caller" },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { id: string }).id).toBe(FINE_TUNED);
    expect(upstreamRequest().url).toBe(`/v1/models/${encodeURIComponent(FINE_TUNED)}`);
    expect(await onlySummary()).toMatchObject({ endpoint: "models.retrieve", model: FINE_TUNED });
  });

  it("raises the provider's 404 for an unknown id as NotFoundError", async () => {
    const error = await fixture.client.models.retrieve("no-such-model").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotFoundError);
    const notFound = error as NotFoundError;
    expect(notFound.status).toBe(404);
    expect(notFound.code).toBe("model_not_found");
    expect(notFound.message).toContain("The model `no-such-model` does not exist");
    expect(notFound.headers.get("x-gateway-request-id")).toMatch(/^[0-9a-f-]{36}$/);

    expect(upstreamRequest().url).toBe("/v1/models/no-such-model");
    expect(await onlySummary()).toMatchObject({
      endpoint: "models.retrieve",
      model: "no-such-model",
      status: 404,
      outcome: "provider_error",
    });
  });
});
