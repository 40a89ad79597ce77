/**
 * Images and audio through the local gateway, driven by the official openai
 * SDK: multipart forms forwarded byte for byte, raw audio relayed as it
 * arrives, and image, transcription and speech event streams monitored like
 * chat streams, with the usage they report read and priced.
 */
import { toFile } from "openai";
import { describe, expect, it } from "vitest";
import { fakeAudio } from "../support/fake-openai/images-audio.ts";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";

const KEY = "gw-team-a-0123456789abcdef";
const fixture = useFakeUpstreamAndGateway({
  upstream: { requireAuth: "Bearer sk-provider" },
  env: {
    GATEWAY_API_KEYS: KEY,
    OPENAI_API_KEY: "sk-provider",
    GATEWAY_MAX_RETRIES: "0",
    GATEWAY_PRICES: JSON.stringify({ "gpt-image-1": { input: 5, output: 40 }, "gpt-4o-transcribe": { input: 2.5, output: 10 }, "gpt-4o-mini-tts": { input: 0.6, output: 12 } }),
  },
  apiKey: KEY,
});

async function onlySummary() {
  const [summary] = await fixture.gateway.waitForSummaries(1);
  return summary;
}

describe("images", () => {
  it("generates an image and reads its usage", async () => {
    const image = await fixture.client.images.generate({ model: "gpt-image-1", prompt: "a red square" });
    expect(image.data?.[0]?.b64_json).toBeTruthy();
    expect(image.usage?.total_tokens).toBeGreaterThan(0);
    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "images.generations", family: "images", model: "gpt-image-1", stream: false, status: 200, outcome: "ok" });
    expect(summary?.usage).toMatchObject({ promptTokens: image.usage?.input_tokens, completionTokens: image.usage?.output_tokens, totalTokens: image.usage?.total_tokens });
    expect(summary?.costUsd).toBeGreaterThan(0);
  });

  it("streams partial images as they come, and the completed image with its usage", async () => {
    const stream = await fixture.client.images.generate({ model: "gpt-image-1", prompt: "a blue circle", stream: true, partial_images: 2 });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"]);
    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "images.generations", stream: true, status: 200, outcome: "ok" });
    expect(summary?.usage?.totalTokens).toBeGreaterThan(0);
  });

  it("an image stream cut before its completed event is reported broken, not complete", async () => {
    fixture.upstream.enqueue({ kind: "raw", status: 200, headers: { "content-type": "text/event-stream" }, body: 'event: image_generation.partial_image\ndata: {"type":"image_generation.partial_image","b64_json":"AA=="}\n\n' });
    const stream = await fixture.client.images.generate({ model: "gpt-image-1", prompt: "cut", stream: true, partial_images: 1 });
    await expect(async () => {
      for await (const _event of stream) {
        // drain
      }
    }).rejects.toThrow(/ended before it was complete/);
    expect((await onlySummary())?.outcome).toBe("upstream_failure");
  });

  it("edits and varies images sent as multipart forms, reading the model from the form", async () => {
    const edited = await fixture.client.images.edit({ model: "gpt-image-1", image: await toFile(Buffer.from("png-bytes"), "in.png", { type: "image/png" }), prompt: "add a hat" });
    expect(edited.usage?.input_tokens_details.image_tokens).toBe(194);
    const varied = await fixture.client.images.createVariation({ image: await toFile(Buffer.from("png-bytes"), "in.png", { type: "image/png" }) });
    expect(varied.data?.[0]?.url).toBe("https://images.example/fake.png");
    const summaries = await fixture.gateway.waitForSummaries(2);
    expect(summaries[0]).toMatchObject({ endpoint: "images.edits", model: "gpt-image-1", status: 200 });
    expect(summaries[0]?.usage?.totalTokens).toBe(edited.usage?.total_tokens);
    expect(summaries[1]).toMatchObject({ endpoint: "images.variations", family: "images", status: 200 });
    expect(fixture.upstream.requests[0]?.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
  });

  it("streams an image edit", async () => {
    const stream = await fixture.client.images.edit({ model: "gpt-image-1", image: await toFile(Buffer.from("png"), "in.png", { type: "image/png" }), prompt: "x", stream: true, partial_images: 1 });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(["image_edit.partial_image", "image_edit.completed"]);
    expect(await onlySummary()).toMatchObject({ endpoint: "images.edits", stream: true, outcome: "ok" });
  });
});

describe("audio", () => {
  it("relays speech audio as it arrives, unmodified, with its content type, and reads no usage from it", async () => {
    fixture.upstream.reset();
    const input = "Hello from the gateway";
    const response = await fixture.client.audio.speech.create({ model: "gpt-4o-mini-tts", voice: "alloy", input });
    expect(response.headers.get("content-type")).toBe("audio/mpeg");
    expect(Buffer.from(await response.arrayBuffer()).equals(fakeAudio(input))).toBe(true);
    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "audio.speech", family: "audio", model: "gpt-4o-mini-tts", status: 200, outcome: "ok", usage: undefined });
  });

  it("never reads audio bytes for usage, even bytes that look like a usage object", async () => {
    const audio = Buffer.concat([Buffer.from("ID3"), Buffer.from('"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}'), Buffer.alloc(64, 1)]);
    fixture.upstream.enqueue({ kind: "raw", status: 200, headers: { "content-type": "audio/mpeg", "content-length": String(audio.byteLength) }, body: audio, match: "/v1/audio/speech" });
    const response = await fixture.client.audio.speech.create({ model: "gpt-4o-mini-tts", voice: "alloy", input: "x" });
    expect(Buffer.from(await response.arrayBuffer()).equals(audio)).toBe(true);
    expect((await onlySummary())?.usage).toBeUndefined();
  });

  it("streams speech events with their usage when asked for sse", async () => {
    const response = await fixture.client.audio.speech.create({ model: "gpt-4o-mini-tts", voice: "alloy", input: "stream me", stream_format: "sse" });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await response.text();
    expect(text).toContain('"type":"speech.audio.done"');
    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "audio.speech", stream: true, outcome: "ok" });
    expect(summary?.usage?.totalTokens).toBeGreaterThan(0);
    expect(summary?.costUsd).toBeGreaterThan(0);
  });

  it("transcribes an upload, reading the token usage and the model from the form", async () => {
    const transcription = await fixture.client.audio.transcriptions.create({ model: "gpt-4o-transcribe", file: await toFile(Buffer.alloc(8000, 3), "voice.mp3") });
    expect(transcription.text).toBe("Transcript of voice.mp3 (8000 bytes)");
    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "audio.transcriptions", model: "gpt-4o-transcribe", status: 200, outcome: "ok" });
    expect(summary?.usage?.totalTokens).toBe((transcription.usage as { total_tokens: number }).total_tokens);
    expect(summary?.costUsd).toBeGreaterThan(0);
  });

  it("relays a transcript as text, and whisper's duration usage counts no tokens", async () => {
    const text = await fixture.client.audio.transcriptions.create({ model: "whisper-1", file: await toFile(Buffer.alloc(100), "a.wav"), response_format: "text" });
    expect(text).toBe("Transcript of a.wav (100 bytes)\n");
    const json = await fixture.client.audio.transcriptions.create({ model: "whisper-1", file: await toFile(Buffer.alloc(100), "a.wav") });
    expect(json.usage).toMatchObject({ type: "duration" });
    const summaries = await fixture.gateway.waitForSummaries(2);
    expect(summaries.map((summary) => summary.usage)).toEqual([undefined, undefined]);
  });

  it("streams a transcription (stream=true in the form) with its usage", async () => {
    const stream = await fixture.client.audio.transcriptions.create({ model: "gpt-4o-mini-transcribe", file: await toFile(Buffer.alloc(4000), "s.mp3"), stream: true });
    let text = "";
    let done = false;
    for await (const event of stream) {
      if (event.type === "transcript.text.delta") text += event.delta;
      if (event.type === "transcript.text.done") done = true;
    }
    expect(text).toBe("Transcript of s.mp3 (4000 bytes)");
    expect(done).toBe(true);
    const summary = await onlySummary();
    expect(summary).toMatchObject({ endpoint: "audio.transcriptions", stream: true, outcome: "ok" });
    expect(summary?.usage?.totalTokens).toBeGreaterThan(0);
  });

  it("translates an upload", async () => {
    const translation = await fixture.client.audio.translations.create({ model: "whisper-1", file: await toFile(Buffer.alloc(50), "fr.mp3") });
    expect(translation.text).toBe("Translated fr.mp3 (50 bytes)");
    expect(await onlySummary()).toMatchObject({ endpoint: "audio.translations", family: "audio", status: 200 });
  });
});

describe("audio from a provider that synthesizes as it goes", () => {
  const paced = useFakeUpstreamAndGateway({
    upstream: { streamDefaults: { chunks: 5, intervalMs: 60 } },
    env: { GATEWAY_MAX_RETRIES: "0" },
  });

  it("hands the first audio bytes on before the provider has sent the rest", async () => {
    const input = "x".repeat(40);
    const response = await paced.client.audio.speech.create({ model: "tts-1", voice: "alloy", input });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    const first = await reader.read();
    const firstAt = performance.now();
    chunks.push(first.value as Uint8Array);
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
    expect(Buffer.concat(chunks).equals(fakeAudio(input))).toBe(true);
    // The provider writes five pieces 60 ms apart: the first is in hand while four are still to come.
    expect(performance.now() - firstAt).toBeGreaterThan(150);
  });
});
