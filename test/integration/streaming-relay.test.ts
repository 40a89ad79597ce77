/**
 * The gateway relays a stream as it is produced: chunks reach the client while
 * the provider is still writing, and a client that goes away stops the upstream.
 */
import { performance } from "node:perf_hooks";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { readJsonBody, useFakeUpstreamAndGateway, useHttpUpstream, useTestGateway } from "../support/gateway-fixture.ts";

const CHUNKS = 20;
const INTERVAL_MS = 50;
/** The fake writes the role chunk at once, then one delta per interval: the last write is ~1 s in. */
const STREAM_MS = CHUNKS * INTERVAL_MS;

const fixture = useFakeUpstreamAndGateway({ upstream: { requireAuth: "Bearer sk-caller" } });

const messages = [{ role: "user" as const, content: "Tell me a long story" }];

describe("chunks are relayed as they arrive", () => {
  it("the SDK client gets the first chunk long before the provider writes the last one", async () => {
    fixture.upstream.enqueue({ kind: "stream", chunks: CHUNKS, intervalMs: INTERVAL_MS });
    const stream = await fixture.client.chat.completions.create({ model: "gpt-4o", messages, stream: true });
    const arrivals: number[] = [];
    let text = "";
    for await (const chunk of stream) {
      arrivals.push(performance.now());
      text += chunk.choices[0]?.delta.content ?? "";
    }
    const writes = fixture.upstream.lastStreamWrites;
    // The client gets the role chunk, 20 deltas and the finish chunk; the provider also wrote
    // [DONE] (and a usage chunk, if the gateway asked for one on its own account).
    expect(arrivals).toHaveLength(CHUNKS + 2);
    expect(writes.length).toBeGreaterThanOrEqual(CHUNKS + 3);
    expect(text).toBe("Echo: Tell me a long story");

    const firstArrival = arrivals[0] ?? Number.NaN;
    const lastWrite = writes.at(-1) ?? Number.NaN;
    const firstWrite = writes[0] ?? Number.NaN;
    expect(lastWrite - firstWrite).toBeGreaterThan(STREAM_MS * 0.8);
    // The first chunk is in the client's hands within a few ms of the provider writing it...
    expect(firstArrival - firstWrite).toBeLessThan(150);
    // ...which is most of the stream's duration before the provider's last write.
    expect(lastWrite - firstArrival).toBeGreaterThan(STREAM_MS * 0.7);
    // Every delta arrives soon after it was written, not batched at the end.
    for (let index = 1; index <= CHUNKS; index += 1) {
      expect((arrivals[index] ?? Number.NaN) - (writes[index] ?? Number.NaN)).toBeLessThan(150);
    }

    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ stream: true, outcome: "ok", status: 200 });
    expect(summary?.firstByteMs).toBeLessThan((summary?.totalMs ?? 0) - STREAM_MS * 0.7);
  });

  it("a raw reader gets the body in many separate reads, spread over the stream", async () => {
    fixture.upstream.enqueue({ kind: "stream", chunks: CHUNKS, intervalMs: INTERVAL_MS });
    const response = await fetch(`${fixture.gateway.baseURL}chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-caller" },
      // include_usage is given so that the relayed bytes are exactly the provider's.
      body: JSON.stringify({ model: "gpt-4o", messages, stream: true, stream_options: { include_usage: true } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("content-length")).toBeNull();
    const reader = response.body?.getReader();
    if (reader === undefined) throw new Error("no body");
    const decoder = new TextDecoder();
    const reads: { at: number; text: string }[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      reads.push({ at: performance.now(), text: decoder.decode(value, { stream: true }) });
    }
    expect(reads.length).toBeGreaterThanOrEqual(CHUNKS / 2);
    const first = reads[0]?.at ?? Number.NaN;
    const last = reads.at(-1)?.at ?? Number.NaN;
    expect(last - first).toBeGreaterThan(STREAM_MS * 0.7);
    // The first read already holds a complete event, long before the rest exists.
    expect(reads[0]?.text).toMatch(/^data: \{.*"chat\.completion\.chunk".*\}\n\n/);
    expect(reads.map((read) => read.text).join("")).toBe(fixture.upstream.lastStreamEvents.join(""));
  });
});

describe("a provider that is slow to send its first event", () => {
  const FIRST_EVENT_DELAY_MS = 400;
  // Sends its headers at once and its first event only after a pause (the fake always sends one at once).
  const slowUpstream = useHttpUpstream((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_slow" });
      response.flushHeaders();
      const chunk = { id: "chatcmpl-slow", object: "chat.completion.chunk", created: 1, model: "gpt-4o" };
      setTimeout(() => {
        response.write(`data: ${JSON.stringify({ ...chunk, choices: [{ index: 0, delta: { role: "assistant", content: "late" } }] })}\n\n`);
        response.end("data: [DONE]\n\n");
      }, FIRST_EVENT_DELAY_MS);
    });
  });
  const slow = useTestGateway(() => ({ OPENAI_BASE_URL: slowUpstream.baseUrl }));

  it("the SDK gets the stream's headers at once, before the first event exists", async () => {
    const started = performance.now();
    const stream = await slow.client.chat.completions.create({ model: "gpt-4o", messages, stream: true });
    const headersAfter = performance.now() - started;
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    const doneAfter = performance.now() - started;
    expect(headersAfter).toBeLessThan(FIRST_EVENT_DELAY_MS / 2);
    expect(doneAfter).toBeGreaterThanOrEqual(FIRST_EVENT_DELAY_MS - 5);
    expect(text).toBe("late");
  });
});

describe("a client that stops reading early", () => {
  it("breaking out of for await closes the upstream connection and stops the provider's writes", async () => {
    fixture.upstream.enqueue({ kind: "stream", chunks: CHUNKS, intervalMs: INTERVAL_MS });
    const stream = await fixture.client.chat.completions.create({ model: "gpt-4o", messages, stream: true });
    let received = 0;
    const socketClosed = fixture.upstream.waitForSocketClose(2_000);
    const brokeAt = { at: 0 };
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      received += 1;
      if (received === 3) {
        brokeAt.at = performance.now();
        break;
      }
    }
    const closedAfter = await socketClosed;
    // The upstream socket closes well before the stream would have ended on its own.
    expect(performance.now() - brokeAt.at).toBeLessThan(STREAM_MS / 2);
    expect(closedAfter).toBeLessThan(STREAM_MS);
    const writesAtClose = fixture.upstream.lastStreamWrites.length;
    expect(writesAtClose).toBeLessThan(CHUNKS);

    // And the provider wrote nothing more afterwards: its stream has stopped, with no write after the close.
    await fixture.upstream.lastStreamDone;
    expect(fixture.upstream.lastStreamWrites.length).toBe(writesAtClose);

    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ stream: true, status: 200, outcome: "client_aborted" });
  });

  it("aborting a raw fetch mid-stream closes the upstream connection too", async () => {
    fixture.upstream.enqueue({ kind: "stream", chunks: CHUNKS, intervalMs: INTERVAL_MS });
    const controller = new AbortController();
    const response = await fetch(`${fixture.gateway.baseURL}chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-caller" },
      body: JSON.stringify({ model: "gpt-4o", messages, stream: true }),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    await reader?.read();
    const socketClosed = fixture.upstream.waitForSocketClose(2_000);
    controller.abort();
    expect(await socketClosed).toBeLessThan(STREAM_MS / 2);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.outcome).toBe("client_aborted");
  });

  it("the gateway keeps serving after a client went away", async () => {
    const completion = await fixture.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "still there?" }] });
    expect(completion.choices[0]?.message.content).toBe("Echo: still there?");
  });
});

describe("a provider stream that fails midway", () => {
  const strict = useTestGateway(() => ({ OPENAI_BASE_URL: fixture.upstream.baseUrl, GATEWAY_IDLE_TIMEOUT_MS: "150" }));

  async function consume(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<{ text: string; error: unknown }> {
    let text = "";
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    } catch (error) {
      return { text, error };
    }
    return { text, error: undefined };
  }

  it("a provider that goes silent ends the stream with OpenAI's error event, which the SDK raises", async () => {
    fixture.upstream.enqueue({ kind: "stream", content: ["never", " sent"], intervalMs: 1_000 });
    const socketClosed = fixture.upstream.waitForSocketClose(2_000);
    const stream = await strict.client.chat.completions.create({ model: "gpt-4o", messages, stream: true });
    const { text, error } = await consume(stream);
    expect(text).toBe("");
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain("150 ms");
    await socketClosed;
    const [summary] = await strict.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, outcome: "timeout" });
  });

  it("a provider connection reset mid-stream ends it with an error event, not a clean [DONE]", async () => {
    fixture.upstream.enqueue({ kind: "destroy-mid-stream", afterChunks: 3, content: ["one", " two", " three", " four"] });
    const response = await fetch(`${strict.gateway.baseURL}chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-caller" },
      body: JSON.stringify({ model: "gpt-4o", messages, stream: true, stream_options: { include_usage: true } }),
    });
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text.startsWith(fixture.upstream.lastStreamEvents.join(""))).toBe(true);
    expect(text).not.toContain("[DONE]");
    const events = text.trimEnd().split("\n\n");
    const last = JSON.parse((events.at(-1) ?? "").replace(/^data: /, "")) as { error: Record<string, unknown> };
    expect(last.error).toMatchObject({ type: "server_error", code: "upstream_stream_error", param: null });
    const [summary] = await strict.gateway.waitForSummaries(1);
    expect(summary?.outcome).toBe("upstream_failure");
  });
});

/**
 * An OpenAI-compatible server (OPENAI_BASE_URL may point at one) that honours
 * stream_options.include_usage like OpenAI, with its own framing: events ended
 * by CRLF CRLF (valid SSE) and/or JSON with spaces after ':' and ',' (Python's
 * json.dumps default). The model name picks the framing, since the gateway
 * forwards only the body.
 */
describe("streams from other OpenAI-compatible servers", () => {
  const WORDS = ["Hello", " from", " a", " compatible", " server"];
  const GAP_MS = 60;
  let lastWriteAt = 0;

  const compatibleUpstream = useHttpUpstream((request, response) => {
    void (async () => {
      const body = await readJsonBody<{ model: string; stream_options?: { include_usage?: boolean } }>(request);
      const eol = body.model.includes("crlf") ? "\r\n" : "\n";
      const encode = (value: unknown) =>
        body.model.includes("spaced") ? JSON.stringify(value).replaceAll('":', '": ').replaceAll(',"', ', "') : JSON.stringify(value);
      const withUsage = body.stream_options?.include_usage === true;
      const base = { id: "chatcmpl-compat", object: "chat.completion.chunk", created: 1, model: body.model };
      const send = (value: unknown) => {
        response.write(`data: ${typeof value === "string" ? value : encode(value)}${eol}${eol}`);
        lastWriteAt = performance.now();
      };
      response.writeHead(200, { "content-type": "text/event-stream" });
      for (const word of WORDS) {
        send({ ...base, choices: [{ index: 0, delta: { content: word }, finish_reason: null }], ...(withUsage ? { usage: null } : {}) });
        await new Promise((resolve) => setTimeout(resolve, GAP_MS));
      }
      if (withUsage) send({ ...base, choices: [], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } });
      send("[DONE]");
      response.end();
    })();
  });
  const compatible = useTestGateway(() => ({ OPENAI_BASE_URL: compatibleUpstream.baseUrl }));

  async function streamThrough(model: string) {
    const stream = await compatible.client.chat.completions.create({ model, messages, stream: true });
    const chunks: { at: number; chunk: OpenAI.ChatCompletionChunk }[] = [];
    for await (const chunk of stream) chunks.push({ at: performance.now(), chunk });
    const [summary] = await compatible.gateway.waitForSummaries(1);
    return { chunks, summary };
  }

  it("LF-framed compact JSON: the client gets the stream it asked for, the gateway gets usage", async () => {
    const { chunks, summary } = await streamThrough("compat-lf");
    expect(chunks.map(({ chunk }) => chunk.choices[0]?.delta.content).join("")).toBe(WORDS.join(""));
    for (const { chunk } of chunks) {
      expect(chunk.choices).toHaveLength(1);
      expect(chunk.usage).toBeUndefined();
    }
    expect(summary?.usage?.totalTokens).toBe(8);
  });

  it("CRLF-framed events are relayed, as they arrive", async () => {
    const { chunks, summary } = await streamThrough("compat-crlf");
    expect(chunks.map(({ chunk }) => chunk.choices[0]?.delta.content).join("")).toBe(WORDS.join(""));
    expect((chunks[0]?.at ?? Number.POSITIVE_INFINITY) < lastWriteAt - 2 * GAP_MS).toBe(true);
    expect(summary?.usage?.totalTokens).toBe(8);
  });

  it("JSON with spaces: the client does not get the usage chunk or usage fields it did not ask for", async () => {
    const { chunks } = await streamThrough("compat-spaced");
    expect(chunks.map(({ chunk }) => chunk.choices[0]?.delta.content ?? "").join("")).toBe(WORDS.join(""));
    for (const { chunk } of chunks) {
      expect(chunk.choices).toHaveLength(1);
      expect(chunk).not.toHaveProperty("usage");
    }
  });
});
