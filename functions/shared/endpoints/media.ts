/**
 * Images and audio: bodies that are multipart forms (an image to edit, audio
 * to transcribe) forwarded byte for byte, answers that are raw audio relayed
 * as they arrive, and event streams of partial images, transcript deltas and
 * speech audio, monitored like chat streams. None is cached: an image, a
 * voice or a transcript is sampled anew each time.
 */
import { endpoint, type EndpointDefinition } from "./definition.ts";

export const IMAGE_ENDPOINTS: readonly EndpointDefinition[] = [
  // `stream: true` sends partial images (`image_generation.partial_image`) and then the image with its usage.
  endpoint({ name: "images.generations", method: "POST", path: "/images/generations", response: "json-or-sse", usage: "image" }),
  endpoint({ name: "images.edits", method: "POST", path: "/images/edits", requestBody: "json-or-multipart", response: "json-or-sse", usage: "image" }),
  endpoint({ name: "images.variations", method: "POST", path: "/images/variations", requestBody: "multipart", usage: "image" }),
];

export const AUDIO_ENDPOINTS: readonly EndpointDefinition[] = [
  // Raw audio (mp3, opus, wav, pcm…), or with `stream_format: "sse"` audio deltas and `speech.audio.done` with usage.
  endpoint({ name: "audio.speech", method: "POST", path: "/audio/speech", response: "binary-or-sse", usage: "speech" }),
  // JSON, text, SRT or VTT as `response_format` asks, or with `stream=true` transcript deltas and `transcript.text.done`.
  endpoint({ name: "audio.transcriptions", method: "POST", path: "/audio/transcriptions", requestBody: "multipart", response: "json-or-sse", usage: "transcription" }),
  endpoint({ name: "audio.translations", method: "POST", path: "/audio/translations", requestBody: "multipart", usage: "transcription" }),
];
