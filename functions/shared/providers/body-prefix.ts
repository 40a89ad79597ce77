/**
 * Reading the start of a body that may be small enough to rewrite (an error
 * message, a model list) without losing the rest when it is not.
 */
import type { BodySource } from "../http/wire.ts";

/** The first bytes of a body, and whether they are all of it. */
export interface BodyPrefix {
  readonly bytes: Buffer;
  /** True when the body ended within the limit. */
  readonly complete: boolean;
  /** The prefix's bytes and then the rest of the body, unchanged. */
  whole(): AsyncGenerator<Uint8Array>;
}

/** Reads up to `maxBytes` (one chunk more at most) of a body. */
export async function readPrefix(body: BodySource, maxBytes: number): Promise<BodyPrefix> {
  const iterator = (Symbol.asyncIterator in body ? body[Symbol.asyncIterator]() : body[Symbol.iterator]()) as AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) {
      complete = true;
      break;
    }
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > maxBytes) break;
  }
  const bytes = Buffer.concat(chunks, size);
  return {
    bytes,
    complete,
    async *whole() {
      yield bytes;
      if (complete) return;
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
    },
  };
}
