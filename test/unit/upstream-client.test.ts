/**
 * What an upstream call leaves behind (upstream/client.ts): nothing. A call
 * that got its answer, or was discarded, leaves no listener on its caller's
 * signal (which a connection's requests may share) and no deadline waiting;
 * one in flight still hears of its caller's leaving; a pooled connection
 * left idle is closed by the client. Against a real `node:http` server on
 * loopback.
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamTimeoutError } from "../../functions/shared/http/errors.ts";
import { AbortListeners } from "../../functions/shared/upstream/abort-listeners.ts";
import { createUpstreamClient, type UpstreamCall } from "../../functions/shared/upstream/client.ts";
import { deadlines } from "../../functions/shared/upstream/deadlines.ts";
import { SWEEP_MS } from "../../functions/shared/upstream/idle-agent.ts";

let server: http.Server;
let baseUrl: string;
/** Unanswered requests the server has, and those whose connection the gateway's side closed. */
const silent = { received: 0, closed: 0 };

beforeAll(async () => {
  server = http.createServer((request, response) => {
    if (request.url === "/echo") {
      // What arrived, and how it was framed.
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const { "content-length": contentLength, "transfer-encoding": transferEncoding } = request.headers;
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ method: request.method, contentLength, transferEncoding, body: Buffer.concat(chunks).toString() }));
      });
      return;
    }
    request.resume();
    if (request.url === "/silent") {
      // Never answered: the connection closes only when the gateway's side gives up.
      silent.received += 1;
      request.socket.on("close", () => (silent.closed += 1));
      return;
    }
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function call(path: string, signal: AbortSignal, firstByteTimeoutMs = 60_000): UpstreamCall {
  return { url: `${baseUrl}${path}`, method: "POST", headers: { "content-type": "application/json" }, body: Buffer.from("{}"), connectTimeoutMs: 5_000, firstByteTimeoutMs, signal };
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

describe("an upstream call", () => {
  it("sends its body whole with its length, whatever the method (and a length of 0 for none on POST)", async () => {
    const client = createUpstreamClient();
    const signal = new AbortController().signal;
    const echo = async (method: string, body: Buffer | undefined) => {
      const response = await client.send({ ...call("/echo", signal), method, body });
      return JSON.parse(await readAll(response.body as AsyncIterable<Uint8Array>)) as Record<string, unknown>;
    };
    const body = Buffer.from('{"input":"héllo"}');
    // Node frames a body sent by end() itself on POST, PUT and PATCH; DELETE, GET and OPTIONS get the header from the client.
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "GET", "OPTIONS"]) {
      expect(await echo(method, body), method).toEqual({ method, contentLength: String(body.byteLength), body: '{"input":"héllo"}' });
    }
    expect(await echo("POST", undefined)).toEqual({ method: "POST", contentLength: "0", body: "" });
    expect(await echo("DELETE", undefined)).toEqual({ method: "DELETE", body: "" });
    client.close();
  });

  it("answered or discarded, leaves no listener on its caller's signal and no deadline waiting", async () => {
    const aborts = new AbortListeners();
    const client = createUpstreamClient({ aborts });
    // One signal for many calls, as the local server gives the requests of one connection.
    const signal = new AbortController().signal;
    for (let index = 0; index < 30; index += 1) {
      const response = await client.send(call("/v1/chat/completions", signal));
      expect(await readAll(response.body as AsyncIterable<Uint8Array>)).toBe('{"ok":true}');
    }
    const discarded = await client.send(call("/v1/chat/completions", signal));
    discarded.discard();
    expect(aborts.count(signal)).toBe(0);
    expect(deadlines.size).toBe(0);
    client.close();
  });

  it("in flight, is aborted when its caller leaves, and leaves nothing behind", async () => {
    const aborts = new AbortListeners();
    const client = createUpstreamClient({ aborts });
    const controller = new AbortController();
    const sending = client.send(call("/silent", controller.signal));
    const before = { ...silent };
    await expect.poll(() => silent.received).toBe(before.received + 1);
    expect(aborts.count(controller.signal)).toBe(1);
    controller.abort(new Error("client disconnected"));
    await expect(sending).rejects.toThrow("client disconnected");
    await expect.poll(() => silent.closed).toBe(before.closed + 1);
    expect(deadlines.size).toBe(0);
    client.close();
  });

  it("times out past its first-byte bound, and leaves nothing behind", async () => {
    const aborts = new AbortListeners();
    const client = createUpstreamClient({ aborts });
    const signal = new AbortController().signal;
    await expect(client.send(call("/silent", signal, 50))).rejects.toBeInstanceOf(UpstreamTimeoutError);
    expect(aborts.count(signal)).toBe(0);
    expect(deadlines.size).toBe(0);
    client.close();
  });

  it("reuses its connection, and closes it itself once it has idled past the client's bound", async () => {
    // A server that would keep an idle connection for a minute: only the client's own bound closes it.
    const connections: Socket[] = [];
    const patient = http.createServer((request, response) => request.resume().on("end", () => response.end('{"ok":true}')));
    patient.keepAliveTimeout = 60_000;
    patient.on("connection", (socket: Socket) => connections.push(socket));
    await new Promise<void>((resolve) => patient.listen(0, "127.0.0.1", resolve));
    const IDLE_MS = 3 * SWEEP_MS;
    const client = createUpstreamClient({ idleConnectionMs: IDLE_MS });
    try {
      const url = `http://127.0.0.1:${(patient.address() as AddressInfo).port}/v1/chat/completions`;
      const signal = new AbortController().signal;
      for (let index = 0; index < 2; index += 1) {
        const response = await client.send({ ...call("", signal), url });
        expect(await readAll(response.body as AsyncIterable<Uint8Array>)).toBe('{"ok":true}');
      }
      expect(connections).toHaveLength(1);
      // The client ends it (the server sees its FIN) within the bound, never later than a sweep after it.
      const started = performance.now();
      const ended = await Promise.race([once(connections[0] as Socket, "end").then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), IDLE_MS + 3_000))]);
      expect(ended).toBe(true);
      expect(performance.now() - started).toBeLessThan(IDLE_MS + 1_500);
    } finally {
      client.close();
      patient.closeAllConnections();
      await new Promise((resolve) => patient.close(resolve));
    }
  });
});
