/**
 * The gateway's request ids: random (version 4) UUIDs, as `crypto.randomUUID`
 * makes them, from the same source (the operating system's CSPRNG, drawn in
 * batches).
 *
 * Every request gets one, which goes into its headers, its log line and its
 * metrics. `randomUUID` builds its string from 20 pieces joined one by one,
 * which V8 keeps as a tree of strings until something reads it, and then
 * copies into one; the id here is written as bytes into one buffer and read
 * out as one flat string (hot path, npm run bench).
 */
import { randomFillSync } from "node:crypto";

/** Random bytes drawn at a time: the bytes of 256 ids. */
const BATCH_BYTES = 4096;
/** Where each byte's two hex digits go in the id (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`). */
const DIGIT_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
/** The ASCII codes of the hex digits. */
const HEX = Buffer.from("0123456789abcdef", "latin1");

/**
 * Makes request ids. Its state is a batch of random bytes and one buffer the
 * id is written into, read out before the next: nothing of one id is in
 * another, and one process (many invocations at once on Lambda Managed
 * Instances) can share one generator.
 */
export class RequestIds {
  readonly #random = Buffer.allocUnsafe(BATCH_BYTES);
  #used = BATCH_BYTES;
  readonly #id = Buffer.from("00000000-0000-0000-0000-000000000000", "latin1");

  /** A new random UUID, e.g. `3f2a9c4e-1b7d-4e0a-9c3b-5d8e2f1a7b6c`. */
  next(): string {
    if (this.#used === BATCH_BYTES) {
      randomFillSync(this.#random);
      this.#used = 0;
    }
    const random = this.#random;
    const id = this.#id;
    const start = this.#used;
    this.#used += 16;
    for (let index = 0; index < 16; index += 1) {
      let byte = random[start + index] as number;
      // RFC 9562 §5.4: version 4 in the high nibble of byte 6, variant 0b10 in the high bits of byte 8.
      if (index === 6) byte = (byte & 0x0f) | 0x40;
      else if (index === 8) byte = (byte & 0x3f) | 0x80;
      const at = DIGIT_AT[index] as number;
      id[at] = HEX[byte >> 4] as number;
      id[at + 1] = HEX[byte & 0x0f] as number;
    }
    return id.toString("latin1", 0, 36);
  }
}
