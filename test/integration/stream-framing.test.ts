/**
 * Event streams framed in every way SSE allows, and usage written with
 * blanks: the gateway reads the usage of each (for metrics, cost and key
 * limits) while the client gets the provider's bytes as they are.
 */
import { describe, expect, it } from "vitest";
import { postJson } from "../support/fetch.ts";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";

const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Tell me a story" }] };
const CALLER = { authorization: "Bearer sk-caller" };

const fixture = useFakeUpstreamAndGateway({ upstream: { requireAuth: CALLER.authorization }, env: { GATEWAY_MAX_RETRIES: "0" } });

interface ChatUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/** The usage the provider put in its stream (the usage-only chunk), in the gateway's names. */
function providerUsage(events: readonly string[]) {
  const usageEvent = events.find((event) => event.includes('"choices":[]'));
  if (usageEvent === undefined) throw new Error("the provider sent no usage chunk");
  const { usage } = JSON.parse(usageEvent.trim().replace(/^data: /, "")) as { usage: ChatUsage };
  return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, totalTokens: usage.total_tokens };
}

describe.each([
  ["bare CR", "\r"],
  ["CRLF", "\r\n"],
] as const)("a chat stream framed with %s line ends", (_name, lineEnd) => {
  it("the client that asked for usage gets the provider's bytes unchanged, and the gateway reads the usage", async () => {
    fixture.upstream.enqueue({ kind: "stream", lineEnd, content: ["Once", " upon", " a time"] });
    const { status, text } = await postJson(fixture.gateway.baseURL, "chat/completions", { ...chat, stream: true, stream_options: { include_usage: true } }, CALLER);
    const sent = fixture.upstream.lastStreamEvents.join("");
    // The provider really framed it so: no LF at all with CR, no LF LF with CRLF.
    expect(sent).not.toMatch(lineEnd === "\r" ? /\n/ : /\n\n/);
    expect(status).toBe(200);
    expect(text).toBe(sent);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, stream: true, outcome: "ok" });
    expect(summary?.usage).toMatchObject(providerUsage(fixture.upstream.lastStreamEvents));
    expect(summary?.usage?.completionTokens).toBeGreaterThan(0);
  });

  it("the SDK client that did not ask for usage reads the story without it, and the gateway reads the usage", async () => {
    fixture.upstream.enqueue({ kind: "stream", lineEnd, content: ["Once", " upon", " a time"] });
    const stream = await fixture.client.chat.completions.create({ ...chat, stream: true });
    let story = "";
    for await (const chunk of stream) {
      expect(chunk.choices).toHaveLength(1);
      expect(chunk).not.toHaveProperty("usage");
      story += chunk.choices[0]?.delta.content ?? "";
    }
    expect(story).toBe("Once upon a time");
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ outcome: "ok" });
    expect(summary?.usage).toMatchObject(providerUsage(fixture.upstream.lastStreamEvents));
  });
});

describe("usage written with a blank before the colon", () => {
  const base = { id: "chatcmpl-spaced", object: "chat.completion.chunk", created: 1, model: "gpt-4o" };
  // What some OpenAI-compatible servers write: `"usage" : {…}` (a JSON encoder with blanks around the colon).
  const usageChunk = JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } }).replace('"usage":', '"usage" : ');
  const body = [
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "Hi" }, finish_reason: null }] })}\n\n`,
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`,
    `data: ${usageChunk}\n\n`,
    "data: [DONE]\n\n",
  ].join("");

  it("is read: the request's summary has the provider's token counts", async () => {
    expect(body).toContain('"usage" : {');
    fixture.upstream.enqueue({ kind: "raw", status: 200, headers: { "content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_spaced" }, body });
    const { status, text } = await postJson(fixture.gateway.baseURL, "chat/completions", { ...chat, stream: true, stream_options: { include_usage: true } }, CALLER);
    expect(status).toBe(200);
    expect(text).toBe(body);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ outcome: "ok", usage: { promptTokens: 11, completionTokens: 7, totalTokens: 18 } });
  });
});
