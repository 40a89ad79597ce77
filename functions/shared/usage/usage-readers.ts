/**
 * Token usage read on the side of a relayed body, without holding it back:
 * from the tail of a JSON body, or from the SSE events that carry `usage`.
 */

/** Token counts of one request, in the gateway's own names. */
export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly cachedPromptTokens: number;
  readonly reasoningTokens: number;
}

/** Reads usage from body chunks as they pass. */
export interface UsageReader {
  push(chunk: Uint8Array): void;
  /** The usage found, once the body has ended. */
  finish(): TokenUsage | undefined;
}

type Json = Record<string, unknown>;

/**
 * Normalises OpenAI's usage objects: chat and completions (`prompt_tokens`…),
 * the Responses API, images, transcriptions and speech (`input_tokens`…) and
 * embeddings (`prompt_tokens` only). A usage without token counts (audio
 * billed by duration) is none. DeepSeek reports cached prompt tokens as
 * `prompt_cache_hit_tokens` (api-docs.deepseek.com, "Context Caching") rather
 * than in `prompt_tokens_details`.
 */
export function normalizeUsage(raw: unknown): TokenUsage | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const usage = raw as Json;
  // A usage object has at least one of the token fields; whisper's `{"type":"duration","seconds":3}` has none.
  if (!("prompt_tokens" in usage || "input_tokens" in usage || "completion_tokens" in usage || "output_tokens" in usage || "total_tokens" in usage)) {
    return undefined;
  }
  const prompt = count(usage.prompt_tokens ?? usage.input_tokens);
  const completion = count(usage.completion_tokens ?? usage.output_tokens);
  const promptDetails = (usage.prompt_tokens_details ?? usage.input_tokens_details) as Json | undefined;
  const completionDetails = (usage.completion_tokens_details ?? usage.output_tokens_details) as Json | undefined;
  return {
    promptTokens: prompt,
    completionTokens: completion,
    totalTokens: count(usage.total_tokens) || prompt + completion,
    cachedPromptTokens: count(promptDetails?.cached_tokens) || count(usage.prompt_cache_hit_tokens),
    reasoningTokens: count(completionDetails?.reasoning_tokens),
  };
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Usage of a JSON body, found in its last bytes (OpenAI puts `usage` near the end). */
export function createJsonUsageReader(tailBytes = 16 * 1024): UsageReader {
  const chunks: Uint8Array[] = [];
  let held = 0;
  return {
    push(chunk) {
      chunks.push(chunk);
      held += chunk.byteLength;
      // Drop whole chunks that are no longer needed to cover the tail.
      while (chunks.length > 1 && held - (chunks[0]?.byteLength ?? 0) >= tailBytes) held -= chunks.shift()?.byteLength ?? 0;
    },
    finish() {
      // Most answers are one chunk: no copy. The search runs on the bytes, and only the
      // usage object is decoded and parsed (hot path: every non-streamed answer passes here).
      const tail = chunks.length === 1 ? Buffer.from((chunks[0] as Uint8Array).buffer, (chunks[0] as Uint8Array).byteOffset, (chunks[0] as Uint8Array).byteLength) : Buffer.concat(chunks);
      return normalizeUsage(extractLastUsageObject(tail));
    },
  };
}

const USAGE_KEY = Buffer.from('"usage"');

/** Finds the last `"usage": {…}` in the bytes and parses the object by brace matching. */
function extractLastUsageObject(bytes: Buffer): unknown {
  // The last key followed by an object; a `"usage"` that is not (a string value, say) is skipped.
  let start = -1;
  for (let at = bytes.lastIndexOf(USAGE_KEY); at !== -1; at = at === 0 ? -1 : bytes.lastIndexOf(USAGE_KEY, at - 1)) {
    start = objectAfterColon(bytes, at + USAGE_KEY.length);
    if (start !== -1) break;
  }
  if (start === -1) return undefined;
  // Structural characters are ASCII and every byte of a multi-byte UTF-8 character is above 0x7f.
  let depth = 0;
  let inString = false;
  for (let index = start; index < bytes.length; index += 1) {
    const byte = bytes[index];
    if (inString) {
      if (byte === 0x5c) index += 1;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b) depth += 1;
    else if (byte === 0x7d && --depth === 0) {
      try {
        return JSON.parse(bytes.toString("utf8", start, index + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** JSON's blanks: space, tab, line feed, carriage return. */
function isBlank(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/** Where the object's `{` is when the bytes from `from` are blanks, a colon, blanks, then `{`; else -1. */
function objectAfterColon(bytes: Buffer, from: number): number {
  let index = from;
  while (isBlank(bytes[index])) index += 1;
  if (bytes[index] !== 0x3a) return -1;
  index += 1;
  while (isBlank(bytes[index])) index += 1;
  return bytes[index] === 0x7b ? index : -1;
}

/** A data line that carries a usage object: `"usage":{`, with any blanks around the colon. */
const USAGE_OBJECT = /"usage"\s*:\s*\{/;

/** Reads usage from the lines of an event stream (fed by the SSE framer). */
export interface SseUsageReader {
  line(line: string): void;
  /** The last usage found, once the stream has ended. */
  finish(): TokenUsage | undefined;
  /** Data lines seen so far (a stream's chunks), for an estimate when no usage arrives. */
  readonly dataLines: number;
}

/**
 * Usage of an SSE body: chat and completion chunks with `usage`, the
 * Responses API's final event (`response.usage`), or Groq's last chunk,
 * which carries it as `x_groq.usage` (Groq's streaming wire, as its SDK users
 * read it: `chunk.x_groq?.usage`). Only data lines that carry a usage object
 * are parsed; the rest are passed over with one regex test.
 */
export function createSseUsageReader(): SseUsageReader {
  let usage: TokenUsage | undefined;
  let dataLines = 0;
  return {
    get dataLines() {
      return dataLines;
    },
    line(line) {
      if (!line.startsWith("data:")) return;
      dataLines += 1;
      if (!USAGE_OBJECT.test(line)) return;
      try {
        const event = JSON.parse(line.slice(5)) as Json;
        const raw = event.usage ?? (event.response as Json | undefined)?.usage ?? (event.x_groq as Json | undefined)?.usage;
        usage = normalizeUsage(raw) ?? usage;
      } catch {
        // A line that is not JSON carries no usage; the client sees it unchanged.
      }
    },
    finish: () => usage,
  };
}
