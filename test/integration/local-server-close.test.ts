/**
 * Closing the local server: a request answered just before it closes is
 * still settled and logged (its key's charge may take a store round trip
 * after the answer), and a server that fails to start leaves nothing behind.
 */
import { execFileSync } from "node:child_process";
import http from "node:http";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startLocalServer } from "../../functions/local/server.ts";
import { loadConfig } from "../../functions/shared/config/config.ts";

const module = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../functions/${path}`, import.meta.url)));

describe("closing the local server", () => {
  it("waits for a request's bookkeeping and writes its log line before the process exits, as npm start's stop does", () => {
    // The key's charge goes to a store that answers in 200 ms, after the client has its answer and the server is closing.
    const script = `import { startLocalServer } from ${module("local/server.ts")};
import { loadConfig } from ${module("shared/config/config.ts")};
import { createMemoryStore } from ${module("shared/stores/memory-store.ts")};
const memory = createMemoryStore();
const store = { ...memory, add: (key, amount, ttl) => new Promise((resolve) => setTimeout(() => resolve(memory.add(key, amount, ttl)), 200)) };
const config = loadConfig({ GATEWAY_MOCK_PROVIDER: "true", GATEWAY_API_KEYS: "gw-close-test-0123456789", GATEWAY_KEY_LIMITS: JSON.stringify({ "env-1": { tokensPerMinute: 100000 } }) });
const server = await startLocalServer({ config, server: { host: "127.0.0.1", port: 0 }, store });
const response = await fetch(server.url + "/v1/chat/completions", {
  method: "POST",
  headers: { "content-type": "application/json", authorization: "Bearer gw-close-test-0123456789", "x-provider": "mock", connection: "close" },
  body: JSON.stringify({ model: "mock-gpt-4o", messages: [{ role: "user", content: "hi" }] }),
});
await response.text();
// A grace far past the run's time bound: the close must end when the request has settled, not when the grace does.
await server.close(60_000);
process.exit(0);`;
    const stdout = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] });
    expect(stdout).toMatch(/^POST \/v1\/chat\/completions mock mock-gpt-4o 200 .* key=env-1 ok id=/m);
  });

  it("leaves no exit listener behind when it cannot listen", async () => {
    const taken = http.createServer().listen(0, "127.0.0.1");
    await once(taken, "listening");
    const { port } = taken.address() as { port: number };
    const listeners = process.listenerCount("exit");
    try {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await expect(startLocalServer({ config: loadConfig({}), server: { host: "127.0.0.1", port } })).rejects.toMatchObject({ code: "EADDRINUSE" });
      }
      expect(process.listenerCount("exit")).toBe(listeners);
    } finally {
      taken.close();
    }
  });
});
