/**
 * A provider stream that fails after the headers went out: reset, cut short,
 * or not SSE at all. The client's stream must end with OpenAI's error event
 * (no [DONE]) so its SDK raises instead of seeing a clean end, and the request
 * must count as a stream error in the metrics. A provider's own in-band error
 * event is relayed as it is.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { APIError } from "openai";
import { afterAll, describe, expect, it } from "vitest";
import { postJson } from "../support/fetch.ts";
import { useFakeUpstreamAndGateway, useHttpUpstream, useTestGateway } from "../support/gateway-fixture.ts";
import { metricsOf, type TestGateway } from "../support/local-gateway.ts";
import { expectEndsWithErrorEvent, isErrorEvent } from "../support/openai-errors.ts";
import { sseEvents } from "../support/raw-http.ts";

const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Tell me a story" }] };

const fixture = useFakeUpstreamAndGateway({ upstream: { requireAuth: "Bearer sk-caller" }, env: { GATEWAY_MAX_RETRIES: "0" } });

/** Posts with fetch and returns the raw body text. */
const post = (target: TestGateway, path: string, body: Record<string, unknown>) => postJson(target.baseURL, path, body, { authorization: "Bearer sk-caller" });

/** Iterates an SDK stream to its end and returns what it threw (undefined for a clean end) and how many items came first. */
async function drain(stream: AsyncIterable<unknown>): Promise<{ error: unknown; items: number }> {
  let items = 0;
  try {
    for await (const _item of stream) items += 1;
  } catch (error) {
    return { error, items };
  }
  return { error: undefined, items };
}

async function expectStreamFailureCounted(target: TestGateway = fixture.gateway): Promise<void> {
  const [summary] = await target.waitForSummaries(1);
  expect(summary).toMatchObject({ status: 200, stream: true, outcome: "upstream_failure" });
  expect(metricsOf(summary)).toMatchObject({ requests: 1, streamErrors: 1, serverErrors: 1, timeouts: 0 });
}

/** The provider worked (and billed) before it broke off: with no usage reported, the estimate is charged. */
async function expectEstimateCharged(target: TestGateway = fixture.gateway, dataLines: number): Promise<void> {
  const [summary] = await target.waitForSummaries(1);
  expect(summary).toMatchObject({ outcome: "upstream_failure", usageEstimated: true, usage: { completionTokens: dataLines } });
  expect(summary?.usage?.promptTokens).toBeGreaterThan(0);
}

/** What the SDK raised for each failure, for the report. */
const raisedBy: Record<string, string> = {};
afterAll(() => {
  console.info(`SDK error classes by failure: ${JSON.stringify(raisedBy)}`);
});

describe("a chat stream the provider resets in mid-stream (destroy-mid-stream)", () => {
  it("ends with the gateway's error event after the bytes the provider sent, and no [DONE]", async () => {
    fixture.upstream.enqueue({ kind: "destroy-mid-stream", afterChunks: 3 });
    const { status, text } = await post(fixture.gateway, "chat/completions", { ...chat, stream: true, stream_options: { include_usage: true } });
    expect(status).toBe(200);
    const sent = fixture.upstream.lastStreamEvents.join("");
    expect(fixture.upstream.lastStreamEvents).toHaveLength(3);
    expect(text.startsWith(sent)).toBe(true);
    expect(expectEndsWithErrorEvent(text)).toEqual({
      message: "The provider's stream broke off before it was complete.",
      type: "server_error",
      param: null,
      code: "upstream_stream_error",
    });
    expect(text.slice(sent.length)).toBe(`data: {"error":{"message":"The provider's stream broke off before it was complete.","type":"server_error","param":null,"code":"upstream_stream_error"}}\n\n`);
    await expectStreamFailureCounted();
    await expectEstimateCharged(fixture.gateway, 3);
  });

  it("the same when the gateway added include_usage itself (the client did not ask for it)", async () => {
    fixture.upstream.enqueue({ kind: "destroy-mid-stream", afterChunks: 3 });
    const { text } = await post(fixture.gateway, "chat/completions", { ...chat, stream: true });
    const events = sseEvents(text);
    for (const event of events.slice(0, -1)) {
      expect(event).toMatch(/^data: \{/);
      expect(event).not.toContain('"usage"');
    }
    expect(expectEndsWithErrorEvent(text).code).toBe("upstream_stream_error");
    await expectStreamFailureCounted();
  });

  it("the SDK raises an APIError carrying the gateway's message", async () => {
    fixture.upstream.enqueue({ kind: "destroy-mid-stream", afterChunks: 3 });
    const stream = await fixture.client.chat.completions.create({ ...chat, stream: true });
    const { error, items } = await drain(stream);
    raisedBy["destroy-mid-stream"] = (error as Error | undefined)?.constructor.name ?? "nothing";
    expect(items).toBe(3);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain("broke off before it was complete");
    expect((error as APIError).code).toBe("upstream_stream_error");
    await expectStreamFailureCounted();
  });
});

describe("a chat stream the provider ends cleanly but early (truncate)", () => {
  it("ends with upstream_stream_truncated instead of a silent clean end", async () => {
    fixture.upstream.enqueue({ kind: "truncate", afterChunks: 4 });
    const { status, text } = await post(fixture.gateway, "chat/completions", { ...chat, stream: true, stream_options: { include_usage: true } });
    expect(status).toBe(200);
    const sent = fixture.upstream.lastStreamEvents.join("");
    expect(text.startsWith(sent)).toBe(true);
    expect(sseEvents(text)).toHaveLength(fixture.upstream.lastStreamEvents.length + 1);
    expect(expectEndsWithErrorEvent(text)).toEqual({
      message: "The provider's stream ended before it was complete.",
      type: "server_error",
      param: null,
      code: "upstream_stream_truncated",
    });
    await expectStreamFailureCounted();
  });

  it("the SDK raises an APIError", async () => {
    fixture.upstream.enqueue({ kind: "truncate", afterChunks: 4 });
    const { error, items } = await drain(await fixture.client.chat.completions.create({ ...chat, stream: true }));
    raisedBy["truncate"] = (error as Error | undefined)?.constructor.name ?? "nothing";
    expect(items).toBe(4);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).code).toBe("upstream_stream_truncated");
    await expectStreamFailureCounted();
  });
});

describe("a body that is not a valid event stream", () => {
  const VALID = [
    `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n`,
    `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}\n\n`,
  ];
  const GARBAGE = "<html><body>502 Bad Gateway</body></html>\nstill not sse\n\n";

  it("garbage lines in the same chunk as valid events: the chunk is refused, the stream ends with upstream_malformed_stream", async () => {
    fixture.upstream.enqueue({
      kind: "raw",
      status: 200,
      headers: { "content-type": "text/event-stream", "x-request-id": "req_garbage" },
      body: `${VALID.join("")}${GARBAGE}data: [DONE]\n\n`,
    });
    const { status, text } = await post(fixture.gateway, "chat/completions", { ...chat, stream: true, stream_options: { include_usage: true } });
    expect(status).toBe(200);
    expect(text).not.toContain("<html>");
    expect(expectEndsWithErrorEvent(text)).toEqual({
      message: "The provider sent a malformed event stream.",
      type: "server_error",
      param: null,
      code: "upstream_malformed_stream",
    });
    await expectStreamFailureCounted();
  });

  it("the SDK raises an APIError for it", async () => {
    fixture.upstream.enqueue({
      kind: "raw",
      status: 200,
      headers: { "content-type": "text/event-stream", "x-request-id": "req_garbage" },
      body: `${VALID.join("")}${GARBAGE}data: [DONE]\n\n`,
    });
    const { error } = await drain(await fixture.client.chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } }));
    raisedBy["malformed (raw)"] = (error as Error | undefined)?.constructor.name ?? "nothing";
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).code).toBe("upstream_malformed_stream");
    await expectStreamFailureCounted();
  });

  describe("arriving after valid events, in later writes", () => {
    // Mode by the request's `user` field: "garbage-later" or "reset-mid-event".
    const scriptedUpstream = useHttpUpstream((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", async () => {
        const mode = (JSON.parse(Buffer.concat(chunks).toString()) as { user?: string }).user;
        response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_scripted" });
        response.flushHeaders();
        for (const event of VALID) {
          response.write(event);
          await sleep(20);
        }
        if (mode === "garbage-later") {
          response.write(GARBAGE);
          await sleep(20);
          response.end("data: [DONE]\n\n");
        } else {
          response.write(`data: {"id":"chatcmpl-1","object":"chat.com`);
          await sleep(20);
          response.socket?.resetAndDestroy();
        }
      });
    });
    const scripted = useTestGateway(() => ({ OPENAI_BASE_URL: scriptedUpstream.baseUrl, GATEWAY_MAX_RETRIES: "0" }));

    it("the valid events are relayed, then the error event ends the stream", async () => {
      const { status, text } = await post(scripted.gateway, "chat/completions", {
        ...chat,
        stream: true,
        stream_options: { include_usage: true },
        user: "garbage-later",
      });
      expect(status).toBe(200);
      expect(text.startsWith(VALID.join(""))).toBe(true);
      expect(text).not.toContain("<html>");
      expect(expectEndsWithErrorEvent(text).code).toBe("upstream_malformed_stream");
      await expectStreamFailureCounted(scripted.gateway);
    });

    it("the SDK gets the two valid chunks, then raises an APIError", async () => {
      const { error, items } = await drain(
        await scripted.client.chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true }, user: "garbage-later" }),
      );
      raisedBy["malformed (after valid events)"] = (error as Error | undefined)?.constructor.name ?? "nothing";
      expect(items).toBe(2);
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).code).toBe("upstream_malformed_stream");
    });

    it("a reset in the middle of an event: the half event is closed off and the error event is an event of its own", async () => {
      const { text } = await post(scripted.gateway, "chat/completions", {
        ...chat,
        stream: true,
        stream_options: { include_usage: true },
        user: "reset-mid-event",
      });
      expect(text.startsWith(`${VALID.join("")}data: {"id":"chatcmpl-1","object":"chat.com\n\ndata: {"error":`)).toBe(true);
      expect(expectEndsWithErrorEvent(text).code).toBe("upstream_stream_error");
      await expectStreamFailureCounted(scripted.gateway);
    });

    it("the SDK raises an error for it rather than ending cleanly", async () => {
      const { error, items } = await drain(
        await scripted.client.chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true }, user: "reset-mid-event" }),
      );
      // The closed-off half event reaches the SDK before the error event: it fails to parse it.
      raisedBy["reset mid-event"] = (error as Error | undefined)?.constructor.name ?? "nothing";
      expect(items).toBe(2);
      expect(error).toBeInstanceOf(Error);
    });
  });
});

describe("a Responses API stream", () => {
  const input = "Tell me a story";

  it("truncated before response.completed ends with the error event", async () => {
    fixture.upstream.enqueue({ kind: "truncate", afterChunks: 4 });
    const { status, text } = await post(fixture.gateway, "responses", { model: "gpt-4o", input, stream: true });
    expect(status).toBe(200);
    expect(text.startsWith(fixture.upstream.lastStreamEvents.join(""))).toBe(true);
    expect(text).not.toContain("response.completed");
    expect(expectEndsWithErrorEvent(text).code).toBe("upstream_stream_truncated");
    await expectStreamFailureCounted();
  });

  it("the SDK's responses stream raises an APIError", async () => {
    fixture.upstream.enqueue({ kind: "truncate", afterChunks: 4 });
    const stream = await fixture.client.responses.create({ model: "gpt-4o", input, stream: true });
    const types: string[] = [];
    let error: unknown;
    try {
      for await (const event of stream) types.push(event.type);
    } catch (caught) {
      error = caught;
    }
    raisedBy["responses truncate"] = (error as Error | undefined)?.constructor.name ?? "nothing";
    expect(types).toHaveLength(4);
    expect(types).not.toContain("response.completed");
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).code).toBe("upstream_stream_truncated");
    await expectStreamFailureCounted();
  });

  it("reset in mid-stream ends the same way", async () => {
    fixture.upstream.enqueue({ kind: "destroy-mid-stream", afterChunks: 3 });
    const { text } = await post(fixture.gateway, "responses", { model: "gpt-4o", input, stream: true });
    expect(text.startsWith(fixture.upstream.lastStreamEvents.join(""))).toBe(true);
    expect(expectEndsWithErrorEvent(text).code).toBe("upstream_stream_error");
    await expectStreamFailureCounted();
  });
});

describe("the provider's own in-band error event", () => {
  it("a chat stream's error event is relayed byte for byte, not doubled", async () => {
    fixture.upstream.enqueue({ kind: "error-mid-stream", afterChunks: 3, message: "The model crashed.", code: "model_error" });
    const { text } = await post(fixture.gateway, "chat/completions", { ...chat, stream: true, stream_options: { include_usage: true } });
    expect(text).toBe(fixture.upstream.lastStreamEvents.join(""));
    expect(expectEndsWithErrorEvent(text)).toMatchObject({ message: "The model crashed.", code: "model_error" });
    // A stream the provider failed in-band still counts as a stream error.
    await expectStreamFailureCounted();
  });

  it("the SDK raises the provider's message", async () => {
    fixture.upstream.enqueue({ kind: "error-mid-stream", afterChunks: 3, message: "The model crashed.", code: "model_error" });
    const { error, items } = await drain(await fixture.client.chat.completions.create({ ...chat, stream: true }));
    raisedBy["provider error-mid-stream"] = (error as Error | undefined)?.constructor.name ?? "nothing";
    expect(items).toBe(3);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain("The model crashed.");
    expect((error as APIError).code).toBe("model_error");
  });

  it("a Responses stream's `event: error` is relayed byte for byte, with no gateway event after it", async () => {
    fixture.upstream.enqueue({ kind: "error-mid-stream", afterChunks: 3, message: "The model crashed." });
    const { text } = await post(fixture.gateway, "responses", { model: "gpt-4o", input: "Hi", stream: true });
    expect(text).toBe(fixture.upstream.lastStreamEvents.join(""));
    expect(sseEvents(text).at(-1)).toMatch(/^event: error\n/);
    expect(sseEvents(text).filter(isErrorEvent)).toHaveLength(1);
    await expectStreamFailureCounted();
  });
});

describe("a JSON answer the provider breaks off after the headers", () => {
  // Writes the headers and half a chat completion (chunked, no length), then resets the connection when told.
  let breakOff = Promise.withResolvers<void>();
  const halfJson = useHttpUpstream((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json", "x-request-id": "req_half" });
      response.write('{"id":"chatcmpl-half","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Half');
      void breakOff.promise.then(() => response.socket?.resetAndDestroy());
    });
  });
  const broken = useTestGateway(() => ({ OPENAI_BASE_URL: halfJson.baseUrl, GATEWAY_MAX_RETRIES: "0" }));

  it("reaches the client as a broken response, never as a clean short body", async () => {
    breakOff = Promise.withResolvers<void>();
    const response = await fetch(`${broken.gateway.baseURL}chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-caller" },
      body: JSON.stringify(chat),
    });
    expect(response.status).toBe(200);
    const reader = response.body?.getReader();
    if (reader === undefined) throw new Error("no body");
    const decoder = new TextDecoder();
    const first = await reader.read();
    // The half the provider sent is relayed as it came; only then does the provider break off.
    let text = decoder.decode(first.value, { stream: true });
    expect(text).toContain('"content":"Half');
    breakOff.resolve();
    let failure: unknown;
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read()) text += decoder.decode(read.value, { stream: true });
    } catch (error) {
      failure = error;
    }
    // A clean end here would hand the client a truncated JSON document (or one with an SSE event in it) as if complete.
    expect({ failure, text }).toMatchObject({ failure: expect.any(Error) });
    expect(text).not.toContain("data:");
    const [summary] = await broken.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, stream: false, outcome: "upstream_failure" });
  });
});

describe("how a Responses stream said it ended", () => {
  const created = { type: "response.created", sequence_number: 0, response: { id: "resp_end", object: "response", status: "in_progress" } };
  /** A Responses stream the fake sends as is, ending with `type` and its response `status`. */
  const endingWith = (type: string, status: string) => ({
    kind: "raw" as const,
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_end" },
    body: [
      `event: response.created\ndata: ${JSON.stringify(created)}\n\n`,
      `event: ${type}\ndata: ${JSON.stringify({
        type,
        sequence_number: 1,
        response: {
          id: "resp_end",
          object: "response",
          status,
          incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
          error: status === "failed" ? { code: "server_error", message: "The model failed." } : null,
          usage: { input_tokens: 5, output_tokens: 16, total_tokens: 21 },
        },
      })}\n\n`,
    ].join(""),
  });

  it("response.incomplete (a cut-off the client asked for) is relayed, counted as incomplete, and is no server error", async () => {
    const behaviour = endingWith("response.incomplete", "incomplete");
    fixture.upstream.enqueue(behaviour);
    const { status, text } = await post(fixture.gateway, "responses", { model: "gpt-4o", input: "Hi", stream: true, max_output_tokens: 16 });
    expect(status).toBe(200);
    expect(text).toBe(behaviour.body);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, stream: true, outcome: "incomplete", usage: { totalTokens: 21 } });
    expect(metricsOf(summary)).toMatchObject({ requests: 1, serverErrors: 0, streamErrors: 0 });
  });

  it("response.failed is relayed, and counted as an upstream failure and a server error", async () => {
    const behaviour = endingWith("response.failed", "failed");
    fixture.upstream.enqueue(behaviour);
    const { status, text } = await post(fixture.gateway, "responses", { model: "gpt-4o", input: "Hi", stream: true });
    expect(status).toBe(200);
    expect(text).toBe(behaviour.body);
    await expectStreamFailureCounted();
  });
});
