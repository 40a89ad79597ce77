/**
 * The local gateway: the shared core behind `node:http`, for `npm start`.
 *
 * Keys come from the environment (or from Secrets Manager when
 * `GATEWAY_SECRET_ID` is set); each request is logged on one line.
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
import { readRequestBody } from "./read-body.ts";
import { formatRequestLine } from "./request-log.ts";

/** Options of the local server. */
export interface LocalServerOptions {
  readonly config: GatewayConfig;
  readonly server: ServerConfig;
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
  // One write of the line: console.log would format its argument again and go through the Console's stream machinery per request.
  const onRequest = options.onRequest ?? ((summary: RequestSummary, metrics: RequestMetrics) => void process.stdout.write(`${formatRequestLine(summary, metrics)}\n`));
  const models = new ModelDimensionLimiter();

  async function serve(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const controller = new AbortController();
    outgoing.once("close", () => {
      if (!outgoing.writableFinished) controller.abort(new Error("client disconnected"));
    });
    const [path = "", query = ""] = splitTarget(incoming.url ?? "/");
    const request: GatewayRequest = {
      method: incoming.method ?? "GET",
      path,
      query,
      headers: incoming.headers,
      body: undefined,
      signal: controller.signal,
    };
    let response: GatewayResponse;
    try {
      const body = await readRequestBody(incoming, config.maxBodyBytes);
      response = await gateway.handle({ ...request, body });
    } catch (error) {
      // The rest of an oversized body is never read, so the connection cannot be reused.
      outgoing.shouldKeepAlive = false;
      response = gateway.fail(request, error);
    }
    outgoing.writeHead(response.status, response.headers);
    // Headers of a stream go out at once: the first event may be seconds away.
    if (isEventStream(response.headers["content-type"])) outgoing.flushHeaders();
    await writeBody(response.body, outgoing);
    const summary = await response.completed;
    onRequest(summary, measureRequest(summary, models));
  }

  // Node would answer a request without Host (RFC 9112 requires one) or with an
  // unknown Expect itself, with an empty body: the gateway answers in OpenAI's shape instead.
  const server = http.createServer({ requireHostHeader: false }, (incoming, outgoing) => {
    if (incoming.headers.host === undefined) return answerPlain(outgoing, 400, "The request has no Host header.", "missing_host");
    serve(incoming, outgoing).catch((error: unknown) => {
      console.error("local server: unexpected failure", error);
      outgoing.destroy();
    });
  });
  server.on("checkExpectation", (incoming: IncomingMessage, outgoing: ServerResponse) =>
    answerPlain(outgoing, 417, `Expect: ${String(incoming.headers.expect).slice(0, 64)} is not supported.`, "expectation_failed"),
  );
  server.on("clientError", answerClientError);
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.server.port, options.server.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    async close(graceMs = 10_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      gateway.close();
    },
  };
}

function splitTarget(target: string): [string, string] {
  const index = target.indexOf("?");
  return index === -1 ? [target, ""] : [target.slice(0, index), target.slice(index + 1)];
}

/** Answers a request the server refuses before the core sees it, and closes the connection. */
function answerPlain(outgoing: ServerResponse, status: number, message: string, code: string): void {
  const { headers, body } = errorResponse(new GatewayError(status, message, { code }), randomUUID());
  outgoing.shouldKeepAlive = false;
  outgoing.writeHead(status, headers);
  outgoing.end(body);
}

/** Requests Node's parser refuses (bad header bytes, headers too large) still get OpenAI's error shape. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (error as { code?: string }).code === "ECONNRESET") return void socket.destroy();
  const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
  const status = tooLarge ? 431 : 400;
  const { headers, body } = errorResponse(
    new GatewayError(status, tooLarge ? "The request headers are too large." : "The request is malformed and cannot be parsed as HTTP.", {
      code: tooLarge ? "headers_too_large" : "malformed_request",
    }),
    randomUUID(),
  );
  const head = Object.entries({ ...headers, connection: "close" }).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${head.join("")}\r\n`), body]));
}

function describeProviders(config: GatewayConfig): string {
  const http = Object.entries(config.providers).map(([name, settings]) => `${name} → ${settings.baseUrl}`);
  return [...http, "mock"].join(", ");
}

async function main(): Promise<void> {
  const config = loadConfig();
  const server = await startLocalServer({ config, server: loadServerConfig() });
  const credentials = config.credentials;
  const keys =
    credentials.source === "secrets-manager"
      ? `secret ${credentials.secretId}`
      : credentials.gatewayKeys.length > 0
        ? `${credentials.gatewayKeys.length} gateway key(s)${credentials.allowPassthrough ? " + passthrough" : ""}`
        : "passthrough (callers send their own provider key)";
  console.log(`AI gateway listening on ${server.url}/v1 (providers: ${describeProviders(config)}; keys: ${keys})`);
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
