/**
 * The behaviour queue: which queued behaviour a request takes, and playing it
 * (errors, raw answers, hangs, resets, delays, and streams cut short).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { defaultErrorFor, sendError } from "./errors.ts";
import type { Behaviour, Ctx, OpenAIErrorBody, RecordedRequest, StreamPlan, StreamShape } from "./types.ts";
import { emitStream } from "./wire.ts";

const STREAM_KINDS: ReadonlySet<string> = new Set(["stream", "destroy-mid-stream", "truncate", "error-mid-stream"]);

function matches(b: Behaviour, rec: RecordedRequest, pathname: string, streaming: boolean): boolean {
  const m = b.match;
  if (m === undefined) return STREAM_KINDS.has(b.kind) ? streaming : true;
  if (typeof m === "string") return m === pathname;
  if (m instanceof RegExp) {
    m.lastIndex = 0;
    return m.test(`${rec.method} ${rec.url}`);
  }
  return m(rec);
}

/** Removes and returns the first queued behaviour that applies to the request. */
export function takeBehaviour(queue: Behaviour[], rec: RecordedRequest, pathname: string, streaming: boolean): Behaviour | undefined {
  const idx = queue.findIndex((b) => matches(b, rec, pathname, streaming));
  if (idx < 0) return undefined;
  const [b] = queue.splice(idx, 1);
  return b;
}

/**
 * Plays a behaviour. Resolves true when the request has had its answer (or
 * none on purpose), false when the default behaviour must answer it (after a
 * `delay`). `streamPlan` builds the stream of the request's endpoint.
 */
export async function playBehaviour(ctx: Ctx, b: Behaviour, streamPlan: (shape: StreamShape) => StreamPlan): Promise<boolean> {
  const { streamInterval } = ctx.state;
  switch (b.kind) {
    case "error": {
      const def = defaultErrorFor(b.status);
      const err: OpenAIErrorBody = {
        message: b.message ?? def.message,
        type: b.type ?? def.type,
        param: b.param === undefined ? def.param : b.param,
        code: b.code === undefined ? def.code : b.code,
      };
      const extra: Record<string, string> = {};
      if (b.status === 429) {
        const ms = b.retryAfterMs ?? 1000;
        extra["retry-after"] = String(Math.max(1, Math.ceil(ms / 1000)));
        extra["retry-after-ms"] = String(ms);
        extra["x-ratelimit-remaining-requests"] = "0";
      }
      sendError(ctx, b.status, err, { ...extra, ...b.headers });
      return true;
    }
    case "raw": {
      if (ctx.res.destroyed) return true;
      ctx.res.writeHead(b.status, b.headers);
      ctx.res.end(b.body);
      return true;
    }
    case "hang":
      return true; // the socket is destroyed by the client or by close()
    case "reset": {
      const sock = ctx.res.socket;
      if (sock && !sock.destroyed) sock.resetAndDestroy();
      return true;
    }
    case "delay": {
      try {
        await sleep(b.ms, undefined, { signal: ctx.signal });
      } catch {
        return true;
      }
      return false; // on to the default behaviour
    }
    case "stream":
      await emitStream(ctx, streamPlan(b), b.intervalMs ?? streamInterval);
      return true;
    case "truncate":
    case "destroy-mid-stream":
      await emitStream(ctx, streamPlan(b), b.intervalMs ?? streamInterval, {
        after: b.afterChunks,
        mode: b.kind === "truncate" ? "truncate" : "destroy",
      });
      return true;
    case "error-mid-stream": {
      const def = defaultErrorFor(500);
      await emitStream(ctx, streamPlan(b), b.intervalMs ?? streamInterval, {
        after: b.afterChunks,
        mode: "error",
        error: {
          message: b.message ?? def.message,
          type: b.type ?? def.type,
          param: b.param === undefined ? null : b.param,
          code: b.code === undefined ? null : b.code,
        },
      });
      return true;
    }
  }
}
