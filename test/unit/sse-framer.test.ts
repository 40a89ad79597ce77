/**
 * The one SSE framer and the readers it feeds: LF, CRLF and bare CR line
 * ends (all three are SSE), in any chunking, in linear time and bounded memory.
 */
import { describe, expect, it } from "vitest";
import { replayChunks } from "../../functions/shared/cache/cached-response.ts";
import { createSseFramer, SseEventTooLargeError, splitSseEvents, type SseEvent } from "../../functions/shared/streaming/sse-framer.ts";
import { createStreamMonitor } from "../../functions/shared/streaming/stream-monitor.ts";
import { createSseUsageReader } from "../../functions/shared/usage/usage-readers.ts";

const EVENTS = [
  'data: {"id":"1","choices":[{"delta":{"content":"Hé"}}]}',
  'data: {"id":"1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}',
  "data: [DONE]",
];

function stream(lineEnd: string): Buffer {
  return Buffer.from(EVENTS.map((event) => `${event}${lineEnd}${lineEnd}`).join(""));
}

/** Feeds `bytes` in pieces of `size` bytes and collects what the framer found. */
function frame(bytes: Buffer, size: number): { lines: string[]; events: SseEvent[]; complete: boolean[] } {
  const lines: string[] = [];
  const events: SseEvent[] = [];
  const complete: boolean[] = [];
  const framer = createSseFramer({ line: (line) => lines.push(line), event: (event, whole) => (events.push(event), complete.push(whole)) });
  for (let start = 0; start < bytes.length; start += size) framer.push(bytes.subarray(start, start + size));
  framer.end();
  return { lines, events, complete };
}

describe("createSseFramer", () => {
  it.each([
    ["LF", "\n"],
    ["CRLF", "\r\n"],
    ["CR", "\r"],
  ])("frames %s-ended events the same in any chunking, keeping every character", (_name, lineEnd) => {
    const bytes = stream(lineEnd);
    for (const size of [1, 2, 3, 7, 64, bytes.length]) {
      const { lines, events, complete } = frame(bytes, size);
      expect(lines).toEqual(EVENTS);
      // A CRLF split after its CR leaves its LF as text of its own: kept, but no event with lines.
      const withLines = events.flatMap((event, index) => (event.lines.length > 0 ? [{ lines: event.lines, complete: complete[index] }] : []));
      expect(withLines).toEqual(EVENTS.map((event) => ({ lines: [event], complete: true })));
      expect(events.map((event) => event.text).join("")).toBe(bytes.toString());
    }
  });

  it("treats a CRLF split across two chunks as one line end, not as a line end and a blank line", () => {
    const { events } = frame(Buffer.from("data: a\r\ndata: b\r\n\r\n"), 8); // "data: a\r" | "\ndata: b"…
    expect(events.map((event) => event.lines)).toEqual([["data: a", "data: b"]]);
  });

  it("ends a last event without its blank line at end(), marked incomplete", () => {
    const { events, complete } = frame(Buffer.from("data: a\n\ndata: b"), 4);
    expect(events.map((event) => event.lines)).toEqual([["data: a"], ["data: b"]]);
    expect(complete).toEqual([true, false]);
  });

  it("knows whether what it read ends on an event boundary", () => {
    const framer = createSseFramer({});
    expect(framer.atEventBoundary).toBe(true);
    framer.push(Buffer.from("data: a\n"));
    expect(framer.atEventBoundary).toBe(false);
    framer.push(Buffer.from("\r"));
    expect(framer.atEventBoundary).toBe(true);
  });

  it("refuses an event past its bound instead of holding it, in linear time", () => {
    const framer = createSseFramer({}, 1024 * 1024);
    const chunk = Buffer.alloc(64 * 1024, "a");
    const started = process.hrtime.bigint();
    expect(() => {
      for (let index = 0; index < 64; index += 1) framer.push(chunk);
    }).toThrow(SseEventTooLargeError);
    // 1 MiB of one endless line: a quadratic rescan would take seconds; the bound is generous for a noisy machine.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2_000);
  });

  it("bounds an endless run of lines without a blank line too", () => {
    const framer = createSseFramer({}, 1024);
    expect(() => {
      for (let index = 0; index < 200; index += 1) framer.push(Buffer.from("data: x\n"));
    }).toThrow(SseEventTooLargeError);
  });
});

describe("the readers the framer feeds", () => {
  it.each([["\n"], ["\r\n"], ["\r"]])("the usage reader finds usage in a %j-framed stream", (lineEnd) => {
    const reader = createSseUsageReader();
    const framer = createSseFramer({ line: reader.line });
    framer.push(stream(lineEnd));
    framer.end();
    expect(reader.finish()).toMatchObject({ promptTokens: 3, completionTokens: 4, totalTokens: 7 });
  });

  it('the usage reader finds "usage" : { with blanks around the colon', () => {
    const reader = createSseUsageReader();
    reader.line('data: {"choices": [], "usage" : {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}');
    expect(reader.finish()).toMatchObject({ promptTokens: 5, totalTokens: 6 });
  });

  it("the monitor tells a Responses stream that failed from one cut off as asked", () => {
    const ending = (type: string) => {
      const monitor = createStreamMonitor();
      monitor.line(`event: ${type}`);
      monitor.line(`data: {"type":"${type}","response":{}}`);
      return monitor.ending;
    };
    expect(ending("response.failed")).toBe("failed");
    expect(ending("response.incomplete")).toBe("incomplete");
    expect(ending("response.completed")).toBe("completed");
  });
});

describe("cache replay", () => {
  it.each([["\n"], ["\r\n"], ["\r"]])("replays a %j-framed stream event by event, byte for byte", (lineEnd) => {
    const body = stream(lineEnd);
    const chunks = replayChunks({ status: 200, headers: { "content-type": "text/event-stream" }, body });
    expect(chunks).toHaveLength(3);
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
  });

  it("splitSseEvents keeps every character", () => {
    const body = Buffer.from(": comment\r\n\r\ndata: a\n\n\n");
    expect(splitSseEvents(body).join("")).toBe(body.toString());
  });
});
