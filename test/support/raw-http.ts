/**
 * Raw HTTP/1.1 over `node:net`, for requests the openai SDK (or fetch) cannot
 * send: malformed bytes, lying content-lengths, odd methods, pipelined
 * requests. The responses are parsed by hand so nothing is normalised away.
 */
import net from "node:net";
import { performance } from "node:perf_hooks";

/** A parsed HTTP response (the first final one on the connection; 1xx are skipped). */
export interface RawResponse {
  readonly status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
  /** The body, de-chunked when it was chunked. */
  readonly body: Buffer;
  /** Whether the body was complete (content-length reached, or the last chunk seen). */
  readonly complete: boolean;
}

/** How one exchange went. */
export interface RawExchange {
  /** Undefined when nothing parseable arrived. */
  readonly response?: RawResponse;
  /** close: the server closed (FIN or RST); timeout: the bound passed first. */
  readonly ending: "close" | "timeout";
  /** The socket error code, when the connection failed (e.g. ECONNRESET). */
  readonly errorCode?: string;
  readonly raw: Buffer;
  readonly elapsedMs: number;
}

/** Options of {@link rawExchange}. */
export interface RawExchangeOptions {
  /** Gives up (and destroys the socket) after this long. Default 2000. */
  readonly timeoutMs?: number;
  /**
   * Ends the write side after sending, so a server waiting for more body sees EOF. Default false:
   * Node's HTTP server (httpAllowHalfOpen off) ends the connection on a client's FIN, so a complete
   * request sent with a half-close is dropped unanswered unless the answer is synchronous.
   */
  readonly halfClose?: boolean;
  /** Parse as the answer to a HEAD request (no body). */
  readonly head?: boolean;
}

/** Sends `request` as is on a fresh connection and reads until the server closes it (or the bound passes). */
export function rawExchange(port: number, request: string | Buffer, options: RawExchangeOptions = {}): Promise<RawExchange> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let errorCode: string | undefined;
    let settled = false;
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.write(request);
      if (options.halfClose ?? false) socket.end();
    });
    const finish = (ending: "close" | "timeout") => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      resolve({ response: parseRawResponse(raw, options.head ?? false), ending, errorCode, raw, elapsedMs: performance.now() - started });
    };
    const timer = setTimeout(() => {
      finish("timeout");
      socket.destroy();
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      errorCode = error.code ?? error.message;
    });
    socket.on("close", () => finish("close"));
  });
}

const HEADER_END = Buffer.from("\r\n\r\n");

/** Header lines as a map of lower-cased names; repeated headers are joined with ", ". */
export function parseHeaderLines(lines: readonly string[]): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return headers;
}

/** Parses the first final response in `raw` (skipping 100 Continue and other 1xx). */
export function parseRawResponse(raw: Buffer, head = false): RawResponse | undefined {
  return parseResponseAt(raw, 0, head)?.response;
}

/**
 * Parses the responses that follow one another on a keep-alive connection, in
 * order, each framed by its own content-length or chunking. A response whose
 * framing is wrong swallows (or leaves over) bytes of the next, which then
 * does not parse: the list stops there.
 */
export function parseRawResponses(raw: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let offset = 0;
  while (offset < raw.length) {
    const parsed = parseResponseAt(raw, offset, false);
    if (parsed === undefined) break;
    responses.push(parsed.response);
    if (!parsed.response.complete || parsed.end === undefined) break;
    offset = parsed.end;
  }
  return responses;
}

/** The first final response from `start`, and where it ends (undefined when it is framed by the connection's end). */
function parseResponseAt(raw: Buffer, start: number, head: boolean): { response: RawResponse; end?: number } | undefined {
  let offset = start;
  for (;;) {
    const end = raw.indexOf(HEADER_END, offset);
    if (end === -1) return undefined;
    const lines = raw.subarray(offset, end).toString("latin1").split("\r\n");
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
    if (match === null) return undefined;
    const status = Number(match[1]);
    const headers = parseHeaderLines(lines.slice(1));
    const bodyStart = end + HEADER_END.length;
    if (status >= 100 && status < 200) {
      offset = bodyStart;
      continue;
    }
    if (head || status === 204 || status === 304) return { response: { status, headers, body: Buffer.alloc(0), complete: true }, end: bodyStart };
    const rest = raw.subarray(bodyStart);
    if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
      const { body, complete, length } = dechunkWithLength(rest);
      return { response: { status, headers, body, complete }, end: bodyStart + length };
    }
    const length = headers.get("content-length");
    if (length !== undefined) {
      const size = Number(length);
      return { response: { status, headers, body: rest.subarray(0, size), complete: rest.length >= size }, end: bodyStart + size };
    }
    return { response: { status, headers, body: rest, complete: true } };
  }
}

/** Decodes a chunked body; `complete` once the zero-size chunk has been seen. */
export function dechunk(data: Buffer): { body: Buffer; complete: boolean } {
  const { body, complete } = dechunkWithLength(data);
  return { body, complete };
}

/** {@link dechunk}, and how many bytes of `data` the chunked body took (trailer section included). */
function dechunkWithLength(data: Buffer): { body: Buffer; complete: boolean; length: number } {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", offset);
    if (lineEnd === -1) return { body: Buffer.concat(parts), complete: false, length: data.length };
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString("latin1").split(";")[0] ?? "", 16);
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), complete: false, length: data.length };
    if (size === 0) {
      // The last chunk's line ends where the (usually empty) trailer section begins; a blank line closes both.
      const trailerEnd = data.indexOf(HEADER_END, lineEnd);
      return { body: Buffer.concat(parts), complete: true, length: trailerEnd === -1 ? data.length : trailerEnd + HEADER_END.length };
    }
    const start = lineEnd + 2;
    if (data.length < start + size) {
      parts.push(data.subarray(start));
      return { body: Buffer.concat(parts), complete: false, length: data.length };
    }
    parts.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}

/** Builds a request with a correct content-length (unless `contentLength` says otherwise) and `connection: close`. */
export function buildRequest(
  method: string,
  target: string,
  headers: Readonly<Record<string, string>>,
  body?: string | Buffer,
  contentLength?: number,
): Buffer {
  return requestBytes("close", method, target, headers, body, contentLength);
}

/** {@link buildRequest} with `connection: keep-alive`: the server reads the next request on the same connection. */
export function buildKeepAliveRequest(method: string, target: string, headers: Readonly<Record<string, string>>, body?: string | Buffer): Buffer {
  return requestBytes("keep-alive", method, target, headers, body);
}

function requestBytes(
  connection: "close" | "keep-alive",
  method: string,
  target: string,
  headers: Readonly<Record<string, string>>,
  body?: string | Buffer,
  contentLength?: number,
): Buffer {
  const bytes = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  let head = `${method} ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: ${connection}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  if (bytes !== undefined || contentLength !== undefined) head += `content-length: ${contentLength ?? bytes?.length ?? 0}\r\n`;
  head += "\r\n";
  return bytes === undefined ? Buffer.from(head, "latin1") : Buffer.concat([Buffer.from(head, "latin1"), bytes]);
}

/** How a pipelined exchange went: the responses in order, as far as they parse. */
export interface RawPipelineExchange extends Omit<RawExchange, "response"> {
  readonly responses: RawResponse[];
}

/**
 * Sends `requests` back to back on one connection (pipelined; end them with a
 * request that closes it, see {@link buildRequest}) and reads until the server
 * closes it (or the bound passes).
 */
export async function rawPipeline(port: number, requests: readonly Buffer[], options: { readonly timeoutMs?: number } = {}): Promise<RawPipelineExchange> {
  const { response: _first, ...exchange } = await rawExchange(port, Buffer.concat(requests), options);
  return { ...exchange, responses: parseRawResponses(exchange.raw) };
}

/** Splits an SSE body into its events (the text of each, without the blank line that ends it). */
export function sseEvents(text: string): string[] {
  return text
    .split(/\r\n\r\n|\n\n|\r\r/)
    .filter((event) => event.trim() !== "");
}

/** Checks OpenAI's error shape: exactly `{"error":{"message","type","param","code"}}` with the right types. */
export function isOpenAIErrorShape(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== "error") return false;
  const error = (value as { error: unknown }).error;
  if (typeof error !== "object" || error === null) return false;
  const { message, type, param, code } = error as Record<string, unknown>;
  return (
    typeof message === "string" &&
    typeof type === "string" &&
    (param === null || typeof param === "string") &&
    (code === null || typeof code === "string") &&
    ["message", "type", "param", "code"].every((key) => key in error)
  );
}
