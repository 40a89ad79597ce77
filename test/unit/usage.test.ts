import { describe, expect, it } from "vitest";
import { createSseFramer } from "../../functions/shared/streaming/sse-framer.ts";
import {
  createJsonUsageReader,
  createSseUsageReader as createSseLineReader,
  normalizeUsage,
  type UsageReader,
} from "../../functions/shared/usage/usage-readers.ts";

/** The SSE usage reader as the relay runs it: fed line by line by the SSE framer. */
function createSseUsageReader(): UsageReader {
  const reader = createSseLineReader();
  const framer = createSseFramer({ line: reader.line });
  return {
    push: (chunk) => framer.push(chunk),
    finish() {
      framer.end();
      return reader.finish();
    },
  };
}

const CHAT_USAGE = {
  prompt_tokens: 12,
  completion_tokens: 30,
  total_tokens: 42,
  prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 7, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};
const CHAT_TOKENS = { promptTokens: 12, completionTokens: 30, totalTokens: 42, cachedPromptTokens: 4, reasoningTokens: 7 };

/** Feeds the bytes to the reader in pieces cut at the given byte offsets. */
function feed(reader: UsageReader, bytes: Buffer, cuts: readonly number[]): ReturnType<UsageReader["finish"]> {
  let start = 0;
  for (const cut of [...cuts, bytes.byteLength]) {
    if (cut > start) reader.push(bytes.subarray(start, cut));
    start = Math.max(start, cut);
  }
  return reader.finish();
}

/** Feeds the bytes in fixed-size pieces (as plain Uint8Arrays, not Buffers). */
function feedInPieces(reader: UsageReader, bytes: Buffer, size: number): ReturnType<UsageReader["finish"]> {
  for (let offset = 0; offset < bytes.byteLength; offset += size) {
    reader.push(new Uint8Array(bytes.subarray(offset, offset + size)));
  }
  return reader.finish();
}

function chatCompletion(content: string, indent?: number): Buffer {
  return Buffer.from(
    JSON.stringify(
      {
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1,
        model: "gpt-4o",
        choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
        usage: CHAT_USAGE,
        service_tier: "default",
        system_fingerprint: "fp_1",
      },
      null,
      indent,
    ),
  );
}

describe("normalizeUsage", () => {
  it("maps chat/completions usage, with cached and reasoning tokens", () => {
    expect(normalizeUsage(CHAT_USAGE)).toEqual(CHAT_TOKENS);
  });

  it("maps the Responses API's input/output names", () => {
    expect(
      normalizeUsage({
        input_tokens: 5,
        input_tokens_details: { cached_tokens: 1 },
        output_tokens: 6,
        output_tokens_details: { reasoning_tokens: 2 },
        total_tokens: 11,
      }),
    ).toEqual({ promptTokens: 5, completionTokens: 6, totalTokens: 11, cachedPromptTokens: 1, reasoningTokens: 2 });
  });

  it("maps embeddings usage (prompt tokens only) and fills in a missing total", () => {
    expect(normalizeUsage({ prompt_tokens: 8, total_tokens: 8 })).toEqual({
      promptTokens: 8,
      completionTokens: 0,
      totalTokens: 8,
      cachedPromptTokens: 0,
      reasoningTokens: 0,
    });
    expect(normalizeUsage({ prompt_tokens: 3, completion_tokens: 4 })?.totalTokens).toBe(7);
  });

  it("ignores what is not a usage object or not a count", () => {
    expect(normalizeUsage(null)).toBeUndefined();
    expect(normalizeUsage("12")).toBeUndefined();
    expect(normalizeUsage(undefined)).toBeUndefined();
    expect(normalizeUsage({ prompt_tokens: "12", completion_tokens: -1, total_tokens: Number.NaN })).toEqual({
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      cachedPromptTokens: 0,
      reasoningTokens: 0,
    });
  });
});

describe("JSON usage reader (tail of the body)", () => {
  it("reads a compact body in one chunk", () => {
    expect(feed(createJsonUsageReader(), chatCompletion("Hello!"), [])).toEqual(CHAT_TOKENS);
  });

  it("reads a pretty-printed body (as api.openai.com sends it) split into small pieces", () => {
    const body = chatCompletion("Hello!", 2);
    expect(body.toString()).toContain('"usage": {\n');
    expect(feedInPieces(createJsonUsageReader(), body, 7)).toEqual(CHAT_TOKENS);
  });

  it("reads a body cut at every byte offset", () => {
    const body = chatCompletion("héllo 🎉 wörld", 4);
    for (let cut = 1; cut < body.byteLength; cut += 1) {
      expect(feed(createJsonUsageReader(), body, [cut])).toEqual(CHAT_TOKENS);
    }
  });

  it("finds usage at the end of a 2 MB body pushed in 64 KB chunks", () => {
    const body = chatCompletion("lorem ipsum ".repeat(180_000));
    expect(body.byteLength).toBeGreaterThan(2_000_000);
    expect(feedInPieces(createJsonUsageReader(), body, 64 * 1024)).toEqual(CHAT_TOKENS);
  });

  it("finds usage at the end of a large body pushed in one chunk and in byte-sized tail pieces", () => {
    const body = chatCompletion("x".repeat(100_000));
    expect(feed(createJsonUsageReader(), body, [])).toEqual(CHAT_TOKENS);
    const reader = createJsonUsageReader(1024);
    const cuts = Array.from({ length: 2000 }, (_, index) => body.byteLength - 2000 + index);
    expect(feed(reader, body, cuts)).toEqual(CHAT_TOKENS);
  });

  it("is not fooled by a message that contains the text of a usage object", () => {
    const content = 'Here is JSON: {"usage": {"prompt_tokens": 999, "completion_tokens": 999, "total_tokens": 1998}}';
    expect(feed(createJsonUsageReader(), chatCompletion(content, 2), [])).toEqual(CHAT_TOKENS);
  });

  it("reads a usage key with JSON's blanks on both sides of its colon, and skips a later usage that is not an object", () => {
    for (const gap of [" : ", "\t:\t", "\r\n:\n ", " :", ": "]) {
      const body = Buffer.from(`{"object":"list","usage"${gap}{"prompt_tokens":3,"total_tokens":3}}`);
      expect(feed(createJsonUsageReader(), body, [])).toMatchObject({ promptTokens: 3, totalTokens: 3 });
    }
    const later = Buffer.from('{"usage":{"prompt_tokens":5,"total_tokens":5},"metadata":{"usage" : "none"},"tag":{"usage":7}}');
    expect(feed(createJsonUsageReader(), later, [])).toMatchObject({ promptTokens: 5, totalTokens: 5 });
    expect(feed(createJsonUsageReader(), Buffer.from('{"usage" x {"prompt_tokens":3}}'), [])).toBeUndefined();
  });

  it("reads usage objects whose strings contain braces", () => {
    const body = Buffer.from('{"object":"list","usage":{"note":"a } b { c \\" }","prompt_tokens":3,"total_tokens":3}}');
    expect(feed(createJsonUsageReader(), body, [])).toMatchObject({ promptTokens: 3, totalTokens: 3 });
  });

  it("returns nothing for a body without usage, an empty body, or a broken one", () => {
    expect(feed(createJsonUsageReader(), Buffer.from('{"object":"list","data":[{"id":"gpt-4o"}]}'), [])).toBeUndefined();
    expect(createJsonUsageReader().finish()).toBeUndefined();
    expect(feed(createJsonUsageReader(), Buffer.from('{"usage":{"prompt_tokens":3,'), [])).toBeUndefined();
    expect(feed(createJsonUsageReader(), Buffer.from('{"usage":{"prompt_tokens":3,,}}'), [])).toBeUndefined();
  });

  it("reads the Responses API's non-streamed usage", () => {
    const body = Buffer.from(
      JSON.stringify({
        id: "resp_1",
        object: "response",
        output: [{ type: "message", content: [{ type: "output_text", text: "hi" }] }],
        usage: { input_tokens: 9, output_tokens: 2, total_tokens: 11, input_tokens_details: { cached_tokens: 0 } },
        user: null,
        metadata: {},
      }),
    );
    expect(feed(createJsonUsageReader(), body, [])).toMatchObject({ promptTokens: 9, completionTokens: 2, totalTokens: 11 });
  });
});

function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

function chatStream(content: string[]): Buffer {
  const base = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "gpt-4o" };
  const events = [
    sseData({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" } }], usage: null }),
    ...content.map((piece) => sseData({ ...base, choices: [{ index: 0, delta: { content: piece } }], usage: null })),
    sseData({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: null }),
    sseData({ ...base, choices: [], usage: CHAT_USAGE }),
    "data: [DONE]\n\n",
  ];
  return Buffer.from(events.join(""));
}

describe("SSE usage reader", () => {
  it("reads the include_usage chunk of a chat stream", () => {
    expect(feed(createSseUsageReader(), chatStream(["Hel", "lo"]), [])).toEqual(CHAT_TOKENS);
  });

  it("reads the usage chunk split at every byte offset", () => {
    const stream = chatStream(["Hel", "lo"]);
    for (let cut = 1; cut < stream.byteLength; cut += 1) {
      expect(feed(createSseUsageReader(), stream, [cut])).toEqual(CHAT_TOKENS);
    }
  });

  it("reads the usage chunk when the stream comes one byte at a time", () => {
    expect(feedInPieces(createSseUsageReader(), chatStream(["a", "b", "c"]), 1)).toEqual(CHAT_TOKENS);
  });

  it("reads a usage line whose multi-byte UTF-8 characters are split across chunks", () => {
    const usageLine = Buffer.from(sseData({ choices: [], note: "é 🎉 漢字 ü", usage: CHAT_USAGE }));
    const stream = Buffer.concat([chatStream(["ü", "🎉"]).subarray(0, -"data: [DONE]\n\n".length), usageLine]);
    const emoji = stream.lastIndexOf(Buffer.from("🎉"));
    const han = stream.lastIndexOf(Buffer.from("漢"));
    for (const cuts of [[emoji + 1], [emoji + 2, emoji + 3], [han + 1, han + 2], [emoji + 1, han + 2, stream.byteLength - 3]]) {
      expect(feed(createSseUsageReader(), stream, cuts)).toEqual(CHAT_TOKENS);
    }
  });

  it("reads CRLF-terminated events", () => {
    const stream = Buffer.from(sseData({ choices: [], usage: CHAT_USAGE }).replaceAll("\n", "\r\n"));
    expect(feed(createSseUsageReader(), stream, [10])).toEqual(CHAT_TOKENS);
  });

  it("reads the Responses API's response.completed event", () => {
    const completed = {
      type: "response.completed",
      sequence_number: 9,
      response: {
        id: "resp_1",
        object: "response",
        status: "completed",
        usage: { input_tokens: 20, output_tokens: 5, total_tokens: 25, output_tokens_details: { reasoning_tokens: 3 } },
      },
    };
    const stream = Buffer.from(
      [
        `event: response.created\ndata: ${JSON.stringify({ type: "response.created", sequence_number: 0, response: { id: "resp_1", usage: null } })}\n\n`,
        `event: response.output_text.delta\ndata: ${JSON.stringify({ type: "response.output_text.delta", sequence_number: 1, delta: "Hi" })}\n\n`,
        `event: response.completed\ndata: ${JSON.stringify(completed)}\n\n`,
      ].join(""),
    );
    expect(feedInPieces(createSseUsageReader(), stream, 13)).toEqual({
      promptTokens: 20,
      completionTokens: 5,
      totalTokens: 25,
      cachedPromptTokens: 0,
      reasoningTokens: 3,
    });
  });

  it("ignores lines without usage: null usage, content mentioning usage, comments, errors and [DONE]", () => {
    const stream = Buffer.from(
      [
        ": keep-alive comment\n\n",
        sseData({ choices: [{ delta: { content: 'the "usage": {"prompt_tokens": 5} is in the text' } }], usage: null }),
        sseData({ error: { message: "usage limit", type: "server_error" } }),
        'data: {"usage":{"prompt_tokens": not json}}\n\n',
        "event: ping\n\n",
        "data: [DONE]\n\n",
      ].join(""),
    );
    expect(feed(createSseUsageReader(), stream, [])).toBeUndefined();
    expect(createSseUsageReader().finish()).toBeUndefined();
  });

  it("keeps the last usage when several events carry one", () => {
    const stream = Buffer.from(
      sseData({ usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }) + sseData({ choices: [], usage: CHAT_USAGE }),
    );
    expect(feed(createSseUsageReader(), stream, [])).toEqual(CHAT_TOKENS);
  });

  it("keeps a usage already found when a later line is broken", () => {
    const stream = Buffer.from(sseData({ choices: [], usage: CHAT_USAGE }) + 'data: {"usage":{"broken"\n\n');
    expect(feed(createSseUsageReader(), stream, [])).toEqual(CHAT_TOKENS);
  });
});
