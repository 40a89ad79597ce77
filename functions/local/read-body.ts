/**
 * Reads a Node request body into memory, up to a limit.
 */
import type { IncomingMessage } from "node:http";
import { InvalidRequestError, PayloadTooLargeError } from "../shared/http/errors.ts";

/**
 * Reads the whole body, refusing early (by `content-length`) or as soon as the
 * bytes read pass `maxBytes`, so an oversized body is never held in memory.
 * @returns the body, or undefined when it is empty
 * @throws {PayloadTooLargeError}
 * @throws {InvalidRequestError} when the body ends early or its framing is broken
 */
export async function readRequestBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const declared = Number(request.headers["content-length"]);
  if (declared > maxBytes) throw new PayloadTooLargeError(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new PayloadTooLargeError(maxBytes);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof PayloadTooLargeError) throw error;
    // A body cut short or badly framed is the client's fault, not the gateway's.
    throw new InvalidRequestError("The request body could not be read completely.", { code: "incomplete_body", cause: error });
  }
  if (size === 0) return undefined;
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
}
