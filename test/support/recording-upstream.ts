/**
 * A tiny streaming chat upstream for load tests: every streamed chat request
 * gets its own deterministic stream, and the upstream records the sha256 and
 * length of exactly the bytes it wrote, keyed by the request id the client put
 * in the body's `user` field. A client can then check byte for byte that what
 * reached it through the gateway is what the upstream sent.
 *
 * Streams follow OpenAI's chat wire format (role chunk, content deltas, finish
 * chunk, `[DONE]`), honour `stream_options.include_usage` (`"usage":null` on
 * every chunk plus a usage-only chunk), vary in length and content (multi-byte
 * characters included), and are written in uneven pieces, sometimes splitting
 * an event (or a UTF-8 character) across writes.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** What was sent for one request id. */
export interface StreamRecord {
  readonly sha256: string;
  readonly bytes: number;
  readonly events: number;
}

/** A running recording upstream. */
export interface RecordingUpstream {
  /** e.g. "http://127.0.0.1:PORT/v1" */
  readonly baseUrl: string;
  /** Streams fully written, by request id. */
  readonly records: ReadonlyMap<string, StreamRecord>;
  /** Requests received (any kind). */
  requestCount(): number;
  /** Streams whose connection closed before the upstream finished writing. */
  abortedCount(): number;
  /** The most requests in flight at once since the last reset. */
  maxInFlight(): number;
  /** Pause between two writes of a stream (0, the default: one turn of the event loop), to make streams last; a request's `metadata.write_delay_ms` sets its own. */
  setWriteDelay(ms: number): void;
  /**
   * Holds every stream's first byte until `count` requests are in flight at once (or `timeoutMs`
   * passed), then releases them all: proof that that many streams were open through the gateway.
   * `count` 0 turns it off.
   */
  setBarrier(count: number, timeoutMs?: number): void;
  openSockets(): number;
  /** Connections accepted since the last reset (a client that pools its connections opens few). */
  connectionCount(): number;
  reset(): void;
  close(): Promise<void>;
}

/** Deterministic per-id randomness (xorshift32 seeded from the id's hash). */
function generatorFor(id: string): () => number {
  let state = createHash("sha256").update(id).digest().readUInt32LE(0) || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4_294_967_296;
  };
}

const WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "größe", "naïve", "日本語", "😀", "\\n", '"quoted"', "tab\t", "end."];

/** The events of one stream, as text. */
export function streamEvents(id: string, model: string, includeUsage: boolean): string[] {
  const random = generatorFor(id);
  const deltas = 5 + Math.floor(random() * 26);
  const base = { id: `chatcmpl-${createHash("sha256").update(id).digest("hex").slice(0, 24)}`, object: "chat.completion.chunk", created: 1_700_000_000, model, system_fingerprint: "fp_load" };
  const usageNull = includeUsage ? { usage: null } : {};
  const chunk = (choices: unknown[]) => `data: ${JSON.stringify({ ...base, choices, ...usageNull })}\n\n`;
  const events = [chunk([{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }])];
  let completion = 0;
  for (let index = 0; index < deltas; index += 1) {
    let content = "";
    for (let words = 1 + Math.floor(random() * 12); words > 0; words -= 1) content += `${WORDS[Math.floor(random() * WORDS.length)]} `;
    completion += 1;
    events.push(chunk([{ index: 0, delta: { content }, logprobs: null, finish_reason: null }]));
  }
  events.push(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]));
  if (includeUsage) {
    const prompt = 10 + Math.floor(random() * 90);
    events.push(`data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } })}\n\n`);
  }
  events.push("data: [DONE]\n\n");
  return events;
}

/** Starts the upstream on 127.0.0.1. */
export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const records = new Map<string, StreamRecord>();
  const sockets = new Set<Socket>();
  let requests = 0;
  let aborted = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let writeDelayMs = 0;
  let connections = 0;
  let barrier: { count: number; waiting: (() => void)[]; timer?: NodeJS.Timeout } | undefined;
  const releaseBarrier = () => {
    if (barrier === undefined) return;
    const { waiting, timer } = barrier;
    clearTimeout(timer);
    barrier = undefined;
    for (const start of waiting) start();
  };

  const server = http.createServer({ keepAlive: true }, (request, response) => {
    requests += 1;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    response.once("close", () => {
      inFlight -= 1;
    });
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      let body: {
        user?: unknown;
        model?: unknown;
        stream?: unknown;
        stream_options?: { include_usage?: unknown } | null;
        metadata?: { write_delay_ms?: unknown } | null;
      };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
      } catch {
        body = {};
      }
      if (request.url !== "/v1/chat/completions" || body.stream !== true || typeof body.user !== "string") {
        const error = JSON.stringify({ error: { message: "recording upstream: streamed chat with a `user` id only", type: "invalid_request_error", param: null, code: null } });
        response.writeHead(400, { "content-type": "application/json", "content-length": Buffer.byteLength(error), "x-request-id": "req_recording_400" });
        response.end(error);
        return;
      }
      const id = body.user;
      const events = streamEvents(id, typeof body.model === "string" ? body.model : "gpt-4o", body.stream_options?.include_usage === true);
      const bytes = Buffer.from(events.join(""), "utf8");
      response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-request-id": `req_recording_${id}` });
      response.flushHeaders();
      const random = generatorFor(`${id}/writes`);
      // A request may set its own pause between writes (metadata.write_delay_ms), to last longer than others.
      const delayMs = Number(body.metadata?.write_delay_ms ?? writeDelayMs) || 0;
      let offset = 0;
      const start = () => writeSome();
      let finished = false;
      response.once("close", () => {
        if (!finished) aborted += 1;
      });
      // Uneven writes, a turn of the event loop apart, so the gateway reads the stream in many pieces.
      const writeSome = () => {
        if (response.destroyed) return;
        if (offset >= bytes.length) {
          finished = true;
          records.set(id, { sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length, events: events.length });
          response.end();
          return;
        }
        const size = 1 + Math.floor(random() * 700);
        const piece = bytes.subarray(offset, offset + size);
        offset += piece.length;
        const next = delayMs > 0 ? () => setTimeout(writeSome, delayMs) : () => setImmediate(writeSome);
        if (response.write(piece)) next();
        else response.once("drain", next);
      };
      if (barrier === undefined) return start();
      barrier.waiting.push(start);
      if (inFlight >= barrier.count) releaseBarrier();
    });
  });
  server.keepAliveTimeout = 10_000;
  server.on("connection", (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    records,
    requestCount: () => requests,
    abortedCount: () => aborted,
    maxInFlight: () => maxInFlight,
    setWriteDelay(ms) {
      writeDelayMs = ms;
    },
    setBarrier(count, timeoutMs = 10_000) {
      releaseBarrier();
      if (count > 0) barrier = { count, waiting: [], timer: setTimeout(releaseBarrier, timeoutMs) };
    },
    openSockets: () => sockets.size,
    connectionCount: () => connections,
    reset() {
      records.clear();
      connections = 0;
      requests = 0;
      aborted = 0;
      maxInFlight = inFlight;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
