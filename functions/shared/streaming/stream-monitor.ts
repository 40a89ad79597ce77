/**
 * Watches a provider's event stream, line by line from the SSE framer, for
 * what a byte relay cannot see by itself: a stream that ends without its
 * terminal event (truncated), lines that are not server-sent events at all
 * (malformed), and how the answer ended. It checks line prefixes only; no
 * event is parsed as JSON.
 */

/**
 * How the stream said it ended: `done` (`data: [DONE]`), `completed`,
 * `failed` or `incomplete` (the Responses API's final events; `incomplete` is
 * a cut-off the client asked for, e.g. `max_output_tokens`; `completed` also
 * ends an image, transcription or speech stream), or `error` (an error event).
 */
export type StreamEnding = "done" | "completed" | "failed" | "incomplete" | "error";

/** The state of one stream. */
export interface StreamMonitor {
  /** Judges one line; false once a malformed line has been seen. */
  line(line: string): boolean;
  /** The terminal event seen, if any. */
  readonly ending: StreamEnding | undefined;
  readonly malformed: boolean;
}

const FIELD = /^(?:data|event|id|retry)(?::|$)|^:/;
const ENDINGS: Readonly<Record<string, StreamEnding>> = {
  "response.completed": "completed",
  // The last event of an image, transcription and speech stream (each carries the usage).
  "image_generation.completed": "completed",
  "image_edit.completed": "completed",
  "transcript.text.done": "completed",
  "speech.audio.done": "completed",
  "response.failed": "failed",
  "response.incomplete": "incomplete",
  error: "error",
};
const TERMINAL_TYPE =
  /^\{\s*"type"\s*:\s*"(response\.completed|response\.failed|response\.incomplete|error|image_generation\.completed|image_edit\.completed|transcript\.text\.done|speech\.audio\.done)"/;
const ERROR_OBJECT = /^\{\s*"error"\s*:/;

/** Creates a monitor for one stream. */
export function createStreamMonitor(): StreamMonitor {
  let ending: StreamEnding | undefined;
  let malformed = false;
  return {
    get ending() {
      return ending;
    },
    get malformed() {
      return malformed;
    },
    line(line) {
      if (malformed) return false;
      if (!FIELD.test(line)) {
        malformed = true;
        return false;
      }
      if (line.startsWith("data:")) {
        const data = line.slice(line[5] === " " ? 6 : 5);
        const type = TERMINAL_TYPE.exec(data)?.[1];
        if (data === "[DONE]") ending = "done";
        else if (ERROR_OBJECT.test(data)) ending = "error";
        else if (type !== undefined) ending = ENDINGS[type];
        else if (data !== "" && data[0] !== "{" && data[0] !== "[") malformed = true;
      } else if (line.startsWith("event:")) {
        ending = ENDINGS[line.slice(6).trim()] ?? ending;
      }
      return !malformed;
    },
  };
}
