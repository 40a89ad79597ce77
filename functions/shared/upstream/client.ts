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

/** Creates a client with its own connection pools. */
export function createUpstreamClient(): UpstreamClient {
  // The connection pools outlive requests on purpose: reusing a warm TLS
  // connection saves a handshake (tens of ms) on every call to the provider.
  // Each is made on its first call: creating the HTTPS agent loads Node's TLS
  // and crypto modules, which start-up need not wait for (npm run bench, cold start).
  let plain: http.Agent | undefined;
  let secure: https.Agent | undefined;
  const options = { keepAlive: true, scheduling: "lifo", maxFreeSockets: 64, timeout: 60_000 } as const;
  const agents = {
    get "http:"() {
      return (plain ??= new http.Agent(options));
    },
    get "https:"() {
      return (secure ??= new https.Agent(options));
    },
  };
  // Parsed provider origins: one per base URL, so a handful.
  const origins = new Map<string, Origin>();
  return {
    send: (call) => send(call, agents, origins),
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
): Promise<UpstreamResponse> {
  const { origin, path } = splitUrl(call.url, origins);
  const { protocol, hostname, port } = origin;
  const transport = protocol === "https:" ? https : http;
  return new Promise<UpstreamResponse>((resolve, reject) => {
    let settled = false;
    // One abort listener for the whole call: it fails the request until the headers came, then
    // tears the body down (adding and removing listeners on an AbortSignal is slow enough to
    // show in the hot path, npm run bench; this was two of each per call).
    let body: IncomingMessage | undefined;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(firstByteTimer);
      call.signal.removeEventListener("abort", onAbort);
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
        clearTimeout(firstByteTimer);
        body = response;
        // A response closes once: `on`, not `once`, which wraps the listener (hot path, npm run bench).
        response.on("close", () => call.signal.removeEventListener("abort", onAbort));
        resolve(wrapResponse(response, call.signal, onAbort));
      },
    );
    const firstByteTimer = setTimeout(
      () => fail(new UpstreamTimeoutError(`The provider did not answer within ${call.firstByteTimeoutMs} ms.`)),
      call.firstByteTimeoutMs,
    );
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
    call.signal.addEventListener("abort", onAbort, { once: true });
    request.end(call.body);
  });
}

function wrapResponse(response: IncomingMessage, signal: AbortSignal, onAbort: () => void): UpstreamResponse {
  return {
    status: response.statusCode ?? 502,
    headers: response.headers,
    body: response,
    abort: (reason) => response.destroy(reason),
    discard: () => {
      signal.removeEventListener("abort", onAbort);
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
