/**
 * The families with bodies that are not JSON text, through the Lambda bundle
 * under aws-lambda-ric behind the emulated Function URL, driven by the official
 * openai SDK: multipart uploads arrive base64-encoded (`isBase64Encoded`) and
 * reach the provider byte for byte, binary answers (audio, file content) come
 * back unmodified, and image, transcription and stored-response streams are
 * relayed event by event.
 */
import { randomBytes } from "node:crypto";
import { toFile } from "openai";
import { describe, expect, it } from "vitest";
import { capturingClient, sha256 } from "../support/capturing-client.ts";
import { fakeAudio } from "../support/fake-openai/images-audio.ts";
import { useGatewayFunctionWithSecret } from "../support/lambda-fixture.ts";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gateway-AbCdEf";
const KEY_A = "gw-team-a-0123456789abcdef";
const KEY_B = "gw-team-b-0123456789abcdef";

const fixture = useGatewayFunctionWithSecret({
  secretId: SECRET_ARN,
  secret: JSON.stringify({ openai: { apiKey: "sk-provider-1" }, gatewayKeys: [{ id: "team-a", key: KEY_A }, { id: "team-b", key: KEY_B }] }),
  upstream: { requireAuth: "Bearer sk-provider-1", streamDefaults: { chunks: 4, intervalMs: 40 } },
  env: { AWS_SESSION_TOKEN: "session-token-example" },
  apiKey: KEY_A,
  headers: { "x-provider": "openai" },
});

const baseURL = () => `${fixture.lambda.url}/v1/`;

describe("the Lambda bundle with the rest of OpenAI's API", () => {
  it("forwards a 2 MB multipart upload byte for byte and relays the file's bytes back", async () => {
    const { client, sent } = capturingClient(baseURL(), KEY_A);
    const bytes = randomBytes(2 * 1024 * 1024);
    const file = await client.files.create({ file: await toFile(bytes, "big.bin"), purpose: "user_data" });
    const upstream = fixture.upstream.requests.at(-1);
    expect(upstream?.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(sent).toHaveLength(1);
    expect(sha256(upstream?.body ?? Buffer.alloc(0))).toBe(sha256(sent[0] ?? Buffer.alloc(1)));

    const content = await client.files.content(file.id);
    expect(content.headers.get("content-type")).toBe("application/octet-stream");
    expect(sha256(Buffer.from(await content.arrayBuffer()))).toBe(sha256(bytes));
  });

  it("keeps the file to the key that uploaded it", async () => {
    const file = await fixture.client.files.create({ file: await toFile(Buffer.from("mine"), "a.txt"), purpose: "assistants" });
    const other = capturingClient(baseURL(), KEY_B).client;
    await expect(other.files.retrieve(file.id)).rejects.toMatchObject({ status: 404, code: "object_not_found" });
    expect((await fixture.client.files.retrieve(file.id)).id).toBe(file.id);
  });

  it("sends upload parts and completes them into a file", async () => {
    const part = randomBytes(300_000);
    const upload = await fixture.client.uploads.create({ filename: "p.bin", purpose: "assistants", bytes: part.byteLength, mime_type: "application/octet-stream" });
    const sentPart = await fixture.client.uploads.parts.create(upload.id, { data: await toFile(part, "part") });
    const done = await fixture.client.uploads.complete(upload.id, { part_ids: [sentPart.id] });
    const content = Buffer.from(await (await fixture.client.files.content(done.file?.id as string)).arrayBuffer());
    expect(sha256(content)).toBe(sha256(part));
  });

  it("relays speech audio unmodified, as it arrives", async () => {
    const input = "audio through lambda";
    const response = await fixture.client.audio.speech.create({ model: "tts-1", voice: "alloy", input });
    expect(response.headers.get("content-type")).toBe("audio/mpeg");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    const first = await reader.read();
    const firstAt = performance.now();
    chunks.push(first.value as Uint8Array);
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
    expect(Buffer.concat(chunks).equals(fakeAudio(input))).toBe(true);
    // Four pieces 40 ms apart: the first is in hand while the rest are still on their way.
    expect(performance.now() - firstAt).toBeGreaterThan(80);
  });

  it("edits an image sent as a form, and streams the edit's partial images", async () => {
    const image = await toFile(randomBytes(50_000), "in.png", { type: "image/png" });
    const edited = await fixture.client.images.edit({ model: "gpt-image-1", image, prompt: "hat" });
    expect(edited.usage?.total_tokens).toBeGreaterThan(0);
    const stream = await fixture.client.images.edit({ model: "gpt-image-1", image: await toFile(randomBytes(1000), "in.png", { type: "image/png" }), prompt: "hat", stream: true, partial_images: 2 });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(["image_edit.partial_image", "image_edit.partial_image", "image_edit.completed"]);
  });

  it("streams generated partial images", async () => {
    const stream = await fixture.client.images.generate({ model: "gpt-image-1", prompt: "dot", stream: true, partial_images: 1 });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(["image_generation.partial_image", "image_generation.completed"]);
  });

  it("transcribes an upload, streamed and not", async () => {
    const audio = randomBytes(64_000);
    const text = await fixture.client.audio.transcriptions.create({ model: "gpt-4o-transcribe", file: await toFile(audio, "v.mp3") });
    expect(text.text).toBe("Transcript of v.mp3 (64000 bytes)");
    const stream = await fixture.client.audio.transcriptions.create({ model: "gpt-4o-transcribe", file: await toFile(audio, "v.mp3"), stream: true });
    let streamed = "";
    for await (const event of stream) if (event.type === "transcript.text.delta") streamed += event.delta;
    expect(streamed).toBe(text.text);
  });

  it("retrieves a stored response as a stream", async () => {
    const created = await fixture.client.responses.create({ model: "gpt-4.1", input: "lambda" });
    const stream = await fixture.client.responses.retrieve(created.id, { stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(["response.created", "response.output_text.delta", "response.completed"]);
  });
});
