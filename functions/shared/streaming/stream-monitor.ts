/**
 * Watches a provider's event stream for the two failures a byte relay cannot
 * see by itself: a stream that ends without its terminal event (truncated),
 * and lines that are not server-sent events at all (malformed). It checks
 * line prefixes only; no event is parsed as JSON.
 */

/** The state of one stream. */
export interface SseMonitor {
  /** Reads a chunk; returns false once a malformed line has been seen. */
  push(chunk: Uint8Array): boolean;
  /** Whether the stream's terminal event arrived: `[DONE]`, a final Responses event, or an error event. */
  readonly complete: boolean;
  /** Whether that terminal event said the answer failed: an error event, `response.failed` or `response.incomplete`. */
  readonly failed: boolean;
}

const FIELD = /^(?:data|event|id|retry)(?::|$)|^:|^$/;
const TERMINAL_EVENTS = new Set(["response.completed", "response.failed", "response.incomplete", "error"]);
const TERMINAL_TYPE = /^\{\s*"type"\s*:\s*"(response\.completed|response\.failed|response\.incomplete|error)"/;
const SUCCESS = "response.completed";
/** A line longer than this without a newline is not an SSE stream we relay. */
const MAX_LINE_CHARS = 4 * 1024 * 1024;

/** Creates a monitor for one stream. */
export function createSseMonitor(): SseMonitor {
  const decoder = new TextDecoder();
  let partial = "";
  let complete = false;
  let failed = false;
  let malformed = false;
  const terminal = (event: string) => {
    complete = true;
    if (event !== SUCCESS && event !== "[DONE]") failed = true;
  };
  return {
    get complete() {
      return complete;
    },
    get failed() {
      return failed;
    },
    push(chunk) {
      if (malformed) return false;
      const text = partial + decoder.decode(chunk, { stream: true });
      const lines = text.split(/\r\n|\r|\n/);
      partial = lines.pop() ?? "";
      if (partial.length > MAX_LINE_CHARS) malformed = true;
      for (const line of lines) {
        if (!FIELD.test(line)) {
          malformed = true;
          break;
        }
        if (line.startsWith("data:")) {
          const data = line.slice(line[5] === " " ? 6 : 5);
          const type = TERMINAL_TYPE.exec(data)?.[1];
          if (data === "[DONE]") terminal(data);
          else if (data.startsWith('{"error"')) terminal("error");
          else if (type !== undefined) terminal(type);
          else if (data !== "" && data[0] !== "{" && data[0] !== "[") malformed = true;
        } else if (line.startsWith("event:") && TERMINAL_EVENTS.has(line.slice(6).trim())) {
          terminal(line.slice(6).trim());
        }
      }
      return !malformed;
    },
  };
}
