import { describe, expect, it } from "vitest";
import { anthropicError } from "../../functions/shared/providers/anthropic/errors.ts";
import { anthropicMessageToCompletion } from "../../functions/shared/providers/anthropic/response.ts";
import { anthropicEventToChunks, createAnthropicStreamState } from "../../functions/shared/providers/anthropic/stream.ts";
import { anthropicErrorBody, anthropicMessage, anthropicStreamEvents, type AnthropicAnswer } from "../support/anthropic-wire.ts";
import { parseSse } from "../support/chunk-events.ts";

const TOOL_TURN: AnthropicAnswer = {
  blocks: [
    { type: "thinking", thinking: "The user wants two cities." },
    { type: "text", text: "Let me check both." },
    { type: "tool_use", id: "toolu_01", name: "weather", input: { city: "Paris" } },
    { type: "tool_use", id: "toolu_02", name: "weather", input: { city: "Oslo" } },
  ],
  stopReason: "tool_use",
  usage: { input_tokens: 100, output_tokens: 40, cache_read_input_tokens: 300, cache_creation_input_tokens: 50 },
};

/** The OpenAI events for an Anthropic event sequence. */
function translate(events: { data: Record<string, unknown> }[], options: { includeUsage?: boolean; jsonResponse?: boolean } = {}) {
  const state = createAnthropicStreamState({ model: "claude-sonnet-4-5", created: 1, includeUsage: options.includeUsage ?? false, jsonResponse: options.jsonResponse ?? false });
  return parseSse(events.flatMap((event) => anthropicEventToChunks(state, event.data)).join(""));
}

describe("Anthropic stream → chat.completion.chunk", () => {
  it("starts with the role, keeps text next to tool calls, and gives the calls dense indices", () => {
    const out = translate(anthropicStreamEvents({ ...TOOL_TURN, model: "claude-sonnet-4-5-20250929" }));
    expect(out[0]).toMatchObject({ id: "msg_01FakeAnthropic", object: "chat.completion.chunk", model: "claude-sonnet-4-5-20250929", choices: [{ delta: { role: "assistant", content: "" } }] });
    const deltas = out.flatMap((chunk) => (chunk === "[DONE]" ? [] : chunk.choices.map((choice: { delta: unknown }) => choice.delta)));
    expect(deltas.map((delta) => delta.reasoning_content ?? "").join("")).toBe("The user wants two cities.");
    expect(deltas.map((delta) => delta.content ?? "").join("")).toBe("Let me check both.");
    const calls = deltas.flatMap((delta) => delta.tool_calls ?? []);
    // Content blocks 2 and 3 are tool calls 0 and 1; never the block index (LiteLLM #5231).
    expect(calls.filter((call) => call.id !== undefined)).toEqual([
      { index: 0, id: "toolu_01", type: "function", function: { name: "weather", arguments: "" } },
      { index: 1, id: "toolu_02", type: "function", function: { name: "weather", arguments: "" } },
    ]);
    const argumentsOf = (index: number) => calls.filter((call) => call.index === index).map((call) => call.function.arguments).join("");
    expect(argumentsOf(0)).toBe('{"city":"Paris"}');
    expect(argumentsOf(1)).toBe('{"city":"Oslo"}');
    expect(calls.filter((call) => call.index === 0).length).toBeGreaterThan(3);
  });

  it("ends with the finish reason in a chunk of its own, then [DONE], no usage chunk when not asked", () => {
    const out = translate(anthropicStreamEvents(TOOL_TURN));
    expect(out.at(-1)).toBe("[DONE]");
    expect(out.at(-2)).toMatchObject({ choices: [{ delta: {}, finish_reason: "tool_calls" }] });
    expect(out.some((chunk) => chunk !== "[DONE]" && "usage" in chunk)).toBe(false);
  });

  it("with include_usage: usage null on every chunk, then one usage chunk counting cache reads and writes as prompt tokens", () => {
    const out = translate(anthropicStreamEvents(TOOL_TURN), { includeUsage: true });
    const usageChunk = out.at(-2);
    expect(usageChunk).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 450, completion_tokens: 40, total_tokens: 490, prompt_tokens_details: { cached_tokens: 300 } },
    });
    expect(out.slice(0, -2).every((chunk) => chunk !== "[DONE]" && chunk.usage === null)).toBe(true);
  });

  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["tool_use", "tool_calls"],
    ["max_tokens", "length"],
    ["model_context_window_exceeded", "length"],
    ["refusal", "content_filter"],
    ["pause_turn", "stop"],
  ])("maps stop reason %s to %s", (stopReason, finish) => {
    const out = translate(anthropicStreamEvents({ blocks: [{ type: "text", text: "ok" }], stopReason }));
    expect(out.at(-2)).toMatchObject({ choices: [{ finish_reason: finish }] });
  });

  it("answers a json response tool as content with finish stop", () => {
    const out = translate(anthropicStreamEvents({ blocks: [{ type: "tool_use", id: "t", name: "json_response", input: { a: 1 } }], stopReason: "tool_use" }), { jsonResponse: true });
    const content = out.flatMap((chunk) => (chunk === "[DONE]" ? [] : [chunk.choices[0]?.delta?.content ?? ""])).join("");
    expect(JSON.parse(content)).toEqual({ a: 1 });
    expect(out.flatMap((chunk) => (chunk === "[DONE]" ? [] : chunk.choices)).some((choice: { delta: { tool_calls?: unknown } }) => choice.delta.tool_calls)).toBe(false);
    expect(out.at(-2)).toMatchObject({ choices: [{ finish_reason: "stop" }] });
  });

  it("ends a stream with an error event and no [DONE] when Anthropic sends an error event mid-stream", () => {
    const events = anthropicStreamEvents({ blocks: [{ type: "text", text: "Hello there" }], stopReason: "end_turn" }).slice(0, 5);
    events.push({ event: "error", data: anthropicErrorBody("overloaded_error", "Overloaded") });
    const out = translate(events);
    expect(out.at(-1)).toEqual({ error: { message: "Overloaded", type: "server_error", param: null, code: "overloaded" } });
    expect(out).not.toContain("[DONE]");
  });

  it("passes over pings and event types it does not know", () => {
    const out = translate([{ data: { type: "ping" } }, { data: { type: "some_future_event", x: 1 } }]);
    expect(out).toEqual([]);
  });
});

describe("Anthropic Message → chat.completion", () => {
  it("keeps text and tool calls, puts thinking in reasoning_content, counts cached tokens in the prompt", () => {
    const completion = anthropicMessageToCompletion(anthropicMessage(TOOL_TURN), { model: "claude-sonnet-4-5", created: 5, jsonResponse: false });
    expect(completion).toEqual({
      id: "msg_01FakeAnthropic",
      object: "chat.completion",
      created: 5,
      model: "claude-sonnet-4-5",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Let me check both.",
            refusal: null,
            reasoning_content: "The user wants two cities.",
            tool_calls: [
              { id: "toolu_01", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
              { id: "toolu_02", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
            ],
          },
          logprobs: null,
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 450, completion_tokens: 40, total_tokens: 490, prompt_tokens_details: { cached_tokens: 300 } },
    });
  });
});

describe("Anthropic errors → OpenAI errors", () => {
  it.each([
    [400, "invalid_request_error", 400, "invalid_request_error", null],
    [401, "authentication_error", 401, "authentication_error", "invalid_api_key"],
    [403, "permission_error", 403, "permission_error", null],
    [404, "not_found_error", 404, "invalid_request_error", "not_found"],
    [413, "request_too_large", 413, "invalid_request_error", "request_too_large"],
    [429, "rate_limit_error", 429, "rate_limit_error", "rate_limit_exceeded"],
    [500, "api_error", 500, "server_error", null],
    [529, "overloaded_error", 503, "server_error", "overloaded"],
  ])("HTTP %i %s → %i %s (%s)", (status, type, openAIStatus, openAIType, code) => {
    expect(anthropicError(anthropicErrorBody(type, "the provider's message"), status)).toEqual({ status: openAIStatus, message: "the provider's message", type: openAIType, code });
  });

  it("says what the status says for a body that is not Anthropic's error", () => {
    expect(anthropicError(undefined, 502)).toEqual({ status: 502, message: "The provider answered with status 502.", type: "server_error", code: null });
  });
});
