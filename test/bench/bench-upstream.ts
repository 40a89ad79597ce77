/**
 * A lean OpenAI-shaped upstream for the benchmark: a fixed chat completion,
 * and streams whose chunks carry their sequence number and send time, so the
 * client can tell how long each chunk took to reach it.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

const COMPLETION = Buffer.from(
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1_700_000_000,
    model: "gpt-4o",
    choices: [{ index: 0, message: { role: "assistant", content: "Hello from the benchmark upstream." }, finish_reason: "stop" }],
    usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
  }),
);

/** The upstream; `sendTimes` maps a stream id to the send time of each chunk. */
export interface BenchUpstream {
  readonly baseUrl: string;
  readonly sendTimes: Map<string, number[]>;
  close(): Promise<void>;
}

/** Starts the upstream on 127.0.0.1. Streams: `stream: true` with `user` as the stream id, `n` chunks `interval` ms apart. */
export async function startBenchUpstream(): Promise<BenchUpstream> {
  const sendTimes = new Map<string, number[]>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>);
      const headers = { "x-request-id": "req_bench", "openai-processing-ms": "1" };
      if (body.stream !== true) {
        response.writeHead(200, { ...headers, "content-type": "application/json", "content-length": COMPLETION.length });
        response.end(COMPLETION);
        return;
      }
      const id = String(body.user ?? "anonymous");
      const count = Number((body.metadata as Record<string, string> | undefined)?.n ?? 20);
      const interval = Number((body.metadata as Record<string, string> | undefined)?.interval ?? 10);
      const includeUsage = (body.stream_options as Record<string, unknown> | undefined)?.include_usage === true;
      const times: number[] = [];
      sendTimes.set(id, times);
      response.writeHead(200, { ...headers, "content-type": "text/event-stream" });
      let sequence = 0;
      const send = () => {
        if (sequence < count) {
          const chunk = {
            id: "chatcmpl-bench",
            object: "chat.completion.chunk",
            created: 1_700_000_000,
            model: "gpt-4o",
            choices: [{ index: 0, delta: { content: `#${sequence} ` }, finish_reason: null }],
            ...(includeUsage ? { usage: null } : {}),
          };
          times.push(performance.timeOrigin + performance.now());
          response.write(`data: ${JSON.stringify(chunk)}\n\n`);
          sequence += 1;
          setTimeout(send, interval);
          return;
        }
        if (includeUsage) {
          response.write(`data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":${count},"total_tokens":${12 + count}}}\n\n`);
        }
        response.end("data: [DONE]\n\n");
      };
      send();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    sendTimes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
