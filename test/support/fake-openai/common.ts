/**
 * What every endpoint of the fake shares: the deterministic reply and token
 * estimate, random ids, reading message content, and the stream options.
 */
import { randomBytes } from "node:crypto";
import type { Answer } from "./types.ts";

/** The deterministic assistant text the fake answers for a given last user message. */
export function fakeReply(lastUserText: string | undefined): string {
  return lastUserText === undefined || lastUserText === "" ? "Hello! How can I help you today?" : `Echo: ${lastUserText}`;
}

/** The token estimate used for every usage field: ceil(chars / 4), at least 1. */
export function approxTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export const DEFAULT_MODELS: readonly string[] = [
  "gpt-4o",
  "gpt-4o-mini",
  "gpt-4.1",
  "gpt-4.1-mini",
  "gpt-4.1-nano",
  "o3-mini",
  "o4-mini",
  "gpt-3.5-turbo",
  "gpt-3.5-turbo-instruct",
  "text-embedding-3-small",
  "text-embedding-3-large",
  "text-embedding-ada-002",
  "omni-moderation-latest",
  "text-moderation-latest",
];

export const SYSTEM_FINGERPRINT = "fp_f7d56a8a2c";
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

export function alnum(len: number): string {
  const buf = randomBytes(len);
  let out = "";
  for (let i = 0; i < len; i++) out += ALNUM[(buf[i] ?? 0) % ALNUM.length];
  return out;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Text of a chat message content (string or array of parts). */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (isObject(p) && typeof p["text"] === "string" ? p["text"] : ""))
      .filter((s) => s !== "")
      .join(" ");
  }
  return "";
}

/** Split text into exactly n non-empty pieces (repeating the text if it is shorter than n code points). */
export function splitInto(text: string, n: number): string[] {
  const count = Math.max(1, Math.floor(n));
  let chars = Array.from(text);
  if (chars.length === 0) chars = [" "];
  while (chars.length < count) chars = chars.concat([" "], Array.from(text || " "));
  const out: string[] = [];
  const base = Math.floor(chars.length / count);
  let extra = chars.length % count;
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const size = base + (extra > 0 ? 1 : 0);
    if (extra > 0) extra--;
    out.push(chars.slice(pos, pos + size).join(""));
    pos += size;
  }
  return out;
}

/** The answer's text cut to its token limit (4 characters a token), and the finish reason saying whether it was. */
export function limitedText(ans: Answer): { text: string; finish: "stop" | "length" } {
  if (ans.limit !== undefined && approxTokens(ans.text) > ans.limit) {
    return { text: ans.text.slice(0, Math.max(1, ans.limit * 4)), finish: "length" };
  }
  return { text: ans.text, finish: "stop" };
}

/** The usage object of chat and legacy completions. */
export function chatUsage(promptTokens: number, completionTokens: number): Record<string, unknown> {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export function modelOf(body: Record<string, unknown>, fallback: string): string {
  return typeof body["model"] === "string" && body["model"] !== "" ? body["model"] : fallback;
}

/** The random `obfuscation` field of stream events, unless `stream_options.include_obfuscation` is false. */
export function obfuscation(body: Record<string, unknown>): Record<string, string> {
  const so = body["stream_options"];
  if (isObject(so) && so["include_obfuscation"] === false) return {};
  return { obfuscation: alnum(1 + (randomBytes(1)[0] ?? 0) % 12) };
}

export function includeUsage(body: Record<string, unknown>): boolean {
  const so = body["stream_options"];
  return isObject(so) && so["include_usage"] === true;
}
