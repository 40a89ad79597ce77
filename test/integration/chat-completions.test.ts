import { describe, expect, it } from "vitest";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";

const fixture = useFakeUpstreamAndGateway({ upstream: { requireAuth: "Bearer sk-caller" } });

/** Posts a chat completion with raw fetch (to the gateway unless another base URL is given). */
function postChat(extra: Record<string, unknown>, baseURL = fixture.gateway.baseURL): Promise<Response> {
  return fetch(`${baseURL}chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-caller" },
    body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "bytes" }], ...extra }),
  });
}

/** Blanks the fields the fake randomises per response. */
function normalize(stream: string): string {
  return stream
    .replace(/"id":"chatcmpl-\w+"/g, '"id":"ID"')
    .replace(/"created":\d+/g, '"created":0')
    .replace(/"obfuscation":"[^"]*"/g, '"obfuscation":""');
}

describe("chat completions through the gateway", () => {
  it("returns a non-streamed completion with usage and the provider's request id", async () => {
    const client = fixture.gateway.client("sk-caller");
    const { data, response } = await client.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "Hello!" }] })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]?.message.content).toBe("Echo: Hello!");
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    expect(response.headers.get("x-gateway-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ provider: "openai", model: "gpt-4o", status: 200, outcome: "ok", stream: false });
    expect(summary?.usage?.totalTokens).toBe(data.usage?.total_tokens);
  });

  it("forwards the request body byte for byte", async () => {
    const raw = '{"model":"gpt-4o",  "messages":[{"role":"user","content":"h\\u00e9"}], "temperature": 0.5}';
    const response = await fetch(`${fixture.gateway.baseURL}chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-caller" },
      body: raw,
    });
    expect(response.status).toBe(200);
    expect(fixture.upstream.requests[0]?.body.toString()).toBe(raw);
  });

  it("streams chunks with for await, including the include_usage chunk", async () => {
    const client = fixture.gateway.client("sk-caller");
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Stream please" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usageChunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) {
        usageChunks += 1;
        expect(chunk.choices).toEqual([]);
      }
    }
    expect(text).toBe("Echo: Stream please");
    expect(usageChunks).toBe(1);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ stream: true, outcome: "ok" });
    expect(summary?.usage?.completionTokens).toBeGreaterThan(0);
  });

  it("relays the stream byte for byte when the client asked for usage", async () => {
    const response = await postChat({ stream: true, stream_options: { include_usage: true } });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const received = await response.text();
    expect(received).toBe(fixture.upstream.lastStreamEvents.join(""));
    expect(received.endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it("asks for usage itself and hides it, so the client gets the stream it would get directly", async () => {
    const viaGateway = await (await postChat({ stream: true })).text();
    expect(fixture.upstream.requests[0]?.json).toMatchObject({ stream_options: { include_usage: true } });
    const direct = await (await postChat({ stream: true }, fixture.upstream.baseUrl + "/")).text();
    expect(normalize(viaGateway)).toBe(normalize(direct));
    expect(viaGateway).not.toContain('"usage"');
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.usage?.totalTokens).toBeGreaterThan(0);
  });

  it("keeps the query string", async () => {
    const response = await fetch(`${fixture.gateway.baseURL}models?limit=2&after=a+b%2Fc&flag`, {
      headers: { authorization: "Bearer sk-caller" },
    });
    expect(response.status).toBe(200);
    expect(fixture.upstream.requests[0]?.url).toBe("/v1/models?limit=2&after=a+b%2Fc&flag");
  });
});
