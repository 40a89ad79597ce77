/**
 * The presets, each against a fake provider with its quirks, through the
 * official openai SDK: managed keys in the provider's auth style, passthrough
 * keys turned into it, streams and usage as each provider sends them, and
 * its errors in OpenAI's shape.
 */
import OpenAI, { BadRequestError, UnprocessableEntityError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeProvider, type FakeFlavor, type FakeProvider } from "../support/fake-provider.ts";
import { fetchText, postJson } from "../support/fetch.ts";
import { startTestGateway, type TestGateway } from "../support/local-gateway.ts";
import { rejectionOf } from "../support/openai-errors.ts";

const GATEWAY_KEY = "gw-providers-test-0123456789";
const keyOf = (name: string) => `sk-managed-${name}-0123456789`;

/** Each preset under test: its fake, and whether it takes `stream_options` (the gateway then asks for usage). */
const PRESETS: { name: string; preset: string; flavor: FakeFlavor; streamOptions: boolean; extra?: Record<string, unknown> }[] = [
  { name: "azure", preset: "azure-openai", flavor: "azure-v1", streamOptions: true },
  { name: "azure-dated", preset: "azure-openai", flavor: "azure-dated", streamOptions: true, extra: { apiVersion: "2024-10-21", deployments: { "gpt-4o": "prod-4o" } } },
  { name: "azure-old", preset: "azure-openai", flavor: "azure-dated", streamOptions: false, extra: { apiVersion: "2024-06-01" } },
  { name: "groq", preset: "groq", flavor: "groq", streamOptions: false },
  { name: "mistral", preset: "mistral", flavor: "mistral", streamOptions: false },
  { name: "deepseek", preset: "deepseek", flavor: "deepseek", streamOptions: true },
  { name: "together", preset: "together", flavor: "together", streamOptions: false },
  { name: "fireworks", preset: "fireworks", flavor: "fireworks", streamOptions: false },
  { name: "openrouter", preset: "openrouter", flavor: "openrouter", streamOptions: false, extra: { headers: { "HTTP-Referer": "https://example.com", "X-Title": "gateway-test" } } },
  { name: "xai", preset: "xai", flavor: "xai", streamOptions: true },
  { name: "gemini", preset: "gemini", flavor: "gemini", streamOptions: true },
  { name: "vllm", preset: "vllm", flavor: "vllm", streamOptions: true },
  // Any server at any base URL; not asked for stream usage, since nothing says it takes the option.
  { name: "compatible", preset: "openai-compatible", flavor: "vllm", streamOptions: false },
];

const fakes = new Map<string, FakeProvider>();
let ollama: FakeProvider;
let managed: TestGateway;
let passthrough: TestGateway;

const fake = (name: string) => fakes.get(name) as FakeProvider;
const last = (name: string) => fake(name).requests.at(-1);
const client = (name: string, apiKey = GATEWAY_KEY, gateway = managed) => gateway.client(apiKey, { "x-provider": name });
const hi = { model: "gpt-4o", messages: [{ role: "user" as const, content: "hi" }] };

beforeAll(async () => {
  for (const { name, flavor, extra } of PRESETS) {
    const apiVersion = (extra?.apiVersion as string | undefined) ?? undefined;
    fakes.set(name, await startFakeProvider({ flavor, apiKey: keyOf(name), apiVersion, upstream: { streamDefaults: { chunks: 3 } } }));
  }
  ollama = await startFakeProvider({ flavor: "ollama" });
  const entries: Record<string, unknown> = { ollama: { preset: "ollama", baseUrl: ollama.baseUrl } };
  for (const { name, preset, extra } of PRESETS) entries[name] = { preset, baseUrl: fake(name).baseUrl, apiKey: keyOf(name), ...extra };
  managed = await startTestGateway({ GATEWAY_PROVIDERS: JSON.stringify(entries), GATEWAY_API_KEYS: GATEWAY_KEY, GATEWAY_MAX_RETRIES: "0" });
  const settingsOnly = Object.fromEntries(Object.entries(entries).map(([name, entry]) => [name, { ...(entry as object), apiKey: undefined }]));
  passthrough = await startTestGateway({ GATEWAY_PROVIDERS: JSON.stringify(settingsOnly), GATEWAY_MAX_RETRIES: "0" });
}, 60_000);

afterAll(async () => {
  await managed?.close();
  await passthrough?.close();
  for (const provider of [...fakes.values(), ollama]) await provider?.close();
});

describe("every preset through the official SDK", () => {
  it.each(PRESETS.map((preset) => [preset.name, preset] as const))("%s answers a chat with the managed key in its auth style", async (name, preset) => {
    managed.reset();
    const completion = await client(name).chat.completions.create(hi);
    expect(completion.choices[0]?.message.content).toBe("Echo: hi");
    const received = last(name);
    if (preset.preset === "azure-openai") {
      expect(received?.headers["api-key"]).toBe(keyOf(name));
      expect(received?.headers.authorization).toBeUndefined();
    } else {
      expect(received?.headers.authorization).toBe(`Bearer ${keyOf(name)}`);
    }
    expect(JSON.stringify(received)).not.toContain(GATEWAY_KEY);
    const [summary] = await managed.waitForSummaries(1);
    expect(summary).toMatchObject({ provider: name, status: 200, outcome: "ok" });
    expect(summary?.usage?.promptTokens).toBeGreaterThan(0);
  });

  it.each(PRESETS.map((preset) => [preset.name, preset] as const))("%s streams to the SDK and reports usage, asking for it only where the provider takes it", async (name, preset) => {
    managed.reset();
    const stream = await client(name).chat.completions.create({ ...hi, stream: true });
    let text = "";
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      // The usage-only chunk the gateway asked for never reaches a client that did not ask.
      if (preset.streamOptions) expect(chunk.choices.length > 0 || chunk.usage == null).toBe(true);
    }
    expect(text).toBe("Echo: hi");
    const sent = last(name)?.json?.stream_options;
    if (preset.streamOptions) expect(sent).toEqual({ include_usage: true });
    else expect(sent).toBeUndefined();
    const [summary] = await managed.waitForSummaries(1);
    expect(summary).toMatchObject({ provider: name, status: 200, outcome: "ok" });
    // An Azure version before 2024-09-01 cannot be asked, and sends no usage by itself; nor does an unknown server unasked.
    if (name !== "azure-old" && name !== "compatible") expect(summary?.usage).toMatchObject({ promptTokens: expect.any(Number), completionTokens: expect.any(Number) });
  });

  it("a provider that needs no key (ollama, none configured) is called without one", async () => {
    const completion = await client("ollama").chat.completions.create({ ...hi, model: "llama3.2" });
    expect(completion.choices[0]?.message.content).toBe("Echo: hi");
    expect(ollama.requests.at(-1)?.headers.authorization).toBeUndefined();
  });
});

describe("passthrough: the caller's own key, in the provider's auth style", () => {
  it("goes to Groq as a bearer token and to Azure as api-key", async () => {
    await client("groq", keyOf("groq"), passthrough).chat.completions.create(hi);
    expect(last("groq")?.headers.authorization).toBe(`Bearer ${keyOf("groq")}`);
    await client("azure", keyOf("azure"), passthrough).chat.completions.create(hi);
    expect(last("azure")?.headers["api-key"]).toBe(keyOf("azure"));
    expect(last("azure")?.headers.authorization).toBeUndefined();
  });

  it("a caller without a key may call a provider that needs none, and not one that needs one", async () => {
    const keyless = await postJson(passthrough.baseURL, "chat/completions", { ...hi, model: "llama3.2" }, { "x-provider": "ollama" });
    expect(keyless.status).toBe(200);
    expect(ollama.requests.at(-1)?.headers.authorization).toBeUndefined();
    expect((await postJson(passthrough.baseURL, "chat/completions", hi, { "x-provider": "groq" })).status).toBe(401);
  });

  it("a wrong own key gets the provider's 401 in OpenAI's shape", async () => {
    const error = await rejectionOf(client("azure", "not-the-azure-key", passthrough).chat.completions.create(hi));
    expect(error).toMatchObject({ status: 401, type: "invalid_request_error", code: "invalid_api_key" });
  });
});

describe("each provider's quirks, smoothed", () => {
  it("Azure: the prompt-filter and content-filter chunks pass through the SDK's stream helper, ids and usage intact", async () => {
    managed.reset();
    const runner = client("azure").chat.completions.stream(hi);
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe("Echo: hi");
    expect(final.id).toMatch(/^chatcmpl-/);
    expect(final.model).toBe("gpt-4o");
    const [summary] = await managed.waitForSummaries(1);
    expect(summary?.usage?.completionTokens).toBeGreaterThan(0);
    const raw = await fetchText(`${managed.baseURL}chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${GATEWAY_KEY}`, "x-provider": "azure" },
      body: JSON.stringify({ ...hi, stream: true }),
    });
    expect(raw.text).toContain('"prompt_filter_results"');
    expect(raw.text).toContain('"content_filter_offsets"');
    expect(raw.text).not.toContain('"usage"');
  });

  it("Azure: a content_filter refusal reaches the SDK as OpenAI's error", async () => {
    const error = await rejectionOf(client("azure").chat.completions.create({ ...hi, messages: [{ role: "user", content: "FILTER-ME" }] }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, code: "content_filter", type: "invalid_request_error", param: "prompt" });
    expect((error as BadRequestError).message).toContain("content management policy");
  });

  it("Azure's dated API: the deployment in the path, the api-version in the query", async () => {
    await client("azure-dated").chat.completions.create(hi);
    expect(last("azure-dated")?.deployment).toBe("prod-4o");
    expect(last("azure-dated")?.url).toBe("/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21");
    await client("azure-dated").chat.completions.create({ ...hi, model: "gpt-4o-mini" });
    expect(last("azure-dated")?.deployment).toBe("gpt-4o-mini");
  });

  it("Groq: no stream_options, usage read from x_groq.usage and priced", async () => {
    managed.reset();
    const stream = await client("groq").chat.completions.create({ ...hi, model: "llama-3.3-70b-versatile", stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(JSON.stringify(chunks.at(-1))).toContain('"x_groq"');
    const [summary] = await managed.waitForSummaries(1);
    expect(summary?.usage?.totalTokens).toBeGreaterThan(0);
    expect(summary?.costUsd).toBeGreaterThan(0);
  });

  it("OpenRouter: its comment lines reach the client unchanged and the SDK skips them; its headers are sent", async () => {
    const raw = await postJson(managed.baseURL, "chat/completions", { ...hi, stream: true }, { authorization: `Bearer ${GATEWAY_KEY}`, "x-provider": "openrouter" });
    expect(raw.text.startsWith(": OPENROUTER PROCESSING\n\n")).toBe(true);
    expect(raw.text).toContain("data: [DONE]");
    expect(last("openrouter")?.headers["http-referer"]).toBe("https://example.com");
    expect(last("openrouter")?.headers["x-title"]).toBe("gateway-test");
  });

  it("DeepSeek: its keep-alive comments pass, its cache hits count as cached prompt tokens", async () => {
    managed.reset();
    const stream = await client("deepseek").chat.completions.create({ ...hi, model: "deepseek-chat", stream: true });
    for await (const _chunk of stream) void _chunk;
    const [summary] = await managed.waitForSummaries(1);
    expect(summary?.usage?.cachedPromptTokens).toBe(4);
  });

  it("Mistral: its 422 for a field it does not take reaches the SDK as OpenAI's error", async () => {
    const error = await rejectionOf(client("mistral").chat.completions.create({ ...hi, stream: true, stream_options: { include_usage: true } }));
    expect(error).toBeInstanceOf(UnprocessableEntityError);
    expect((error as UnprocessableEntityError).message).toContain("body.stream_options: Extra inputs are not permitted");
  });

  it("Gemini: its list-shaped error reaches the SDK as OpenAI's error", async () => {
    fake("gemini").upstream.enqueue({ kind: "error", status: 400, message: "Invalid JSON payload received. Unknown name \"thinking\"" });
    const error = await rejectionOf(client("gemini").chat.completions.create(hi));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ code: "INVALID_ARGUMENT", type: "invalid_request_error" });
    expect((error as BadRequestError).message).toContain('Unknown name "thinking"');
  });
});

describe("the gateway key", () => {
  it("never reaches any provider", () => {
    for (const provider of [...fakes.values(), ollama]) {
      expect(JSON.stringify(provider.requests)).not.toContain(GATEWAY_KEY);
      expect(JSON.stringify(provider.upstream.requests.map((request) => [request.headers, request.body.toString()]))).not.toContain(GATEWAY_KEY);
    }
  });

  it("a client of an unchanged SDK reaches a provider with x-provider only", async () => {
    const sdk = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: managed.baseURL, maxRetries: 0, defaultHeaders: { "x-provider": "xai" } });
    const completion = await sdk.chat.completions.create({ ...hi, model: "grok-4" });
    expect(completion.choices[0]?.message.content).toBe("Echo: hi");
  });
});
