/**
 * The local server's request log, written in batches. On Linux, `process.stdout`
 * writes to a file, a pipe or a terminal synchronously, one system call per
 * write; one per request was a measurable share of the gateway's CPU time per
 * request (npm run bench, the hot path). Lines are held for at most
 * `maxDelayMs` (or until `maxBytes` are pending), and written at once when the
 * server closes or the process exits.
 *
 * Lines are encoded into a buffer as they come rather than joined into a
 * string: a string built over 50 ms is a tree of every line in it, which
 * outlives V8's young-generation collections (each copies it on) and is
 * flattened to be written (`String::WriteToFlat` stood out in a profile of
 * the bench's hot path); each line's string now dies young.
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
 * Creates a writer over `write`, which receives whole lines, newlines included
 * (a batch as bytes, UTF-8; a line written alone as a string).
 * @example
 * const log = createLineWriter((chunk) => process.stdout.write(chunk));
 * log.line("POST /v1/chat/completions 200");
 */
export function createLineWriter(write: (chunk: string | Uint8Array) => void, options: LineWriterOptions = {}): LineWriter {
  const maxDelayMs = options.maxDelayMs ?? 50;
  const maxBytes = options.maxBytes ?? 16 * 1024;
  // Room for the bound and a line past it; a longer line goes out on its own.
  const capacity = maxBytes + 4 * 1024;
  const buffer = Buffer.allocUnsafe(capacity);
  let used = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (used === 0) return;
    // A copy of the batch's size goes out: `write` may keep it (a stream that queues it), and a
    // stalled reader then holds only what was logged; the buffer is reused for the next lines.
    const batch = Buffer.allocUnsafe(used);
    buffer.copy(batch, 0, 0, used);
    used = 0;
    write(batch);
  };
  // A process that exits (an error, process.exit) still writes the lines it holds.
  process.on("exit", flush);
  return {
    line(text) {
      // After close, nothing would write a held line: it goes out at once, as it comes.
      if (closed) return write(`${text}\n`);
      // UTF-8 takes at most 3 bytes per UTF-16 unit: a line that may not fit goes after what is pending.
      const room = 3 * text.length + 1;
      if (capacity - used < room) flush();
      if (room > capacity) return write(`${text}\n`);
      used += buffer.write(text, used, "utf8");
      buffer[used++] = 0x0a;
      if (used >= maxBytes) return flush();
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
