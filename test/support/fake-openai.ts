/**
 * A fake OpenAI upstream speaking the real api.openai.com wire format, for
 * integration tests and benchmarks. Uses only `node:http`.
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
 */
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { createHash, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

export interface RecordedRequest {
  method: string;
  /** Path + query exactly as received, e.g. "/v1/chat/completions?x=1". */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Parsed JSON body, or undefined when the body is empty or not valid JSON. */
  json: unknown;
  /** performance.now() when the request body had been fully received. */
  receivedAt: number;
}

/**
 * Which requests a queued behaviour applies to:
 * - string: exact pathname (no query), e.g. "/v1/chat/completions";
 * - RegExp: tested against `method + " " + url`, e.g. /^POST \/v1\/responses/;
 * - function: arbitrary predicate.
 * Without `match`, stream-shaped behaviours (stream, destroy-mid-stream, truncate,
 * error-mid-stream) apply to the next *streaming* request (JSON body `stream: true` on
 * /v1/chat/completions, /v1/completions or /v1/responses); all other behaviours apply
 * to the next request of any kind.
 */
export type RequestMatcher = string | RegExp | ((req: RecordedRequest) => boolean);

/** Shape of a streamed answer. `content` (one string per content delta) wins over `chunks`. */
export interface StreamShape {
  /** Number of content deltas (default: streamDefaults.chunks, 5). */
  chunks?: number;
  /** Wait before each content delta, in ms (default: streamDefaults.intervalMs, 0). */
  intervalMs?: number;
  /** Exact content deltas to send. */
  content?: string[];
}

export type Behaviour = (
  | {
      kind: "error";
      status: number;
      type?: string;
      code?: string | null;
      message?: string;
      param?: string | null;
      /** Extra/override response headers. */
      headers?: Record<string, string>;
      /** For 429 only: value used for `retry-after-ms` / `retry-after` (default 1000 ms). */
      retryAfterMs?: number;
    }
  | ({ kind: "stream" } & StreamShape)
  /** Accept the request and never answer (until the client goes away or close()). */
  | { kind: "hang" }
  /**
   * Send the first `afterChunks` SSE events (each event counts: role chunk,
   * response.created, ...), wait until they are flushed, then TCP-reset the socket.
   */
  | ({ kind: "destroy-mid-stream"; afterChunks: number } & StreamShape)
  /** Send the first `afterChunks` SSE events then end the HTTP body cleanly (no [DONE] / response.completed). */
  | ({ kind: "truncate"; afterChunks: number } & StreamShape)
  /**
   * Send the first `afterChunks` SSE events then an in-band error event and end:
   * chat/completions: `data: {"error":{...}}`; responses: `event: error` + `{"type":"error",...}`.
   */
  | ({
      kind: "error-mid-stream";
      afterChunks: number;
      message?: string;
      type?: string;
      code?: string | null;
      param?: string | null;
    } & StreamShape)
  /** Wait `ms` before sending anything, then answer with the default behaviour. */
  | { kind: "delay"; ms: number }
  /** TCP-reset the connection as soon as the request has been read (no response at all). */
  | { kind: "reset" }
  /** Exactly this status, headers and body (no default headers added). */
  | { kind: "raw"; status: number; headers: Record<string, string>; body: string | Buffer }
) & { match?: RequestMatcher };

export interface FakeOpenAIOptions {
  /** Expected full Authorization header value ("Bearer sk-..."); 401 invalid_api_key otherwise. */
  requireAuth?: string;
  /** Defaults for streamed answers: 5 content deltas, 0 ms apart. */
  streamDefaults?: { chunks?: number; intervalMs?: number };
  /** Model ids served by /v1/models. */
  models?: string[];
  /** When true, unknown models on chat/completions/responses/embeddings answer 404 model_not_found. */
  strictModels?: boolean;
  /** gzip-encode JSON responses when the client accepts gzip (api.openai.com compresses). Default "none". */
  compression?: "none" | "gzip";
  /** Value of the `openai-organization` header. */
  organization?: string;
  /** Add Cloudflare-ish headers (server, cf-ray, set-cookie __cf_bm, ...) like the real edge. Default true. */
  edgeHeaders?: boolean;
}

export interface FakeOpenAI {
  /** e.g. "http://127.0.0.1:PORT/v1" */
  readonly baseUrl: string;
  /** Every request received, in order (including rejected ones). */
  readonly requests: RecordedRequest[];
  /** Queue a one-shot behaviour for the next matching request (FIFO among matching ones). */
  enqueue(behaviour: Behaviour): void;
  /** Behaviours still queued. */
  pending(): number;
  /** performance.now() right after each `res.write` of the most recent stream (one per SSE event, [DONE] included). */
  readonly lastStreamWrites: number[];
  /** Raw text of each SSE event written in the most recent stream. */
  readonly lastStreamEvents: string[];
  /** Number of currently open TCP sockets. */
  openSockets(): number;
  /** Total number of sockets accepted since start/reset. */
  totalSockets(): number;
  /** Resolves with the ms elapsed (from this call) until the next socket close; rejects after timeoutMs. */
  waitForSocketClose(timeoutMs: number): Promise<number>;
  /** Clears recorded requests, queued behaviours and stream timings (sockets stay open). */
  reset(): void;
  /** Destroys every socket (hanging ones included) and stops the server. */
  close(): Promise<void>;
}

/** The deterministic assistant text the fake answers for a given last user message. */
export function fakeReply(lastUserText: string | undefined): string {
  return lastUserText === undefined || lastUserText === "" ? "Hello! How can I help you today?" : `Echo: ${lastUserText}`;
}

/** The token estimate used for every usage field: ceil(chars / 4), at least 1. */
export function approxTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export const DEFAULT_MODELS: readonly string[] = [
  "gpt-4o",
  "gpt-4o-mini",
  "gpt-4.1",
  "gpt-4.1-mini",
  "gpt-4.1-nano",
  "o3-mini",
  "o4-mini",
  "gpt-3.5-turbo",
  "gpt-3.5-turbo-instruct",
  "text-embedding-3-small",
  "text-embedding-3-large",
  "text-embedding-ada-002",
  "omni-moderation-latest",
  "text-moderation-latest",
];

// ---------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------

interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

interface SseEvent {
  text: string;
  /** Wait intervalMs before writing (content deltas). */
  delayBefore: boolean;
}

interface StreamPlan {
  events: SseEvent[];
  /** Build the in-band error event given how many events were sent before it. */
  errorEvent: (err: OpenAIErrorBody, sent: number) => string;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  rec: RecordedRequest;
  pathname: string;
  signal: AbortSignal;
  requestId: string;
  startedAt: number;
}

type Endpoint = "chat" | "completions" | "responses" | "embeddings" | "moderations" | "models" | "model";

const STREAMABLE: ReadonlySet<Endpoint> = new Set<Endpoint>(["chat", "completions", "responses"]);
const STREAM_KINDS: ReadonlySet<string> = new Set(["stream", "destroy-mid-stream", "truncate", "error-mid-stream"]);

const SYSTEM_FINGERPRINT = "fp_f7d56a8a2c";
const RATE_LIMIT_REQUESTS = 10_000;
const RATE_LIMIT_TOKENS = 30_000_000;
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

function alnum(len: number): string {
  const buf = randomBytes(len);
  let out = "";
  for (let i = 0; i < len; i++) out += ALNUM[(buf[i] ?? 0) % ALNUM.length];
  return out;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function classify(method: string, pathname: string): { endpoint: Endpoint; modelId?: string } | undefined {
  if (method === "POST") {
    switch (pathname) {
      case "/v1/chat/completions":
        return { endpoint: "chat" };
      case "/v1/completions":
        return { endpoint: "completions" };
      case "/v1/responses":
        return { endpoint: "responses" };
      case "/v1/embeddings":
        return { endpoint: "embeddings" };
      case "/v1/moderations":
        return { endpoint: "moderations" };
    }
    return undefined;
  }
  if (method === "GET") {
    if (pathname === "/v1/models") return { endpoint: "models" };
    const m = /^\/v1\/models\/(.+)$/.exec(pathname);
    if (m?.[1]) {
      let id: string;
      try {
        id = decodeURIComponent(m[1]);
      } catch {
        id = m[1];
      }
      return { endpoint: "model", modelId: id };
    }
  }
  return undefined;
}

/** Text of a chat message content (string or array of parts). */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (isObject(p) && typeof p["text"] === "string" ? p["text"] : ""))
      .filter((s) => s !== "")
      .join(" ");
  }
  return "";
}

function lastUserTextFromMessages(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m: unknown = messages[i];
    if (isObject(m) && m["role"] === "user") return contentText(m["content"]);
  }
  return undefined;
}

function promptTokensFromMessages(messages: unknown): number {
  if (!Array.isArray(messages)) return 1;
  let total = 3;
  for (const m of messages) total += 4 + (isObject(m) ? approxTokens(contentText(m["content"])) : 1);
  return total;
}

function responsesInputText(input: unknown): { last: string | undefined; all: string } {
  if (typeof input === "string") return { last: input, all: input };
  if (!Array.isArray(input)) return { last: undefined, all: "" };
  let last: string | undefined;
  const all: string[] = [];
  for (const item of input) {
    if (!isObject(item)) continue;
    const text = contentText(item["content"]);
    all.push(text);
    if (item["role"] === "user" || (item["role"] === undefined && item["type"] === "message")) last = text;
  }
  return { last, all: all.join("\n") };
}

function promptText(prompt: unknown): string {
  if (typeof prompt === "string") return prompt;
  if (Array.isArray(prompt)) {
    const first: unknown = prompt[0];
    if (typeof first === "string") return first;
    if (typeof first === "number") return prompt.join(" ");
    if (Array.isArray(first)) return first.join(" ");
  }
  return "";
}

/** Split text into exactly n non-empty pieces (repeating the text if it is shorter than n code points). */
function splitInto(text: string, n: number): string[] {
  const count = Math.max(1, Math.floor(n));
  let chars = Array.from(text);
  if (chars.length === 0) chars = [" "];
  while (chars.length < count) chars = chars.concat([" "], Array.from(text || " "));
  const out: string[] = [];
  const base = Math.floor(chars.length / count);
  let extra = chars.length % count;
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const size = base + (extra > 0 ? 1 : 0);
    if (extra > 0) extra--;
    out.push(chars.slice(pos, pos + size).join(""));
    pos += size;
  }
  return out;
}

function chatUsage(promptTokens: number, completionTokens: number): Record<string, unknown> {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function responsesUsage(inputTokens: number, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
}

/** Deterministic unit vector of float32-exact values derived from the text. */
function embeddingVector(text: string, dims: number): number[] {
  const seed = createHash("sha256").update(text).digest();
  let s0 = seed.readUInt32LE(0) || 1;
  let s1 = seed.readUInt32LE(4) || 2;
  const raw: number[] = [];
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    // xorshift64-ish on two 32-bit halves
    let t = s0 ^ (s0 << 11);
    s0 = s1;
    s1 = (s1 ^ (s1 >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    t = s1 / 0x100000000; // [0,1)
    const v = t * 2 - 1;
    raw.push(v);
    norm += v * v;
  }
  const k = norm > 0 ? 1 / Math.sqrt(norm) : 1;
  return raw.map((v) => Math.fround(v * k));
}

function float32Base64(values: number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i] ?? 0, i * 4);
  return buf.toString("base64");
}

function defaultErrorFor(status: number): OpenAIErrorBody {
  switch (status) {
    case 400:
      return { message: "Invalid request.", type: "invalid_request_error", param: null, code: null };
    case 401:
      return {
        message:
          "Incorrect API key provided: sk-***. You can find your API key at https://platform.openai.com/account/api-keys.",
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      };
    case 403:
      return {
        message: "You are not allowed to perform this request.",
        type: "invalid_request_error",
        param: null,
        code: "unsupported_country_region_territory",
      };
    case 404:
      return { message: "The requested resource was not found.", type: "invalid_request_error", param: null, code: null };
    case 409:
      return { message: "Conflict.", type: "invalid_request_error", param: null, code: null };
    case 422:
      return { message: "Unprocessable entity.", type: "invalid_request_error", param: null, code: null };
    case 429:
      return {
        message:
          "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more.",
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      };
    case 500:
      return {
        message: "The server had an error while processing your request. Sorry about that!",
        type: "server_error",
        param: null,
        code: null,
      };
    case 502:
      return { message: "Bad gateway.", type: "server_error", param: null, code: null };
    case 503:
      return {
        message: "The server is overloaded or not ready yet.",
        type: "server_error",
        param: null,
        code: null,
      };
    default:
      return {
        message: `HTTP ${status}`,
        type: status >= 500 ? "server_error" : "invalid_request_error",
        param: null,
        code: null,
      };
  }
}

function maskKey(key: string): string {
  if (key.length <= 8) return key;
  return `${key.slice(0, 3)}${"*".repeat(Math.max(4, Math.min(key.length - 7, 20)))}${key.slice(-4)}`;
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const streamChunks = options.streamDefaults?.chunks ?? 5;
  const streamInterval = options.streamDefaults?.intervalMs ?? 0;
  const models = options.models ?? [...DEFAULT_MODELS];
  const organization = options.organization ?? "user-fakeorg0000000000000000";
  const edgeHeaders = options.edgeHeaders ?? true;

  const requests: RecordedRequest[] = [];
  const queue: Behaviour[] = [];
  const sockets = new Set<Socket>();
  const inFlight = new Set<AbortController>();
  const closeWaiters = new Set<(closedAt: number) => void>();
  let totalSockets = 0;
  let requestCount = 0;
  let lastStreamWrites: number[] = [];
  let lastStreamEvents: string[] = [];
  let closing = false;

  // ---- helpers bound to this server ----

  function commonHeaders(ctx: Ctx, tokens: number): Record<string, string> {
    const remainingRequests = Math.max(0, RATE_LIMIT_REQUESTS - requestCount);
    const processing = Math.max(1, Math.round(performance.now() - ctx.startedAt));
    const h: Record<string, string> = {
      "x-request-id": ctx.requestId,
      "openai-version": "2020-10-01",
      "openai-organization": organization,
      "openai-project": "proj_fake000000000000000000",
      "openai-processing-ms": String(processing),
      "x-envoy-upstream-service-time": String(processing),
      "x-ratelimit-limit-requests": String(RATE_LIMIT_REQUESTS),
      "x-ratelimit-remaining-requests": String(remainingRequests),
      "x-ratelimit-reset-requests": "6ms",
      "x-ratelimit-limit-tokens": String(RATE_LIMIT_TOKENS),
      "x-ratelimit-remaining-tokens": String(Math.max(0, RATE_LIMIT_TOKENS - tokens)),
      "x-ratelimit-reset-tokens": "0s",
      "access-control-expose-headers": "X-Request-ID",
      "x-content-type-options": "nosniff",
    };
    if (edgeHeaders) {
      h["strict-transport-security"] = "max-age=31536000; includeSubDomains; preload";
      h["cf-cache-status"] = "DYNAMIC";
      h["server"] = "cloudflare";
      h["cf-ray"] = `${hex(8)}-SJC`;
      h["alt-svc"] = 'h3=":443"; ma=86400';
      h["set-cookie"] = `__cf_bm=${alnum(43)}-${nowSeconds()}-1.0.1.1-${alnum(40)}; path=/; expires=${new Date(
        Date.now() + 30 * 60_000,
      ).toUTCString()}; domain=.api.openai.com; HttpOnly; Secure; SameSite=None`;
    }
    return h;
  }

  function requestTokens(ctx: Ctx): number {
    return ctx.rec.body.length > 0 ? approxTokens(ctx.rec.body.toString("utf8")) : 0;
  }

  function sendJson(ctx: Ctx, status: number, payload: unknown, extraHeaders: Record<string, string> = {}, indent = 2): void {
    const { res, req } = ctx;
    if (res.headersSent || res.destroyed) return;
    let body: Buffer = Buffer.from(JSON.stringify(payload, null, indent) + (indent === 4 ? "\n" : ""), "utf8");
    const headers: Record<string, string> = {
      ...commonHeaders(ctx, requestTokens(ctx)),
      "content-type": "application/json",
      ...extraHeaders,
    };
    const accept = String(req.headers["accept-encoding"] ?? "");
    if (options.compression === "gzip" && /\bgzip\b/.test(accept)) {
      body = gzipSync(body);
      headers["content-encoding"] = "gzip";
      headers["vary"] = "Accept-Encoding";
    }
    headers["content-length"] = String(body.length);
    res.writeHead(status, headers);
    res.end(body);
  }

  function sendError(ctx: Ctx, status: number, err: OpenAIErrorBody, extraHeaders: Record<string, string> = {}): void {
    // api.openai.com pretty-prints error bodies with 4-space indentation.
    sendJson(ctx, status, { error: err }, extraHeaders, 4);
  }

  function invalidUrl(ctx: Ctx): void {
    sendError(ctx, 404, {
      message: `Invalid URL (${ctx.rec.method} ${ctx.pathname})`,
      type: "invalid_request_error",
      param: null,
      code: null,
    });
  }

  function modelNotFound(ctx: Ctx, model: string): void {
    sendError(ctx, 404, {
      message: `The model \`${model}\` does not exist or you do not have access to it.`,
      type: "invalid_request_error",
      param: null,
      code: "model_not_found",
    });
  }

  function missingParam(ctx: Ctx, param: string): void {
    sendError(ctx, 400, {
      message: `Missing required parameter: '${param}'.`,
      type: "invalid_request_error",
      param,
      code: "missing_required_parameter",
    });
  }

  function matches(b: Behaviour, rec: RecordedRequest, pathname: string, streaming: boolean): boolean {
    const m = b.match;
    if (m === undefined) return STREAM_KINDS.has(b.kind) ? streaming : true;
    if (typeof m === "string") return m === pathname;
    if (m instanceof RegExp) {
      m.lastIndex = 0;
      return m.test(`${rec.method} ${rec.url}`);
    }
    return m(rec);
  }

  function takeBehaviour(rec: RecordedRequest, pathname: string, streaming: boolean): Behaviour | undefined {
    const idx = queue.findIndex((b) => matches(b, rec, pathname, streaming));
    if (idx < 0) return undefined;
    const [b] = queue.splice(idx, 1);
    return b;
  }

  // ---- stream plans per endpoint ----

  function modelOf(body: Record<string, unknown>, fallback: string): string {
    return typeof body["model"] === "string" && body["model"] !== "" ? body["model"] : fallback;
  }

  function obfuscation(body: Record<string, unknown>): Record<string, string> {
    const so = body["stream_options"];
    if (isObject(so) && so["include_obfuscation"] === false) return {};
    return { obfuscation: alnum(1 + (randomBytes(1)[0] ?? 0) % 12) };
  }

  function includeUsage(body: Record<string, unknown>): boolean {
    const so = body["stream_options"];
    return isObject(so) && so["include_usage"] === true;
  }

  function sseData(payload: unknown): string {
    return `data: ${JSON.stringify(payload)}\n\n`;
  }

  function chatStreamPlan(body: Record<string, unknown>, pieces: string[], promptTokens: number): StreamPlan {
    const id = `chatcmpl-${alnum(29)}`;
    const created = nowSeconds();
    const model = modelOf(body, "gpt-4o-mini");
    const withUsage = includeUsage(body);
    const base = (): Record<string, unknown> => ({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      service_tier: "default",
      system_fingerprint: SYSTEM_FINGERPRINT,
    });
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
      sseData({ ...base(), choices, ...(withUsage ? { usage: null } : {}), ...extra, ...obfuscation(body) });
    const events: SseEvent[] = [];
    events.push({
      text: chunk([
        { index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null },
      ]),
      delayBefore: false,
    });
    for (const p of pieces) {
      events.push({
        text: chunk([{ index: 0, delta: { content: p }, logprobs: null, finish_reason: null }]),
        delayBefore: true,
      });
    }
    events.push({ text: chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]), delayBefore: false });
    if (withUsage) {
      events.push({
        text: sseData({
          ...base(),
          choices: [],
          usage: chatUsage(promptTokens, approxTokens(pieces.join(""))),
          ...obfuscation(body),
        }),
        delayBefore: false,
      });
    }
    events.push({ text: "data: [DONE]\n\n", delayBefore: false });
    return { events, errorEvent: (err) => sseData({ error: err }) };
  }

  function completionStreamPlan(body: Record<string, unknown>, pieces: string[], promptTokens: number): StreamPlan {
    const id = `cmpl-${alnum(29)}`;
    const created = nowSeconds();
    const model = modelOf(body, "gpt-3.5-turbo-instruct");
    const withUsage = includeUsage(body);
    const chunk = (choices: unknown[]): string =>
      sseData({
        id,
        object: "text_completion",
        created,
        choices,
        model,
        system_fingerprint: null,
        ...(withUsage ? { usage: null } : {}),
      });
    const events: SseEvent[] = pieces.map((p) => ({
      text: chunk([{ text: p, index: 0, logprobs: null, finish_reason: null }]),
      delayBefore: true,
    }));
    // The first event goes out immediately.
    if (events[0]) events[0].delayBefore = false;
    events.push({ text: chunk([{ text: "", index: 0, logprobs: null, finish_reason: "stop" }]), delayBefore: false });
    if (withUsage) {
      events.push({
        text: sseData({
          id,
          object: "text_completion",
          created,
          model,
          system_fingerprint: null,
          choices: [],
          usage: chatUsage(promptTokens, approxTokens(pieces.join(""))),
        }),
        delayBefore: false,
      });
    }
    events.push({ text: "data: [DONE]\n\n", delayBefore: false });
    return { events, errorEvent: (err) => sseData({ error: err }) };
  }

  function responseObject(
    body: Record<string, unknown>,
    id: string,
    createdAt: number,
    status: "in_progress" | "completed",
    output: unknown[],
    usage: Record<string, unknown> | null,
  ): Record<string, unknown> {
    const pick = (k: string, d: unknown): unknown => (body[k] === undefined ? d : body[k]);
    return {
      id,
      object: "response",
      created_at: createdAt,
      status,
      background: pick("background", false),
      completed_at: status === "completed" ? nowSeconds() : null,
      error: null,
      incomplete_details: null,
      instructions: pick("instructions", null),
      max_output_tokens: pick("max_output_tokens", null),
      max_tool_calls: pick("max_tool_calls", null),
      model: modelOf(body, "gpt-4.1"),
      output,
      parallel_tool_calls: pick("parallel_tool_calls", true),
      previous_response_id: pick("previous_response_id", null),
      prompt_cache_key: pick("prompt_cache_key", null),
      reasoning: { effort: null, summary: null },
      safety_identifier: pick("safety_identifier", null),
      service_tier: "default",
      store: pick("store", true),
      temperature: pick("temperature", 1.0),
      text: { format: { type: "text" }, verbosity: "medium" },
      tool_choice: pick("tool_choice", "auto"),
      tools: pick("tools", []),
      top_logprobs: pick("top_logprobs", 0),
      top_p: pick("top_p", 1.0),
      truncation: pick("truncation", "disabled"),
      usage,
      user: pick("user", null),
      metadata: pick("metadata", {}),
    };
  }

  function responsesStreamPlan(body: Record<string, unknown>, pieces: string[], inputTokens: number): StreamPlan {
    const id = `resp_${hex(25)}`;
    const msgId = `msg_${hex(25)}`;
    const createdAt = nowSeconds();
    const text = pieces.join("");
    let seq = 0;
    const ev = (type: string, payload: Record<string, unknown>, delayBefore = false): SseEvent => ({
      text: `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...payload })}\n\n`,
      delayBefore,
    });
    const part = (t: string): Record<string, unknown> => ({ type: "output_text", annotations: [], logprobs: [], text: t });
    const events: SseEvent[] = [];
    events.push(ev("response.created", { response: responseObject(body, id, createdAt, "in_progress", [], null) }));
    events.push(ev("response.in_progress", { response: responseObject(body, id, createdAt, "in_progress", [], null) }));
    events.push(
      ev("response.output_item.added", {
        output_index: 0,
        item: { id: msgId, type: "message", status: "in_progress", content: [], role: "assistant" },
      }),
    );
    events.push(
      ev("response.content_part.added", { item_id: msgId, output_index: 0, content_index: 0, part: part("") }),
    );
    for (const p of pieces) {
      events.push(
        ev(
          "response.output_text.delta",
          { item_id: msgId, output_index: 0, content_index: 0, delta: p, logprobs: [], ...obfuscation(body) },
          true,
        ),
      );
    }
    events.push(
      ev("response.output_text.done", { item_id: msgId, output_index: 0, content_index: 0, text, logprobs: [] }),
    );
    events.push(ev("response.content_part.done", { item_id: msgId, output_index: 0, content_index: 0, part: part(text) }));
    const item = { id: msgId, type: "message", status: "completed", content: [part(text)], role: "assistant" };
    events.push(ev("response.output_item.done", { output_index: 0, item }));
    events.push(
      ev("response.completed", {
        response: responseObject(
          body,
          id,
          createdAt,
          "completed",
          [item],
          responsesUsage(inputTokens, approxTokens(text)),
        ),
      }),
    );
    return {
      events,
      errorEvent: (err, sent) =>
        `event: error\ndata: ${JSON.stringify({
          type: "error",
          code: err.code,
          message: err.message,
          param: err.param,
          sequence_number: sent,
        })}\n\n`,
    };
  }

  /** Reply text and prompt tokens for a streamable request (used by both stream and non-stream). */
  function answerFor(endpoint: Endpoint, body: Record<string, unknown>): { text: string; promptTokens: number; limit?: number } {
    if (endpoint === "completions") {
      const p = promptText(body["prompt"]);
      const limit = typeof body["max_tokens"] === "number" ? body["max_tokens"] : undefined;
      return { text: fakeReply(p), promptTokens: approxTokens(p), ...(limit !== undefined ? { limit } : {}) };
    }
    if (endpoint === "responses") {
      const { last, all } = responsesInputText(body["input"]);
      const instr = typeof body["instructions"] === "string" ? body["instructions"] : "";
      return { text: fakeReply(last), promptTokens: approxTokens(instr + all) + 7 };
    }
    const msgs = body["messages"];
    const lim = body["max_completion_tokens"] ?? body["max_tokens"];
    return {
      text: fakeReply(lastUserTextFromMessages(msgs)),
      promptTokens: promptTokensFromMessages(msgs),
      ...(typeof lim === "number" ? { limit: lim } : {}),
    };
  }

  function streamPlanFor(endpoint: Endpoint | undefined, body: Record<string, unknown>, shape: StreamShape): StreamPlan {
    const ep: Endpoint = endpoint && STREAMABLE.has(endpoint) ? endpoint : "chat";
    const { text, promptTokens } = answerFor(ep, body);
    const pieces = shape.content && shape.content.length > 0 ? shape.content : splitInto(text, shape.chunks ?? streamChunks);
    if (ep === "completions") return completionStreamPlan(body, pieces, promptTokens);
    if (ep === "responses") return responsesStreamPlan(body, pieces, promptTokens);
    return chatStreamPlan(body, pieces, promptTokens);
  }

  interface Cut {
    after: number;
    mode: "destroy" | "truncate" | "error";
    error?: OpenAIErrorBody;
  }

  async function emitStream(ctx: Ctx, plan: StreamPlan, intervalMs: number, cut?: Cut): Promise<void> {
    const { res, signal } = ctx;
    if (res.headersSent || res.destroyed) return;
    res.writeHead(200, {
      ...commonHeaders(ctx, requestTokens(ctx)),
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
    });
    // Like the real API, headers go out before the first token.
    res.flushHeaders();
    const writes: number[] = [];
    const texts: string[] = [];
    lastStreamWrites = writes;
    lastStreamEvents = texts;
    const total = plan.events.length;
    const limit = cut ? Math.max(0, Math.min(cut.after, total - 1)) : total;
    let lastWrite: Promise<void> = Promise.resolve();
    for (let i = 0; i < limit; i++) {
      const ev = plan.events[i];
      if (!ev) break;
      if (ev.delayBefore && intervalMs > 0) {
        try {
          await sleep(intervalMs, undefined, { signal });
        } catch {
          return;
        }
      }
      if (signal.aborted || res.destroyed) return;
      lastWrite = new Promise<void>((resolve) => res.write(ev.text, () => resolve()));
      writes.push(performance.now());
      texts.push(ev.text);
    }
    if (!cut) {
      res.end();
      return;
    }
    if (cut.mode === "truncate") {
      res.end();
      return;
    }
    if (cut.mode === "error") {
      const text = plan.errorEvent(cut.error ?? defaultErrorFor(500), limit);
      res.write(text);
      writes.push(performance.now());
      texts.push(text);
      res.end();
      return;
    }
    // destroy: make sure the events left this process, give the client a moment to read them, then RST.
    await lastWrite;
    try {
      await sleep(5, undefined, { signal });
    } catch {
      return;
    }
    const sock = res.socket;
    if (sock && !sock.destroyed) sock.resetAndDestroy();
    else res.destroy();
  }

  // ---- default endpoint handlers ----

  function handleNonStream(ctx: Ctx, endpoint: Endpoint, body: Record<string, unknown>): void {
    const created = nowSeconds();
    if (endpoint === "chat") {
      const ans = answerFor("chat", body);
      let text = ans.text;
      let finish = "stop";
      if (ans.limit !== undefined && approxTokens(text) > ans.limit) {
        text = text.slice(0, Math.max(1, ans.limit * 4));
        finish = "length";
      }
      sendJson(ctx, 200, {
        id: `chatcmpl-${alnum(29)}`,
        object: "chat.completion",
        created,
        model: modelOf(body, "gpt-4o-mini"),
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: text, refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: finish,
          },
        ],
        usage: chatUsage(ans.promptTokens, approxTokens(text)),
        service_tier: "default",
        system_fingerprint: SYSTEM_FINGERPRINT,
      });
      return;
    }
    if (endpoint === "completions") {
      const ans = answerFor("completions", body);
      let text = ans.text;
      let finish = "stop";
      if (ans.limit !== undefined && approxTokens(text) > ans.limit) {
        text = text.slice(0, Math.max(1, ans.limit * 4));
        finish = "length";
      }
      sendJson(ctx, 200, {
        id: `cmpl-${alnum(29)}`,
        object: "text_completion",
        created,
        model: modelOf(body, "gpt-3.5-turbo-instruct"),
        choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
        usage: chatUsage(ans.promptTokens, approxTokens(text)),
        system_fingerprint: null,
      });
      return;
    }
    if (endpoint === "responses") {
      const ans = answerFor("responses", body);
      const msgId = `msg_${hex(25)}`;
      const item = {
        id: msgId,
        type: "message",
        status: "completed",
        content: [{ type: "output_text", annotations: [], logprobs: [], text: ans.text }],
        role: "assistant",
      };
      sendJson(
        ctx,
        200,
        responseObject(body, `resp_${hex(25)}`, created, "completed", [item], responsesUsage(ans.promptTokens, approxTokens(ans.text))),
      );
    }
  }

  function handleEmbeddings(ctx: Ctx, body: Record<string, unknown>): void {
    const input = body["input"];
    if (input === undefined) return missingParam(ctx, "input");
    const fmt = body["encoding_format"] ?? "float";
    if (fmt !== "float" && fmt !== "base64") {
      return sendError(ctx, 400, {
        message: `Invalid value for 'encoding_format': '${String(fmt)}'. Supported values are: 'float' and 'base64'.`,
        type: "invalid_request_error",
        param: "encoding_format",
        code: "invalid_value",
      });
    }
    const model = modelOf(body, "text-embedding-3-small");
    const dims =
      typeof body["dimensions"] === "number" && body["dimensions"] > 0
        ? Math.floor(body["dimensions"])
        : model.includes("3-large")
          ? 3072
          : 1536;
    let texts: string[];
    if (typeof input === "string") texts = [input];
    else if (Array.isArray(input) && input.length > 0 && typeof input[0] === "number") texts = [input.join(",")];
    else if (Array.isArray(input)) texts = input.map((x: unknown) => (Array.isArray(x) ? x.join(",") : String(x)));
    else texts = [String(input)];
    if (texts.length === 0 || texts.some((t) => t === "")) {
      return sendError(ctx, 400, {
        message: "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
        type: "invalid_request_error",
        param: null,
        code: null,
      });
    }
    const tokens = texts.reduce((n, t) => n + approxTokens(t), 0);
    sendJson(ctx, 200, {
      object: "list",
      data: texts.map((t, index) => {
        const v = embeddingVector(t, dims);
        return { object: "embedding", index, embedding: fmt === "base64" ? float32Base64(v) : v };
      }),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  const MOD_CATEGORIES = [
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
  ] as const;

  function moderationResult(text: string): Record<string, unknown> {
    const violent = /\b(kill|murder|attack)\b/i.test(text);
    const categories: Record<string, boolean> = {};
    const scores: Record<string, number> = {};
    const applied: Record<string, string[]> = {};
    for (const c of MOD_CATEGORIES) {
      const hit = violent && c === "violence";
      categories[c] = hit;
      scores[c] = hit ? 0.91 : 0.0000123;
      applied[c] = ["text"];
    }
    return { flagged: violent, categories, category_scores: scores, category_applied_input_types: applied };
  }

  function handleModerations(ctx: Ctx, body: Record<string, unknown>): void {
    const input = body["input"];
    if (input === undefined) return missingParam(ctx, "input");
    let results: Record<string, unknown>[];
    if (typeof input === "string") results = [moderationResult(input)];
    else if (Array.isArray(input) && input.every((x) => typeof x === "string")) {
      results = input.map((x) => moderationResult(String(x)));
    } else if (Array.isArray(input)) results = [moderationResult(contentText(input))];
    else results = [moderationResult(String(input))];
    sendJson(ctx, 200, {
      id: `modr-${hex(16)}`,
      model: modelOf(body, "omni-moderation-latest"),
      results,
    });
  }

  function modelObject(id: string): Record<string, unknown> {
    // Stable pseudo creation date per id.
    const h = createHash("sha256").update(id).digest().readUInt32LE(0);
    return { id, object: "model", created: 1_680_000_000 + (h % 60_000_000), owned_by: id.startsWith("ft:") ? organization : "system" };
  }

  // ---- request dispatch ----

  async function handle(ctx: Ctx): Promise<void> {
    const { rec, pathname } = ctx;
    const route = classify(rec.method, pathname);
    const body = isObject(rec.json) ? rec.json : undefined;
    const streaming = !!route && STREAMABLE.has(route.endpoint) && body?.["stream"] === true;

    // Authentication comes first, like the real API (and does not consume queued behaviours).
    if (options.requireAuth !== undefined) {
      const auth = ctx.req.headers["authorization"];
      if (auth !== options.requireAuth) {
        const given = typeof auth === "string" ? auth.replace(/^Bearer\s+/i, "") : "";
        if (!given) {
          return sendError(ctx, 401, {
            message:
              "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
            type: "invalid_request_error",
            param: null,
            code: null,
          });
        }
        return sendError(ctx, 401, {
          message: `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        });
      }
    }

    const b = takeBehaviour(rec, pathname, streaming);
    if (b) {
      switch (b.kind) {
        case "error": {
          const def = defaultErrorFor(b.status);
          const err: OpenAIErrorBody = {
            message: b.message ?? def.message,
            type: b.type ?? def.type,
            param: b.param === undefined ? def.param : b.param,
            code: b.code === undefined ? def.code : b.code,
          };
          const extra: Record<string, string> = {};
          if (b.status === 429) {
            const ms = b.retryAfterMs ?? 1000;
            extra["retry-after"] = String(Math.max(1, Math.ceil(ms / 1000)));
            extra["retry-after-ms"] = String(ms);
            extra["x-ratelimit-remaining-requests"] = "0";
          }
          return sendError(ctx, b.status, err, { ...extra, ...b.headers });
        }
        case "raw": {
          if (ctx.res.destroyed) return;
          ctx.res.writeHead(b.status, b.headers);
          ctx.res.end(b.body);
          return;
        }
        case "hang":
          return; // the socket is destroyed by the client or by close()
        case "reset": {
          const sock = ctx.res.socket;
          if (sock && !sock.destroyed) sock.resetAndDestroy();
          return;
        }
        case "delay": {
          try {
            await sleep(b.ms, undefined, { signal: ctx.signal });
          } catch {
            return;
          }
          break; // fall through to the default behaviour
        }
        case "stream":
          return emitStream(ctx, streamPlanFor(route?.endpoint, body ?? {}, b), b.intervalMs ?? streamInterval);
        case "truncate":
        case "destroy-mid-stream":
          return emitStream(ctx, streamPlanFor(route?.endpoint, body ?? {}, b), b.intervalMs ?? streamInterval, {
            after: b.afterChunks,
            mode: b.kind === "truncate" ? "truncate" : "destroy",
          });
        case "error-mid-stream": {
          const def = defaultErrorFor(500);
          return emitStream(ctx, streamPlanFor(route?.endpoint, body ?? {}, b), b.intervalMs ?? streamInterval, {
            after: b.afterChunks,
            mode: "error",
            error: {
              message: b.message ?? def.message,
              type: b.type ?? def.type,
              param: b.param === undefined ? null : b.param,
              code: b.code === undefined ? null : b.code,
            },
          });
        }
      }
    }

    // ---- default behaviour ----
    if (!route) return invalidUrl(ctx);
    const { endpoint } = route;

    if (endpoint === "models") {
      return sendJson(ctx, 200, { object: "list", data: models.map(modelObject) });
    }
    if (endpoint === "model") {
      const id = route.modelId ?? "";
      if (!models.includes(id)) return modelNotFound(ctx, id);
      return sendJson(ctx, 200, modelObject(id));
    }

    // POST endpoints need a JSON object body.
    if (rec.json === undefined) {
      return sendError(ctx, 400, {
        message:
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
        type: "invalid_request_error",
        param: null,
        code: null,
      });
    }
    if (!body) {
      return sendError(ctx, 400, {
        message: "Invalid type for request body: expected an object, but got something else instead.",
        type: "invalid_request_error",
        param: null,
        code: "invalid_type",
      });
    }

    const model = body["model"];
    const needsModel = endpoint !== "moderations";
    if (needsModel && (typeof model !== "string" || model === "")) {
      if (endpoint === "chat" || endpoint === "completions") {
        return sendError(ctx, 400, {
          message: "you must provide a model parameter",
          type: "invalid_request_error",
          param: null,
          code: null,
        });
      }
      return missingParam(ctx, "model");
    }
    if (options.strictModels && typeof model === "string" && !models.includes(model)) {
      return modelNotFound(ctx, model);
    }

    switch (endpoint) {
      case "chat": {
        const msgs = body["messages"];
        if (msgs === undefined) return missingParam(ctx, "messages");
        if (Array.isArray(msgs) && msgs.length === 0) {
          return sendError(ctx, 400, {
            message: "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            type: "invalid_request_error",
            param: "messages",
            code: "empty_array",
          });
        }
        break;
      }
      case "responses":
        break;
      case "embeddings":
        return handleEmbeddings(ctx, body);
      case "moderations":
        return handleModerations(ctx, body);
    }

    if (streaming) return emitStream(ctx, streamPlanFor(endpoint, body, {}), streamInterval);
    return handleNonStream(ctx, endpoint, body);
  }

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => undefined);
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      let json: unknown;
      if (body.length > 0) {
        try {
          json = JSON.parse(body.toString("utf8"));
        } catch {
          json = undefined;
        }
      }
      const url = req.url ?? "/";
      const rec: RecordedRequest = {
        method: req.method ?? "GET",
        url,
        headers: { ...req.headers },
        body,
        json,
        receivedAt: performance.now(),
      };
      requests.push(rec);
      requestCount++;
      const controller = new AbortController();
      inFlight.add(controller);
      const done = (): void => {
        inFlight.delete(controller);
        controller.abort();
      };
      res.on("close", done);
      if (closing) {
        res.destroy();
        return;
      }
      const qIdx = url.indexOf("?");
      const pathname = qIdx >= 0 ? url.slice(0, qIdx) : url;
      const ctx: Ctx = {
        req,
        res,
        rec,
        pathname,
        signal: controller.signal,
        requestId: `req_${hex(16)}`,
        startedAt: rec.receivedAt,
      };
      handle(ctx).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          sendError(ctx, 500, { ...defaultErrorFor(500), message: `fake-openai internal error: ${String(err)}` });
        } else {
          res.destroy();
        }
      });
    });
  });
  server.keepAliveTimeout = 5_000;

  server.on("connection", (sock: Socket) => {
    sockets.add(sock);
    totalSockets++;
    sock.on("error", () => undefined);
    sock.on("close", () => {
      sockets.delete(sock);
      const at = performance.now();
      for (const w of [...closeWaiters]) w(at);
    });
  });
  server.on("clientError", (_err, sock) => {
    if (!sock.destroyed) sock.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const fake: FakeOpenAI = {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue(behaviour: Behaviour): void {
      queue.push(behaviour);
    },
    pending(): number {
      return queue.length;
    },
    get lastStreamWrites(): number[] {
      return lastStreamWrites;
    },
    get lastStreamEvents(): string[] {
      return lastStreamEvents;
    },
    openSockets(): number {
      return sockets.size;
    },
    totalSockets(): number {
      return totalSockets;
    },
    waitForSocketClose(timeoutMs: number): Promise<number> {
      const start = performance.now();
      return new Promise<number>((resolve, reject) => {
        const waiter = (at: number): void => {
          closeWaiters.delete(waiter);
          clearTimeout(timer);
          resolve(at - start);
        };
        const timer = setTimeout(() => {
          closeWaiters.delete(waiter);
          reject(new Error(`fake-openai: no socket closed within ${timeoutMs} ms`));
        }, timeoutMs);
        closeWaiters.add(waiter);
      });
    },
    reset(): void {
      requests.length = 0;
      queue.length = 0;
      lastStreamWrites = [];
      lastStreamEvents = [];
      requestCount = 0;
      totalSockets = sockets.size;
    },
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      queue.length = 0;
      for (const c of [...inFlight]) c.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const socketsClosed = [...sockets].map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.closed) return resolve();
            s.once("close", () => resolve());
            s.destroy();
          }),
      );
      await Promise.all([closed, ...socketsClosed]);
      for (const w of [...closeWaiters]) w(performance.now());
    },
  };
  return fake;
}
