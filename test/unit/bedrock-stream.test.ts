import { describe, expect, it } from "vitest";
import { bedrockError, bedrockHttpError } from "../../functions/shared/providers/bedrock/errors.ts";
import type { StreamMessage } from "../../functions/shared/providers/bedrock/event-stream.ts";
import { converseToCompletion } from "../../functions/shared/providers/bedrock/response.ts";
import { bedrockMessageToChunks, bedrockStreamEnd, createBedrockStreamState } from "../../functions/shared/providers/bedrock/stream.ts";
import { converseResponse, converseStreamEvents, type BedrockAnswer } from "../support/bedrock-wire.ts";
import { deltasOf, parseSse } from "../support/chunk-events.ts";

const TOOL_TURN: BedrockAnswer = {
  blocks: [
    { type: "reasoning", text: "Two cities to look up." },
    { type: "text", text: "I'll check the weather in both." },
    { type: "toolUse", toolUseId: "tooluse_A", name: "weather", input: { city: "Paris" } },
    { type: "toolUse", toolUseId: "tooluse_B", name: "weather", input: { city: "Oslo" } },
  ],
  stopReason: "tool_use",
  usage: { inputTokens: 100, outputTokens: 40, cacheReadInputTokens: 300, cacheWriteInputTokens: 50 },
};

const asMessages = (answer: BedrockAnswer): StreamMessage[] => converseStreamEvents(answer).map((event) => ({ kind: "event", ...event }));

function translate(messages: StreamMessage[], options: { includeUsage?: boolean; jsonResponse?: boolean; end?: boolean } = {}) {
  const state = createBedrockStreamState({ id: "chatcmpl-req1", model: "us.anthropic.claude", created: 1, includeUsage: options.includeUsage ?? false, jsonResponse: options.jsonResponse ?? false });
  const texts = messages.flatMap((message) => bedrockMessageToChunks(state, message));
  if (options.end !== false) texts.push(...bedrockStreamEnd(state));
  return parseSse(texts.join(""));
}

describe("ConverseStream → chat.completion.chunk", () => {
  it("starts with the role, keeps text next to tool calls, and gives the calls dense indices from 0", () => {
    const out = translate(asMessages(TOOL_TURN));
    expect(out[0]).toMatchObject({ id: "chatcmpl-req1", choices: [{ delta: { role: "assistant" } }] });
    const deltas = deltasOf(out);
    expect(deltas.map((delta) => delta.reasoning_content ?? "").join("")).toBe("Two cities to look up.");
    expect(deltas.map((delta) => delta.content ?? "").join("")).toBe("I'll check the weather in both.");
    const calls = deltas.flatMap((delta) => delta.tool_calls ?? []);
    // contentBlockIndex 2 and 3 are tool calls 0 and 1: never -1 (bedrock-access-gateway #203), never the block index (agentgateway #2965).
    expect(calls.filter((call) => call.id !== undefined).map((call) => [call.index, call.id])).toEqual([
      [0, "tooluse_A"],
      [1, "tooluse_B"],
    ]);
    expect(calls.filter((call) => call.index === 1).map((call) => call.function.arguments).join("")).toBe('{"city":"Oslo"}');
    expect(out.at(-2)).toMatchObject({ choices: [{ finish_reason: "tool_calls" }] });
    expect(out.at(-1)).toBe("[DONE]");
  });

  it("with include_usage ends with one usage chunk, cache reads and writes inside prompt_tokens", () => {
    const out = translate(asMessages(TOOL_TURN), { includeUsage: true });
    expect(out.at(-2)).toMatchObject({ choices: [], usage: { prompt_tokens: 450, completion_tokens: 40, total_tokens: 490, prompt_tokens_details: { cached_tokens: 300 } } });
    expect(out.filter((chunk) => chunk !== "[DONE]" && chunk.usage !== null)).toHaveLength(1);
  });

  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["tool_use", "tool_calls"],
    ["max_tokens", "length"],
    ["guardrail_intervened", "content_filter"],
    ["content_filtered", "content_filter"],
  ])("maps stop reason %s to %s", (stopReason, finish) => {
    expect(translate(asMessages({ blocks: [{ type: "text", text: "x" }], stopReason })).at(-2)).toMatchObject({ choices: [{ finish_reason: finish }] });
  });

  it("ends with an error event and no [DONE] on an exception frame in mid-stream", () => {
    const messages = asMessages({ blocks: [{ type: "text", text: "Hello there" }], stopReason: "end_turn" }).slice(0, 2);
    messages.push({ kind: "exception", type: "modelStreamErrorException", message: "The model stream broke." });
    const out = translate(messages);
    expect(out.at(-1)).toEqual({ error: { message: "The model stream broke.", type: "server_error", param: null, code: "model_stream_error" } });
    expect(out).not.toContain("[DONE]");
  });

  it("ends with an error event when the body ends before messageStop", () => {
    const out = translate(asMessages({ blocks: [{ type: "text", text: "Hello" }], stopReason: "end_turn" }).slice(0, 2));
    expect(out.at(-1)).toMatchObject({ error: { code: "upstream_stream_truncated" } });
  });
});

describe("Converse response → chat.completion", () => {
  it("keeps text and tool calls, reasoning in reasoning_content, cache tokens in the prompt", () => {
    const completion = converseToCompletion(converseResponse(TOOL_TURN), { id: "chatcmpl-r", model: "m", created: 2, jsonResponse: false });
    expect(completion).toMatchObject({
      id: "chatcmpl-r",
      choices: [
        {
          message: {
            role: "assistant",
            content: "I'll check the weather in both.",
            reasoning_content: "Two cities to look up.",
            tool_calls: [
              { id: "tooluse_A", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
              { id: "tooluse_B", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
            ],
          },
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 450, completion_tokens: 40, total_tokens: 490, prompt_tokens_details: { cached_tokens: 300 } },
    });
  });
});

describe("Bedrock errors → OpenAI errors", () => {
  it.each([
    ["ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/", 400, 400, "invalid_request_error", "invalid_request"],
    ["ResourceNotFoundException", 404, 404, "invalid_request_error", "model_not_found"],
    ["ThrottlingException", 429, 429, "rate_limit_error", "rate_limit_exceeded"],
    ["ModelTimeoutException", 408, 504, "server_error", "timeout"],
    ["ModelErrorException", 424, 502, "server_error", "model_error"],
    ["InternalServerException", 500, 500, "server_error", "internal_error"],
    ["ServiceUnavailableException", 503, 503, "server_error", "overloaded"],
  ])("%s (HTTP %i) → %i %s %s", (header, status, openAIStatus, type, code) => {
    expect(bedrockHttpError({ message: "the provider's message" }, status, header)).toEqual({ status: openAIStatus, message: "the provider's message", type, code });
  });

  it.each([
    ["AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/Gateway/fn is not authorized to perform: bedrock:InvokeModel", "permission_error", "access_denied"],
    ["InvalidSignatureException", "The Canonical String for this request should have been 'POST\n…\nx-amz-security-token:IQoJb3JpZ2luX2Vj…'", "authentication_error", "invalid_signature"],
  ])("keeps Bedrock's own message out of a refusal of credentials (%s): it names the role or spells out signed headers", (header, message, type, code) => {
    const error = bedrockHttpError({ message }, 403, header);
    expect(error).toMatchObject({ status: 403, type, code, message: expect.stringContaining(`(${header})`) });
    expect(error.message).not.toContain(message.slice(0, 20));
  });

  it("reads a stream exception by its camel-case name", () => {
    expect(bedrockError("throttlingException", "slow down")).toEqual({ status: 429, message: "slow down", type: "rate_limit_error", code: "rate_limit_exceeded" });
  });
});
