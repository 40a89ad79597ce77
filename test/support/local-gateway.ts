/**
 * Starts the local gateway server in-process on 127.0.0.1 for a test.
 */
import OpenAI from "openai";
import { startLocalServer } from "../../functions/local/server.ts";
import { loadConfig } from "../../functions/shared/config/config.ts";
import type { CredentialStore } from "../../functions/shared/access/credentials.ts";
import { measureRequest, ModelDimensionLimiter } from "../../functions/shared/observability/request-metrics.ts";
import type { RequestSummary } from "../../functions/shared/observability/request-summary.ts";

/** A running gateway and what it logged. */
export interface TestGateway {
  /** e.g. http://127.0.0.1:PORT */
  readonly url: string;
  /** The OpenAI base URL, `${url}/v1/`. */
  readonly baseURL: string;
  /** Summaries of finished requests, in order. */
  readonly summaries: RequestSummary[];
  /** An openai SDK client for this gateway (no retries, `x-provider: openai` by default). */
  client(apiKey: string, headers?: Record<string, string>): OpenAI;
  /** Waits until `count` requests have finished (at most 2 s; then returns the summaries there are). */
  waitForSummaries(count: number): Promise<RequestSummary[]>;
  /** Forgets the summaries so far. */
  reset(): void;
  close(): Promise<void>;
}

/** Starts a gateway configured by `env` (as the process environment would configure it). */
export async function startTestGateway(env: Record<string, string>, credentials?: CredentialStore): Promise<TestGateway> {
  const summaries: RequestSummary[] = [];
  const waiters = new Set<() => void>();
  const server = await startLocalServer({
    config: loadConfig(env),
    server: { host: "127.0.0.1", port: 0 },
    credentials,
    onRequest: (summary) => {
      summaries.push(summary);
      for (const waiter of [...waiters]) waiter();
    },
  });
  const baseURL = `${server.url}/v1/`;
  return {
    url: server.url,
    baseURL,
    summaries,
    client: (apiKey, headers = {}) =>
      new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: 10_000, defaultHeaders: { "x-provider": "openai", ...headers } }),
    async waitForSummaries(count) {
      await new Promise<void>((resolve) => {
        const settle = () => {
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const check = () => {
          if (summaries.length >= count) settle();
        };
        const timer = setTimeout(settle, 2_000);
        waiters.add(check);
        check();
      });
      return summaries;
    },
    reset: () => void summaries.splice(0),
    close: () => server.close(1_000),
  };
}

/** The metric values the gateway computes for a finished request. */
export function metricsOf(summary: RequestSummary | undefined) {
  if (summary === undefined) throw new Error("no summary");
  return measureRequest(summary, new ModelDimensionLimiter()).values;
}
