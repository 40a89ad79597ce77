/**
 * The local gateway: the shared core behind `node:http`, for `npm start`.
 *
 * Keys come from the environment (or from Secrets Manager when
 * `GATEWAY_SECRET_ID` is set); each request is logged on one line.
 *
 * A caller cannot make the server hold memory it is not allowed to use: its
 * key is checked from the headers before the body is read (a stranger gets its
 * 401 and the connection is closed, the body unread; with `Expect:
 * 100-continue` it is never even invited to send it), connections are capped
 * (`GATEWAY_MAX_CONNECTIONS`; more are dropped), and so is the time to send
 * the headers and the whole request (408 `request_timeout` past them).
 */
import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { loadConfig, loadServerConfig, type GatewayConfig, type ServerConfig } from "../shared/config/config.ts";
import { createCredentialStore } from "../shared/access/create-credential-store.ts";
import type { CredentialStore } from "../shared/access/credentials.ts";
import type { GatewayStore } from "../shared/stores/types.ts";
import { errorResponse, GatewayError } from "../shared/http/errors.ts";
import { createGateway } from "../shared/core/gateway.ts";
import { isEventStream } from "../shared/http/headers.ts";
import type { GatewayRequest, GatewayResponse } from "../shared/http/wire.ts";
import type { RequestSummary } from "../shared/observability/request-summary.ts";
import { writeBody } from "../shared/http/write-body.ts";
import { measureRequest, ModelDimensionLimiter, type RequestMetrics } from "../shared/observability/request-metrics.ts";
import { readRequestBody, RequestTimeoutError, type StopReading } from "./read-body.ts";
import { createLineWriter } from "./line-writer.ts";
import { formatRequestLine } from "./request-log.ts";

/** Options of the local server. */
export interface LocalServerOptions {
  readonly config: GatewayConfig;
  /** Address and bounds; bounds left out are {@link loadServerConfig}'s defaults. */
  readonly server: Pick<ServerConfig, "host" | "port"> & Partial<ServerConfig>;
  readonly credentials?: CredentialStore;
  /** The cache and quota store (default: the one the configuration names; memory locally). */
  readonly store?: GatewayStore;
  /** Receives each finished request (default: one line on stdout). */
  readonly onRequest?: (summary: RequestSummary, metrics: RequestMetrics) => void;
}

/** A running local server. */
export interface LocalServer {
  /** e.g. `http://127.0.0.1:3000` */
  readonly url: string;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then closes. */
  close(graceMs?: number): Promise<void>;
}

/** Starts the local gateway server. */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const { config } = options;
  const gateway = createGateway({
    config,
    credentials: options.credentials ?? createCredentialStore(config.credentials, (error) => console.error(`secret: ${error.message}`)),
    store: options.store,
    onStoreError: (error, operation) => console.error(`store: ${operation} failed: ${error instanceof Error ? error.name : String(error)}`),
  });
  // Summaries made into lines and written in batches (line-writer.ts); not console.log, which would
  // format its argument again and go through the Console's stream machinery per request.
  const requestLog =
    options.onRequest === undefined
      ? createLineWriter<RequestSummary>((chunk) => void process.stdout.write(chunk), { format: formatRequestLine })
      : undefined;
  // The line needs no metrics (the Lambda function's EMF does): they are computed for a caller's onRequest only.
  const onRequest =
    options.onRequest === undefined
      ? (summary: RequestSummary) => requestLog?.line(summary)
      : (summary: RequestSummary) => options.onRequest?.(summary, measureRequest(summary, models));
  const models = new ModelDimensionLimiter();
  const limits: ServerConfig = { ...loadServerConfig({}), ...options.server };
  // Requests whose body is being awaited, so that a request timeout is answered by their handler.
  const receiving = new WeakMap<Socket, StopReading>();
  // The latest response on each connection, so that a client error never writes into one under way.
  const responses = new WeakMap<Socket, ServerResponse>();
  // Each connection's abort signal, aborted when it closes. An answer is never cut short on a
  // connection that stays open (destroying a response destroys its socket), so a closed connection
  // is what a client's leaving looks like; one AbortController and close listener per connection
  // rather than per request (a share of the hot path, npm run bench).
  const disconnects = new WeakMap<Socket, AbortSignal>();
  const disconnectSignal = (socket: Socket): AbortSignal => {
    let signal = disconnects.get(socket);
    if (signal === undefined) {
      const controller = new AbortController();
      const leave = () => controller.abort(new Error("client disconnected"));
      if (socket.destroyed) leave();
      else socket.once("close", leave);
      signal = controller.signal;
      disconnects.set(socket, signal);
    }
    return signal;
  };

  /** Reads the body when the core asks, which it does once the caller is known: a stranger's body is never read. */
  function receive(incoming: IncomingMessage, outgoing: ServerResponse, expectsContinue: boolean, onWhole: () => void) {
    const { socket } = incoming;
    return readRequestBody(incoming, config.maxBodyBytes, {
      stopper: (stop) => (stop === undefined ? receiving.delete(socket) : receiving.set(socket, stop)),
      onStart: expectsContinue ? () => outgoing.writeContinue() : undefined,
      onWhole,
    });
  }

  async function serve(incoming: IncomingMessage, outgoing: ServerResponse, expectsContinue = false): Promise<void> {
    responses.set(incoming.socket, outgoing);
    const [path = "", query = ""] = splitTarget(incoming.url ?? "/");
    // Whether the core read the whole body: Node may mark the request complete only later.
    let received = false;
    const request: GatewayRequest = {
      method: incoming.method ?? "GET",
      path,
      query,
      headers: incoming.headers,
      body: undefined,
      readBody: () => receive(incoming, outgoing, expectsContinue, () => (received = true)),
      signal: disconnectSignal(incoming.socket),
    };
    const response = await gateway.handle(request);
    // The rest of a body the core refused, or never asked for, is not read: the connection cannot be reused.
    if (!incoming.complete && !received) outgoing.shouldKeepAlive = false;
    outgoing.writeHead(response.status, response.headers);
    // Headers of a stream go out at once: the first event may be seconds away.
    if (isEventStream(response.headers["content-type"])) outgoing.flushHeaders();
    await writeBody(response.body, outgoing);
    const summary = await response.completed;
    onRequest(summary);
  }

  // Requests being served, until their summary is logged: close() waits for them, so a request
  // answered just before a stop is still charged and logged. A count, and what close() waits on
  // once it does: a set of the requests' promises was two hashed updates per request (hot path).
  let serving = 0;
  let onIdle: (() => void) | undefined;
  const served = () => {
    serving -= 1;
    if (serving === 0) onIdle?.();
  };
  const failed = (outgoing: ServerResponse, error: unknown) => {
    console.error("local server: unexpected failure", error);
    outgoing.destroy();
    served();
  };
  const acceptRequest = (incoming: IncomingMessage, outgoing: ServerResponse, expectsContinue = false) => {
    if (incoming.headers.host === undefined) return answerPlain(outgoing, 400, "The request has no Host header.", "missing_host");
    serving += 1;
    serve(incoming, outgoing, expectsContinue).then(served, (error: unknown) => failed(outgoing, error));
  };
  // Node would answer a request without Host (RFC 9112 requires one), with an unknown Expect,
  // or past a time bound itself, with an empty body: the gateway answers in OpenAI's shape instead.
  const server = http.createServer(
    {
      requireHostHeader: false,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks both bounds on this period (30 s by default): a fraction of the shorter keeps them close.
      connectionsCheckingInterval: Math.min(1_000, Math.max(10, Math.floor(limits.headersTimeoutMs / 4))),
    },
    acceptRequest,
  );
  server.maxConnections = limits.maxConnections;
  // The key is checked before the client is invited to send its body.
  server.on("checkContinue", (incoming: IncomingMessage, outgoing: ServerResponse) => acceptRequest(incoming, outgoing, true));
  server.on("checkExpectation", (incoming: IncomingMessage, outgoing: ServerResponse) =>
    answerPlain(outgoing, 417, `Expect: ${String(incoming.headers.expect).slice(0, 64)} is not supported.`, "expectation_failed"),
  );
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    const timedOut = error.code === "ERR_HTTP_REQUEST_TIMEOUT";
    // A request whose body is awaited answers its own 408, logged like any other request.
    const stopReading = timedOut ? receiving.get(socket) : undefined;
    if (stopReading !== undefined) return stopReading(new RequestTimeoutError(limits.requestTimeoutMs));
    const answering = responses.get(socket);
    if (answering !== undefined && answering.headersSent && !answering.writableFinished) return void socket.destroy();
    answerClientError(error, socket, timedOut ? limits.headersTimeoutMs : 0);
  });
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.server.port, options.server.host, () => resolve());
    });
  } catch (error) {
    requestLog?.close();
    gateway.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    async close(graceMs = 10_000) {
      const graceEnds = Date.now() + graceMs;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      // Answers sent may still be settling (the key's charge, the cache, the log line): within what is left of the grace.
      let settleTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => (settleTimer = setTimeout(resolve, Math.max(0, graceEnds - Date.now()))));
      const idle = serving === 0 ? undefined : new Promise<void>((resolve) => (onIdle = resolve));
      await Promise.race([idle, graceOver]);
      clearTimeout(settleTimer);
      for (const socket of sockets) socket.destroy();
      gateway.close();
      requestLog?.close();
    },
  };
}

function splitTarget(target: string): [string, string] {
  const index = target.indexOf("?");
  return index === -1 ? [target, ""] : [target.slice(0, index), target.slice(index + 1)];
}

function clientErrorOf(error: NodeJS.ErrnoException, timeoutMs: number): GatewayError {
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") return new RequestTimeoutError(timeoutMs);
  if (error.code === "HPE_HEADER_OVERFLOW") return new GatewayError(431, "The request headers are too large.", { code: "headers_too_large" });
  return new GatewayError(400, "The request is malformed and cannot be parsed as HTTP.", { code: "malformed_request" });
}

/** Answers a request the server refuses before the core sees it, and closes the connection. */
function answerPlain(outgoing: ServerResponse, status: number, message: string, code: string): void {
  const { headers, body } = errorResponse(new GatewayError(status, message, { code }), randomUUID());
  outgoing.shouldKeepAlive = false;
  outgoing.writeHead(status, headers);
  outgoing.end(body);
}

/**
 * Requests Node's parser refuses (bad header bytes, headers too large) or that
 * pass a time bound before the core sees them still get OpenAI's error shape.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, timeoutMs: number): void {
  if (!socket.writable || error.code === "ECONNRESET") return void socket.destroy();
  const { status, headers, body } = errorResponse(clientErrorOf(error, timeoutMs), randomUUID());
  const head = Object.entries({ ...headers, connection: "close" }).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${head.join("")}\r\n`), body]));
}

function describeProviders(config: GatewayConfig): string {
  const http = Object.entries(config.providers).map(([name, settings]) => `${name} → ${settings.baseUrl}`);
  return [...http, ...(config.mockProvider ? ["mock"] : [])].join(", ");
}

/**
 * `npm start`'s environment: `env` with the mock provider on unless `GATEWAY_MOCK_PROVIDER` is set,
 * so the quickstart works out of the box (the Lambda function reads `env` as is: mock off).
 */
export function localEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.GATEWAY_MOCK_PROVIDER?.trim() ? env : { ...env, GATEWAY_MOCK_PROVIDER: "true" };
}

/** Where the keys come from, for the start-up line. */
function describeKeys(config: GatewayConfig): string {
  const { credentials, keys } = config;
  const sources = [
    credentials.source === "secrets-manager"
      ? `secret ${credentials.secretId}`
      : credentials.gatewayKeys.length > 0
        ? `${credentials.gatewayKeys.length} gateway key(s)`
        : undefined,
    keys === undefined ? undefined : keys.source === "file" ? `key file ${keys.path}` : `key table ${keys.tableName}`,
  ].filter((source) => source !== undefined);
  if (sources.length === 0) return "passthrough (callers send their own provider key)";
  return `${sources.join(" + ")}${credentials.source === "env" && credentials.allowPassthrough ? " + passthrough" : ""}`;
}

async function main(): Promise<void> {
  const config = loadConfig(localEnvironment(process.env));
  const server = await startLocalServer({ config, server: loadServerConfig() });
  console.log(`AI gateway listening on ${server.url}/v1 (providers: ${describeProviders(config)}; keys: ${describeKeys(config)})`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: finishing requests in flight, then stopping`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
