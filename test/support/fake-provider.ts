/**
 * A fake OpenAI-compatible provider on 127.0.0.1 with that provider's quirks
 * (test/support/fake-provider/quirks.ts): its path prefix and auth style, its
 * refusal of `stream_options`, its stream and error shapes. The answers
 * themselves come from a fake OpenAI upstream behind it, so its behaviour
 * queue (`upstream.enqueue({ kind: "error", status: 503 })`) works as usual.
 *
 *   const groq = await startFakeProvider({ flavor: "groq", apiKey: "gsk_test" });
 *   // GATEWAY_PROVIDERS={"groq": {"preset": "groq", "baseUrl": groq.baseUrl, "apiKey": "gsk_test"}}
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIOptions } from "./fake-openai.ts";
import {
  alwaysStreamsUsage,
  AZURE_CONTENT_FILTER_ERROR,
  createStreamRewriter,
  PATH_PREFIX,
  providerError,
  refusesStreamOptions,
  rewriteJson,
  type FakeFlavor,
} from "./fake-provider/quirks.ts";

export type { FakeFlavor };

/** A request as the fake provider received it. */
export interface ProviderRequest {
  readonly method: string;
  /** Path and query as received. */
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly json: Record<string, unknown> | undefined;
  /** Azure's dated API: the deployment in the path. */
  readonly deployment?: string;
}

export interface FakeProviderOptions {
  readonly flavor: FakeFlavor;
  /** The key it expects (in its auth style); without, it takes any call. */
  readonly apiKey?: string;
  /** Azure's dated API: the api-version it expects. */
  readonly apiVersion?: string;
  readonly upstream?: FakeOpenAIOptions;
}

export interface FakeProvider {
  /** The base URL a provider entry points at, e.g. `http://127.0.0.1:PORT/openai/v1`. */
  readonly baseUrl: string;
  readonly requests: ProviderRequest[];
  /** The fake OpenAI behind it: queue behaviours there. */
  readonly upstream: FakeOpenAI;
  reset(): void;
  close(): Promise<void>;
}

/** Starts a fake provider (and the fake OpenAI behind it). */
export async function startFakeProvider(options: FakeProviderOptions): Promise<FakeProvider> {
  const upstream = await startFakeOpenAI(options.upstream);
  const requests: ProviderRequest[] = [];
  const prefix = PATH_PREFIX[options.flavor];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      answer(request, Buffer.concat(chunks), response).catch(() => response.destroy());
    });
  });

  async function answer(request: http.IncomingMessage, body: Buffer, response: http.ServerResponse): Promise<void> {
    const { flavor } = options;
    const url = request.url ?? "/";
    const [path = "", query = ""] = url.split("?");
    const json = body.length > 0 ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>) : undefined;
    const deployment = /^\/openai\/deployments\/([^/]+)\//.exec(path)?.[1];
    requests.push({ method: request.method ?? "GET", url, headers: request.headers, json, deployment: deployment === undefined ? undefined : decodeURIComponent(deployment) });
    const send = (status: number, payload: unknown) => {
      response.writeHead(status, { "content-type": "application/json", "x-request-id": "req_fake_provider" });
      response.end(JSON.stringify(payload));
    };
    if (!path.startsWith(`${prefix}/`)) return send(404, providerError(flavor, 404, { message: `No route ${path}` }));
    if (!authorized(request.headers)) return send(401, providerError(flavor, 401, { message: "Access denied due to invalid subscription key.", code: "invalid_api_key" }));
    const apiVersion = new URLSearchParams(query).get("api-version") ?? undefined;
    if (flavor === "azure-dated" && apiVersion !== options.apiVersion) return send(404, providerError(flavor, 404, { message: "Resource not found" }));
    if (json?.stream_options !== undefined) {
      const refusal = refusesStreamOptions(flavor, apiVersion);
      if (refusal !== undefined) return send(refusal.status, refusal.body);
    }
    if ((flavor === "azure-v1" || flavor === "azure-dated") && body.toString("utf8").includes("FILTER-ME")) return send(400, AZURE_CONTENT_FILTER_ERROR);
    const rest = deployment === undefined ? path.slice(prefix.length) : path.slice(`/openai/deployments/${deployment}`.length);
    const streams = json?.stream === true;
    const askedUsage = (json?.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const forwarded: Record<string, unknown> | undefined = json === undefined ? undefined : { ...json, ...(deployment === undefined ? {} : { model: decodeURIComponent(deployment) }) };
    if (forwarded !== undefined && streams && alwaysStreamsUsage(flavor)) forwarded.stream_options = { include_usage: true };
    await relay(request.method ?? "GET", `/v1${rest}`, forwarded, response, streams ? createStreamRewriter(flavor, askedUsage) : undefined);
  }

  function authorized(headers: http.IncomingHttpHeaders): boolean {
    if (options.apiKey === undefined) return true;
    if (options.flavor === "azure-v1" || options.flavor === "azure-dated") return headers["api-key"] === options.apiKey && headers.authorization === undefined;
    return headers.authorization === `Bearer ${options.apiKey}`;
  }

  /** Calls the fake OpenAI and writes its answer in the provider's shape. */
  function relay(method: string, path: string, json: unknown, response: http.ServerResponse, rewrite: ((data: string) => string[]) | undefined): Promise<void> {
    const { port } = new URL(upstream.baseUrl);
    return new Promise((resolve, reject) => {
      const call = http.request({ host: "127.0.0.1", port, path, method, headers: json === undefined ? {} : { "content-type": "application/json" } }, (answer) => {
        const status = answer.statusCode ?? 502;
        const eventStream = String(answer.headers["content-type"]).startsWith("text/event-stream");
        if (eventStream && rewrite !== undefined && status === 200) {
          response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_fake_provider" });
          let buffered = "";
          answer.setEncoding("utf8");
          answer.on("data", (text: string) => {
            buffered += text;
            for (let end = buffered.indexOf("\n\n"); end !== -1; end = buffered.indexOf("\n\n")) {
              const data = buffered.slice(0, end).replace(/^data: /, "");
              buffered = buffered.slice(end + 2);
              for (const out of rewrite(data)) response.write(out);
            }
          });
          answer.on("end", () => response.end(resolve));
          answer.on("error", reject);
          return;
        }
        const parts: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => parts.push(chunk));
        answer.on("error", reject);
        answer.on("end", () => {
          const text = Buffer.concat(parts).toString("utf8");
          let payload: unknown = text;
          try {
            const parsed = JSON.parse(text) as Record<string, unknown>;
            payload = status >= 400 ? providerError(options.flavor, status, (parsed.error ?? {}) as Record<string, unknown>) : rewriteJson(options.flavor, parsed);
          } catch {
            // not JSON: relayed as it came
          }
          const headers: Record<string, string> = { "content-type": String(answer.headers["content-type"] ?? "application/json"), "x-request-id": "req_fake_provider" };
          if (answer.headers["retry-after"] !== undefined) headers["retry-after"] = String(answer.headers["retry-after"]);
          response.writeHead(status, headers);
          response.end(typeof payload === "string" ? payload : JSON.stringify(payload), () => resolve());
        });
      });
      call.on("error", reject);
      call.end(json === undefined ? undefined : JSON.stringify(json));
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${prefix}`,
    requests,
    upstream,
    reset() {
      requests.length = 0;
      upstream.reset();
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await upstream.close();
    },
  };
}
