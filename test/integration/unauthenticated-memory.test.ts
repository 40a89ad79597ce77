/**
 * Unauthenticated callers cannot make the local server hold memory: 50
 * connections each sending half of a 6 MB body without a valid key leave the
 * gateway's memory flat (it runs in a child process of its own, so its memory
 * is measured apart from the test's). Before the key was checked from the
 * headers, the gateway read every half body into memory: ~150 MB.
 */
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { startGatewayChild, type GatewayChildStats } from "../support/gateway-child.ts";
import { closedPortUrl, useStarted } from "../support/gateway-fixture.ts";

const MB = 1024 * 1024;
const CONNECTIONS = 50;
const DECLARED = 6 * MB;
const SENT = DECLARED / 2;
const BOUND = 64 * MB;

const gateway = useStarted(async () => startGatewayChild({ OPENAI_BASE_URL: await closedPortUrl(), GATEWAY_API_KEYS: "gw-memory-key-0123456789" }), {
  what: "the gateway",
});
const sockets: net.Socket[] = [];
afterAll(() => {
  for (const socket of sockets) socket.destroy();
});

/** Sends a request head announcing 6 MB and half of that body; resolves once sent (or refused) and leaves the connection open. */
function halfUpload(port: number, index: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    sockets.push(socket);
    // The server may close while the body is still going out: EPIPE or ECONNRESET is the expected end.
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
        `authorization: Bearer gw-wrong-key-${index}\r\ncontent-length: ${DECLARED}\r\n\r\n`,
    );
    socket.write(Buffer.alloc(SENT, 0x20), () => resolve());
  });
}

/** The gateway's stats once its resident memory has settled (two readings within 2 MB), or the last of 20. */
async function settledStats(): Promise<GatewayChildStats> {
  let previous = await gateway().stats();
  for (let attempt = 0; attempt < 20; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    const current = await gateway().stats();
    if (Math.abs(current.memory.rss - previous.memory.rss) < 2 * MB) return current;
    previous = current;
  }
  return previous;
}

const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

describe("unauthenticated uploads", () => {
  it(`${CONNECTIONS} connections each sending half of a 6 MB body with a wrong key leave the gateway's memory flat`, async () => {
    const port = Number(new URL(gateway().url).port);
    // Warm-up: the code paths of a refused request run once before the baseline.
    await halfUpload(port, -1);
    const before = await settledStats();

    await Promise.all(Array.from({ length: CONNECTIONS }, (_, index) => halfUpload(port, index)));
    const after = await settledStats();
    const growth = after.memory.rss - before.memory.rss;
    const buffers = after.memory.arrayBuffers - before.memory.arrayBuffers;
    console.info(`gateway rss ${mb(before.memory.rss)} → ${mb(after.memory.rss)} (+${mb(growth)}), arrayBuffers +${mb(buffers)}`);
    expect(growth).toBeLessThan(BOUND);
    expect(buffers).toBeLessThan(BOUND);
    // Each was answered its 401 (and logged) without the body.
    expect(after.statuses["401"]).toBe(CONNECTIONS + 1);
  }, 60_000);
});
