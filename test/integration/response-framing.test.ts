/**
 * Framing of relayed bodies: a body the gateway may change (an event stream,
 * where it strips the usage it asked for) goes out without the provider's
 * content-length, chunked, so the client reads it to its real end and the
 * next response on a keep-alive connection starts where it should. A body
 * relayed byte for byte keeps the provider's content-length.
 */
import { describe, expect, it } from "vitest";
import { useTestGateway } from "../support/gateway-fixture.ts";
import { buildKeepAliveRequest, buildRequest, rawPipeline, sseEvents } from "../support/raw-http.ts";
import { rawResponse, useRawUpstream } from "../support/raw-upstream.ts";

const raw = useRawUpstream();
const fixture = useTestGateway(() => ({ OPENAI_BASE_URL: raw.upstream.baseUrl, GATEWAY_MAX_RETRIES: "0" }));

const chunk = (fields: string) => `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o",${fields}}\n\n`;
/** The provider's stream when include_usage is on: `"usage":null` on every chunk, then a usage-only chunk. */
const UPSTREAM_EVENTS = [
  chunk('"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null'),
  chunk('"choices":[{"index":0,"delta":{"content":"Hello there"},"finish_reason":null}],"usage":null'),
  chunk('"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null'),
  chunk('"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}'),
  "data: [DONE]\n\n",
];
/** What the client gets: the stream as if it had never asked for usage. */
const CLIENT_EVENTS = [
  chunk('"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]'),
  chunk('"choices":[{"index":0,"delta":{"content":"Hello there"},"finish_reason":null}]'),
  chunk('"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]'),
  "data: [DONE]\n\n",
];
const MODELS = JSON.stringify({ object: "list", data: [{ id: "gpt-4o", object: "model", created: 1, owned_by: "openai" }] });

/** The provider: an event stream that carries a (correct) content-length, and a models list. */
function respondWithLengths(streamType = "text/event-stream; charset=utf-8"): void {
  raw.upstream.respond((request) =>
    request.target.endsWith("/models")
      ? rawResponse(200, { "content-type": "application/json" }, MODELS)
      : rawResponse(200, { "content-type": streamType, "x-request-id": "req_sse" }, UPSTREAM_EVENTS.join("")),
  );
}

const headers = { authorization: "Bearer sk-caller", "x-provider": "openai", "content-type": "application/json" };
const streamRequest = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }], stream: true });

describe("an event stream with a content-length, usage stripped by the gateway", () => {
  it("goes out chunked and whole, and the next response on the connection is intact", async () => {
    respondWithLengths();
    const port = Number(new URL(fixture.gateway.url).port);
    const { responses, ending } = await rawPipeline(
      port,
      [
        buildKeepAliveRequest("POST", "/v1/chat/completions", headers, streamRequest),
        buildRequest("GET", "/v1/models", { authorization: "Bearer sk-caller", "x-provider": "openai" }),
      ],
      { timeoutMs: 10_000 },
    );
    // The gateway asked for usage, so it strips it: the length the provider gave no longer holds.
    const upstreamChat = raw.upstream.requests.find((request) => request.method === "POST");
    expect(JSON.parse(upstreamChat?.body.toString() ?? "{}")).toMatchObject({ stream_options: { include_usage: true } });
    expect(ending).toBe("close");
    expect(responses).toHaveLength(2);
    const [stream, models] = responses;
    expect(stream?.status).toBe(200);
    expect(stream?.headers.get("content-length")).toBeUndefined();
    expect(stream?.headers.get("transfer-encoding")).toBe("chunked");
    expect(stream?.complete).toBe(true);
    expect(stream?.body.toString()).toBe(CLIENT_EVENTS.join(""));
    expect(models?.status).toBe(200);
    expect(models?.body.toString()).toBe(MODELS);
  });

  it("a client that reads to the end of the body (fetch) gets the whole stream at once, then its next request works", async () => {
    respondWithLengths();
    // Bounded well below the gateway's 5 s keep-alive timeout, which is what ended a body whose length lied.
    const signal = AbortSignal.timeout(3_000);
    const stream = await fetch(`${fixture.gateway.baseURL}chat/completions`, { method: "POST", headers, body: streamRequest, signal });
    expect(await stream.text()).toBe(CLIENT_EVENTS.join(""));
    expect(stream.headers.get("content-length")).toBeNull();
    const models = await fetch(`${fixture.gateway.baseURL}models`, { headers, signal });
    expect(await models.text()).toBe(MODELS);
    const summaries = await fixture.gateway.waitForSummaries(2);
    expect(summaries.find((summary) => summary.stream)).toMatchObject({ outcome: "ok", usage: { totalTokens: 7 } });
  });
});

describe("an event stream with a content-length, usage asked for by the client", () => {
  // It can still change (a broken stream ends with an error event). Media types are case-insensitive (RFC 9110 §8.3.1).
  it.each(["text/event-stream", "Text/Event-Stream; charset=UTF-8"])("%s goes out chunked as well", async (streamType) => {
    respondWithLengths(streamType);
    const port = Number(new URL(fixture.gateway.url).port);
    const body = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }], stream: true, stream_options: { include_usage: true } });
    const { responses } = await rawPipeline(port, [buildRequest("POST", "/v1/chat/completions", headers, body)], { timeoutMs: 10_000 });
    expect(responses[0]?.headers.get("content-length")).toBeUndefined();
    expect(sseEvents(responses[0]?.body.toString() ?? "")).toHaveLength(UPSTREAM_EVENTS.length);
  });
});

describe("a body that is not an event stream", () => {
  it("keeps the provider's content-length", async () => {
    respondWithLengths();
    const port = Number(new URL(fixture.gateway.url).port);
    const { responses } = await rawPipeline(port, [buildRequest("GET", "/v1/models", { authorization: "Bearer sk-caller", "x-provider": "openai" })]);
    expect(responses[0]?.headers.get("content-length")).toBe(String(Buffer.byteLength(MODELS)));
    expect(responses[0]?.headers.get("transfer-encoding")).toBeUndefined();
    expect(responses[0]?.body.toString()).toBe(MODELS);
  });
});
