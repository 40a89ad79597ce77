/**
 * A fake OpenAI upstream speaking the real api.openai.com wire format, for
 * integration tests and benchmarks. Uses only `node:http`; the parts are in
 * ./fake-openai/ (server and behaviour queue, one file per endpoint family,
 * errors, and the header/JSON/SSE writers).
 *
 *   const fake = await startFakeOpenAI();
 *   const client = new OpenAI({ apiKey: "sk-test", baseURL: fake.baseUrl, maxRetries: 0 });
 *   ...
 *   await fake.close();
 *
 * Wire facts this fake reproduces (checked against node_modules/openai v7 source):
 * - JSON bodies: `content-type: application/json` (the SDK only JSON-parses when the
 *   media type contains `application/json`; anything else comes back as a string).
 * - Errors: HTTP status + `{"error":{"message","type","param","code"}}` body; the SDK maps
 *   the status to its error classes (400 BadRequestError, 401 AuthenticationError,
 *   404 NotFoundError, 429 RateLimitError, >=500 InternalServerError).
 * - Chat / legacy completion streams: `data: <json>\n\n` events ending with `data: [DONE]\n\n`.
 *   With `stream_options.include_usage` every chunk carries `"usage": null` and an extra
 *   last chunk has `"choices": []` plus the usage object.
 * - Responses streams: `event: <type>\ndata: <json>\n\n`, `sequence_number` from 0, no [DONE].
 * - Embeddings: the SDK sends `encoding_format: "base64"` when the caller gave none and
 *   decodes little-endian float32 base64 itself.
 * - The rest of the API (fake-openai/routes.ts): files and uploads (multipart in,
 *   `application/octet-stream` out), batches, fine-tuning jobs, images (partial-image
 *   streams), audio (raw audio out, transcript and speech event streams), stored
 *   responses and chat completions, conversations, vector stores, containers and evals,
 *   kept per project (`openai-project`) like an OpenAI account.
 */
export { approxTokens, DEFAULT_MODELS, fakeReply } from "./fake-openai/common.ts";
export { startFakeOpenAI } from "./fake-openai/server.ts";
export type { ProjectObjects } from "./fake-openai/stored.ts";
export type { Behaviour, FakeOpenAI, FakeOpenAIOptions, RecordedRequest, RequestMatcher, StreamShape } from "./fake-openai/types.ts";
