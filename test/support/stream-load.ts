/**
 * Drives streamed chat completions through a gateway with the openai SDK and
 * checks each client stream byte for byte against what the recording upstream
 * sent for it (see recording-upstream.ts).
 *
 * The clients ask for `include_usage` themselves, so the gateway relays the
 * provider's bytes untouched (it only rewrites streams when it injected usage).
 */
import { createHash } from "node:crypto";
import OpenAI from "openai";
import type { RecordingUpstream } from "./recording-upstream.ts";

/** How one streamed request went. */
export interface StreamResult {
  readonly id: string;
  readonly ok: boolean;
  /** Why it did not match, when it did not. */
  readonly problem?: string;
  readonly bytes: number;
  readonly ms: number;
}

/** A load run's tally. */
export interface LoadTally {
  readonly results: readonly StreamResult[];
  readonly failures: readonly StreamResult[];
  readonly bytes: number;
  readonly ms: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Creates an SDK client for a gateway base URL (`http://host:port`). */
export function loadClient(gatewayUrl: string): OpenAI {
  return new OpenAI({
    apiKey: "sk-load",
    baseURL: `${gatewayUrl}/v1/`,
    maxRetries: 0,
    timeout: 60_000,
    defaultHeaders: { "x-provider": "openai" },
  });
}

/** Streams one chat completion with request id `id` and compares it with the upstream's record. */
export async function streamOnce(client: OpenAI, upstream: RecordingUpstream, id: string): Promise<StreamResult> {
  const started = performance.now();
  try {
    const response = await client.chat.completions
      .create({
        model: "gpt-4o",
        messages: [{ role: "user", content: `load request ${id}` }],
        stream: true,
        stream_options: { include_usage: true },
        user: id,
      })
      .asResponse();
    const hash = createHash("sha256");
    let bytes = 0;
    if (response.body === null) throw new Error("no body");
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
    const ms = performance.now() - started;
    const sent = upstream.records.get(id);
    if (response.status !== 200) return { id, ok: false, problem: `status ${response.status}`, bytes, ms };
    if (sent === undefined) return { id, ok: false, problem: "the upstream has no record of a finished stream", bytes, ms };
    if (sent.bytes !== bytes) return { id, ok: false, problem: `${bytes} bytes received, ${sent.bytes} sent`, bytes, ms };
    if (sent.sha256 !== hash.digest("hex")) return { id, ok: false, problem: "sha256 differs", bytes, ms };
    return { id, ok: true, bytes, ms };
  } catch (error) {
    return { id, ok: false, problem: `threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, bytes: 0, ms: performance.now() - started };
  }
}

/** Runs `count` streams named `${prefix}-${index}`, at most `concurrency` at a time. */
export async function runStreams(client: OpenAI, upstream: RecordingUpstream, prefix: string, count: number, concurrency: number): Promise<LoadTally> {
  const started = performance.now();
  const results: StreamResult[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        results.push(await streamOnce(client, upstream, `${prefix}-${index}`));
      }
    }),
  );
  const latencies = results.map((result) => result.ms).sort((a, b) => a - b);
  const at = (quantile: number) => latencies[Math.min(latencies.length - 1, Math.floor(quantile * latencies.length))] ?? Number.NaN;
  return {
    results,
    failures: results.filter((result) => !result.ok),
    bytes: results.reduce((sum, result) => sum + result.bytes, 0),
    ms: performance.now() - started,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

/** A short description of a tally's failures, for assertion messages. */
export function describeFailures(tally: LoadTally): string {
  const byProblem = new Map<string, string[]>();
  for (const failure of tally.failures) byProblem.set(failure.problem ?? "?", [...(byProblem.get(failure.problem ?? "?") ?? []), failure.id]);
  return [...byProblem.entries()].map(([problem, ids]) => `${problem}: ${ids.length} (${ids.slice(0, 5).join(", ")})`).join("; ");
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export async function residentBytes(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}
