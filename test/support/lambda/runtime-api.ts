/**
 * Lambda Runtime API (2018-06-01) server for a single runtime process, as
 * spoken by aws-lambda-ric v4:
 *  - GET  /runtime/invocation/next           native client (libcurl, "AWS_Lambda_Cpp/x" user agent)
 *  - POST /runtime/invocation/{id}/response  buffered: native client, application/json, content-length
 *                                            streaming: node:http, chunked, "Lambda-Runtime-Function-Response-Mode:
 *                                            streaming", "Trailer: Lambda-Runtime-Function-Error-Type,
 *                                            Lambda-Runtime-Function-Error-Body" (error trailers only on failure)
 *  - POST /runtime/invocation/{id}/error     native client; error type is only inside the JSON body
 *                                            ({errorType,errorMessage,trace}); header lambda-runtime-function-xray-error-cause
 *  - POST /runtime/init/error                node:http, header Lambda-Runtime-Function-Error-Type
 * By default one invocation at a time (Lambda's default mode); further
 * invocations wait in a FIFO queue until the runtime asks for the next one.
 * With `maxConcurrency` above 1 (Lambda Managed Instances, where the runtime
 * sees AWS_LAMBDA_MAX_CONCURRENCY), several `/next` long-polls may wait at once
 * (one per worker thread of the runtime), and up to `maxConcurrency`
 * invocations run at once, each handed to the long-poll that has waited longest.
 */
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";

const PREFIX = "/2018-06-01/runtime";
/** Max synchronous invoke response / request payload (6 MB). */
export const MAX_BUFFERED_PAYLOAD = 6 * 1024 * 1024;

export type InvocationOutcome =
  | { kind: "buffered"; payload: Buffer }
  | { kind: "error"; errorType: string; payload: string }
  | { kind: "abort"; reason: string };

/** Receives the result of one invocation. */
export interface InvocationSink {
  /**
   * The function started a streaming response. The sink must consume `body`
   * completely (resume it when not interested). Error trailers are on
   * `body.trailers` after "end". If the invocation dies mid-stream, `settle`
   * is called with an abort afterwards.
   */
  stream(contentType: string, body: IncomingMessage): void;
  /** Final outcome; never called after a stream that ended normally. */
  settle(outcome: InvocationOutcome): void;
}

interface Invocation {
  readonly requestId: string;
  readonly payload: string;
  readonly sink: InvocationSink;
  state: "queued" | "running" | "streaming" | "done";
  timer?: NodeJS.Timeout;
}

export interface RuntimeApiOptions {
  functionArn: string;
  timeoutMs: number;
  /** Invocations handed out at once (default 1: Lambda's default, one at a time). */
  maxConcurrency?: number;
  /** First GET /next (runtime finished init). */
  onReady(): void;
  onInitError(errorType: string, body: string): void;
  /** An invocation exceeded timeoutMs: the runtime must be killed. */
  onTimeout(requestId: string): void;
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

export function newTraceId(): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16).padStart(8, "0");
  return `Root=1-${epoch}-${hex(12)};Parent=${hex(8)};Sampled=0;Lineage=1:${hex(4)}:0`;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooBig = true;
      if (!tooBig) chunks.push(chunk);
    });
    req.on("end", () => resolve(tooBig ? null : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export class RuntimeApiServer {
  readonly server: Server;
  #options: RuntimeApiOptions;
  #queue: Invocation[] = [];
  #byId = new Map<string, Invocation>();
  /** Invocations handed out and not finished. */
  #running = new Set<Invocation>();
  /** Pending `/next` long-polls, oldest first. */
  #waiting: ServerResponse[] = [];
  #maxConcurrency: number;
  #ready = false;
  #dead: string | null = null;

  constructor(options: RuntimeApiOptions) {
    this.#options = options;
    this.#maxConcurrency = options.maxConcurrency ?? 1;
    // Big header limit: the native client puts the whole X-Ray error cause (stack) in a header.
    this.server = createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => {
      this.#route(req, res).catch((err: unknown) => {
        reply(res, 500, { errorMessage: String(err), errorType: "EmulatorError" });
      });
    });
    // Keep-alive sockets of the runtime (curl handle, node agent) must never be timed out under it.
    this.server.keepAliveTimeout = 0;
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 0;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Queue an invocation; it is handed out when the runtime asks for the next one. */
  enqueue(requestId: string, event: unknown, sink: InvocationSink): void {
    if (this.#dead !== null) {
      sink.settle({ kind: "abort", reason: this.#dead });
      return;
    }
    const invocation: Invocation = { requestId, payload: JSON.stringify(event), sink, state: "queued" };
    this.#byId.set(requestId, invocation);
    this.#queue.push(invocation);
    this.#dispatch();
  }

  /** The runtime is gone (exit, kill, close): fail everything pending and refuse new work. */
  markDead(reason: string): void {
    if (this.#dead === null) this.#dead = reason;
    const pending = [...this.#running, ...this.#queue];
    this.#queue = [];
    for (const invocation of pending) this.#finish(invocation, { kind: "abort", reason });
    for (const res of this.#waiting.splice(0)) res.destroy();
  }

  /** Invocations running now (handed out, not finished). */
  get runningCount(): number {
    return this.#running.size;
  }

  async close(): Promise<void> {
    this.markDead("emulator closed");
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  #finish(invocation: Invocation, outcome: InvocationOutcome | null): void {
    if (invocation.state === "done") return;
    invocation.state = "done";
    clearTimeout(invocation.timer);
    this.#byId.delete(invocation.requestId);
    this.#running.delete(invocation);
    if (outcome) invocation.sink.settle(outcome);
    this.#dispatch();
  }

  #dispatch(): void {
    while (this.#dead === null && this.#running.size < this.#maxConcurrency && this.#waiting.length > 0 && this.#queue.length > 0) {
      const res = this.#waiting.shift() as ServerResponse;
      const invocation = this.#queue.shift() as Invocation;
      this.#start(invocation, res);
    }
  }

  #start(invocation: Invocation, res: ServerResponse): void {
    this.#running.add(invocation);
    invocation.state = "running";
    const deadline = Date.now() + this.#options.timeoutMs;
    invocation.timer = setTimeout(() => {
      this.#finish(invocation, { kind: "abort", reason: `Task timed out after ${this.#options.timeoutMs} ms` });
      this.#options.onTimeout(invocation.requestId);
    }, this.#options.timeoutMs);
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(invocation.payload),
      "Lambda-Runtime-Aws-Request-Id": invocation.requestId,
      "Lambda-Runtime-Deadline-Ms": String(deadline),
      "Lambda-Runtime-Invoked-Function-Arn": this.#options.functionArn,
      "Lambda-Runtime-Trace-Id": newTraceId(),
    });
    res.end(invocation.payload);
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "").split("?")[0] ?? "";
    if (req.method === "GET" && path === `${PREFIX}/invocation/next`) return this.#next(res);
    if (req.method === "POST" && path === `${PREFIX}/init/error`) return this.#initError(req, res);
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method === "POST" && match) {
      const requestId = decodeURIComponent(match[1] ?? "");
      const invocation = this.#byId.get(requestId);
      if (!invocation || invocation.state !== "running") {
        req.resume();
        return reply(res, 400, { errorMessage: `Invalid request ID: ${requestId}`, errorType: "InvalidRequestID" });
      }
      return match[2] === "response" ? this.#response(invocation, req, res) : this.#error(invocation, req, res);
    }
    req.resume();
    reply(res, 404, { errorMessage: `Unknown path ${req.method} ${path}`, errorType: "NotFound" });
  }

  #next(res: ServerResponse): void {
    if (!this.#ready) {
      this.#ready = true;
      this.#options.onReady();
    }
    if (this.#maxConcurrency === 1) {
      // One at a time: asking for more work means the runtime is done with the current invocation without answering it.
      for (const invocation of this.#running) this.#finish(invocation, { kind: "error", errorType: "Runtime.NoResponse", payload: "{}" });
      for (const stale of this.#waiting.splice(0)) stale.destroy();
    }
    this.#waiting.push(res);
    res.on("close", () => {
      const index = this.#waiting.indexOf(res);
      if (index >= 0) this.#waiting.splice(index, 1);
    });
    this.#dispatch();
  }

  async #initError(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readBody(req, MAX_BUFFERED_PAYLOAD)) ?? Buffer.alloc(0);
    const errorType = String(req.headers["lambda-runtime-function-error-type"] ?? "Runtime.Unknown");
    reply(res, 202, { status: "OK" });
    this.#options.onInitError(errorType, body.toString("utf8"));
  }

  async #error(invocation: Invocation, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readBody(req, MAX_BUFFERED_PAYLOAD)) ?? Buffer.alloc(0);
    const text = body.toString("utf8");
    let errorType = String(req.headers["lambda-runtime-function-error-type"] ?? "");
    if (!errorType) {
      try {
        errorType = String((JSON.parse(text) as { errorType?: unknown }).errorType ?? "");
      } catch {
        // not JSON: keep the default below
      }
    }
    reply(res, 202, { status: "OK" });
    this.#finish(invocation, { kind: "error", errorType: errorType || "Runtime.Unknown", payload: text });
  }

  async #response(invocation: Invocation, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const mode = String(req.headers["lambda-runtime-function-response-mode"] ?? "").toLowerCase();
    if (mode !== "streaming") {
      const body = await readBody(req, MAX_BUFFERED_PAYLOAD);
      if (body === null) {
        reply(res, 413, { errorMessage: "Response payload size exceeded maximum allowed payload size (6291456 bytes).", errorType: "RequestEntityTooLarge" });
        this.#finish(invocation, { kind: "error", errorType: "Function.ResponseSizeTooLarge", payload: "{}" });
        return;
      }
      reply(res, 202, { status: "OK" });
      this.#finish(invocation, { kind: "buffered", payload: body });
      return;
    }
    invocation.state = "streaming";
    let ended = false;
    req.on("end", () => {
      ended = true;
      reply(res, 202, { status: "OK" });
      // Normal end (with or without error trailers): the sink handles the outcome itself.
      this.#finish(invocation, null);
    });
    req.on("close", () => {
      if (!ended) this.#finish(invocation, { kind: "abort", reason: "response stream interrupted" });
    });
    req.on("error", () => {
      // reported through "close"
    });
    const contentType = String(req.headers["content-type"] ?? "application/octet-stream");
    invocation.sink.stream(contentType, req);
  }
}
