/**
 * How the fake writes an answer: api.openai.com's response headers, JSON
 * bodies (gzip when asked), and SSE streams (paced, or cut short on purpose).
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import { alnum, approxTokens, hex, nowSeconds } from "./common.ts";
import type { Ctx, OpenAIErrorBody, StreamPlan } from "./types.ts";

const RATE_LIMIT_REQUESTS = 10_000;
const RATE_LIMIT_TOKENS = 30_000_000;

function commonHeaders(ctx: Ctx, tokens: number): Record<string, string> {
  const { state } = ctx;
  const remainingRequests = Math.max(0, RATE_LIMIT_REQUESTS - state.requestCount);
  const processing = Math.max(1, Math.round(performance.now() - ctx.startedAt));
  const h: Record<string, string> = {
    "x-request-id": ctx.requestId,
    "openai-version": "2020-10-01",
    "openai-organization": state.organization,
    "openai-project": "proj_fake000000000000000000",
    "openai-processing-ms": String(processing),
    "x-envoy-upstream-service-time": String(processing),
    "x-ratelimit-limit-requests": String(RATE_LIMIT_REQUESTS),
    "x-ratelimit-remaining-requests": String(remainingRequests),
    "x-ratelimit-reset-requests": "6ms",
    "x-ratelimit-limit-tokens": String(RATE_LIMIT_TOKENS),
    "x-ratelimit-remaining-tokens": String(Math.max(0, RATE_LIMIT_TOKENS - tokens)),
    "x-ratelimit-reset-tokens": "0s",
    "access-control-expose-headers": "X-Request-ID",
    "x-content-type-options": "nosniff",
  };
  if (state.edgeHeaders) {
    h["strict-transport-security"] = "max-age=31536000; includeSubDomains; preload";
    h["cf-cache-status"] = "DYNAMIC";
    h["server"] = "cloudflare";
    h["cf-ray"] = `${hex(8)}-SJC`;
    h["alt-svc"] = 'h3=":443"; ma=86400';
    h["set-cookie"] = `__cf_bm=${alnum(43)}-${nowSeconds()}-1.0.1.1-${alnum(40)}; path=/; expires=${new Date(
      Date.now() + 30 * 60_000,
    ).toUTCString()}; domain=.api.openai.com; HttpOnly; Secure; SameSite=None`;
  }
  return h;
}

function requestTokens(ctx: Ctx): number {
  return ctx.rec.body.length > 0 ? approxTokens(ctx.rec.body.toString("utf8")) : 0;
}

export function sendJson(ctx: Ctx, status: number, payload: unknown, extraHeaders: Record<string, string> = {}, indent = 2): void {
  const { res, req } = ctx;
  if (res.headersSent || res.destroyed) return;
  let body: Buffer = Buffer.from(JSON.stringify(payload, null, indent) + (indent === 4 ? "\n" : ""), "utf8");
  const headers: Record<string, string> = {
    ...commonHeaders(ctx, requestTokens(ctx)),
    "content-type": "application/json",
    ...extraHeaders,
  };
  const accept = String(req.headers["accept-encoding"] ?? "");
  if (ctx.state.options.compression === "gzip" && /\bgzip\b/.test(accept)) {
    body = gzipSync(body);
    headers["content-encoding"] = "gzip";
    headers["vary"] = "Accept-Encoding";
  }
  headers["content-length"] = String(body.length);
  res.writeHead(status, headers);
  res.end(body);
}

/** One `data:` event of a chat or legacy completion stream. */
export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/**
 * The plan with every line end of its framing (LF as the plans build them)
 * replaced by `lineEnd`. JSON text holds no raw LF, so only the framing changes.
 */
export function withLineEnd(plan: StreamPlan, lineEnd: string | undefined): StreamPlan {
  if (lineEnd === undefined || lineEnd === "\n") return plan;
  const reframe = (text: string) => text.replaceAll("\n", lineEnd);
  return {
    events: plan.events.map((event) => ({ ...event, text: reframe(event.text) })),
    errorEvent: (err, sent) => reframe(plan.errorEvent(err, sent)),
  };
}

/** Where a stream is cut short: after `after` events, by a TCP reset, a clean end, or an in-band error event. */
export type Cut = { after: number; mode: "destroy" | "truncate" } | { after: number; mode: "error"; error: OpenAIErrorBody };

/** Writes a stream as planned, paced and cut short as asked; the server's `lastStreamDone` resolves once it stops. */
export async function emitStream(ctx: Ctx, plan: StreamPlan, intervalMs: number, cut?: Cut): Promise<void> {
  const { res, state } = ctx;
  if (res.headersSent || res.destroyed) return;
  const done = Promise.withResolvers<void>();
  state.lastStreamDone = done.promise;
  try {
    await writeStream(ctx, plan, intervalMs, cut);
  } finally {
    done.resolve();
  }
}

async function writeStream(ctx: Ctx, plan: StreamPlan, intervalMs: number, cut?: Cut): Promise<void> {
  const { res, signal, state } = ctx;
  res.writeHead(200, {
    ...commonHeaders(ctx, requestTokens(ctx)),
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
  });
  // Like the real API, headers go out before the first token.
  res.flushHeaders();
  const writes: number[] = [];
  const texts: string[] = [];
  state.lastStreamWrites = writes;
  state.lastStreamEvents = texts;
  const total = plan.events.length;
  const limit = cut ? Math.max(0, Math.min(cut.after, total - 1)) : total;
  let lastWrite: Promise<void> = Promise.resolve();
  for (let i = 0; i < limit; i++) {
    const ev = plan.events[i];
    if (!ev) break;
    if (ev.delayBefore && intervalMs > 0) {
      try {
        await sleep(intervalMs, undefined, { signal });
      } catch {
        return;
      }
    }
    if (signal.aborted || res.destroyed) return;
    lastWrite = new Promise<void>((resolve) => res.write(ev.text, () => resolve()));
    writes.push(performance.now());
    texts.push(ev.text);
  }
  if (!cut) {
    res.end();
    return;
  }
  if (cut.mode === "truncate") {
    res.end();
    return;
  }
  if (cut.mode === "error") {
    const text = plan.errorEvent(cut.error, limit);
    res.write(text);
    writes.push(performance.now());
    texts.push(text);
    res.end();
    return;
  }
  // destroy: make sure the events left this process, give the client a moment to read them, then RST.
  await lastWrite;
  try {
    await sleep(5, undefined, { signal });
  } catch {
    return;
  }
  const sock = res.socket;
  if (sock && !sock.destroyed) sock.resetAndDestroy();
  else res.destroy();
}
