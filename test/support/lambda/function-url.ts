/**
 * Function URL front: HTTP request -> payload format 2.0 event, and the
 * function's buffered or streamed response -> HTTP response, the way Lambda
 * Function URLs (auth type NONE) map them.
 */
import { createServer } from "node:http";
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { MAX_BUFFERED_PAYLOAD, newTraceId } from "./runtime-api.ts";
import type { InvocationOutcome, InvocationSink } from "./runtime-api.ts";

export const ACCOUNT_ID = "123456789012";
const PRELUDE_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";
const PRELUDE_DELIMITER = Buffer.alloc(8);
const MAX_PRELUDE = 1024 * 1024;
const ERROR_BODY = JSON.stringify({ Message: "Internal Server Error" });
/** Hop-by-hop / framing headers a function cannot set through a Function URL. */
const DROPPED_RESPONSE_HEADERS = new Set(["connection", "content-length", "transfer-encoding", "keep-alive", "upgrade"]);

export interface FunctionUrlEvent {
  version: "2.0";
  routeKey: "$default";
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: "$default";
    stage: "$default";
    time: string;
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
}

/** Content types Function URLs pass as plain text; every other body is base64-encoded. */
export function isTextContentType(contentType: string | undefined): boolean {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type.startsWith("text/")) return true;
  return (
    /^application\/([\w.+-]+\+)?(json|xml)$/.test(type) ||
    type === "application/javascript" ||
    type === "application/ecmascript" ||
    type === "application/x-javascript" ||
    type === "application/yaml" ||
    type === "application/x-yaml"
  );
}

function decodeQueryComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value;
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function clfTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

export function buildFunctionUrlEvent(req: IncomingMessage, body: Buffer, requestId: string, apiId: string): FunctionUrlEvent {
  const url = req.url ?? "/";
  const queryAt = url.indexOf("?");
  const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
  const rawQueryString = queryAt < 0 ? "" : url.slice(queryAt + 1);

  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? "").toLowerCase();
    const value = req.rawHeaders[i + 1] ?? "";
    if (name === "cookie") {
      cookies.push(...value.split(";").map((c) => c.trim()).filter(Boolean));
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  const sourceIp = (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
  const domainName = headers.host ?? `${apiId}.lambda-url.us-east-1.on.aws`;
  headers["x-amzn-trace-id"] ??= newTraceId();
  headers["x-forwarded-for"] = headers["x-forwarded-for"] ? `${headers["x-forwarded-for"]},${sourceIp}` : sourceIp;
  headers["x-forwarded-proto"] = "http";
  headers["x-forwarded-port"] = String(req.socket.localPort ?? "");

  const queryStringParameters: Record<string, string> = {};
  for (const pair of rawQueryString.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    const key = decodeQueryComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decodeQueryComponent(pair.slice(eq + 1));
    queryStringParameters[key] = key in queryStringParameters ? `${queryStringParameters[key]},${value}` : value;
  }

  const now = new Date();
  const event: FunctionUrlEvent = {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: "anonymous",
      apiId,
      domainName,
      domainPrefix: domainName.split(".")[0] ?? apiId,
      http: {
        method: req.method ?? "GET",
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: "$default",
      stage: "$default",
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (cookies.length > 0) event.cookies = cookies;
  if (rawQueryString) event.queryStringParameters = queryStringParameters;
  if (body.length > 0) {
    const text = isTextContentType(headers["content-type"]);
    event.body = text ? body.toString("utf8") : body.toString("base64");
    event.isBase64Encoded = !text;
  }
  return event;
}

interface HttpResult {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

function addHeaders(target: OutgoingHttpHeaders, headers: unknown, cookies: unknown): void {
  if (headers && typeof headers === "object") {
    for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
      const lower = name.toLowerCase();
      if (DROPPED_RESPONSE_HEADERS.has(lower) || value === undefined || value === null) continue;
      target[lower] = String(value);
    }
  }
  if (Array.isArray(cookies) && cookies.length > 0) target["set-cookie"] = cookies.map(String);
}

/** Buffered invoke result -> HTTP response, per the Function URL response payload rules. */
export function mapBufferedResponse(payload: Buffer): HttpResult | null {
  const text = payload.toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value && typeof value === "object" && !Array.isArray(value) && "statusCode" in value) {
    const out = value as { statusCode: unknown; headers?: unknown; cookies?: unknown; body?: unknown; isBase64Encoded?: unknown };
    const status = Number(out.statusCode);
    if (!Number.isInteger(status) || status < 100 || status > 599) return null;
    const headers: OutgoingHttpHeaders = {};
    addHeaders(headers, out.headers, out.cookies);
    headers["content-type"] ??= "application/json";
    let body: Buffer;
    if (out.body === undefined || out.body === null) body = Buffer.alloc(0);
    else if (typeof out.body === "string") body = Buffer.from(out.body, out.isBase64Encoded === true ? "base64" : "utf8");
    else body = Buffer.from(JSON.stringify(out.body));
    return { status, headers, body };
  }
  return { status: 200, headers: { "content-type": "application/json" }, body: payload };
}

/** Relays one invocation's result to one HTTP client. */
class ClientRelay implements InvocationSink {
  #res: ServerResponse;
  #requestId: string;
  #stream: IncomingMessage | null = null;
  #done = false;

  constructor(res: ServerResponse, requestId: string, onClientGone?: (requestId: string) => void) {
    this.#res = res;
    this.#requestId = requestId;
    res.on("close", () => {
      if (!res.writableFinished) {
        // Client went away: Lambda does not tell the function, so just drain and drop the rest.
        this.#done = true;
        this.#stream?.resume();
        onClientGone?.(requestId);
      }
    });
  }

  #head(status: number, headers: OutgoingHttpHeaders): boolean {
    try {
      this.#res.writeHead(status, { ...headers, "x-amzn-requestid": this.#requestId });
      return true;
    } catch {
      return false;
    }
  }

  #fail(): void {
    if (this.#done) return;
    this.#done = true;
    this.#stream?.resume();
    if (this.#res.headersSent) {
      this.#res.destroy(); // mid-stream failure: the client sees a truncated response
      return;
    }
    this.#head(502, { "content-type": "application/json", "content-length": Buffer.byteLength(ERROR_BODY), "x-amzn-errortype": "FunctionError" });
    this.#res.end(ERROR_BODY);
  }

  #send(result: HttpResult): void {
    if (this.#done) return;
    if (!this.#head(result.status, { ...result.headers, "content-length": result.body.length })) return this.#fail();
    this.#done = true;
    this.#res.end(result.body);
  }

  #write(chunk: Buffer, body: IncomingMessage): void {
    if (this.#done || chunk.length === 0) return;
    if (!this.#res.write(chunk)) {
      body.pause();
      this.#res.once("drain", () => body.resume());
    }
  }

  settle(outcome: InvocationOutcome): void {
    if (outcome.kind !== "buffered") return this.#fail();
    const result = mapBufferedResponse(outcome.payload);
    if (result === null) return this.#fail();
    this.#send(result);
  }

  stream(contentType: string, body: IncomingMessage): void {
    this.#stream = body;
    if (this.#done) body.resume();
    const withPrelude = (contentType.split(";")[0] ?? "").trim().toLowerCase() === PRELUDE_CONTENT_TYPE;
    let pending: Buffer = Buffer.alloc(0);
    let started = false;

    body.on("data", (chunk: Buffer) => {
      if (this.#done) return;
      if (started) return this.#write(chunk, body);
      if (!withPrelude) {
        started = this.#head(200, { "content-type": contentType });
        return started ? this.#write(chunk, body) : this.#fail();
      }
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const at = pending.indexOf(PRELUDE_DELIMITER);
      if (at < 0) {
        if (pending.length > MAX_PRELUDE) this.#fail();
        return;
      }
      let prelude: { statusCode?: unknown; headers?: unknown; cookies?: unknown };
      try {
        prelude = JSON.parse(pending.subarray(0, at).toString("utf8")) as typeof prelude;
      } catch {
        return this.#fail();
      }
      const headers: OutgoingHttpHeaders = {};
      addHeaders(headers, prelude?.headers, prelude?.cookies);
      started = this.#head(prelude?.statusCode === undefined ? 200 : Number(prelude.statusCode), headers);
      if (!started) return this.#fail();
      this.#write(pending.subarray(at + PRELUDE_DELIMITER.length), body);
      pending = Buffer.alloc(0);
    });

    body.on("end", () => {
      if (this.#done) return;
      if (body.trailers["lambda-runtime-function-error-type"]) return this.#fail();
      if (!started) {
        // HttpResponseStream.from() + end() without write(): no prelude at all -> plain 200.
        // Bytes without the prelude delimiter cannot be parsed -> 502 (as Function URLs do).
        if (withPrelude && pending.length > 0) return this.#fail();
        if (!this.#head(200, withPrelude ? {} : { "content-type": contentType })) return this.#fail();
      }
      this.#done = true;
      this.#res.end();
    });
  }
}

export interface FunctionUrlFrontOptions {
  apiId: string;
  enqueue(requestId: string, event: FunctionUrlEvent, sink: InvocationSink): void;
  /** Told when a client goes away before its response ended (the function is not). */
  onClientGone?(requestId: string): void;
}

export function createFunctionUrlServer(options: FunctionUrlFrontOptions): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("error", () => res.destroy());
    req.on("end", () => {
      const requestId = randomUUID();
      const relay = new ClientRelay(res, requestId, options.onClientGone);
      const event = buildFunctionUrlEvent(req, Buffer.concat(chunks), requestId, options.apiId);
      if (Buffer.byteLength(JSON.stringify(event)) > MAX_BUFFERED_PAYLOAD) {
        const message = JSON.stringify({ Message: `Request must be smaller than ${MAX_BUFFERED_PAYLOAD} bytes for the InvokeFunction operation` });
        res.writeHead(413, { "content-type": "application/json", "x-amzn-requestid": requestId });
        res.end(message);
        return;
      }
      options.enqueue(requestId, event, relay);
    });
  });
}
