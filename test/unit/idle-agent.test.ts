/**
 * Keep-alive agents that close idle connections by a sweep of the pool
 * (upstream/idle-agent.ts), against a real server: a connection is reused
 * while it idles less than its bound and closed by the client after it, and a
 * server's `Keep-Alive: timeout=N` hint closes it before the server would.
 */
import { once } from "node:events";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import net from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createIdleClosingAgent, createIdleClosingHttpsAgent, SWEEP_MS } from "../../functions/shared/upstream/idle-agent.ts";
import { LOOPBACK_CERT, LOOPBACK_KEY } from "../support/tls-fixture.ts";

interface Served {
  readonly server: http.Server;
  readonly port: number;
  /** The server's side of each connection, in order. */
  readonly connections: Socket[];
}

const opened: Array<{ server: http.Server | https.Server; agent: http.Agent }> = [];
afterEach(async () => {
  for (const { server, agent } of opened.splice(0)) {
    agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(keepAliveTimeoutMs: number): Promise<Served> {
  const connections: Socket[] = [];
  const server = http.createServer((_request, response) => response.end("ok"));
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.on("connection", (socket: Socket) => connections.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, connections };
}

function get(port: number, agent: http.Agent): Promise<http.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/", agent }, (response) => {
        response.resume();
        response.on("end", () => resolve(response.headers));
      })
      .on("error", reject);
  });
}

/** Milliseconds until the client ends `connection` (the server sees its FIN), or undefined if the server closes it first or the bound passes. */
async function clientClosesIn(connection: Socket, boundMs: number): Promise<number | undefined> {
  const started = performance.now();
  const ended = await Promise.race([
    once(connection, "end").then(() => true),
    once(connection, "close").then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), boundMs)),
  ]);
  return ended ? performance.now() - started : undefined;
}

describe("idle-closing agent", () => {
  it("reuses a connection while it idles less than its bound, and closes it itself within the bound after", async () => {
    const IDLE_MS = 3 * SWEEP_MS;
    const served = await serve(60_000);
    const agent = createIdleClosingAgent({ keepAlive: true }, IDLE_MS);
    opened.push({ server: served.server, agent });
    await get(served.port, agent);
    await get(served.port, agent);
    expect(served.connections).toHaveLength(1);
    const closedIn = await clientClosesIn(served.connections[0] as Socket, IDLE_MS + 3_000);
    expect(closedIn).toBeDefined();
    // Up to two sweeps early, never late (a sweep may run a little after its time on a busy machine).
    expect(closedIn).toBeGreaterThanOrEqual(IDLE_MS - 2 * SWEEP_MS - 50);
    expect(closedIn).toBeLessThan(IDLE_MS + 1_500);
    // A call after that opens a new connection.
    await get(served.port, agent);
    expect(served.connections).toHaveLength(2);
  });

  it("closes a connection before the time the server's Keep-Alive hint announces", async () => {
    // Node's server says "Keep-Alive: timeout=3" and closes an idle connection after 3 s.
    const served = await serve(3_000);
    const agent = createIdleClosingAgent({ keepAlive: true }, 60_000);
    opened.push({ server: served.server, agent });
    const headers = await get(served.port, agent);
    expect(headers["keep-alive"]).toBe("timeout=3");
    const closedIn = await clientClosesIn(served.connections[0] as Socket, 5_000);
    expect(closedIn).toBeDefined();
    expect(closedIn).toBeLessThan(3_000);
  });

  it("does not pool a connection whose bound is shorter than a sweep", async () => {
    const served = await serve(60_000);
    const agent = createIdleClosingAgent({ keepAlive: true }, SWEEP_MS / 2);
    opened.push({ server: served.server, agent });
    await get(served.port, agent);
    await get(served.port, agent);
    expect(served.connections).toHaveLength(2);
  });

  it("does the same for TLS connections", async () => {
    const IDLE_MS = 3 * SWEEP_MS;
    const connections: Socket[] = [];
    const server = https.createServer({ key: LOOPBACK_KEY, cert: LOOPBACK_CERT }, (_request, response) => response.end("ok"));
    server.keepAliveTimeout = 60_000;
    server.on("secureConnection", (socket: Socket) => connections.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const agent = createIdleClosingHttpsAgent({ keepAlive: true, ca: LOOPBACK_CERT }, IDLE_MS);
    opened.push({ server, agent });
    const port = (server.address() as AddressInfo).port;
    const fetchOnce = () =>
      new Promise<void>((resolve, reject) => {
        https.get({ host: "127.0.0.1", port, path: "/", agent }, (response) => response.resume().on("end", resolve)).on("error", reject);
      });
    await fetchOnce();
    await fetchOnce();
    expect(connections).toHaveLength(1);
    const closedIn = await clientClosesIn(connections[0] as Socket, IDLE_MS + 3_000);
    expect(closedIn).toBeDefined();
    expect(closedIn).toBeLessThan(IDLE_MS + 1_500);
  });

  it("takes the sockets it closes out of the pool at once: a call right after a sweep gets a live one", async () => {
    // Two connections: the first answer allows a minute, the second (freed last, so handed out
    // first) two seconds. One sweep closes the second; a call made at once must get the first.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const connections: net.Socket[] = [];
    const raw = net.createServer((socket) => {
      const index = connections.push(socket) - 1;
      socket.on("data", () => {
        const answer = (hint: number) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=${hint}\r\n\r\nok`);
        if (index === 0) answer(60);
        else setTimeout(() => answer(2), 50);
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    const agent = createIdleClosingAgent({ keepAlive: true, scheduling: "lifo" }, 60_000);
    try {
      const port = (raw.address() as AddressInfo).port;
      await Promise.all([get(port, agent), get(port, agent)]);
      expect(connections).toHaveLength(2);
      vi.advanceTimersByTime(SWEEP_MS);
      const headers = await get(port, agent);
      expect(headers["keep-alive"]).toBe("timeout=60");
      expect(connections).toHaveLength(2);
    } finally {
      vi.useRealTimers();
      agent.destroy();
      for (const socket of connections) socket.destroy();
      await new Promise((resolve) => raw.close(resolve));
    }
  });
});
