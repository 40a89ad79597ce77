/**
 * Starts the local gateway in-process on 127.0.0.1 with a given cache/quota
 * store (memory or DynamoDB), and keeps each finished request's summary and
 * metrics. Like local-gateway.ts, plus `store` and `metrics`.
 */
import OpenAI from "openai";
import { startLocalServer } from "../../functions/local/server.ts";
import { loadConfig } from "../../functions/shared/config/config.ts";
import type { CredentialStore } from "../../functions/shared/access/credentials.ts";
import type { RequestMetrics } from "../../functions/shared/observability/request-metrics.ts";
import type { RequestSummary } from "../../functions/shared/observability/request-summary.ts";
import type { GatewayStore } from "../../functions/shared/stores/types.ts";
import { postJson as postJsonTo, type FetchedResponse } from "./fetch.ts";

/** A running gateway with its store, and what it measured. */
export interface StoreGateway {
  /** e.g. http://127.0.0.1:PORT */
  readonly url: string;
  /** The OpenAI base URL, `${url}/v1/`. */
  readonly baseURL: string;
  /** Summaries of finished requests, in order of completion. */
  readonly summaries: RequestSummary[];
  /** The metrics computed for each summary (same order). */
  readonly metrics: RequestMetrics[];
  /** An openai SDK client for this gateway (no retries, `x-provider: openai` by default). */
  client(apiKey: string, headers?: Record<string, string>): OpenAI;
  /** Waits until `count` requests have finished (at most `timeoutMs`). */
  waitForSummaries(count: number, timeoutMs?: number): Promise<RequestSummary[]>;
  /** Forgets the summaries and metrics so far. */
  reset(): void;
  close(): Promise<void>;
}

/** Options of {@link startStoreGateway}. */
export interface StoreGatewayOptions {
  /** The cache and quota store (default: the one the configuration names, memory without GATEWAY_TABLE_NAME). */
  readonly store?: GatewayStore;
  readonly credentials?: CredentialStore;
}

/** Starts a gateway configured by `env` (as the process environment would configure it). */
export async function startStoreGateway(env: Record<string, string>, options: StoreGatewayOptions = {}): Promise<StoreGateway> {
  const summaries: RequestSummary[] = [];
  const metrics: RequestMetrics[] = [];
  const server = await startLocalServer({
    config: loadConfig(env),
    server: { host: "127.0.0.1", port: 0 },
    credentials: options.credentials,
    store: options.store,
    onRequest: (summary, measured) => {
      summaries.push(summary);
      metrics.push(measured);
    },
  });
  const baseURL = `${server.url}/v1/`;
  return {
    url: server.url,
    baseURL,
    summaries,
    metrics,
    client: (apiKey, headers = {}) =>
      new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: 10_000, defaultHeaders: { "x-provider": "openai", ...headers } }),
    async waitForSummaries(count, timeoutMs = 5_000) {
      const until = Date.now() + timeoutMs;
      while (summaries.length < count && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
      return summaries;
    },
    reset() {
      summaries.splice(0);
      metrics.splice(0);
    },
    close: () => server.close(1_000),
  };
}

/** POSTs a JSON body (a string is sent as is) to `${baseURL}${path}` with `x-provider: openai`, and reads the whole answer. */
export function postJson(baseURL: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<FetchedResponse> {
  return postJsonTo(baseURL, path, body, { "x-provider": "openai", ...headers });
}

/**
 * Makes sure at least `neededMs` are left in the current UTC minute, waiting
 * for the next minute otherwise (at most ~`neededMs`), so a test counting in
 * fixed minute windows does not straddle two of them.
 * @returns the ms left in the minute once it returns
 */
export async function ensureMinuteLeft(neededMs = 5_000): Promise<number> {
  const left = () => 60_000 - (Date.now() % 60_000);
  if (left() < neededMs) await new Promise((resolve) => setTimeout(resolve, left() + 50));
  return left();
}
