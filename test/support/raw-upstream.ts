/**
 * A provider that writes its answers as raw bytes over `node:net`, for
 * answers `node:http` will not produce: a content-length on an event stream,
 * redirects with odd bodies, bytes that are not HTTP at all.
 *
 *   const raw = useRawUpstream();
 *   it("...", async () => {
 *     raw.upstream.respond(() => rawResponse(302, { location: "https://elsewhere.example/v1" }, ""));
 *     ...
 *   });
 *
 * It reads the requests of each connection in turn (keep-alive), hands each
 * to the test's responder and writes back what that returns, exactly.
 */
import net, { type AddressInfo, type Socket } from "node:net";
import { STATUS_CODES } from "node:http";
import { useStarted } from "./gateway-fixture.ts";
import { parseHeaderLines } from "./raw-http.ts";

/** A request as the upstream read it. */
export interface RawUpstreamRequest {
  readonly method: string;
  readonly target: string;
  /** Lower-cased names; repeated headers joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
  /** Which connection it came on (0 for the first the upstream accepted). */
  readonly connection: number;
}

/** What to write back: the bytes as they are, or the bytes and then the end of the connection. */
export type RawReply = string | Buffer | { readonly bytes: string | Buffer; readonly close: true };

/** Answers one request. */
export type RawResponder = (request: RawUpstreamRequest) => RawReply;

/** A running raw upstream. */
export interface RawUpstream {
  /** The OpenAI base URL, `http://127.0.0.1:PORT/v1`. */
  readonly baseUrl: string;
  /** Requests read so far, in order. */
  readonly requests: RawUpstreamRequest[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** Sets the responder (until the next reset). */
  respond(responder: RawResponder): void;
  /** Forgets the requests and restores the default responder (a 500 that says no responder was set). */
  reset(): void;
  close(): Promise<void>;
}

const HEADER_END = Buffer.from("\r\n\r\n");

const unset: RawResponder = () => rawResponse(500, { "content-type": "text/plain" }, "the test set no responder");

/** Starts a raw upstream on 127.0.0.1. */
export async function startRawUpstream(): Promise<RawUpstream> {
  let responder = unset;
  const requests: RawUpstreamRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    const connection = connections++;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const parsed = readRequest(buffered, connection);
        if (parsed === undefined) return;
        buffered = buffered.subarray(parsed.length);
        requests.push(parsed.request);
        const reply = responder(parsed.request);
        if (typeof reply === "string" || Buffer.isBuffer(reply)) socket.write(reply);
        else return void socket.end(reply.bytes);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    get connections() {
      return connections;
    },
    respond(next) {
      responder = next;
    },
    reset() {
      responder = unset;
      requests.splice(0);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A raw upstream started before the tests of the enclosing describe (or file), reset before each, closed after them. */
export function useRawUpstream(): { readonly upstream: RawUpstream } {
  const upstream = useStarted(startRawUpstream, { what: "the raw upstream", reset: (started) => started.reset() });
  return {
    get upstream() {
      return upstream();
    },
  };
}

/**
 * An HTTP/1.1 response as bytes: the status line, `headers` in the order given
 * and `body`. A content-length is added unless the headers have one or a
 * transfer-encoding (pass `content-length` yourself to lie about it).
 */
export function rawResponse(status: number, headers: Readonly<Record<string, string>>, body: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const names = Object.keys(headers).map((name) => name.toLowerCase());
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  if (!names.includes("content-length") && !names.includes("transfer-encoding")) head += `content-length: ${bytes.length}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, "latin1"), bytes]);
}

/** Reads one request (content-length bodies only: the gateway always sends one) from the start of `data`. */
function readRequest(data: Buffer, connection: number): { request: RawUpstreamRequest; length: number } | undefined {
  const end = data.indexOf(HEADER_END);
  if (end === -1) return undefined;
  const [requestLine = "", ...lines] = data.subarray(0, end).toString("latin1").split("\r\n");
  const [method = "", target = ""] = requestLine.split(" ");
  const headers = parseHeaderLines(lines);
  const bodyStart = end + HEADER_END.length;
  const bodyLength = Number(headers.get("content-length") ?? 0);
  if (data.length < bodyStart + bodyLength) return undefined;
  const body = Buffer.from(data.subarray(bodyStart, bodyStart + bodyLength));
  return { request: { method, target, headers, body, connection }, length: bodyStart + bodyLength };
}
