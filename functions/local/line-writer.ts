/**
 * The local server's request log, written in batches. On Linux, `process.stdout`
 * writes to a file, a pipe or a terminal synchronously, one system call per
 * write; one per request was a measurable share of the gateway's CPU time per
 * request (npm run bench, the hot path). Lines are held for at most
 * `maxDelayMs` (or until `maxBytes` are pending), and written at once when the
 * server closes or the process exits.
 */

/** Writes lines in batches. */
export interface LineWriter {
  /** Queues one line (without its newline). */
  line(text: string): void;
  /** Writes what is pending now, and stops listening for the process's exit; a later line is written at once. */
  close(): void;
}

/** Options of {@link createLineWriter}. */
export interface LineWriterOptions {
  /** How long a line may wait (default 50 ms: far below what a reader of the log notices). */
  readonly maxDelayMs?: number;
  /** How much text may wait (default 16 KiB). */
  readonly maxBytes?: number;
}

/**
 * Creates a writer over `write`, which receives whole lines, newlines included.
 * @example
 * const log = createLineWriter((text) => process.stdout.write(text));
 * log.line("POST /v1/chat/completions 200");
 */
export function createLineWriter(write: (text: string) => void, options: LineWriterOptions = {}): LineWriter {
  const maxDelayMs = options.maxDelayMs ?? 50;
  const maxBytes = options.maxBytes ?? 16 * 1024;
  let pending = "";
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending === "") return;
    const text = pending;
    pending = "";
    write(text);
  };
  // A process that exits (an error, process.exit) still writes the lines it holds.
  process.on("exit", flush);
  return {
    line(text) {
      // After close, nothing would write a held line: it goes out at once, as it comes.
      if (closed) return write(`${text}\n`);
      pending += `${text}\n`;
      if (pending.length >= maxBytes) return flush();
      // Unref'd: a pending line never keeps the process alive, and the exit listener writes it.
      timer ??= setTimeout(flush, maxDelayMs).unref();
    },
    close() {
      closed = true;
      flush();
      process.off("exit", flush);
    },
  };
}
