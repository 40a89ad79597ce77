/**
 * The local server's request log, written in batches. On Linux, `process.stdout`
 * writes to a file, a pipe or a terminal synchronously, one system call per
 * write; one per request was a measurable share of the gateway's CPU time per
 * request (npm run bench, the hot path). Lines are held for at most
 * `maxDelayMs` (or until `maxBytes` of made lines are pending), and written at
 * once when the server closes or the process exits.
 *
 * What is logged (a request's summary) is made into its line in batches too,
 * `maxItems` at a time, rather than as each request ends: made between two
 * requests, a line ran its code cold each time. In a side-by-side of one
 * process (interleaved rounds), taking the line out took about 9 µs off a
 * request, more than ten times what making and buffering a line costs in a
 * loop; making lines 32 at a time took 6.6 µs off. So the byte bound is on
 * the lines made: up to `maxItems` items wait besides, unmade (a summary is
 * numbers and the request's own strings, which a long model name makes long:
 * the writer holds on to them for up to `maxDelayMs` longer).
 *
 * Lines are encoded into a buffer as they are made rather than joined into a
 * string: a string built over 50 ms is a tree of every line in it, which
 * outlives V8's young-generation collections (each copies it on) and is
 * flattened to be written (`String::WriteToFlat` stood out in a profile of
 * the bench's hot path); each line's string now dies young.
 */

/** Writes the lines of items in batches. */
export interface LineWriter<T = string> {
  /** Queues one item's line (which has no newline). */
  line(item: T): void;
  /** Writes what is pending now, and stops listening for the process's exit; a later line is written at once. */
  close(): void;
}

/** Options of {@link createLineWriter}. */
export interface LineWriterOptions<T> {
  /** How long a line may wait (default 50 ms: far below what a reader of the log notices). */
  readonly maxDelayMs?: number;
  /** How much text of the lines made may wait (default 16 KiB); items whose lines are not made yet wait besides. */
  readonly maxBytes?: number;
  /** Makes an item's line (default: the item is its line, a string). */
  readonly format?: (item: T) => string;
  /** How many items wait before their lines are made (default 32). */
  readonly maxItems?: number;
}

/**
 * Creates a writer over `write`, which receives whole lines, newlines included
 * (a batch as bytes, UTF-8; a line written alone as a string).
 * @example
 * const log = createLineWriter((chunk) => process.stdout.write(chunk));
 * log.line("POST /v1/chat/completions 200");
 */
export function createLineWriter<T = string>(write: (chunk: string | Uint8Array) => void, options: LineWriterOptions<T> = {}): LineWriter<T> {
  const maxDelayMs = options.maxDelayMs ?? 50;
  const maxBytes = options.maxBytes ?? 16 * 1024;
  const maxItems = options.maxItems ?? 32;
  const format = options.format ?? String;
  // Room for the bound and a line past it; a longer line goes out on its own.
  const capacity = maxBytes + 4 * 1024;
  const buffer = Buffer.allocUnsafe(capacity);
  let pending: T[] = [];
  let used = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const writeBuffer = () => {
    if (used === 0) return;
    // A copy of the batch's size goes out: `write` may keep it (a stream that queues it), and a
    // stalled reader then holds only what was logged; the buffer is reused for the next lines.
    const batch = Buffer.allocUnsafe(used);
    buffer.copy(batch, 0, 0, used);
    used = 0;
    write(batch);
  };
  const encode = (text: string) => {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: a line that may not fit goes after what is pending.
    const room = 3 * text.length + 1;
    if (capacity - used < room) writeBuffer();
    if (room > capacity) return write(`${text}\n`);
    used += buffer.write(text, used, "utf8");
    buffer[used++] = 0x0a;
    if (used >= maxBytes) writeBuffer();
  };
  const makeLines = () => {
    // Taken out first: a `write` that logs through this writer adds to the next batch, not this one.
    const items = pending;
    pending = [];
    for (const item of items) encode(lineOf(item, format));
  };
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    makeLines();
    writeBuffer();
  };
  // A process that exits (an error, process.exit) still writes the lines it holds.
  process.on("exit", flush);
  return {
    line(item) {
      // After close, nothing would write a held line: it goes out at once, as it comes.
      if (closed) return write(`${lineOf(item, format)}\n`);
      pending.push(item);
      if (pending.length >= maxItems) makeLines();
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

/** An item's line; a formatter that fails costs its line, not the lines around it (made in a timer, it would end the process). */
function lineOf<T>(item: T, format: (item: T) => string): string {
  try {
    return format(item);
  } catch (error) {
    return `(a log line could not be made: ${error instanceof Error ? error.name : "error"})`;
  }
}
