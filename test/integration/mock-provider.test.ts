/**
 * The in-process `mock` provider (`x-provider: mock`): OpenAI-shaped,
 * deterministic answers with no provider key and no network.
 */
import OpenAI, { AuthenticationError, BadRequestError, NotFoundError } from "openai";
import { describe, expect, it } from "vitest";
import { MOCK_MODELS } from "../../functions/shared/providers/mock.ts";
import { closedPortUrl, useTestGateway } from "../support/gateway-fixture.ts";
import { startTestGateway } from "../support/local-gateway.ts";

const PROMPT = "Hello mock";
const REPLY = `This is a mock response to: ${PROMPT}`;
const REPLY_WORDS = REPLY.split(/(?=\s)/);

// OPENAI_BASE_URL is a port nothing listens on: any request that reached "openai" would fail loudly.
// Passthrough mode: the SDK sends "Bearer unused", which the mock ignores.
const fixture = useTestGateway(async () => ({ OPENAI_BASE_URL: await closedPortUrl(), GATEWAY_MOCK_PROVIDER: "true", GATEWAY_MOCK_CHUNK_DELAY_MS: "1" }), {
  apiKey: "unused",
  headers: { "x-provider": "mock" },
});

const messages = [
  { role: "system" as const, content: "You are a test." },
  { role: "user" as const, content: PROMPT },
];

describe("chat completions from the mock", () => {
  it("answers a non-streamed request with usage", async () => {
    const { data, response } = await fixture.client.chat.completions.create({ model: "mock-gpt-4o", messages }).withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.model).toBe("mock-gpt-4o");
    expect(data.choices[0]?.message).toMatchObject({ role: "assistant", content: REPLY });
    expect(data.choices[0]?.finish_reason).toBe("stop");
    expect(data.usage).toMatchObject({
      prompt_tokens: Math.ceil(PROMPT.length / 4),
      completion_tokens: REPLY_WORDS.length,
      total_tokens: Math.ceil(PROMPT.length / 4) + REPLY_WORDS.length,
    });
    expect(response.headers.get("x-request-id")).toMatch(/^req_mock_/);
    expect(response.headers.get("x-gateway-request-id")).toMatch(/^[0-9a-f-]{36}$/);

    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ provider: "mock", endpoint: "chat.completions", model: "mock-gpt-4o", status: 200, outcome: "ok" });
    expect(summary?.usage).toMatchObject({
      promptTokens: data.usage?.prompt_tokens,
      completionTokens: data.usage?.completion_tokens,
      totalTokens: data.usage?.total_tokens,
    });
  });

  it("streams word by word without a usage chunk when not asked for one", async () => {
    const stream = await fixture.client.chat.completions.create({ model: "mock-gpt-4o", messages, stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe(REPLY);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
    expect(chunks).toHaveLength(REPLY_WORDS.length + 2);
    for (const chunk of chunks) {
      expect(chunk.object).toBe("chat.completion.chunk");
      expect(chunk.usage).toBeUndefined();
      expect(chunk.choices).toHaveLength(1);
    }
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ provider: "mock", stream: true, status: 200, outcome: "ok" });
  });

  it("streams a final usage chunk when stream_options.include_usage is set", async () => {
    const stream = await fixture.client.chat.completions.create({
      model: "mock-gpt-4o",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ completion_tokens: REPLY_WORDS.length, prompt_tokens: Math.ceil(PROMPT.length / 4) });
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
    expect(chunks.filter((chunk) => chunk.usage)).toHaveLength(1);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe(REPLY);

    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.usage).toMatchObject({ completionTokens: REPLY_WORDS.length, totalTokens: last?.usage?.total_tokens });
  });

  it("gives identical answers to identical requests", async () => {
    const first = await fixture.client.chat.completions.create({ model: "mock-gpt-4o", messages });
    const second = await fixture.client.chat.completions.create({ model: "mock-gpt-4o", messages });
    expect(second.id).toBe(first.id);
    expect(second.choices).toEqual(first.choices);
    expect(second.usage).toEqual(first.usage);
    expect(second).toEqual(first);
    const other = await fixture.client.chat.completions.create({ model: "mock-gpt-4o", messages: [{ role: "user", content: "Something else" }] });
    expect(other.id).not.toBe(first.id);
    expect(other.choices[0]?.message.content).toBe("This is a mock response to: Something else");
  });

  it("answers any model name", async () => {
    const completion = await fixture.client.chat.completions.create({ model: "gpt-4o", messages });
    expect(completion.model).toBe("gpt-4o");
  });
});

describe("completions from the mock", () => {
  it("answers a non-streamed completion with usage", async () => {
    const completion = await fixture.client.completions.create({ model: "mock-gpt-4o", prompt: PROMPT });
    expect(completion.object).toBe("text_completion");
    expect(completion.choices[0]?.text).toBe(REPLY);
    expect(completion.usage?.completion_tokens).toBe(REPLY_WORDS.length);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ endpoint: "completions", provider: "mock" });
    expect(summary?.usage?.totalTokens).toBe(completion.usage?.total_tokens);
  });

  it("streams a completion, with usage only when asked", async () => {
    let text = "";
    let usageChunks = 0;
    for await (const chunk of await fixture.client.completions.create({ model: "mock-gpt-4o", prompt: PROMPT, stream: true })) {
      text += chunk.choices[0]?.text ?? "";
      if (chunk.usage) usageChunks += 1;
    }
    expect(text).toBe(REPLY);
    expect(usageChunks).toBe(0);

    const withUsage = await fixture.client.completions.create({
      model: "mock-gpt-4o",
      prompt: PROMPT,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of withUsage) if (chunk.usage) usage = chunk.usage;
    expect(usage?.completion_tokens).toBe(REPLY_WORDS.length);
  });
});

describe("embeddings from the mock", () => {
  it("the SDK's default base64 decodes to numbers, equal to the float format", async () => {
    const decoded = await fixture.client.embeddings.create({ model: "mock-text-embedding-3-small", input: "embed this" });
    const float = await fixture.client.embeddings.create({ model: "mock-text-embedding-3-small", input: "embed this", encoding_format: "float" });
    const vector = decoded.data[0]?.embedding ?? [];
    expect(vector).toHaveLength(16);
    expect(vector.every((value) => typeof value === "number" && value >= -1 && value <= 1)).toBe(true);
    expect(vector).toEqual(float.data[0]?.embedding);
    expect(decoded.model).toBe("mock-text-embedding-3-small");
    expect(decoded.usage.prompt_tokens).toBe(Math.ceil("embed this".length / 4));
  });

  it("is deterministic: the same input twice gives the same vector, another input another", async () => {
    const first = await fixture.client.embeddings.create({ model: "m", input: ["alpha", "beta"] });
    const second = await fixture.client.embeddings.create({ model: "m", input: ["alpha", "beta"] });
    expect(second.data).toEqual(first.data);
    expect(first.data[0]?.embedding).not.toEqual(first.data[1]?.embedding);
    expect(first.data.map((item) => item.index)).toEqual([0, 1]);
  });

  it("honours dimensions", async () => {
    const result = await fixture.client.embeddings.create({ model: "m", input: "x", dimensions: 40 });
    expect(result.data[0]?.embedding).toHaveLength(40);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ endpoint: "embeddings", provider: "mock" });
    expect(summary?.usage?.promptTokens).toBe(1);
  });
});

describe("models and moderations from the mock", () => {
  it("lists the mock models", async () => {
    const page = await fixture.client.models.list();
    expect(page.data.map((model) => model.id)).toEqual([...MOCK_MODELS]);
    expect(page.data.every((model) => model.object === "model" && model.owned_by === "gateway-mock")).toBe(true);
  });

  it("retrieves a model by id", async () => {
    expect(await fixture.client.models.retrieve("mock-gpt-4o")).toMatchObject({ id: "mock-gpt-4o", object: "model" });
    expect((await fixture.client.models.retrieve("ft:any:thing")).id).toBe("ft:any:thing");
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ endpoint: "models.retrieve", model: "mock-gpt-4o", provider: "mock" });
  });

  it("moderates without flagging", async () => {
    const result = await fixture.client.moderations.create({ input: ["one", "two"] });
    expect(result.results).toHaveLength(2);
    expect(result.results.every((entry) => entry.flagged === false)).toBe(true);
  });

  it("answers an endpoint it does not implement with an OpenAI-shaped 404", async () => {
    const error = await fixture.client.responses.create({ model: "mock-gpt-4o", input: "hi" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).code).toBe("unsupported_endpoint");
  });
});

describe("no key needed for the mock", () => {
  it("a raw request without any Authorization works", async () => {
    const response = await fetch(`${fixture.gateway.baseURL}chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-provider": "mock" },
      body: JSON.stringify({ model: "mock-gpt-4o", messages }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as OpenAI.ChatCompletion;
    expect(body.choices[0]?.message.content).toBe(REPLY);
    const models = await fetch(`${fixture.gateway.baseURL}models`, { headers: { "x-provider": "MOCK" } });
    expect(models.status).toBe(200);
  });

  it("the same request without x-provider goes to openai and needs a key", async () => {
    const response = await fetch(`${fixture.gateway.baseURL}models`);
    expect(response.status).toBe(401);
  });

  it("in managed mode the mock still needs a gateway key, but no provider key", async () => {
    const managed = await startTestGateway({
      OPENAI_BASE_URL: await closedPortUrl(),
      GATEWAY_API_KEYS: "gw-mock-key-0123456789",
      GATEWAY_MOCK_PROVIDER: "true",
      GATEWAY_MOCK_CHUNK_DELAY_MS: "0",
    });
    try {
      const error = await managed
        .client("wrong-key", { "x-provider": "mock" })
        .models.list()
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AuthenticationError);
      const completion = await managed.client("gw-mock-key-0123456789", { "x-provider": "mock" }).chat.completions.create({ model: "m", messages });
      expect(completion.choices[0]?.message.content).toBe(REPLY);
      const [, summary] = await managed.waitForSummaries(2);
      expect(summary).toMatchObject({ provider: "mock", keyId: "env-1", status: 200 });
    } finally {
      await managed.close();
    }
  });
});

describe("the mock is a development tool: served only when GATEWAY_MOCK_PROVIDER enables it", () => {
  it.each([
    ["unset", {}],
    ["false", { GATEWAY_MOCK_PROVIDER: "false" }],
  ])("%s: x-provider: mock answers 400 unknown_provider like any unknown provider, and the list leaves it out", async (_label, env) => {
    const closed = await startTestGateway({ OPENAI_BASE_URL: await closedPortUrl(), ...env });
    try {
      const response = await fetch(`${closed.baseURL}chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-provider": "mock" },
        body: JSON.stringify({ model: "mock-gpt-4o", messages }),
      });
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { message: string; param: string; code: string; type: string } };
      expect(error).toMatchObject({ type: "invalid_request_error", param: "x-provider", code: "unknown_provider" });
      expect(error.message).toContain("Supported providers: openai.");
      expect(error.message.replace('"mock"', "")).not.toMatch(/mock/i);
      const sdkError = await closed
        .client("sk-anything", { "x-provider": "MOCK" })
        .models.list()
        .catch((caught: unknown) => caught);
      expect(sdkError).toBeInstanceOf(BadRequestError);
      const summaries = await closed.waitForSummaries(2);
      expect(summaries.map((summary) => summary.status)).toEqual([400, 400]);
    } finally {
      await closed.close();
    }
  });
});
