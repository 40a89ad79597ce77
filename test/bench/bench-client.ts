/**
 * The benchmark's client side: timed requests over a keep-alive pool.
 */
import http from "node:http";
import { performance } from "node:perf_hooks";

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const CHAT = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "Hello!" }] });

/** Sends one non-streamed chat completion; resolves with its latency in ms. */
export function timedChat(baseUrl: string, headers: Record<string, string> = {}): Promise<number> {
  const url = new URL(`${baseUrl}/chat/completions`);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", agent, headers: { "content-type": "application/json", authorization: "Bearer sk-bench", ...headers } },
      (response) => {
        response.on("data", () => undefined);
        response.on("end", () => (response.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`status ${response.statusCode}`))));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(CHAT);
  });
}

/** Runs `total` requests with `concurrency` in flight; returns latencies and wall time. */
export async function runLoad(send: () => Promise<number>, total: number, concurrency: number): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let started = 0;
  const begin = performance.now();
  const worker = async () => {
    while (started < total) {
      started += 1;
      latencies.push(await send());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, seconds: (performance.now() - begin) / 1000 };
}

/** Per-chunk timings of one stream: receive time minus send time, and time to first chunk. */
export interface StreamTiming {
  readonly firstChunkMs: number;
  readonly chunkDelaysMs: number[];
}

/** Streams a chat completion whose chunks the bench upstream timestamps; matches each received chunk to its send time. */
export function timedStream(baseUrl: string, id: string, chunks: number, intervalMs: number, sendTimes: Map<string, number[]>): Promise<StreamTiming> {
  const url = new URL(`${baseUrl}/chat/completions`);
  const body = JSON.stringify({
    model: "gpt-4o",
    messages: [{ role: "user", content: "stream" }],
    stream: true,
    ...(process.env.BENCH_INCLUDE_USAGE === "1" ? { stream_options: { include_usage: true } } : {}),
    user: id,
    metadata: { n: String(chunks), interval: String(intervalMs) },
  });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", agent, headers: { "content-type": "application/json", authorization: "Bearer sk-bench" } },
      (response) => {
        const received: number[] = [];
        let firstChunkMs = -1;
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (data: string) => {
          const at = performance.timeOrigin + performance.now();
          if (firstChunkMs < 0) firstChunkMs = performance.now() - started;
          text += data;
          for (const match of data.matchAll(/"content":"#(\d+) "/g)) received[Number(match[1])] = at;
        });
        response.on("end", () => {
          const sent = sendTimes.get(id) ?? [];
          if (!text.endsWith("data: [DONE]\n\n") || received.length !== chunks) return reject(new Error(`stream ${id} incomplete`));
          resolve({ firstChunkMs, chunkDelaysMs: received.map((at, index) => at - (sent[index] ?? at)) });
        });
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** The p-th percentile (0-100) of values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
