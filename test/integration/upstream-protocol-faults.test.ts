/**
 * Provider answers the gateway must not pass on as they are: a redirect
 * (relayed, the client's fetch would follow it to the provider itself) and a
 * reply that is not HTTP. Both are the gateway's own 502, and neither is
 * retried: a redirect will not change, and a reply that came back at all
 * means the provider had the request and may have done the work.
 */
import { InternalServerError } from "openai";
import { describe, expect, it } from "vitest";
import { useTestGateway } from "../support/gateway-fixture.ts";
import { expectOpenAIError, rejectionOf } from "../support/openai-errors.ts";
import { postJson } from "../support/fetch.ts";
import { rawResponse, useRawUpstream, type RawReply } from "../support/raw-upstream.ts";

const raw = useRawUpstream();
// Retries on and quick, so a retry would show as a second upstream request.
const fixture = useTestGateway(() => ({ OPENAI_BASE_URL: raw.upstream.baseUrl, GATEWAY_MAX_RETRIES: "2", GATEWAY_RETRY_BASE_DELAY_MS: "10" }));

const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Hi" }] };
const COMPLETION = JSON.stringify({
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

/** Answers the first request with `first`, every later one with a valid completion. */
function firstAnswer(first: RawReply): void {
  raw.upstream.respond(() => (raw.upstream.requests.length === 1 ? first : rawResponse(200, { "content-type": "application/json" }, COMPLETION)));
}

describe("a redirect from the provider", () => {
  it.each([301, 302, 303, 307, 308])("%i is a 502 upstream_redirect: not relayed, not followed, not retried", async (status) => {
    // The target is the provider itself: a client that got the redirect would call it directly with its key.
    const location = `${raw.upstream.baseUrl}/chat/completions`;
    firstAnswer(rawResponse(status, { location, "content-type": "text/html" }, "<html>Moved</html>"));
    const error = await rejectionOf(fixture.client.chat.completions.create(chat));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(502);
    expect(error.code).toBe("upstream_redirect");
    expect(error.type).toBe("server_error");
    expect(error.message).toContain(String(status));
    expect(error.headers?.get("location")).toBeNull();
    expect(error.headers?.get("x-gateway-retries")).toBe("0");
    expect(raw.upstream.requests).toHaveLength(1);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 502, outcome: "gateway_error", errorCode: "upstream_redirect" });
  });

  it("the 502 is OpenAI's error JSON, not the redirect's body, and the next request works", async () => {
    firstAnswer(rawResponse(302, { location: "https://elsewhere.example/", "content-type": "text/html" }, "<html>Moved</html>"));
    const response = await postJson(fixture.gateway.baseURL, "chat/completions", { ...chat, stream: true }, { authorization: "Bearer sk-caller", "x-provider": "openai" });
    expectOpenAIError(response, 502, { type: "server_error", code: "upstream_redirect" });
    expect(response.text).not.toContain("Moved");
    const completion = await fixture.client.chat.completions.create(chat);
    expect(completion.choices[0]?.message.content).toBe("Hello");
  });
});

describe("a reply that is not HTTP", () => {
  it.each([
    ["not HTTP at all", "SSH-2.0-OpenSSH_9.6\r\n\r\n"],
    ["a header line without a colon", "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nthis is not a header\r\n\r\n{}"],
    ["a bad status line", "HTTP/1.1 2OO OK\r\ncontent-length: 2\r\n\r\n{}"],
    ["both content-length and chunked (a smuggling shape)", "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"],
  ])("%s: a 502 upstream_malformed_response after exactly one upstream request", async (_label, reply) => {
    firstAnswer({ bytes: reply, close: true });
    const error = await rejectionOf(fixture.client.chat.completions.create(chat));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(502);
    expect(error.code).toBe("upstream_malformed_response");
    expect(error.message).toMatch(/not valid HTTP \(HPE_[A-Z_]+\)/);
    expect(error.headers?.get("x-gateway-retries")).toBe("0");
    expect(raw.upstream.requests).toHaveLength(1);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 502, outcome: "gateway_error", errorCode: "upstream_malformed_response", retries: 0 });
  });

  it("a provider that hangs up without answering is still retried", async () => {
    firstAnswer({ bytes: "", close: true });
    const { data, response } = await fixture.client.chat.completions.create(chat).withResponse();
    expect(data.choices[0]?.message.content).toBe("Hello");
    expect(response.headers.get("x-gateway-retries")).toBe("1");
    expect(raw.upstream.requests).toHaveLength(2);
  });
});
