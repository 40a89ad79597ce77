/**
 * Writes a response body to a Node writable (an HTTP response, Lambda's
 * response stream) chunk by chunk, honouring backpressure.
 */
import type { Writable } from "node:stream";
import { isPipeable } from "../streaming/piped-body.ts";
import type { BodySource } from "./wire.ts";

/**
 * Writes every chunk as it is produced, waiting for `drain` when the writable
 * is full, and ends it. Stops early when the writable closes (the client went
 * away); a body that fails destroys the writable so the client sees a broken
 * response, never a silently short one.
 * @returns true when the whole body was written
 */
export function writeBody(body: BodySource, out: Writable): Promise<boolean> {
  // A provider's body that is not an event stream goes in by its own events (streaming/piped-body.ts),
  // its promise handed on as it is (an async function would wrap it in one more: hot path, npm run bench).
  return isPipeable(body) ? body.pipeTo(out) : writeChunks(body, out);
}

async function writeChunks(body: BodySource, out: Writable): Promise<boolean> {
  try {
    for await (const chunk of body) {
      if (out.destroyed) return false;
      if (!out.write(chunk) && !(await drained(out))) return false;
    }
  } catch (error) {
    out.destroy(error instanceof Error ? error : new Error(String(error)));
    return false;
  }
  if (out.destroyed) return false;
  out.end();
  return true;
}

/** Waits for `drain`; false when the writable closed first. */
function drained(out: Writable): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (result: boolean) => () => {
      out.off("drain", onDrain);
      out.off("close", onClose);
      resolve(result);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    out.on("drain", onDrain);
    out.on("close", onClose);
  });
}
