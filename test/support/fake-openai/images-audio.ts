/**
 * Images (generations as JSON, or with `stream: true` partial images then the
 * image; edits and variations as multipart forms) and audio (speech as raw
 * audio bytes written in paced chunks, or speech events with
 * `stream_format: "sse"`; transcriptions and translations of a multipart
 * upload as JSON, text, or transcript events with `stream=true`), with
 * OpenAI's shapes and content types. gpt-image and gpt-4o-transcribe answers
 * report token usage; dall-e and whisper do not (whisper by duration).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { approxTokens, splitInto } from "./common.ts";
import type { Ctx, SseEvent, StreamPlan } from "./types.ts";
import { emitStream, sendJson } from "./wire.ts";
import { field, invalidParam, jsonBody, nowSeconds, readForm } from "./stored.ts";

/** A 1×1 PNG: every image the fake makes. */
export const FAKE_PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

function imageUsage(prompt: string, inputImages: number): Record<string, unknown> {
  const text = approxTokens(prompt);
  const image = inputImages * 194;
  return { input_tokens: text + image, input_tokens_details: { text_tokens: text, image_tokens: image }, output_tokens: 272, total_tokens: text + image + 272 };
}

interface ImageRequest {
  readonly model: string;
  readonly prompt: string;
  readonly n: number;
  readonly stream: boolean;
  readonly partialImages: number;
  readonly inputImages: number;
}

function sendImages(ctx: Ctx, request: ImageRequest, kind: "image_generation" | "image_edit"): Promise<void> | void {
  const gptImage = request.model.startsWith("gpt-image");
  const meta = { background: "opaque", output_format: "png", quality: "low", size: "1024x1024" };
  if (request.stream) {
    if (!gptImage) return invalidParam(ctx, "stream", "Streaming is only supported for gpt-image models.");
    const events: SseEvent[] = [];
    const write = (type: string, payload: Record<string, unknown>) =>
      events.push({ text: `event: ${type}\ndata: ${JSON.stringify({ type, b64_json: FAKE_PNG_BASE64, created_at: nowSeconds(), ...meta, ...payload })}\n\n`, delayBefore: true });
    for (let index = 0; index < request.partialImages; index += 1) write(`${kind}.partial_image`, { partial_image_index: index });
    write(`${kind}.completed`, { usage: imageUsage(request.prompt, request.inputImages) });
    const plan: StreamPlan = { events, errorEvent: (err) => `event: error\ndata: ${JSON.stringify({ type: "error", error: err })}\n\n` };
    return emitStream(ctx, plan, ctx.state.streamInterval);
  }
  const data = Array.from({ length: request.n }, () => (gptImage ? { b64_json: FAKE_PNG_BASE64 } : { url: "https://images.example/fake.png", revised_prompt: request.prompt }));
  sendJson(ctx, 200, gptImage ? { created: nowSeconds(), data, ...meta, usage: imageUsage(request.prompt, request.inputImages) } : { created: nowSeconds(), data });
}

export function generateImages(ctx: Ctx): Promise<void> | void {
  const body = jsonBody(ctx);
  if (typeof body.prompt !== "string") return invalidParam(ctx, "prompt", "Missing required parameter: 'prompt'.");
  const model = typeof body.model === "string" ? body.model : "dall-e-2";
  return sendImages(ctx, { model, prompt: body.prompt, n: Number(body.n ?? 1), stream: body.stream === true, partialImages: Number(body.partial_images ?? 0), inputImages: 0 }, "image_generation");
}

/** Edits (multipart `image`/`image[]`, or JSON with `images`) and variations (multipart `image`). */
export async function editImages(ctx: Ctx, variation: boolean): Promise<void> {
  const contentType = String(ctx.req.headers["content-type"] ?? "");
  if (!variation && contentType.startsWith("application/json")) {
    const body = jsonBody(ctx);
    const images = Array.isArray(body.images) ? body.images.length : 0;
    return sendImages(ctx, { model: String(body.model ?? "gpt-image-1"), prompt: String(body.prompt ?? ""), n: 1, stream: body.stream === true, partialImages: Number(body.partial_images ?? 0), inputImages: images }, "image_edit");
  }
  const form = await readForm(ctx);
  if (form === undefined) return;
  const images = [...form.getAll("image"), ...form.getAll("image[]")].filter((value) => value instanceof File);
  if (images.length === 0) return invalidParam(ctx, "image", "Missing required parameter: 'image'.");
  const model = field(form, "model") ?? (variation ? "dall-e-2" : "dall-e-2");
  const prompt = field(form, "prompt") ?? "";
  if (!variation && prompt === "") return invalidParam(ctx, "prompt", "Missing required parameter: 'prompt'.");
  const request = { model, prompt, n: Number(field(form, "n") ?? 1), stream: field(form, "stream") === "true", partialImages: Number(field(form, "partial_images") ?? 0), inputImages: images.length };
  return sendImages(ctx, request, "image_edit");
}

const AUDIO_TYPES: Readonly<Record<string, string>> = { mp3: "audio/mpeg", opus: "audio/opus", aac: "audio/aac", flac: "audio/flac", wav: "audio/wav", pcm: "audio/pcm" };

/** The fake's audio for a text: an ID3 header and bytes derived from the text, 512 per character. */
export function fakeAudio(text: string): Buffer {
  const body = Buffer.alloc(Math.max(1, text.length) * 512);
  for (let index = 0; index < body.byteLength; index += 1) body[index] = (text.charCodeAt(index % Math.max(1, text.length)) + index) & 0xff;
  return Buffer.concat([Buffer.from("ID3\x04\x00\x00", "latin1"), body]);
}

export async function createSpeech(ctx: Ctx): Promise<void> {
  const body = jsonBody(ctx);
  if (typeof body.input !== "string" || typeof body.voice !== "string") return invalidParam(ctx, "input", "Missing required parameter: 'input' or 'voice'.");
  const format = String(body.response_format ?? "mp3");
  const audio = fakeAudio(body.input);
  if (body.stream_format === "sse") {
    const events: SseEvent[] = [];
    for (let offset = 0; offset < audio.byteLength; offset += 4096) {
      events.push({ text: `data: ${JSON.stringify({ type: "speech.audio.delta", audio: audio.subarray(offset, offset + 4096).toString("base64") })}\n\n`, delayBefore: true });
    }
    const usage = { input_tokens: approxTokens(body.input), output_tokens: Math.ceil(audio.byteLength / 1024), total_tokens: approxTokens(body.input) + Math.ceil(audio.byteLength / 1024) };
    events.push({ text: `data: ${JSON.stringify({ type: "speech.audio.done", usage })}\n\n`, delayBefore: false });
    return emitStream(ctx, { events, errorEvent: (err) => `data: ${JSON.stringify({ type: "error", error: err })}\n\n` }, ctx.state.streamInterval);
  }
  // Raw audio, chunked as it is synthesized: no content-length, paced like a stream.
  ctx.res.writeHead(200, { "content-type": AUDIO_TYPES[format] ?? "audio/mpeg", "transfer-encoding": "chunked", "x-request-id": ctx.requestId });
  ctx.res.flushHeaders();
  const pieces = Math.max(1, ctx.state.streamChunks);
  const size = Math.ceil(audio.byteLength / pieces);
  for (let offset = 0; offset < audio.byteLength; offset += size) {
    if (offset > 0 && ctx.state.streamInterval > 0) await sleep(ctx.state.streamInterval, undefined, { signal: ctx.signal }).catch(() => undefined);
    if (ctx.res.destroyed) return;
    ctx.res.write(audio.subarray(offset, offset + size));
  }
  ctx.res.end();
}

/** Transcriptions and translations of an uploaded audio file. */
export async function transcribe(ctx: Ctx, translate: boolean): Promise<void> {
  const form = await readForm(ctx);
  if (form === undefined) return;
  const file = form.get("file");
  const model = field(form, "model");
  if (!(file instanceof File)) return invalidParam(ctx, "file", "Missing required parameter: 'file'.");
  if (model === undefined) return invalidParam(ctx, "model", "Missing required parameter: 'model'.");
  const text = `${translate ? "Translated" : "Transcript of"} ${file.name} (${file.size} bytes)`;
  const format = field(form, "response_format") ?? "json";
  const whisper = model.startsWith("whisper");
  const inputTokens = Math.max(1, Math.ceil(file.size / 1000));
  const usage = whisper
    ? { type: "duration", seconds: Math.max(1, Math.round(file.size / 16000)) }
    : { type: "tokens", input_tokens: inputTokens, input_token_details: { text_tokens: 0, audio_tokens: inputTokens }, output_tokens: approxTokens(text), total_tokens: inputTokens + approxTokens(text) };
  if (!translate && field(form, "stream") === "true") {
    if (whisper) return invalidParam(ctx, "stream", "Streaming is not supported for whisper-1.");
    const events: SseEvent[] = splitInto(text, ctx.state.streamChunks).map((delta) => ({ text: `data: ${JSON.stringify({ type: "transcript.text.delta", delta, logprobs: null })}\n\n`, delayBefore: true }));
    events.push({ text: `data: ${JSON.stringify({ type: "transcript.text.done", text, logprobs: null, usage })}\n\n`, delayBefore: false });
    return emitStream(ctx, { events, errorEvent: (err) => `data: ${JSON.stringify({ type: "error", error: err })}\n\n` }, ctx.state.streamInterval);
  }
  if (format === "text" || format === "srt" || format === "vtt") {
    const body = format === "text" ? `${text}\n` : format === "srt" ? `1\n00:00:00,000 --> 00:00:01,000\n${text}\n\n` : `WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n${text}\n\n`;
    ctx.res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": String(Buffer.byteLength(body)), "x-request-id": ctx.requestId });
    return void ctx.res.end(body);
  }
  if (translate) return sendJson(ctx, 200, { text });
  if (format === "verbose_json") return sendJson(ctx, 200, { task: "transcribe", language: "english", duration: 1, text, segments: [], usage });
  sendJson(ctx, 200, { text, usage });
}
