/**
 * Bounded work on a hostile event stream: a provider that sends one endless
 * event (tens of MB of `data: xxxx…` without a blank line, with no line end at
 * all or with single line ends) is cut at the documented event size, 16 MiB
 * (MAX_SSE_EVENT_CHARS, streaming/sse-framer.ts): the client gets OpenAI's
 * error event with code `upstream_event_too_large` and no `[DONE]`, the
 * gateway stops reading the provider, and the work is linear: the gateway
 * (in a child process of its own) spends well under a few seconds of CPU.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { startGatewayChild } from "../support/gateway-child.ts";
import { useHttpUpstream, useStarted } from "../support/gateway-fixture.ts";
import { expectEndsWithErrorEvent } from "../support/openai-errors.ts";
import { postJson } from "../support/store-gateway.ts";

const MB = 1024 * 1024;
/** The documented bound on one event, in characters. */
const MAX_EVENT_CHARS = 16 * MB;
/** CPU the gateway may spend on one such stream: linear work takes a fraction of a second; the old quadratic scan took ~18 s. */
const CPU_BOUND_MS = 4_000;
const chat = { model: "gpt-4o", messages: [{ role: "user", content: "Hi" }], stream: true };

/** The start of an event whose JSON never ends. */
const OPENING = 'data: {"choices":[{"index":0,"delta":{"content":"';
/** One endless event with no line end: an opening, then x after x. */
const NO_LINE_END = { total: 48 * MB, first: OPENING, piece: "x".repeat(64 * 1024) };
/** One endless event of 1 KiB data lines (each valid JSON), never a blank line. */
const SINGLE_LINE_ENDS = { total: 32 * MB, first: "", piece: `data: {"pad":"${"x".repeat(1010)}"}\n` };
/** How the provider's endless event is written: `first`, then `piece` again and again, `total` bytes in all. */
let hostile = NO_LINE_END;
/** What the provider wrote of it, and whether the gateway hung up before the end. */
let sent = 0;
let hungUp = false;

function drainedOrClosed(response: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (drained: boolean) => {
      response.off("drain", onDrain);
      response.off("close", onClose);
      resolve(drained);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    response.once("drain", onDrain);
    response.once("close", onClose);
  });
}

const upstream = useHttpUpstream((request, response) => {
  request.resume();
  request.on("end", async () => {
    sent = 0;
    hungUp = false;
    response.once("close", () => {
      hungUp = !response.writableFinished;
    });
    response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_hostile" });
    let next = hostile.first + hostile.piece;
    while (sent < hostile.total && !response.destroyed) {
      sent += next.length;
      if (!response.write(next) && !(await drainedOrClosed(response))) return;
      next = hostile.piece;
    }
    // Only a gateway that read it all gets here: the stream ends without a blank line.
    response.end();
  });
});

const gateway = useStarted(() => startGatewayChild({ OPENAI_BASE_URL: upstream.baseUrl, GATEWAY_MAX_RETRIES: "0" }), {
  what: "the gateway",
});

const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());

/** CPU time (user + system) a process has used so far, from /proc. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold blanks): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** Streams `chat` through the gateway child and measures the child's CPU for it. */
async function streamThroughGateway(extra: Record<string, unknown> = {}) {
  const child = gateway();
  const before = cpuMs(child.pid);
  const started = performance.now();
  const answer = await postJson(`${child.url}/v1/`, "chat/completions", { ...chat, ...extra }, { authorization: "Bearer sk-caller" });
  const wallMs = performance.now() - started;
  const stats = await child.stats();
  return { answer, cpuMs: cpuMs(child.pid) - before, wallMs, stats };
}

describe("one endless event from the provider", () => {
  it.each([
    ["no line end at all", NO_LINE_END],
    ["single line ends and never a blank line", SINGLE_LINE_ENDS],
  ])("with %s is cut at 16 MiB with upstream_event_too_large, in linear time", async (_shape, shape) => {
    hostile = shape;
    const requestsBefore = (await gateway().stats()).requests;
    const { answer, cpuMs: spent, wallMs, stats } = await streamThroughGateway();
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^text\/event-stream/);
    // The client asked for no usage, so the gateway relays whole events only: the error event is all it gets.
    const error = expectEndsWithErrorEvent(answer.text);
    expect(error).toMatchObject({ code: "upstream_event_too_large", type: "server_error" });
    expect(error.message).toContain(String(MAX_EVENT_CHARS));
    expect(answer.text).toBe(`data: ${JSON.stringify({ error })}\n\n`);
    // The gateway stopped reading soon after the bound, well before the provider's end.
    expect(hungUp).toBe(true);
    expect(sent).toBeLessThan(shape.total);
    expect(stats.requests).toBe(requestsBefore + 1);
    expect(stats.outcomes.upstream_failure).toBeGreaterThanOrEqual(1);
    expect(spent, `gateway CPU ${spent} ms (wall ${wallMs.toFixed(0)} ms)`).toBeLessThan(CPU_BOUND_MS);
  }, 120_000);

  it("a client that asked for usage gets the bytes as they came, up to the bound, then the error event on a line of its own", async () => {
    hostile = NO_LINE_END;
    const { answer, cpuMs: spent, wallMs } = await streamThroughGateway({ stream_options: { include_usage: true } });
    expect(answer.status).toBe(200);
    const error = expectEndsWithErrorEvent(answer.text);
    expect(error.code).toBe("upstream_event_too_large");
    const junk = answer.text.slice(0, answer.text.lastIndexOf("\n\ndata: {"));
    expect(junk.length).toBeGreaterThan(MAX_EVENT_CHARS - 2 * 64 * 1024);
    expect(junk.length).toBeLessThanOrEqual(MAX_EVENT_CHARS + 64 * 1024);
    expect(junk.startsWith(OPENING)).toBe(true);
    expect(/^x+$/.test(junk.slice(OPENING.length))).toBe(true);
    expect(hungUp).toBe(true);
    expect(spent, `gateway CPU ${spent} ms (wall ${wallMs.toFixed(0)} ms)`).toBeLessThan(CPU_BOUND_MS);
  }, 120_000);
});
