/**
 * The per-request cost of the gateway's hot path, beside the limit: a bare
 * `node:http` pipe proxy (pipe-proxy.ts), calling the same upstream.
 * Non-streamed chat completions, one at a time over one keep-alive socket per
 * target process, in interleaved rounds (direct, pipes, gateways, then the
 * next round in another order; the warm-up too goes in turns), so that the
 * machine's load and V8's state weigh on every target alike:
 * - CPU per request: each target process's user + system time
 *   (/proc/<pid>/stat) summed over the rounds, divided by its requests;
 * - latency: hrtime per request; "added" is a target's p50 minus the direct
 *   p50 of the same rounds.
 * A target may run in several processes (its group): two processes of the
 * same gateway, measured side by side, spent up to 7% apart in CPU per
 * request, each JIT settling its own way (inlining, code layout), which is
 * more than the rounds' spread within one process. A group's figure is the
 * mean over its processes, as a fleet of Lambda execution environments
 * averages them; each process's own figure is reported beside it.
 * What a process served before may matter too: after the chats and streams
 * the bench first sends a gateway, a pipe proxy spent 1.18-1.37x the CPU per
 * request of a fresh one in four of six side-by-side runs and the same
 * (0.95-0.99x) in the other two; the chats alone or the streams alone changed
 * nothing. So the caller gives the gateways and the pipe proxies they are
 * measured against the same history, and measures fresh pipe proxies beside
 * them, the stricter bound.
 */
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { join } from "node:path";
import { processCpuMs } from "../support/process-cpu.ts";
import { percentile } from "./bench-client.ts";

/** A server the hot path is measured on. */
export interface HotPathTarget {
  readonly name: string;
  /** The figure it is part of (default: its name): the processes of one target each have a name of their own and a group. */
  readonly group?: string;
  /** Base URL ending in /v1. */
  readonly baseUrl: string;
  /** The process serving it, when it has its own (its CPU time is measured). */
  readonly pid?: number;
}

/** One target's figures. */
export interface HotPathFigures {
  readonly requests: number;
  /** CPU time per request, µs (NaN without a process of its own). */
  readonly cpuUsPerRequest: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time per request in each round (over the group's processes), µs. */
  readonly cpuUsByRound: readonly number[];
  /** CPU time per request of each of the group's processes, µs. */
  readonly cpuUsByProcess: readonly number[];
}

const CHAT = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "Hello!" }] });

/** Sends `count` chat completions one after the other over `agent`'s one socket; returns each latency in ms. */
async function sequentialChats(baseUrl: string, agent: http.Agent, count: number): Promise<number[]> {
  const url = new URL(`${baseUrl}/chat/completions`);
  const latencies: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(CHAT), authorization: "Bearer sk-bench" },
        },
        (response) => {
          response.on("data", () => undefined);
          response.on("end", () => (response.statusCode === 200 ? resolve() : reject(new Error(`${baseUrl}: status ${response.statusCode}`))));
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(CHAT);
    });
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return latencies;
}

/**
 * Measures every target over `rounds` interleaved rounds of `requests` each,
 * after `warmup` requests each; figures by group (see {@link HotPathTarget}).
 */
export async function measureHotPath(
  targets: readonly HotPathTarget[],
  options: { rounds: number; requests: number; warmup: number },
): Promise<Record<string, HotPathFigures>> {
  const agents = new Map(targets.map((target) => [target.name, new http.Agent({ keepAlive: true, maxSockets: 1 })]));
  const latencies = new Map<string, number[]>(targets.map((target) => [target.name, []]));
  const rounds = new Map<string, number[]>(targets.map((target) => [target.name, []]));
  // The warm-up is interleaved too: a target warmed up whole, then left idle while the others
  // warmed up, spent more CPU per request in the rounds (two processes of the same gateway measured
  // 8% apart, the one warmed up first the costlier; warmed up in turns, 1%).
  const warmupChunk = Math.max(1, Math.ceil(options.warmup / 10));
  for (let done = 0; done < options.warmup; done += warmupChunk) {
    for (const target of targets) await sequentialChats(target.baseUrl, agents.get(target.name) as http.Agent, Math.min(warmupChunk, options.warmup - done));
  }
  for (let round = 0; round < options.rounds; round += 1) {
    // Rotate the order, so no target always runs right after the same other one.
    const order = targets.map((_, index) => targets[(index + round) % targets.length] as HotPathTarget);
    for (const target of order) {
      const before = target.pid === undefined ? Number.NaN : processCpuMs(target.pid);
      const measured = await sequentialChats(target.baseUrl, agents.get(target.name) as http.Agent, options.requests);
      const after = target.pid === undefined ? Number.NaN : processCpuMs(target.pid);
      latencies.get(target.name)?.push(...measured);
      rounds.get(target.name)?.push(((after - before) * 1000) / options.requests);
    }
  }
  for (const agent of agents.values()) agent.destroy();
  const groups = Map.groupBy(targets, (target) => target.group ?? target.name);
  const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  return Object.fromEntries(
    [...groups].map(([group, members]) => {
      const byRound = members.map((member) => rounds.get(member.name) ?? []);
      const values = members.flatMap((member) => latencies.get(member.name) ?? []);
      const figures: HotPathFigures = {
        requests: options.rounds * options.requests * members.length,
        cpuUsPerRequest: mean(byRound.map(mean)),
        p50Ms: percentile(values, 50),
        p99Ms: percentile(values, 99),
        cpuUsByRound: Array.from({ length: options.rounds }, (_, round) => mean(byRound.map((member) => member[round] ?? Number.NaN))),
        cpuUsByProcess: byRound.map(mean),
      };
      return [group, figures];
    }),
  );
}

/** Starts the pipe proxy in its own process, in front of `upstreamOrigin`. */
export async function startPipeProxy(root: string, upstreamOrigin: string, nodeArgs: readonly string[] = []): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [...nodeArgs, join(root, "test/bench/pipe-proxy.ts"), upstreamOrigin], {
    cwd: root,
    env: { PATH: process.env.PATH },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.stdout?.once("data", (data: Buffer) => {
      const match = /on (http:\/\/[\d.:]+)/.exec(data.toString());
      if (match?.[1] === undefined) reject(new Error(`pipe proxy: unexpected output ${data.toString()}`));
      else resolve(match[1]);
    });
  });
  return { url, process: child };
}
