/**
 * The fake OpenAI upstream's HTTP server: records every request, hands it to
 * the dispatcher, tracks sockets (open, total, closes), and is the handle
 * tests get (queue behaviours, read what happened, reset, close).
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { DEFAULT_MODELS, hex } from "./common.ts";
import { completeBatch, completeJob } from "./batches-fine-tuning.ts";
import { handle } from "./dispatch.ts";
import { emptyProject, type ProjectObjects, type Stored } from "./stored.ts";
import { defaultErrorFor, sendError } from "./errors.ts";
import type { Behaviour, Ctx, FakeOpenAI, FakeOpenAIOptions, FakeServerState, RecordedRequest } from "./types.ts";

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const state: FakeServerState = {
    options,
    streamChunks: options.streamDefaults?.chunks ?? 5,
    streamInterval: options.streamDefaults?.intervalMs ?? 0,
    models: options.models ?? [...DEFAULT_MODELS],
    organization: options.organization ?? "user-fakeorg0000000000000000",
    edgeHeaders: options.edgeHeaders ?? true,
    queue: [],
    requestCount: 0,
    lastStreamWrites: [],
    lastStreamEvents: [],
    lastStreamDone: Promise.resolve(),
    objects: new Map(),
  };
  const { queue } = state;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const inFlight = new Set<AbortController>();
  const closeWaiters = new Set<(closedAt: number) => void>();
  const requestWaiters = new Set<() => void>();
  let totalSockets = 0;
  let closing = false;

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => undefined);
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      let json: unknown;
      if (body.length > 0) {
        try {
          json = JSON.parse(body.toString("utf8"));
        } catch {
          json = undefined;
        }
      }
      const url = req.url ?? "/";
      const rec: RecordedRequest = {
        method: req.method ?? "GET",
        url,
        headers: { ...req.headers },
        body,
        json,
        receivedAt: performance.now(),
      };
      requests.push(rec);
      state.requestCount++;
      for (const w of [...requestWaiters]) w();
      const controller = new AbortController();
      inFlight.add(controller);
      const done = (): void => {
        inFlight.delete(controller);
        controller.abort();
      };
      res.on("close", done);
      if (closing) {
        res.destroy();
        return;
      }
      const qIdx = url.indexOf("?");
      const pathname = qIdx >= 0 ? url.slice(0, qIdx) : url;
      const ctx: Ctx = {
        state,
        req,
        res,
        rec,
        pathname,
        signal: controller.signal,
        requestId: `req_${hex(16)}`,
        startedAt: rec.receivedAt,
      };
      handle(ctx).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          sendError(ctx, 500, { ...defaultErrorFor(500), message: `fake-openai internal error: ${String(err)}` });
        } else {
          res.destroy();
        }
      });
    });
  });
  server.keepAliveTimeout = 5_000;

  server.on("connection", (sock: Socket) => {
    sockets.add(sock);
    totalSockets++;
    sock.on("error", () => undefined);
    sock.on("close", () => {
      sockets.delete(sock);
      const at = performance.now();
      for (const w of [...closeWaiters]) w(at);
    });
  });
  server.on("clientError", (_err, sock) => {
    if (!sock.destroyed) sock.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const fake: FakeOpenAI = {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue(behaviour: Behaviour): void {
      queue.push(behaviour);
    },
    pending(): number {
      return queue.length;
    },
    get lastStreamWrites(): number[] {
      return state.lastStreamWrites;
    },
    get lastStreamEvents(): string[] {
      return state.lastStreamEvents;
    },
    get lastStreamDone(): Promise<void> {
      return state.lastStreamDone;
    },
    waitForRequests(count: number, timeoutMs: number): Promise<RecordedRequest[]> {
      return new Promise<RecordedRequest[]>((resolve, reject) => {
        const waiter = (): void => {
          if (requests.length < count) return;
          requestWaiters.delete(waiter);
          clearTimeout(timer);
          resolve(requests);
        };
        const timer = setTimeout(() => {
          requestWaiters.delete(waiter);
          reject(new Error(`fake-openai: ${requests.length} of ${count} requests received within ${timeoutMs} ms`));
        }, timeoutMs);
        requestWaiters.add(waiter);
        waiter();
      });
    },
    openSockets(): number {
      return sockets.size;
    },
    totalSockets(): number {
      return totalSockets;
    },
    waitForSocketClose(timeoutMs: number): Promise<number> {
      const start = performance.now();
      return new Promise<number>((resolve, reject) => {
        const waiter = (at: number): void => {
          closeWaiters.delete(waiter);
          clearTimeout(timer);
          resolve(at - start);
        };
        const timer = setTimeout(() => {
          closeWaiters.delete(waiter);
          reject(new Error(`fake-openai: no socket closed within ${timeoutMs} ms`));
        }, timeoutMs);
        closeWaiters.add(waiter);
      });
    },
    reset(): void {
      requests.length = 0;
      state.objects.clear();
      queue.length = 0;
      state.lastStreamWrites = [];
      state.lastStreamEvents = [];
      state.lastStreamDone = Promise.resolve();
      state.requestCount = 0;
      totalSockets = sockets.size;
    },
    objects(project = ""): ProjectObjects {
      let objects = state.objects.get(project);
      if (objects === undefined) {
        objects = emptyProject();
        state.objects.set(project, objects);
      }
      return objects;
    },
    completeBatch(batchId: string): void {
      const objects = [...state.objects.values()].find((candidate) => candidate.batches.has(batchId));
      if (objects === undefined) throw new Error(`fake-openai: no batch ${batchId}`);
      completeBatch(objects, objects.batches.get(batchId) as Stored);
    },
    completeFineTuningJob(jobId: string): void {
      const objects = [...state.objects.values()].find((candidate) => candidate.jobs.has(jobId));
      if (objects === undefined) throw new Error(`fake-openai: no fine-tuning job ${jobId}`);
      completeJob(objects, objects.jobs.get(jobId) as Stored);
    },
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      queue.length = 0;
      for (const c of [...inFlight]) c.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const socketsClosed = [...sockets].map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.closed) return resolve();
            s.once("close", () => resolve());
            s.destroy();
          }),
      );
      await Promise.all([closed, ...socketsClosed]);
      for (const w of [...closeWaiters]) w(performance.now());
    },
  };
  return fake;
}
