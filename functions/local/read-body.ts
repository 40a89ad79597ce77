/**
 * Reads a Node request body into memory, up to a limit and within a deadline.
 */
import type { IncomingMessage } from "node:http";
import { GatewayError, InvalidRequestError, PayloadTooLargeError } from "../shared/http/errors.ts";

/** 408: the client took longer than the server allows to send its request. */
export class RequestTimeoutError extends GatewayError {
  constructor(limitMs: number) {
    super(408, `The request was not received within ${limitMs} ms.`, { code: "request_timeout" });
  }
}

/** Stops a body read: the read fails with `reason` (e.g. a {@link RequestTimeoutError}). */
export type StopReading = (reason: unknown) => void;

/** Options of {@link readRequestBody}. */
export interface ReadBodyOptions {
  /**
   * Receives the function that stops the read when reading starts, and
   * undefined once the read has settled. (A plain function rather than an
   * AbortSignal: a signal and its listener per request were a measurable share
   * of the hot path, npm run bench.)
   */
  readonly stopper?: (stop: StopReading | undefined) => void;
  /** Called once the declared size is accepted, just before reading (e.g. to send `100 Continue`). */
  readonly onStart?: () => void;
  /** Called once the whole body has been read (Node may mark the request complete only later). */
  readonly onWhole?: () => void;
}

/**
 * Reads the whole body, refusing early (by `content-length`) or as soon as the
 * bytes read pass `maxBytes`, so an oversized body is never held in memory.
 * On a refusal or an abort it stops reading without destroying the request, so
 * that the error can still be answered on the connection.
 * @returns the body, or undefined when it is empty: at once when Node's parser already holds it whole
 * @throws {PayloadTooLargeError}
 * @throws {InvalidRequestError} when the body ends early or its framing is broken
 */
export function readRequestBody(request: IncomingMessage, maxBytes: number, options: ReadBodyOptions = {}): Buffer | undefined | Promise<Buffer | undefined> {
  const declared = Number(request.headers["content-length"]);
  if (declared > maxBytes) return Promise.reject(new PayloadTooLargeError(maxBytes));
  // A client that left before its body was asked for: its 'close' is past, and no listener would hear it.
  if (request.destroyed) return Promise.reject(incompleteBody());
  options.onStart?.();
  // A small body usually comes in the same packet as the headers. Once Node's parser has taken it
  // whole into the stream's buffer, it is taken from there at once, without four listeners, their
  // closures and a stop function per request, the stream's flowing mode and its 'data' and 'end'
  // events: work the hot path need not do (npm run bench).
  if (heldWhole(request, declared)) return takeWhole(request, maxBytes, options.onWhole);
  // Node hands a request on as soon as its headers are parsed, in the middle of the packet: a body
  // sent with them is parsed once the handler returns, before any promise's reaction runs. One
  // reaction later it is held whole, unless more of it is still on its way.
  if (request.readableFlowing === null) {
    return Promise.resolve().then(() => {
      if (request.destroyed) throw incompleteBody();
      return heldWhole(request, declared) ? takeWhole(request, maxBytes, options.onWhole) : readArriving(request, maxBytes, options);
    });
  }
  return readArriving(request, maxBytes, options);
}

/**
 * Whether the stream's buffer holds the whole body, unread: Node says so
 * (`complete`), or it holds the length the request declared (Node marks a
 * request with a body complete only a turn of the event loop after the
 * body's last byte was parsed).
 */
function heldWhole(request: IncomingMessage, declared: number): boolean {
  if (request.readableFlowing !== null) return false;
  return request.complete || (request.readableLength === declared && request.headers["transfer-encoding"] === undefined);
}

/** The body the stream's buffer holds whole. */
function takeWhole(request: IncomingMessage, maxBytes: number, onWhole: (() => void) | undefined): Buffer | undefined | Promise<never> {
  if (request.readableLength > maxBytes) return Promise.reject(new PayloadTooLargeError(maxBytes));
  const whole = request.read() as Buffer | null;
  // Taken before Node marked it complete, the stream still has its end to come: flowing, it ends
  // (and closes) on its own, as a stream read to its end does.
  if (!request.complete) request.resume();
  onWhole?.();
  return whole === null || whole.byteLength === 0 ? undefined : whole;
}

/** Reads the body as it arrives. */
function readArriving(request: IncomingMessage, maxBytes: number, options: ReadBodyOptions): Promise<Buffer | undefined> {
  const { stopper } = options;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (error: unknown) => {
      request.off("data", onData).off("end", onEnd).off("error", onBroken).off("close", onBroken);
      stopper?.(undefined);
      if (error === undefined) {
        options.onWhole?.();
        return resolve(size === 0 ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
      }
      request.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) settle(new PayloadTooLargeError(maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = () => settle(undefined);
    // A body cut short or badly framed is the client's fault, not the gateway's.
    const onBroken = (cause?: unknown) => settle(incompleteBody(cause));
    request.on("data", onData).on("end", onEnd).on("error", onBroken).on("close", onBroken);
    stopper?.(settle);
  });
}

/** 400 `incomplete_body`: the body was cut short or badly framed, the client's fault, not the gateway's. */
function incompleteBody(cause?: unknown): InvalidRequestError {
  return new InvalidRequestError("The request body could not be read completely.", { code: "incomplete_body", cause });
}
