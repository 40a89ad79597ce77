/**
 * The local server's request log is written in batches: fewer system calls
 * per request, every line still written, promptly and in order.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { createLineWriter } from "../../functions/local/line-writer.ts";

const MODULE = fileURLToPath(new URL("../../functions/local/line-writer.ts", import.meta.url));

describe("the batched line writer", () => {
  it("writes the lines of a short while in one write, in order, within the delay", async () => {
    const writes: string[] = [];
    const writer = createLineWriter((chunk) => writes.push(String(chunk)), { maxDelayMs: 20 });
    writer.line("first");
    writer.line("second");
    expect(writes).toEqual([]);
    await vi.waitFor(() => expect(writes).toEqual(["first\nsecond\n"]), { timeout: 2_000, interval: 5 });
    writer.line("third");
    await vi.waitFor(() => expect(writes).toEqual(["first\nsecond\n", "third\n"]), { timeout: 2_000, interval: 5 });
    writer.close();
  });

  it("writes at once when the pending text reaches its size bound, and what is left on close", () => {
    const writes: string[] = [];
    // One item a batch: each line is made, and the bound checked, as it comes.
    const writer = createLineWriter((chunk) => writes.push(String(chunk)), { maxDelayMs: 60_000, maxBytes: 10, maxItems: 1 });
    writer.line("0123");
    expect(writes).toEqual([]);
    writer.line("456789");
    expect(writes).toEqual(["0123\n456789\n"]);
    writer.line("tail");
    writer.close();
    expect(writes).toEqual(["0123\n456789\n", "tail\n"]);
  });

  it("keeps every line's characters (UTF-8), and writes a line longer than its buffer after the pending ones, in order", () => {
    const writes: Uint8Array[] = [];
    const writer = createLineWriter((chunk) => writes.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk), { maxDelayMs: 60_000, maxBytes: 64 });
    const long = "x".repeat(3_000);
    writer.line("modèle 🤖 Ω");
    writer.line("中文 \u2028 plain");
    writer.line(long);
    writer.line("after");
    writer.close();
    expect(Buffer.concat(writes).toString("utf8")).toBe(`modèle 🤖 Ω\n中文 \u2028 plain\n${long}\nafter\n`);
    expect(writes).toHaveLength(3);
  });

  it("hands each batch to write in a buffer of its own, of its size, never reused for later lines", () => {
    const writes: Uint8Array[] = [];
    const writer = createLineWriter((chunk) => writes.push(chunk as Uint8Array), { maxDelayMs: 60_000, maxBytes: 8 });
    writer.line("first-batch");
    writer.line("second-batch");
    writer.close();
    expect(writes.map((chunk) => Buffer.from(chunk).toString())).toEqual(["first-batch\n", "second-batch\n"]);
    expect(writes.map((chunk) => chunk.byteLength)).toEqual([12, 13]);
  });

  it("makes the lines of items in batches: maxItems at once, or what is pending when the delay is up", async () => {
    const writes: string[] = [];
    const formatted: number[] = [];
    const format = (item: number) => {
      formatted.push(item);
      return `line ${item}`;
    };
    const writer = createLineWriter<number>((chunk) => writes.push(String(chunk)), { maxDelayMs: 30, maxItems: 3, format });
    writer.line(1);
    writer.line(2);
    expect(formatted).toEqual([]);
    writer.line(3);
    expect(formatted).toEqual([1, 2, 3]);
    writer.line(4);
    expect(formatted).toEqual([1, 2, 3]);
    await vi.waitFor(() => expect(writes).toEqual(["line 1\nline 2\nline 3\nline 4\n"]), { timeout: 2_000, interval: 5 });
    expect(formatted).toEqual([1, 2, 3, 4]);
    writer.line(5);
    writer.close();
    expect(writes).toEqual(["line 1\nline 2\nline 3\nline 4\n", "line 5\n"]);
  });

  it("a line logged from within a write goes in the next batch, once", () => {
    const writes: string[] = [];
    let nested = false;
    const writer = createLineWriter((chunk) => {
      writes.push(String(chunk));
      if (!nested) {
        nested = true;
        writer.line("from-write");
      }
    }, { maxDelayMs: 60_000, maxBytes: 8, maxItems: 2 });
    writer.line("aaaaaaaaaa");
    writer.line("b");
    writer.close();
    expect(writes.join("")).toBe("aaaaaaaaaa\nb\nfrom-write\n");
  });

  it("a formatter that fails costs its item's line, not the lines around it", () => {
    const writes: string[] = [];
    const format = (item: string) => {
      if (item === "bad") throw new TypeError("no line");
      return item;
    };
    const writer = createLineWriter<string>((chunk) => writes.push(String(chunk)), { maxDelayMs: 60_000, format });
    writer.line("before");
    writer.line("bad");
    writer.line("after");
    writer.close();
    expect(writes).toEqual(["before\n(a log line could not be made: TypeError)\nafter\n"]);
  });

  it("writes a line that comes after close at once: nothing would write it later", () => {
    const writes: string[] = [];
    const writer = createLineWriter((chunk) => writes.push(String(chunk)), { maxDelayMs: 60_000 });
    writer.close();
    writer.line("late");
    expect(writes).toEqual(["late\n"]);
  });

  it("writes pending lines when the process exits", () => {
    const script = `import { createLineWriter } from ${JSON.stringify(MODULE)};
const writer = createLineWriter((chunk) => process.stdout.write(chunk), { maxDelayMs: 60_000 });
writer.line("written at exit");
process.exit(3);`;
    let output = "";
    try {
      execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
    } catch (error) {
      expect((error as { status?: number }).status).toBe(3);
      output = (error as { stdout: string }).stdout;
    }
    expect(output).toBe("written at exit\n");
  });
});
