import { describe, expect, it } from "vitest";
import type { JsonBody } from "../../functions/shared/http/request-body.ts";
import { matchEndpoint } from "../../functions/shared/endpoints/match.ts";
import { createSseFramer } from "../../functions/shared/streaming/sse-framer.ts";
import { withoutInjectedUsage } from "../../functions/shared/streaming/usage-filter.ts";
import { requestStreamUsage } from "../../functions/shared/usage/include-usage.ts";

const chat = matchEndpoint("POST", "/v1/chat/completions").endpoint;
const embeddings = matchEndpoint("POST", "/v1/embeddings").endpoint;

/** The injected-usage filter as the relay runs it: the SSE framer feeding whole events to withoutInjectedUsage. */
function createUsageChunkFilter(): { push(chunk: Uint8Array): Uint8Array; flush(): Uint8Array } {
  let out: string[] = [];
  const framer = createSseFramer({ event: (event) => void out.push(withoutInjectedUsage(event)) });
  const take = () => {
    const text = out.join("");
    out = [];
    return Buffer.from(text);
  };
  return {
    push(chunk) {
      framer.push(chunk);
      return take();
    },
    flush() {
      framer.end();
      return take();
    },
  };
}

function upstreamBody(raw: string, route = chat): { body: JsonBody; injected: boolean } {
  const result = requestStreamUsage(route, JSON.parse(raw) as JsonBody, Buffer.from(raw));
  return { body: JSON.parse(Buffer.from(result.body).toString()) as JsonBody, injected: result.injected };
}

describe("requestStreamUsage", () => {
  it("splices include_usage into a streamed chat body and keeps the client's bytes", () => {
    const raw = '{"model":"gpt-4o",  "stream": true}';
    const result = requestStreamUsage(chat, JSON.parse(raw) as JsonBody, Buffer.from(raw));
    expect(Buffer.from(result.body).toString()).toBe('{"stream_options":{"include_usage":true},"model":"gpt-4o",  "stream": true}');
    expect(result.injected).toBe(true);
  });

  it("merges with other stream options", () => {
    expect(upstreamBody('{"stream":true,"stream_options":{"include_obfuscation":false}}')).toEqual({
      body: { stream: true, stream_options: { include_obfuscation: false, include_usage: true } },
      injected: true,
    });
  });

  it("replaces an explicit null (a duplicate key would let the null win upstream)", () => {
    expect(upstreamBody('{"stream":true,"stream_options":null}')).toEqual({
      body: { stream: true, stream_options: { include_usage: true } },
      injected: true,
    });
  });

  it.each([
    ['{"stream":true,"stream_options":{"include_usage":true}}', chat],
    ['{"stream":false}', chat],
    ['{"model":"m"}', chat],
    ['{"stream":true,"input":"x"}', embeddings],
  ])("leaves %s alone", (raw, route) => {
    expect(upstreamBody(raw, route).injected).toBe(false);
    expect(Buffer.from(requestStreamUsage(route, JSON.parse(raw) as JsonBody, Buffer.from(raw)).body).toString()).toBe(raw);
  });
});

function filterAll(chunks: string[]): { outputs: string[]; text: string } {
  const filter = createUsageChunkFilter();
  const outputs = chunks.map((chunk) => Buffer.from(filter.push(Buffer.from(chunk))).toString());
  outputs.push(Buffer.from(filter.flush()).toString());
  return { outputs, text: outputs.join("") };
}

describe("withoutInjectedUsage, fed by the SSE framer", () => {
  const compact = [
    'data: {"id":"1","choices":[{"delta":{"content":"Hi"}}],"usage":null}\n\n',
    'data: {"id":"1","choices":[{"delta":{},"finish_reason":"stop"}],"usage":null,"obfuscation":"x"}\n\n',
    'data: {"id":"1","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n',
    "data: [DONE]\n\n",
  ];

  it("removes the usage chunk and usage:null fields of compact JSON, event by event", () => {
    const { outputs, text } = filterAll(compact);
    expect(text).toBe(
      'data: {"id":"1","choices":[{"delta":{"content":"Hi"}}]}\n\n' +
        'data: {"id":"1","choices":[{"delta":{},"finish_reason":"stop"}],"obfuscation":"x"}\n\n' +
        "data: [DONE]\n\n",
    );
    expect(outputs[0]).toBe('data: {"id":"1","choices":[{"delta":{"content":"Hi"}}]}\n\n');
  });

  it("handles JSON with spaces", () => {
    const { text } = filterAll([
      'data: {"id": "1", "choices": [{"delta": {"content": "Hi"}}], "usage": null}\n\n',
      'data: {"id": "1", "choices": [], "usage": {"prompt_tokens": 1}}\n\n',
      "data: [DONE]\n\n",
    ]);
    expect(text).toBe('data: {"id": "1", "choices": [{"delta": {"content": "Hi"}}]}\n\ndata: [DONE]\n\n');
  });

  it("handles CRLF-framed events and relays each as it completes", () => {
    const { outputs, text } = filterAll(compact.map((event) => event.replaceAll("\n", "\r\n")));
    expect(outputs[0]).toBe('data: {"id":"1","choices":[{"delta":{"content":"Hi"}}]}\r\n\r\n');
    expect(text).not.toContain('"usage"');
    expect(text.endsWith("data: [DONE]\r\n\r\n")).toBe(true);
  });

  it("holds a partial event until it is complete, including a split multi-byte character", () => {
    const event = Buffer.from('data: {"choices":[{"delta":{"content":"é"}}],"usage":null}\n\n');
    const split = event.indexOf(Buffer.from("é")) + 1; // inside the two bytes of é
    const filter = createUsageChunkFilter();
    expect(filter.push(event.subarray(0, split)).byteLength).toBe(0);
    expect(Buffer.from(filter.push(event.subarray(split))).toString()).toBe('data: {"choices":[{"delta":{"content":"é"}}]}\n\n');
  });
});
