/**
 * Reads the ids of stored objects from a provider's answer as it is relayed,
 * without changing it: the new object's id, and the ids of objects the answer
 * hands over (a batch's output file, a response's code-interpreter container).
 *
 * A JSON answer is kept up to {@link MAX_PARSED_BYTES} and parsed at its end;
 * past that only its head is kept, where OpenAI puts an object's `id`. An
 * event stream is read for its first `"id"` (the response or completion the
 * first event announces) and for the handed-over fields, by a scan of the
 * bytes as they pass, carrying a short tail across chunk boundaries.
 */

/** The most of a JSON answer kept to parse whole (objects, list pages and batches are far smaller). */
export const MAX_PARSED_BYTES = 1024 * 1024;
const HEAD_BYTES = 64 * 1024;
/** An id field's text is short; this much is carried over between chunks so none is split. */
const CARRY_CHARS = 256;
const FIRST_ID = /"id"\s*:\s*"([^"\\]{1,256})"/;

/** What the end of an answer shows. */
export interface AnswerIds {
  /** The id of the object the answer is about (a JSON object's top-level `id`, a stream's first `"id"`). */
  readonly id?: string;
  /** The whole JSON answer, parsed, when it was small enough. */
  readonly parsed?: unknown;
  /** Ids found in the scanned fields of an event stream, or of a JSON answer too large to parse. */
  readonly scanned: readonly string[];
}

/** Reads one answer, chunk by chunk. */
export interface AnswerReader {
  push(chunk: Uint8Array): void;
  /** Called with the object's id as soon as it is seen (a stream's first event), before the body ends. */
  readonly earlyId: string | undefined;
  finish(): AnswerIds;
}

/**
 * Creates a reader for a JSON answer or an event stream.
 * @param scanFields plain field names whose string values are ids handed over (e.g. `container_id`)
 */
export function createAnswerReader(eventStream: boolean, scanFields: readonly string[]): AnswerReader {
  const decoder = new TextDecoder();
  const scanners = scanFields.map((field) => new RegExp(`"${field}"\\s*:\\s*"([^"\\\\]{1,256})"`, "g"));
  const scanned = new Set<string>();
  // The whole JSON text while it is small enough to parse; undefined past that (and for streams).
  let whole: string | undefined = eventStream ? undefined : "";
  let size = 0;
  let head = "";
  let carry = "";
  let earlyId: string | undefined;

  function scan(text: string): void {
    if (scanners.length === 0) return;
    const joined = carry + text;
    for (const pattern of scanners) for (const match of joined.matchAll(pattern)) scanned.add(match[1] as string);
    carry = joined.slice(-CARRY_CHARS);
  }

  return {
    push(chunk) {
      size += chunk.byteLength;
      // A stream whose id is known and whose fields nobody scans has nothing more to give.
      if (eventStream && earlyId !== undefined && scanners.length === 0) return;
      const text = decoder.decode(chunk, { stream: true });
      if (head.length < HEAD_BYTES) head += text.slice(0, HEAD_BYTES - head.length);
      if (eventStream) {
        earlyId ??= FIRST_ID.exec(head)?.[1];
        scan(text);
      } else if (whole !== undefined && size <= MAX_PARSED_BYTES) {
        whole += text;
      } else {
        // Too large to parse: what was kept, and the rest, is scanned for the handed-over fields instead.
        scan((whole ?? "") + text);
        whole = undefined;
      }
    },
    get earlyId() {
      return earlyId;
    },
    finish() {
      if (whole !== undefined) {
        const parsed = parse(whole + decoder.decode());
        const id = isObject(parsed) && typeof parsed.id === "string" ? parsed.id : undefined;
        return { id, parsed, scanned: [] };
      }
      return { id: eventStream ? earlyId : topLevelId(head), scanned: [...scanned] };
    },
  };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The `id` member of the outermost object in the head of a JSON text (strings and nesting skipped). */
export function topLevelId(text: string): string | undefined {
  let depth = 0;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === '"') {
      const end = stringEnd(text, index);
      if (end < 0) return undefined;
      if (depth === 1 && text.slice(index, end + 1) === '"id"') {
        const value = /^\s*:\s*"([^"\\]{1,256})"/.exec(text.slice(end + 1, end + 300));
        if (value !== null) return value[1];
      }
      index = end;
    } else if (char === "{" || char === "[") depth += 1;
    else if (char === "}" || char === "]") depth -= 1;
  }
  return undefined;
}

/** The index of the quote that closes the string opening at `start`, or -1 when the text ends first. */
function stringEnd(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index += 1) {
    if (text[index] === "\\") index += 1;
    else if (text[index] === '"') return index;
  }
  return -1;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
