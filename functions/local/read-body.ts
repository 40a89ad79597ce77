/**
 * Reads a Node request body into memory, up to a limit.
 */
import type { IncomingMessage } from "node:http";
import { finished } from "node:stream";
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
  // A body whose length is declared within the limit cannot outgrow it (Node's parser holds it to
  // its length): it is read with events, sparing the stream iterator's per-request cost (hot path,
  // npm run bench). A chunked body keeps the loop below, which refuses it as soon as it is too large.
  if (declared >= 0) return readDeclaredBody(request);
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

function readDeclaredBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.byteLength;
    };
    request.on("data", onData);
    finished(request, (error) => {
      request.off("data", onData);
      if (error !== undefined && error !== null) {
        reject(new InvalidRequestError("The request body could not be read completely.", { code: "incomplete_body", cause: error }));
        return;
      }
      if (size === 0) return resolve(undefined);
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
  });
}
