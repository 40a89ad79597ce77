/**
 * The one server-sent-events framer: splits a byte stream into lines and
 * events as the SSE spec defines them (lines end with LF, CRLF or a bare CR;
 * a blank line ends an event), for every reader that looks inside a stream:
 * the completeness monitor, the usage reader, the injected-usage filter and
 * the cache replay.
 *
 * It works in linear time whatever the chunking (each character is looked at
 * once, a CRLF split across two chunks included) and bounds what it holds: an
 * event larger than {@link MAX_SSE_EVENT_CHARS} (say, a hostile stream with no
 * blank line at all) throws {@link SseEventTooLargeError} instead of growing.
 */
import { GatewayError } from "../http/errors.ts";

/** One event as received. */
export interface SseEvent {
  /** The event's non-blank lines, without their line ends. */
  readonly lines: readonly string[];
  /** Every character of the event as received: its lines, their line ends and the blank line that ended it. */
  readonly text: string;
}

/** Hears what the framer finds. */
export interface SseSink {
  /** A complete non-blank line, as soon as its line end arrives. */
  line?(line: string): void;
  /** A complete event (`complete: false` for what is left when the stream ends without a blank line). */
  event?(event: SseEvent, complete: boolean): void;
}

/** Frames one stream. */
export interface SseFramer {
  /** Reads a chunk, telling the sink of every line and event it completes. */
  push(chunk: Uint8Array): void;
  /** Ends the stream: a last line without a line end is a line, and a last event without a blank line is an event. */
  end(): void;
  /** Whether everything read so far ends on an event boundary. */
  readonly atEventBoundary: boolean;
}

/**
 * The largest event the gateway relays, in characters: 16 MiB, room for a
 * streamed partial image (base64 PNG of several MB) with a wide margin.
 */
export const MAX_SSE_EVENT_CHARS = 16 * 1024 * 1024;

/** A provider's stream carried an event larger than the gateway relays. */
export class SseEventTooLargeError extends GatewayError {
  constructor(limit: number) {
    super(502, `The provider sent a stream event larger than ${limit} characters.`, { code: "upstream_event_too_large" });
  }
}

const LINE_END = /\r\n|\r|\n/g;
const LF = 10;

/** Creates a framer that tells `sink` what it finds. */
export function createSseFramer(sink: SseSink, maxEventChars = MAX_SSE_EVENT_CHARS): SseFramer {
  const decoder = new TextDecoder();
  let partial = "";
  let lines: string[] = [];
  let text = "";
  // A CR ended the last chunk: an LF that starts the next one is the rest of that CRLF.
  let afterCr = false;

  function emit(complete: boolean): void {
    const event = { lines, text };
    lines = [];
    text = "";
    sink.event?.(event, complete);
  }

  function feed(input: string): void {
    let start = 0;
    if (afterCr && input.charCodeAt(0) === LF) {
      text += "\n";
      start = 1;
    }
    if (input.length > 0) afterCr = false;
    LINE_END.lastIndex = start;
    for (let match = LINE_END.exec(input); match !== null; match = LINE_END.exec(input)) {
      const line = partial + input.slice(start, match.index);
      partial = "";
      start = match.index + match[0].length;
      text += line + match[0];
      if (line === "") {
        emit(true);
      } else {
        lines.push(line);
        sink.line?.(line);
      }
    }
    if (start === input.length && input.charCodeAt(input.length - 1) === 13) afterCr = true;
    partial += input.slice(start);
    if (partial.length + text.length > maxEventChars) throw new SseEventTooLargeError(maxEventChars);
  }

  return {
    push(chunk) {
      feed(decoder.decode(chunk, { stream: true }));
    },
    end() {
      feed(decoder.decode());
      if (partial !== "") {
        lines.push(partial);
        text += partial;
        sink.line?.(partial);
        partial = "";
      }
      if (text !== "") emit(false);
    },
    get atEventBoundary() {
      return partial === "" && lines.length === 0;
    },
  };
}

/** Splits a whole stream into its events' texts, in order; together they are the whole input. */
export function splitSseEvents(body: Uint8Array): string[] {
  const texts: string[] = [];
  const framer = createSseFramer({ event: (event) => texts.push(event.text) }, Number.MAX_SAFE_INTEGER);
  framer.push(body);
  framer.end();
  return texts;
}
