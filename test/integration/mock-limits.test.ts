/**
 * The mock provider's caps: a request of ~31 KB (or of any size up to the body
 * limit) cannot make a huge answer or hold the event loop. Past a cap the mock
 * answers 400 in OpenAI's shape naming the parameter; within the caps its
 * largest answers stay under 1 MB and come in well under a second.
 */
import { BadRequestError } from "openai";
import { describe, expect, it } from "vitest";
import { MOCK_LIMITS } from "../../functions/shared/providers/mock.ts";
import { fetchText } from "../support/fetch.ts";
import { closedPortUrl, useTestGateway } from "../support/gateway-fixture.ts";
import { expectOpenAIError, rejectionOf } from "../support/openai-errors.ts";

const REQUEST_BYTES = 31 * 1024;
const MAX_ANSWER_BYTES = 1024 * 1024;
// Today's worst of these took ~30 s of event loop; a bounded answer takes milliseconds.
const MAX_MS = 2_000;

const fixture = useTestGateway(
  async () => ({ OPENAI_BASE_URL: await closedPortUrl(), GATEWAY_MOCK_PROVIDER: "true", GATEWAY_MOCK_CHUNK_DELAY_MS: "0" }),
  { apiKey: "unused", headers: { "x-provider": "mock" } },
);

/** A JSON body of about REQUEST_BYTES: `head` + as many `item`s as fit, comma-separated + `tail`. */
function filled(head: string, item: string, tail: string): string {
  const count = Math.floor((REQUEST_BYTES - head.length - tail.length) / (item.length + 1));
  return `${head}${Array.from({ length: count }, () => item).join(",")}${tail}`;
}

async function post(path: string, body: string) {
  const started = performance.now();
  const answer = await fetchText(`${fixture.gateway.baseURL}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-provider": "mock" },
    body,
  });
  return { answer, ms: performance.now() - started, bytes: Buffer.byteLength(answer.text) };
}

const longModel = "m".repeat(REQUEST_BYTES - 300);
const manyWords = "a ".repeat(100);

describe("the worst requests that fit in ~31 KB are refused at once, in OpenAI's shape", () => {
  it.each([
    ["embeddings: ~15,000 inputs × 3,072 dimensions, base64", "embeddings", filled('{"model":"m","dimensions":3072,"input":[', "0", "]}"), "input"],
    ["embeddings: the same as floats", "embeddings", filled('{"model":"m","dimensions":3072,"encoding_format":"float","input":[', "0", "]}"), "input"],
    ["embeddings: ~15,000 inputs of the default 16 dimensions", "embeddings", filled('{"model":"m","input":[', "0", "]}"), "input"],
    ["embeddings: 11 inputs × 3,072 dimensions", "embeddings", JSON.stringify({ model: "m", dimensions: 3072, input: Array.from({ length: 11 }, () => "x") }), "input"],
    ["moderations: ~15,000 inputs", "moderations", filled('{"model":"m","input":[', "0", "]}"), "input"],
    ["a streamed chat whose 31 KB model name every chunk repeats", "chat/completions", JSON.stringify({ model: longModel, stream: true, messages: [{ role: "user", content: manyWords }] }), "model"],
    ["a streamed completion whose 31 KB model name every chunk repeats", "completions", JSON.stringify({ model: longModel, stream: true, prompt: manyWords }), "model"],
  ])("%s", async (_label, path, body, param) => {
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(REQUEST_BYTES);
    const { answer, ms } = await post(path, body);
    expectOpenAIError(answer, 400, { code: "mock_limit_exceeded", param });
    expect(ms).toBeLessThan(MAX_MS);
  });

  it("dimensions must be an integer from 1 to 3,072, as OpenAI's (a fraction was a gateway 500)", async () => {
    for (const dimensions of [1.5, 0, -3, 3073, "16", 1e9]) {
      const { answer } = await post("embeddings", JSON.stringify({ model: "m", input: "x", dimensions }));
      expectOpenAIError(answer, 400, { code: "invalid_value", param: "dimensions", message: "dimensions must be an integer from 1 to 3072." });
    }
  });

  it("the SDK raises BadRequestError with the parameter", async () => {
    const error = await rejectionOf(fixture.client.embeddings.create({ model: "m", input: Array.from({ length: MOCK_LIMITS.inputs + 1 }, () => "x") }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, param: "input", code: "mock_limit_exceeded" });
    expect(error.message).toContain(`at most ${MOCK_LIMITS.inputs} inputs`);
  });
});

describe("the largest answers within the caps are small and quick", () => {
  const model = "m".repeat(MOCK_LIMITS.modelChars);
  const inputs = (count: number) => Array.from({ length: count }, (_, index) => `input ${index}`);
  const longPrompt = "a ".repeat(14_000);

  it.each([
    ["embeddings: 2,048 inputs × 16 dimensions as floats", "embeddings", { model, encoding_format: "float", input: inputs(2048) }],
    ["embeddings: 10 inputs × 3,072 dimensions as floats", "embeddings", { model, encoding_format: "float", dimensions: 3072, input: inputs(10) }],
    ["embeddings: 2,048 inputs × 16 dimensions in base64", "embeddings", { model, encoding_format: "base64", input: inputs(2048) }],
    ["moderations: 2,048 inputs", "moderations", { model, input: inputs(2048) }],
    ["a streamed chat echoing a prompt of 14,000 one-letter words", "chat/completions", { model, n: 128, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: longPrompt }] }],
    ["a streamed completion of the same prompt", "completions", { model, n: 128, stream: true, stream_options: { include_usage: true }, prompt: longPrompt }],
  ])("%s", async (_label, path, request) => {
    const body = JSON.stringify(request);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(REQUEST_BYTES);
    const { answer, ms, bytes } = await post(path, body);
    expect(answer.status, answer.text.slice(0, 200)).toBe(200);
    expect(bytes).toBeLessThan(MAX_ANSWER_BYTES);
    expect(ms).toBeLessThan(MAX_MS);
    if ("input" in request) {
      const answered = JSON.parse(answer.text) as { data?: unknown[]; results?: unknown[] };
      expect((answered.data ?? answered.results)?.length).toBe(request.input.length);
    }
    if (path.endsWith("completions")) {
      // One choice whatever n, and at most ~110 chunks: the reply echoes at most 200 characters of the prompt.
      expect(answer.text.split("\n\n").filter(Boolean).length).toBeLessThanOrEqual(112);
      expect(answer.text).not.toContain('"index":1');
    }
  });

  it("a model name of exactly the cap is still answered", async () => {
    const completion = await fixture.client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });
    expect(completion.model).toBe(model);
  });
});
