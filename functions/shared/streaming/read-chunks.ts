/**
 * The chunks of a provider's body as they arrive, for the relay.
 *
 * A Node stream (an HTTP response) is read with `read()` and its events
 * rather than with `for await`: Node's stream iterator sets up an
 * end-of-stream watcher and an async generator per stream, and each chunk
 * then passes through one more generator before the relay's own. That was
 * the largest single cost of relaying a small answer (npm run bench, hot
 * path). The reader is pulled: `read()` hands out what is buffered, `more()`
 * waits for the next chunk or the end. Any other body (an array, a decoder's
 * generator) is iterated as it is.
 */
import type { Readable } from "node:stream";
import type { BodySource } from "../http/wire.ts";

/** Pulls chunks from a body. */
export interface ChunkReader {
  /** A chunk that can be had now, or null. */
  read(): Uint8Array | null;
  /** Waits until `read()` may give a chunk: false at the body's end; throws the body's error. */
  more(): Promise<boolean>;
  /** Done reading: a stream read only in part is destroyed, as `for await` does when its loop exits early. */
  close(): void;
}

/** The error a stream that closed before its end reads as (what `for await` throws). */
export function prematureClose(): Error {
  return Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" });
}

/** Whether a body is a Node readable stream (an HTTP response), read through its events. */
export function isNodeReadable(body: BodySource): body is BodySource & Readable {
  return typeof (body as Partial<Readable>).read === "function" && typeof (body as Partial<Readable>).on === "function";
}

/** A reader over `body`. */
export function readChunks(body: BodySource): ChunkReader {
  return isNodeReadable(body) ? streamReader(body) : iterableReader(body);
}

function streamReader(body: Readable): ChunkReader {
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: Error | undefined;
  const notify = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const onEnd = () => {
    ended = true;
    notify();
  };
  const onError = (error: Error) => {
    failure ??= error;
    notify();
  };
  const onClose = () => {
    if (!ended) failure ??= body.errored ?? prematureClose();
    notify();
  };
  body.on("readable", notify);
  body.on("end", onEnd);
  body.on("error", onError);
  body.on("close", onClose);
  return {
    read: () => (body.destroyed ? null : (body.read() as Uint8Array | null)),
    async more() {
      if (failure !== undefined) throw failure;
      if (ended || body.readableEnded) return false;
      if (body.destroyed) throw body.errored ?? prematureClose();
      if (body.readableLength > 0) return true;
      // Woken by any event: the caller reads again (a read() at the end of the data is what makes
      // the stream emit "end") and comes back here, where the end or a failure is told.
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      if (failure !== undefined) throw failure;
      return !ended;
    },
    close() {
      body.off("readable", notify);
      body.off("end", onEnd);
      body.off("error", onError);
      body.off("close", onClose);
      if (!ended && !body.destroyed) body.destroy();
    },
  };
}

function iterableReader(body: BodySource): ChunkReader {
  // As `for await` takes them: an async iterable, or a plain one (an array of chunks).
  const iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array> =
    Symbol.asyncIterator in body ? body[Symbol.asyncIterator]() : (body as Iterable<Uint8Array>)[Symbol.iterator]();
  let pending: Uint8Array | null = null;
  let done = false;
  return {
    read() {
      const chunk = pending;
      pending = null;
      return chunk;
    },
    async more() {
      if (done) return false;
      const next = await iterator.next();
      if (next.done === true) {
        done = true;
        return false;
      }
      pending = next.value;
      return true;
    },
    close() {
      if (!done) void iterator.return?.();
    },
  };
}
