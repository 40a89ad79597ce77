/**
 * The `mock` provider: deterministic OpenAI answers made in-process, so the
 * quickstart works with no key and no network (`x-provider: mock`). A
 * development tool: the registry serves it only when `GATEWAY_MOCK_PROVIDER`
 * enables it.
 *
 * Answers follow OpenAI's wire: chat completions and completions (streamed
 * and not, with `usage` and the `stream_options.include_usage` chunk),
 * embeddings (float or base64), moderations and models.
 *
 * Its work and its answers are bounded whatever the request ({@link MOCK_LIMITS}),
 * so a small request cannot make a huge answer or hold the event loop: every
 * answer is under 1 MB and made in milliseconds. Past a cap the mock answers
 * 400 in OpenAI's shape, naming the parameter, with code `mock_limit_exceeded`:
 * - `model`: at most 256 characters (it is repeated in every stream chunk);
 * - `input` of embeddings and moderations: at most 2,048 items (OpenAI's own limit for embeddings);
 * - embeddings: at most 32,768 numbers in all, inputs × dimensions (2,048 inputs of
 *   the default 16 dimensions, or 10 of 3,072); `dimensions` itself must be an
 *   integer from 1 to 3,072 (400 `invalid_value` otherwise, as OpenAI's).
 *
 * Bounded by construction: one choice whatever `n`, and a reply that echoes at
 * most 200 characters of the prompt, so a stream has at most ~110 chunks.
 */
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { modelOfPath } from "../endpoints/match.ts";
import type { LocalProvider, LocalProviderRequest, ProviderResponse } from "./types.ts";

/** Options of the mock provider. */
export interface MockProviderOptions {
  /** Pause between stream chunks, so a stream looks like one (0 for none). */
  readonly chunkDelayMs: number;
}

/** The mock's caps (see the module's comment). */
export const MOCK_LIMITS = Object.freeze({
  /** Longest `model` name. */
  modelChars: 256,
  /** Most items in an embeddings or moderations `input`. */
  inputs: 2048,
  /** Largest embedding `dimensions`. */
  dimensions: 3072,
  /** Most numbers in one embeddings answer (inputs × dimensions). */
  embeddingValues: 32_768,
  /** Most characters of the prompt the reply echoes. */
  echoChars: 200,
});

/** The models the mock lists; any other model name is still answered. */
export const MOCK_MODELS = ["mock-gpt-4o", "mock-gpt-4o-mini", "mock-text-embedding-3-small"] as const;
const CREATED = 1_700_000_000;
const EMBEDDING_DIMENSIONS = 16;

type Json = Readonly<Record<string, unknown>>;
type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

/** Creates the mock provider. */
export function createMockProvider(options: MockProviderOptions): LocalProvider {
  return {
    kind: "local",
    name: "mock",
    answer(request) {
      const refusal = checkModel(request.body ?? {});
      if (refusal !== undefined) return refusal;
      switch (request.endpoint.endpoint.name) {
        case "chat.completions":
          return answerChat(request, options);
        case "completions":
          return answerCompletion(request, options);
        case "embeddings":
          return answerEmbeddings(request.body ?? {});
        case "moderations":
          return answerModerations(request.body ?? {});
        case "models.list":
          return json(200, { object: "list", data: MOCK_MODELS.map(modelObject) });
        case "models.retrieve":
          return json(200, modelObject(modelOfPath(request.endpoint) ?? ""));
        default:
          return errorAnswer(404, `The mock provider does not implement ${request.endpoint.upstreamPath}.`, null, "unsupported_endpoint");
      }
    },
  };
}

function answerChat(request: LocalProviderRequest, options: MockProviderOptions): ProviderResponse {
  const body = request.body ?? {};
  const model = modelOf(body);
  const prompt = lastUserText(body.messages);
  const words = replyWords(prompt);
  const usage = usageFor(prompt, words);
  const id = `chatcmpl-mock${digest(prompt).slice(0, 20)}`;
  const base = { id, created: CREATED, model, system_fingerprint: "fp_mock" };
  if (body.stream !== true) {
    return json(200, {
      ...base,
      object: "chat.completion",
      choices: [
        { index: 0, message: { role: "assistant", content: words.join(""), refusal: null }, logprobs: null, finish_reason: "stop" },
      ],
      usage: withDetails(usage),
      service_tier: "default",
    });
  }
  const includeUsage = wantsUsage(body);
  const chunk = (choices: unknown[], usageValue: unknown = null) => ({
    ...base,
    object: "chat.completion.chunk",
    choices,
    ...(includeUsage ? { usage: usageValue } : {}),
  });
  const events: unknown[] = [
    chunk([{ index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null }]),
    ...words.map((word) => chunk([{ index: 0, delta: { content: word }, logprobs: null, finish_reason: null }])),
    chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]),
  ];
  if (includeUsage) events.push(chunk([], withDetails(usage)));
  return sse(events, options, request.signal);
}

function answerCompletion(request: LocalProviderRequest, options: MockProviderOptions): ProviderResponse {
  const body = request.body ?? {};
  const model = modelOf(body);
  const prompt = typeof body.prompt === "string" ? body.prompt : JSON.stringify(body.prompt ?? "");
  const words = replyWords(prompt);
  const usage = usageFor(prompt, words);
  const base = { id: `cmpl-mock${digest(prompt).slice(0, 20)}`, object: "text_completion", created: CREATED, model };
  if (body.stream !== true) {
    return json(200, {
      ...base,
      choices: [{ text: words.join(""), index: 0, logprobs: null, finish_reason: "stop" }],
      usage,
    });
  }
  const includeUsage = wantsUsage(body);
  const events: unknown[] = words.map((word, index) => ({
    ...base,
    choices: [{ text: word, index: 0, logprobs: null, finish_reason: index === words.length - 1 ? "stop" : null }],
    ...(includeUsage ? { usage: null } : {}),
  }));
  if (includeUsage) events.push({ ...base, choices: [], usage });
  return sse(events, options, request.signal);
}

function answerEmbeddings(body: Json): ProviderResponse {
  const inputs = inputsOf(body);
  if (inputs.length > MOCK_LIMITS.inputs) return tooManyInputs(inputs.length);
  const dimensions = body.dimensions ?? EMBEDDING_DIMENSIONS;
  if (typeof dimensions !== "number" || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > MOCK_LIMITS.dimensions) {
    return errorAnswer(400, `dimensions must be an integer from 1 to ${MOCK_LIMITS.dimensions}.`, "dimensions", "invalid_value");
  }
  if (inputs.length * dimensions > MOCK_LIMITS.embeddingValues) {
    return errorAnswer(
      400,
      `The mock provider answers at most ${MOCK_LIMITS.embeddingValues} embedding numbers per request (inputs × dimensions); ` +
        `this request asks for ${inputs.length} × ${dimensions}. Send fewer inputs or fewer dimensions.`,
      "input",
      LIMIT_CODE,
    );
  }
  const base64 = body.encoding_format === "base64";
  let promptTokens = 0;
  const data = inputs.map((input, index) => {
    const text = typeof input === "string" ? input : JSON.stringify(input);
    promptTokens += countTokens(text);
    const vector = embeddingOf(text, dimensions);
    return {
      object: "embedding",
      index,
      embedding: base64 ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64") : Array.from(vector),
    };
  });
  return json(200, {
    object: "list",
    data,
    model: modelOf(body, "mock-text-embedding-3-small"),
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  });
}

function answerModerations(body: Json): ProviderResponse {
  const inputs = inputsOf(body);
  if (inputs.length > MOCK_LIMITS.inputs) return tooManyInputs(inputs.length);
  const categories = ["harassment", "hate", "self-harm", "sexual", "violence"];
  const flags = Object.fromEntries(categories.map((name) => [name, false]));
  const scores = Object.fromEntries(categories.map((name) => [name, 0.0001]));
  return json(200, {
    id: `modr-mock${digest(JSON.stringify(inputs)).slice(0, 20)}`,
    model: modelOf(body, "omni-moderation-latest"),
    results: inputs.map(() => ({ flagged: false, categories: flags, category_scores: scores })),
  });
}

const LIMIT_CODE = "mock_limit_exceeded";

function checkModel(body: Json): ProviderResponse | undefined {
  if (typeof body.model !== "string" || body.model.length <= MOCK_LIMITS.modelChars) return undefined;
  return errorAnswer(400, `The mock provider accepts model names of at most ${MOCK_LIMITS.modelChars} characters.`, "model", LIMIT_CODE);
}

function inputsOf(body: Json): readonly unknown[] {
  return Array.isArray(body.input) ? body.input : [body.input ?? ""];
}

function tooManyInputs(count: number): ProviderResponse {
  return errorAnswer(400, `The mock provider accepts at most ${MOCK_LIMITS.inputs} inputs per request; this request has ${count}.`, "input", LIMIT_CODE);
}

function errorAnswer(status: number, message: string, param: string | null, code: string): ProviderResponse {
  return json(status, { error: { message, type: "invalid_request_error", param, code } });
}

function modelObject(id: string): Json {
  return { id, object: "model", created: CREATED, owned_by: "gateway-mock" };
}

function modelOf(body: Json, fallback = "mock-gpt-4o"): string {
  return typeof body.model === "string" ? body.model : fallback;
}

function wantsUsage(body: Json): boolean {
  const streamOptions = body.stream_options as Json | null | undefined;
  return streamOptions?.include_usage === true;
}

function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return "";
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index] as Json | null;
    if (message?.role !== "user") continue;
    if (typeof message.content === "string") return message.content;
    if (Array.isArray(message.content)) {
      return message.content.map((part) => (typeof (part as Json)?.text === "string" ? (part as Json).text : "")).join(" ");
    }
  }
  return "";
}

/** The reply, already split into the words a stream sends one by one. */
function replyWords(prompt: string): string[] {
  const echo = prompt.trim().slice(0, MOCK_LIMITS.echoChars) || "nothing";
  const text = `This is a mock response to: ${echo}`;
  return text.split(/(?=\s)/);
}

function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function usageFor(prompt: string, words: readonly string[]): Usage {
  const promptTokens = countTokens(prompt);
  const completionTokens = words.length;
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

function withDetails(usage: Usage): Json {
  return {
    ...usage,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function embeddingOf(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  let seed = createHash("sha256").update(text).digest();
  for (let index = 0; index < dimensions; index += 1) {
    if (index % 8 === 0 && index > 0) seed = createHash("sha256").update(seed).digest();
    vector[index] = (seed.readUInt32LE((index % 8) * 4) / 0xffffffff) * 2 - 1;
  }
  return vector;
}

const MOCK_HEADERS = { "openai-version": "2020-10-01", "openai-processing-ms": "0" };

function json(status: number, value: unknown): ProviderResponse {
  const bytes = Buffer.from(JSON.stringify(value));
  return {
    status,
    headers: { ...MOCK_HEADERS, "content-type": "application/json", "content-length": String(bytes.length), "x-request-id": mockRequestId() },
    body: [bytes],
  };
}

function sse(events: readonly unknown[], options: MockProviderOptions, signal: AbortSignal): ProviderResponse {
  async function* body(): AsyncGenerator<Uint8Array> {
    for (const [index, event] of events.entries()) {
      if (index > 0 && options.chunkDelayMs > 0) await sleep(options.chunkDelayMs, undefined, { signal });
      yield Buffer.from(`data: ${JSON.stringify(event)}\n\n`);
    }
    yield Buffer.from("data: [DONE]\n\n");
  }
  return {
    status: 200,
    headers: { ...MOCK_HEADERS, "content-type": "text/event-stream; charset=utf-8", "x-request-id": mockRequestId() },
    body: body(),
  };
}

function mockRequestId(): string {
  return `req_mock_${crypto.randomUUID().replaceAll("-", "")}`;
}
