/**
 * The HTTP client that calls providers: one keep-alive pool per protocol,
 * bounded by connect and first-byte timeouts, aborted with the caller.
 *
 * It stops at the response headers; the body is read (and bounded by the idle
 * and total timeouts) by the relay, which hands each chunk on as it arrives.
 *
 * No caller ever sees a 3xx: a redirect is a 502 `upstream_redirect`, never
 * followed (it could lead anywhere, with the gateway's key) nor relayed (the
 * client would follow it to the provider itself). A reply Node cannot parse
 * as HTTP is a 502 `upstream_malformed_response`.
 */
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { GatewayError, UpstreamTimeoutError, UpstreamUnavailableError } from "../http/errors.ts";
import type { ProviderResponse, UpstreamRequest } from "../providers/types.ts";
import { AbortListeners, type AbortListener } from "./abort-listeners.ts";
import { deadlines } from "./deadlines.ts";
import { createIdleClosingAgent, createIdleClosingHttpsAgent } from "./idle-agent.ts";

/** How long a pooled connection may idle before it is closed, by default. */
const IDLE_MS = 60_000;

/** One call to a provider: the request, as its provider prepared and authorized it, with its bounds. */
export interface UpstreamCall extends UpstreamRequest {
  /** Bound on TCP connection set-up. */
  readonly connectTimeoutMs: number;
  /** Bound from sending the request to the response headers. */
  readonly firstByteTimeoutMs: number;
  /** Aborts the call (the client went away, or the request's deadline passed). */
  readonly signal: AbortSignal;
}

/** A provider response whose body can be cut off with an error. */
export interface UpstreamResponse extends ProviderResponse {
  /** Ends the body early: the reader's next read throws `reason`. */
  abort(reason: Error): void;
  /** Drops a response that will not be relayed (before a retry), keeping the connection for reuse when it can. */
  discard(): void;
}

/** Calls providers over pooled keep-alive connections. */
export interface UpstreamClient {
  send(call: UpstreamCall): Promise<UpstreamResponse>;
  /** Closes idle pooled connections (for a clean shutdown). */
  close(): void;
}

/** Options of {@link createUpstreamClient}. */
export interface UpstreamClientOptions {
  /** Where calls listen for their caller's abort (default: the client's own; tests pass one to count what is left). */
  readonly aborts?: AbortListeners;
  /** How long a pooled connection may idle before the client closes it (default a minute; tests pass a shorter one). */
  readonly idleConnectionMs?: number;
}

/** Creates a client with its own connection pools. */
export function createUpstreamClient(options: UpstreamClientOptions = {}): UpstreamClient {
  // The connection pools outlive requests on purpose: reusing a warm TLS
  // connection saves a handshake (tens of ms) on every call to the provider.
  // Each is made on its first call: creating the HTTPS agent loads Node's TLS
  // and crypto modules, which start-up need not wait for (npm run bench, cold start).
  // Idle connections close after a minute (idle-agent.ts: without a timer per connection and call).
  let plain: http.Agent | undefined;
  let secure: https.Agent | undefined;
  const pooling = { keepAlive: true, scheduling: "lifo", maxFreeSockets: 64 } as const;
  const idleMs = options.idleConnectionMs ?? IDLE_MS;
  const agents = {
    get "http:"() {
      return (plain ??= createIdleClosingAgent(pooling, idleMs));
    },
    get "https:"() {
      return (secure ??= createIdleClosingHttpsAgent(pooling, idleMs));
    },
  };
  // Parsed provider origins: one per base URL, so a handful.
  const origins = new Map<string, Origin>();
  const aborts = options.aborts ?? new AbortListeners();
  return {
    send: (call) => send(call, agents, origins, aborts),
    close() {
      plain?.destroy();
      secure?.destroy();
    },
  };
}

function send(
  call: UpstreamCall,
  agents: { "http:": http.Agent; "https:": https.Agent },
  origins: Map<string, Origin>,
  aborts: AbortListeners,
): Promise<UpstreamResponse> {
  const { origin, path } = splitUrl(call.url, origins);
  const { protocol, hostname, port } = origin;
  const transport = protocol === "https:" ? https : http;
  return new Promise<UpstreamResponse>((resolve, reject) => {
    let settled = false;
    // One abort listener for the whole call: it fails the request until the headers came, then
    // tears the body down (abort-listeners.ts: not on the signal itself, which may be shared).
    let body: IncomingMessage | undefined;
    let listening: AbortListener | undefined;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      firstByte.clear();
      listening?.remove();
      request.destroy();
      reject(error);
    };
    const onAbort = () => (body === undefined ? fail(abortReason(call.signal)) : body.destroy(abortReason(call.signal)));

    const request = transport.request(
      { protocol, hostname, port, path, method: call.method, headers: call.headers, agent: agents[protocol] },
      (response) => {
        if (settled) return void response.destroy();
        const status = response.statusCode ?? 502;
        if (status >= 300 && status < 400) {
          // A redirect means a misconfigured base URL, not load: its connection is not worth saving.
          response.destroy();
          return fail(
            new GatewayError(502, `The provider answered with a redirect (${status}), which the gateway does not follow.`, {
              code: "upstream_redirect",
            }),
          );
        }
        settled = true;
        firstByte.clear();
        body = response;
        // A response closes once: `on`, not `once`, which wraps the listener (hot path, npm run bench).
        response.on("close", () => listening?.remove());
        resolve(wrapResponse(response, listening));
      },
    );
    // A deadline, not a timer of its own (deadlines.ts: a timer per request costs the hot path).
    const firstByte = deadlines.set(call.firstByteTimeoutMs, () =>
      fail(new UpstreamTimeoutError(`The provider did not answer within ${call.firstByteTimeoutMs} ms.`)),
    );
    // A pooled connection, reused, is connected already (the agent hands it over at once): only a new one is bounded.
    if (!request.reusedSocket) {
      request.on("socket", (socket) => {
        if (!socket.connecting) return;
        const connectTimer = setTimeout(
          () =>
            fail(
              new UpstreamTimeoutError(`Connecting to the provider took longer than ${call.connectTimeoutMs} ms.`, {
                code: "upstream_connect_timeout",
              }),
            ),
          call.connectTimeoutMs,
        );
        socket.once("connect", () => clearTimeout(connectTimer));
        socket.once("close", () => clearTimeout(connectTimer));
      });
    }
    request.on("error", (error: NodeJS.ErrnoException) => {
      // Node's parser (llhttp) names its errors HPE_*: the provider did answer, with bytes that are not HTTP.
      if (error.code?.startsWith("HPE_") === true) {
        return fail(
          new UpstreamUnavailableError(`The provider's answer is not valid HTTP (${error.code}).`, {
            code: "upstream_malformed_response",
            cause: error,
          }),
        );
      }
      fail(
        new UpstreamUnavailableError(`The provider could not be reached (${error.code ?? error.message}).`, {
          cause: error,
        }),
      );
    });
    if (call.signal.aborted) return onAbort();
    listening = aborts.add(call.signal, onAbort);
    // Node gives a body sent whole by end() its Content-Length, except on the methods that have
    // none by default, where a body goes out unframed without the header (a header set for every
    // call would be a copy of its headers or one more header to check: hot path, npm run bench).
    if (call.body !== undefined && UNFRAMED_BY_DEFAULT.has(request.method)) request.setHeader("content-length", call.body.byteLength);
    request.end(call.body);
  });
}

/** Methods whose body Node sends without a length unless told one (ClientRequest's `useChunkedEncodingByDefault`). */
const UNFRAMED_BY_DEFAULT: ReadonlySet<string> = new Set(["GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"]);

function wrapResponse(response: IncomingMessage, listening: AbortListener | undefined): UpstreamResponse {
  return {
    status: response.statusCode ?? 502,
    headers: response.headers,
    body: response,
    abort: (reason) => response.destroy(reason),
    discard: () => {
      listening?.remove();
      response.resume();
    },
  };
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("aborted");
}

interface Origin {
  readonly protocol: "http:" | "https:";
  readonly hostname: string;
  readonly port: number;
}

/**
 * Splits an absolute URL into its origin and raw path. The path is sent as
 * given, since WHATWG URL parsing would resolve "%2e%2e" segments.
 */
function splitUrl(url: string, origins: Map<string, Origin>): { origin: Origin; path: string } {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const key = pathStart === -1 ? url : url.slice(0, pathStart);
  let origin = origins.get(key);
  if (origin === undefined) {
    const parsed = new URL(key);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error(`unsupported protocol ${parsed.protocol}`);
    origin = {
      protocol: parsed.protocol,
      hostname: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: parsed.port === "" ? (parsed.protocol === "https:" ? 443 : 80) : Number(parsed.port),
    };
    if (origins.size < 64) origins.set(key, origin);
  }
  return { origin, path: pathStart === -1 ? "/" : url.slice(pathStart) };
}
