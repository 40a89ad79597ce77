/**
 * The fake OpenAI upstream's types: what tests see (requests, behaviours,
 * options, the server handle) and what its request handling passes around.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ObjectStore, ProjectObjects } from "./stored.ts";

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
  /** Line end of the SSE framing (default LF): CRLF and a bare CR are valid SSE too, and some servers send them. */
  lineEnd?: "\n" | "\r\n" | "\r";
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
  /**
   * Resolves once the most recent stream has stopped writing: written whole, cut
   * short as asked, or abandoned because its client went away (resolved before any stream).
   */
  readonly lastStreamDone: Promise<void>;
  /** Resolves with the requests once `count` have been received since start/reset; rejects after timeoutMs. */
  waitForRequests(count: number, timeoutMs: number): Promise<RecordedRequest[]>;
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
  /** The objects stored in a project (default: the key's default project, no `openai-project` header). */
  objects(project?: string): ProjectObjects;
  /** Finishes a batch as OpenAI would (output file, usage), in whichever project holds it. */
  completeBatch(batchId: string): void;
  /** Finishes a fine-tuning job as OpenAI would (fine-tuned model, checkpoint, result file). */
  completeFineTuningJob(jobId: string): void;
}

// ---------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------

export interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export interface SseEvent {
  text: string;
  /** Wait intervalMs before writing (content deltas). */
  delayBefore: boolean;
}

export interface StreamPlan {
  events: SseEvent[];
  /** Build the in-band error event given how many events were sent before it. */
  errorEvent: (err: OpenAIErrorBody, sent: number) => string;
}

/** A streamable request's reply text and prompt tokens (the same streamed or not), and its output token limit. */
export interface Answer {
  text: string;
  promptTokens: number;
  limit?: number;
}

export type Endpoint = "chat" | "completions" | "responses" | "embeddings" | "moderations" | "models" | "model";

/** One server's settings (options with their defaults) and the state its request handling reads and writes. */
export interface FakeServerState {
  readonly options: FakeOpenAIOptions;
  readonly streamChunks: number;
  readonly streamInterval: number;
  readonly models: readonly string[];
  readonly organization: string;
  readonly edgeHeaders: boolean;
  /** Queued behaviours, oldest first. */
  readonly queue: Behaviour[];
  /** Requests received since start/reset (for x-ratelimit-remaining-requests). */
  requestCount: number;
  lastStreamWrites: number[];
  lastStreamEvents: string[];
  lastStreamDone: Promise<void>;
  /** What the account stores (files, batches…), per project. */
  readonly objects: ObjectStore;
}

/** One request being answered. */
export interface Ctx {
  state: FakeServerState;
  req: IncomingMessage;
  res: ServerResponse;
  rec: RecordedRequest;
  pathname: string;
  signal: AbortSignal;
  requestId: string;
  startedAt: number;
}
