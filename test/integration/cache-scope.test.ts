/**
 * The response cache, on for every request here, keeps only answers that are a
 * pure function of the request (chat and legacy completions, embeddings,
 * moderations): an image, speech, a transcription, a stored object or a list
 * of them is asked of the provider every time.
 */
import { toFile } from "openai";
import { describe, expect, it } from "vitest";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";

const fixture = useFakeUpstreamAndGateway({ env: { GATEWAY_CACHE_TTL_SECONDS: "300", GATEWAY_MAX_RETRIES: "0" } });

describe("what the cache keeps", () => {
  it.each([
    ["images.generate", () => fixture.client.images.generate({ model: "gpt-image-1", prompt: "same" })],
    ["audio.speech", async () => (await fixture.client.audio.speech.create({ model: "tts-1", voice: "alloy", input: "same" })).arrayBuffer()],
    ["audio.transcriptions", async () => fixture.client.audio.transcriptions.create({ model: "whisper-1", file: await toFile(Buffer.alloc(10), "a.wav") })],
    ["files.list", () => fixture.client.files.list()],
    ["responses.input_tokens", () => fixture.client.responses.inputTokens.count({ model: "gpt-4.1", input: "same" })],
    ["vector_stores.create", () => fixture.client.vectorStores.create({ name: "same" })],
  ])("%s is asked of the provider every time", async (_name, call) => {
    await call();
    await call();
    expect(fixture.upstream.requests).toHaveLength(2);
    const summaries = await fixture.gateway.waitForSummaries(2);
    expect(summaries.map((summary) => summary.cache)).toEqual(["bypass", "bypass"]);
  });

  it("an embedding, a pure function of the request, is served from the cache the second time", async () => {
    await fixture.client.embeddings.create({ model: "text-embedding-3-small", input: "same" });
    await fixture.client.embeddings.create({ model: "text-embedding-3-small", input: "same" });
    expect(fixture.upstream.requests).toHaveLength(1);
  });
});
