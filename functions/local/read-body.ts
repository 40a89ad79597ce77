/**
 * Reads a Node request body into memory, up to a limit.
 */
import type { IncomingMessage } from "node:http";
import { PayloadTooLargeError } from "../shared/errors.ts";

/**
 * Reads the whole body, refusing early (by `content-length`) or as soon as the
 * bytes read pass `maxBytes`, so an oversized body is never held in memory.
 * @returns the body, or undefined when it is empty
 * @throws {PayloadTooLargeError}
 */
export async function readRequestBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const declared = Number(request.headers["content-length"]);
  if (declared > maxBytes) throw new PayloadTooLargeError(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new PayloadTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
}
