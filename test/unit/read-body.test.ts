/**
 * The local server's body reader on a real `node:http` server: a body Node's
 * parser already holds whole is taken from the stream's buffer at once (no
 * listeners, no promise), within the limit; one still arriving is read as it comes; the
 * body of a client that already left is refused at once.
 */
import http, { type IncomingMessage } from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { readRequestBody } from "../../functions/local/read-body.ts";
import { InvalidRequestError, PayloadTooLargeError } from "../../functions/shared/http/errors.ts";

interface Read {
  readonly body?: Buffer;
  readonly error?: unknown;
  /** 'data' listeners the reader added. */
  readonly dataListeners: number;
  /** Whether the reader gave a promise rather than the body itself. */
  readonly promised?: boolean;
  /** Whether the request then ended, as a stream read to its end does (within a bound). */
  readonly ended?: Promise<boolean>;
}

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve()))));

/** Serves one request, sent as raw bytes (`parts`, the later ones 50 ms apart): waits until its body is whole (unless `early`), then reads it. */
async function readOne(parts: readonly string[], options: { maxBytes: number; early?: boolean }): Promise<Read> {
  const read = new Promise<Read>((resolve) => {
    server = http.createServer(async (incoming: IncomingMessage, outgoing) => {
      if (options.early !== true) {
        // Bounded wait for the parser to finish the body (sent in one write with the headers).
        for (let turn = 0; turn < 100 && !incoming.complete; turn += 1) await new Promise((next) => setImmediate(next));
        expect(incoming.complete).toBe(true);
      }
      let dataListeners = 0;
      const on = incoming.on.bind(incoming);
      incoming.on = ((event: string, listener: (...args: unknown[]) => void) => {
        if (event === "data") dataListeners += 1;
        return on(event, listener);
      }) as typeof incoming.on;
      try {
        const reading = readRequestBody(incoming, options.maxBytes);
        const body = await reading;
        const ended = new Promise<boolean>((settle) => {
          if (incoming.readableEnded) return settle(true);
          const bound = setTimeout(() => settle(false), 2_000);
          incoming.once("end", () => {
            clearTimeout(bound);
            settle(true);
          });
        });
        resolve({ body, dataListeners, promised: reading instanceof Promise, ended });
      } catch (error) {
        resolve({ error, dataListeners });
      }
      outgoing.end("done");
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server?.address() as AddressInfo;
  const socket = net.connect(port, "127.0.0.1");
  socket.on("data", () => undefined).on("error", () => undefined);
  parts.forEach((part, index) => setTimeout(() => socket.write(part), index * 50));
  try {
    return await read;
  } finally {
    socket.destroy();
  }
}

const head = (framing: string) => `POST / HTTP/1.1\r\nHost: test\r\n${framing}\r\n\r\n`;

describe("readRequestBody", () => {
  it("takes a body the parser already holds whole from the stream's buffer, without a listener or a promise", async () => {
    const read = await readOne([`${head("Content-Length: 18")}{"model":"gpt-4o"}`], { maxBytes: 1024 });
    expect(read.body?.toString()).toBe('{"model":"gpt-4o"}');
    expect(read.dataListeners).toBe(0);
    expect(read.promised).toBe(false);
  });

  it("takes a body sent with its headers whole when asked for as soon as the request comes (as the server does), without a listener", async () => {
    const read = await readOne([`${head("Content-Length: 18")}{"model":"gpt-4o"}`], { maxBytes: 1024, early: true });
    expect(read.body?.toString()).toBe('{"model":"gpt-4o"}');
    expect(read.dataListeners).toBe(0);
    // Taken before Node marked it complete, the request still ends.
    expect(await read.ended).toBe(true);
  });

  it("refuses a body sent with its headers over the limit when asked for at once", async () => {
    const read = await readOne([`${head("Transfer-Encoding: chunked")}800\r\n${"x".repeat(2048)}\r\n0\r\n\r\n`], { maxBytes: 1024, early: true });
    expect(read.error).toBeInstanceOf(PayloadTooLargeError);
  });

  it("takes a whole chunked body of several chunks as one", async () => {
    const read = await readOne([`${head("Transfer-Encoding: chunked")}9\r\n{"model":\r\n9\r\n"gpt-4o"}\r\n0\r\n\r\n`], { maxBytes: 1024 });
    expect(read.body?.toString()).toBe('{"model":"gpt-4o"}');
    expect(read.dataListeners).toBe(0);
  });

  it("refuses a whole body over the limit that did not declare its length", async () => {
    const read = await readOne([`${head("Transfer-Encoding: chunked")}800\r\n${"x".repeat(2048)}\r\n0\r\n\r\n`], { maxBytes: 1024 });
    expect(read.error).toBeInstanceOf(PayloadTooLargeError);
  });

  it("gives no body for an empty one", async () => {
    const read = await readOne([head("Content-Length: 0")], { maxBytes: 1024 });
    expect(read.error).toBeUndefined();
    expect(read.body).toBeUndefined();
  });

  it("refuses at once the body of a client that left before it was asked for (its 'close' is past)", async () => {
    const read = new Promise<unknown>((resolve) => {
      server = http.createServer((incoming: IncomingMessage, outgoing) => {
        // The client sends its whole request and its FIN: Node closes the connection, and the request with it.
        incoming.once("close", () => {
          // Bounded: before, the read waited for a 'close' that had already been.
          const bound = setTimeout(() => resolve(new Error("the read did not settle")), 2_000);
          Promise.resolve(readRequestBody(incoming, 1024)).then(
            (body) => resolve(body),
            (error: unknown) => resolve(error),
          ).finally(() => clearTimeout(bound));
          outgoing.destroy();
        });
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const { port } = server?.address() as AddressInfo;
    const socket = net.connect(port, "127.0.0.1", () => socket.end(`${head("Content-Length: 18")}{"model":"gpt-4o"}`));
    socket.on("data", () => undefined).on("error", () => undefined);
    const result = await read;
    socket.destroy();
    expect(result).toBeInstanceOf(InvalidRequestError);
    expect(result).toMatchObject({ code: "incomplete_body" });
  });

  it("reads a body still arriving as it comes", async () => {
    const read = await readOne([`${head("Content-Length: 18")}{"model":`, '"gpt-4o"}'], { maxBytes: 1024, early: true });
    expect(read.body?.toString()).toBe('{"model":"gpt-4o"}');
    expect(read.dataListeners).toBe(1);
  });
});
