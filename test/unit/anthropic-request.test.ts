import { describe, expect, it } from "vitest";
import { GatewayError } from "../../functions/shared/http/errors.ts";
import { toAnthropicRequest } from "../../functions/shared/providers/anthropic/request.ts";
import { parseChatRequest } from "../../functions/shared/providers/translate/chat-request.ts";

const weather = { type: "function", function: { name: "weather", description: "Weather of a city", parameters: { type: "object", properties: { city: { type: "string" } } } } };

/** The Messages request for an OpenAI body (model and one user message by default). */
function messages(extra: Record<string, unknown>): Record<string, unknown> {
  return toAnthropicRequest(parseChatRequest({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }], ...extra }, "anthropic"));
}

describe("OpenAI chat request → Anthropic Messages", () => {
  it.each([
    ["max_tokens defaults to 4096 (Messages requires it)", {}, { max_tokens: 4096 }],
    ["max_completion_tokens wins over max_tokens", { max_tokens: 5, max_completion_tokens: 50 }, { max_tokens: 50 }],
    ["temperature above 1 is capped at 1", { temperature: 1.7 }, { temperature: 1 }],
    ["top_p alone passes", { top_p: 0.8 }, { top_p: 0.8 }],
    ["stop becomes stop_sequences", { stop: ["a", "b"] }, { stop_sequences: ["a", "b"] }],
    ["user becomes metadata.user_id", { user: "u-7" }, { metadata: { user_id: "u-7" } }],
    ["stream: true passes", { stream: true, stream_options: { include_usage: true } }, { stream: true }],
    ["reasoning_effort low is a 2048-token thinking budget above the default max_tokens", { reasoning_effort: "low" }, { thinking: { type: "enabled", budget_tokens: 2048 }, max_tokens: 2048 + 4096 }],
    ["tools become input_schema tools, auto by default", { tools: [weather] }, { tools: [{ name: "weather", description: "Weather of a city", input_schema: weather.function.parameters }], tool_choice: { type: "auto" } }],
    ["tool_choice required is any", { tools: [weather], tool_choice: "required" }, { tool_choice: { type: "any" } }],
    ["tool_choice none is none", { tools: [weather], tool_choice: "none" }, { tool_choice: { type: "none" } }],
    ["a named tool_choice is tool", { tools: [weather], tool_choice: { type: "function", function: { name: "weather" } } }, { tool_choice: { type: "tool", name: "weather" } }],
    ["parallel_tool_calls false disables parallel tool use", { tools: [weather], parallel_tool_calls: false }, { tool_choice: { type: "auto", disable_parallel_tool_use: true } }],
    [
      "response_format json_schema is a forced json_response tool",
      { response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object", properties: { a: { type: "number" } } } } } },
      { tools: [{ name: "json_response", description: expect.any(String), input_schema: { type: "object", properties: { a: { type: "number" } } } }], tool_choice: { type: "tool", name: "json_response" } },
    ],
  ])("%s", (_, extra, expected) => {
    expect(messages(extra)).toMatchObject(expected);
  });

  it("drops top_p when a temperature is sent too: current Claude models refuse both", () => {
    const body = messages({ temperature: 0.2, top_p: 0.5 });
    expect(body.temperature).toBe(0.2);
    expect(body).not.toHaveProperty("top_p");
  });

  it("ignores the parameters Anthropic's own OpenAI layer ignores", () => {
    const body = messages({ seed: 1, logprobs: true, presence_penalty: 1, frequency_penalty: 1, logit_bias: {}, store: true, service_tier: "auto" });
    expect(Object.keys(body).sort()).toEqual(["max_tokens", "messages", "model"]);
  });

  it("maps system, images, assistant tool calls and grouped tool results", () => {
    const body = messages({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Look" }, { type: "image_url", image_url: { url: "data:image/jpeg;base64,AAAA" } }, { type: "image_url", image_url: { url: "https://x.test/a.png" } }] },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } }, { id: "call_2", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } }] },
        { role: "tool", tool_call_id: "call_1", content: "9C" },
        { role: "tool", tool_call_id: "call_2", content: "21C" },
      ],
    });
    expect(body.system).toEqual([{ type: "text", text: "Be brief." }]);
    expect(body.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "Look" },
          { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "AAAA" } },
          { type: "image", source: { type: "url", url: "https://x.test/a.png" } },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "call_1", name: "weather", input: { city: "Oslo" } },
          { type: "tool_use", id: "call_2", name: "weather", input: { city: "Rome" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_1", content: "9C" },
          { type: "tool_result", tool_use_id: "call_2", content: "21C" },
        ],
      },
    ]);
  });

  it.each([
    ["max tokens at or below the thinking budget", { reasoning_effort: "high", max_completion_tokens: 1000 }, "max_completion_tokens"],
    ["response_format together with tools", { tools: [weather], response_format: { type: "json_object" } }, "response_format"],
  ])("refuses %s with a 400", (_, extra, param) => {
    let error: unknown;
    try {
      messages(extra);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 400, param });
  });
});
