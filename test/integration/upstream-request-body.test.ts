/**
 * The body the provider receives means what the gateway checked. When the
 * gateway asks for a stream's usage it splices `stream_options.include_usage`
 * into the client's bytes and keeps every other byte as sent: big integers,
 * exponents, key order, blanks and escapes reach the provider unchanged (a
 * re-serialisation would turn 12345678901234567891 into 12345678901234567000).
 * A JSON body declared in a charset other than UTF-8 is refused with 415: the
 * provider would read other characters than the gateway did.
 */
import { describe, expect, it } from "vitest";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";
import { expectOpenAIError } from "../support/openai-errors.ts";
import { postJson } from "../support/store-gateway.ts";

const fixture = useFakeUpstreamAndGateway();
const AUTH = { authorization: "Bearer sk-caller" };

/** A streamed chat body as a client might write it by hand; `$OPTIONS` marks where its stream options go. */
const TEMPLATE =
  '{ "model" : "gpt-4o",\n  "seed": 12345678901234567891, "temperature": 1e0,\t"top_p":1.0,' +
  ' "messages":[{"content":"Say {\\"hi\\"} \\u00e9 \u00fc [\\\\]","role":"user"}],$OPTIONS "stream" :true ,"user":"c\\"1"  }\n';

/** Sends `clientBody` as the client's bytes; returns the bytes the provider received and what the client read. */
async function relayed(clientBody: string, contentType = "application/json") {
  const answer = await postJson(fixture.gateway.baseURL, "chat/completions", clientBody, { ...AUTH, "content-type": contentType });
  expect(answer.status, answer.text.slice(0, 300)).toBe(200);
  expect(fixture.upstream.requests).toHaveLength(1);
  const received = fixture.upstream.requests[0]?.body ?? Buffer.alloc(0);
  expect(Number(fixture.upstream.requests[0]?.headers["content-length"])).toBe(received.length);
  return { received: received.toString("utf8"), answer };
}

describe("stream_options.include_usage is spliced into the client's bytes", () => {
  it("(a) no stream_options: the member is added first, every other byte as sent", async () => {
    const client = TEMPLATE.replace("$OPTIONS", "");
    const { received, answer } = await relayed(client);
    expect(received).toBe(`{"stream_options":{"include_usage":true},${client.slice(1)}`);
    // The client did not ask for usage and sees none.
    expect(answer.text).not.toContain('"usage"');
    expect(answer.text.endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it.each([
    ["(b) null", ' "stream_options": null,', ' "stream_options": {"include_usage":true},'],
    ["(c) other options", ' "stream_options": {"include_obfuscation": false},', ' "stream_options": {"include_usage":true,"include_obfuscation": false},'],
    ["(d) include_usage false", ' "stream_options": {"include_usage": false},', ' "stream_options": {"include_usage": true},'],
    ["(d') include_usage false among others", ' "stream_options":{ "include_obfuscation":false , "include_usage" :false },', ' "stream_options":{ "include_obfuscation":false , "include_usage" :true },'],
    ["an escaped key", ' "stream\\u005foptions": { "include_usage": false },', ' "stream\\u005foptions": { "include_usage": true },'],
    ["an empty object", ' "stream_options": { },', ' "stream_options": {"include_usage":true },'],
  ])("%s: only the stream options change", async (_case, clientOptions, upstreamOptions) => {
    const { received, answer } = await relayed(TEMPLATE.replace("$OPTIONS", clientOptions));
    expect(received).toBe(TEMPLATE.replace("$OPTIONS", upstreamOptions));
    expect(received).toContain('"seed": 12345678901234567891, "temperature": 1e0,');
    expect(answer.text).not.toContain('"usage"');
  });

  it("a client that asked for usage itself: the body goes upstream byte for byte", async () => {
    const client = TEMPLATE.replace("$OPTIONS", ' "stream_options" : {"include_usage" : true},');
    const { received, answer } = await relayed(client);
    expect(received).toBe(client);
    expect(answer.text).toContain('"usage":{');
  });

  it("a body declared as UTF-8 (any spelling) is accepted", async () => {
    const client = TEMPLATE.replace("$OPTIONS", "");
    const { received } = await relayed(client, 'application/json; charset="UTF-8"');
    expect(received).toBe(`{"stream_options":{"include_usage":true},${client.slice(1)}`);
  });
});

describe("a JSON body in another charset", () => {
  it.each(["application/json; charset=utf-16", "application/json; charset=latin1", 'application/json;charset="ISO-8859-1"', "application/json; charset=utf-16le"])(
    "%s is refused with 415 before anything goes upstream",
    async (contentType) => {
      const answer = await postJson(fixture.gateway.baseURL, "chat/completions", '{"model":"gpt-4o","messages":[{"role":"user","content":"caf\u00e9"}]}', {
        ...AUTH,
        "content-type": contentType,
      });
      const error = expectOpenAIError(answer, 415, { code: "unsupported_media_type" });
      expect(error.message).toContain("UTF-8");
      expect(fixture.upstream.requests).toHaveLength(0);
    },
  );
});
