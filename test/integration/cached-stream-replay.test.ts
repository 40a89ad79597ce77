/**
 * A cached stream is replayed event by event, whatever its line ends, so a
 * HIT reads like a live stream instead of arriving as one block. Chunk
 * boundaries do not survive TCP, so this drives the gateway core directly
 * (a memory store, the fake upstream) and counts the chunks of its body.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCredentialStore } from "../../functions/shared/access/create-credential-store.ts";
import { loadConfig } from "../../functions/shared/config/config.ts";
import { createGateway, type Gateway } from "../../functions/shared/core/gateway.ts";
import type { GatewayResponse } from "../../functions/shared/http/wire.ts";
import { createMemoryStore } from "../../functions/shared/stores/memory-store.ts";
import { useFakeUpstream } from "../support/gateway-fixture.ts";

const fake = useFakeUpstream();
let gateway: Gateway | undefined;

beforeAll(() => {
  const config = loadConfig({ OPENAI_BASE_URL: fake.upstream.baseUrl, GATEWAY_MAX_RETRIES: "0" });
  gateway = createGateway({ config, credentials: createCredentialStore(config.credentials, () => undefined), store: createMemoryStore() });
});
afterAll(() => gateway?.close());

/** Sends a chat request to the core; the caller asks for usage, so what is stored is the provider's bytes. */
function ask(content: string): Promise<GatewayResponse> {
  const body = { model: "gpt-4o", messages: [{ role: "user", content }], stream: true, stream_options: { include_usage: true } };
  if (gateway === undefined) throw new Error("the gateway is not started");
  return gateway.handle({
    method: "POST",
    path: "/v1/chat/completions",
    query: "",
    headers: { "content-type": "application/json", authorization: "Bearer sk-caller", "x-provider": "openai", "x-gateway-cache-ttl": "60" },
    body: Buffer.from(JSON.stringify(body)),
    signal: new AbortController().signal,
  });
}

/** The body's chunks as the adapter would write them, one string each. */
async function chunksOf(response: GatewayResponse): Promise<string[]> {
  const chunks: string[] = [];
  for await (const chunk of response.body) chunks.push(Buffer.from(chunk).toString("utf8"));
  await response.completed;
  return chunks;
}

describe.each([
  ["CRLF", "\r\n"],
  ["bare CR", "\r"],
  ["LF", "\n"],
] as const)("a cached %s-framed stream", (name, lineEnd) => {
  it("is replayed on a HIT one event per chunk, byte for byte", async () => {
    fake.upstream.enqueue({ kind: "stream", lineEnd, content: ["cached", " answer"] });
    const miss = await ask(`replay ${name}`);
    expect(miss.headers["x-gateway-cache"]).toBe("MISS");
    const missText = (await chunksOf(miss)).join("");
    const events = [...fake.upstream.lastStreamEvents];
    // Role chunk, two deltas, finish chunk, usage chunk, [DONE].
    expect(events).toHaveLength(6);
    expect(missText).toBe(events.join(""));

    const hit = await ask(`replay ${name}`);
    expect(hit.headers["x-gateway-cache"]).toBe("HIT");
    const replayed = await chunksOf(hit);
    expect(replayed).toEqual(events);
    expect(fake.upstream.requests).toHaveLength(1);
  });
});
