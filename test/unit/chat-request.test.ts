import { describe, expect, it } from "vitest";
import { GatewayError } from "../../functions/shared/http/errors.ts";
import { parseChatRequest } from "../../functions/shared/providers/translate/chat-request.ts";

const user = (content: unknown) => ({ role: "user", content });
const base = (extra: Record<string, unknown> = {}) => ({ model: "claude-x", messages: [user("Hi")], ...extra });

function refusal(body: Record<string, unknown>): { message: string; param: string | null; status: number } {
  try {
    parseChatRequest(body, "anthropic");
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    const { message, param, status } = error as GatewayError;
    return { message, param, status };
  }
  throw new Error("expected a refusal");
}

describe("reading an OpenAI chat request", () => {
  it("hoists system and developer messages, in order, out of the turns", () => {
    const chat = parseChatRequest(
      base({ messages: [{ role: "system", content: "Be brief." }, user("Hi"), { role: "developer", content: [{ type: "text", text: "Use French." }] }] }),
      "anthropic",
    );
    expect(chat.system).toEqual(["Be brief.", "Use French."]);
    expect(chat.turns).toEqual([{ role: "user", parts: [{ type: "text", text: "Hi" }] }]);
  });

  it("groups every tool result of one assistant turn into one user turn, results first", () => {
    const chat = parseChatRequest(
      base({
        messages: [
          user("Weather in Paris and Oslo?"),
          {
            role: "assistant",
            content: "Checking.",
            tool_calls: [
              { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
              { id: "call_2", type: "function", function: { name: "weather", arguments: "" } },
            ],
          },
          { role: "tool", tool_call_id: "call_1", content: "18C" },
          user("And be quick."),
          { role: "tool", tool_call_id: "call_2", content: [{ type: "text", text: "9C" }] },
        ],
      }),
      "anthropic",
    );
    expect(chat.turns).toEqual([
      { role: "user", parts: [{ type: "text", text: "Weather in Paris and Oslo?" }] },
      {
        role: "assistant",
        parts: [
          { type: "text", text: "Checking." },
          { type: "tool_call", id: "call_1", name: "weather", input: { city: "Paris" } },
          { type: "tool_call", id: "call_2", name: "weather", input: {} },
        ],
      },
      {
        role: "user",
        parts: [
          { type: "tool_result", toolCallId: "call_1", content: [{ type: "text", text: "18C" }] },
          { type: "tool_result", toolCallId: "call_2", content: [{ type: "text", text: "9C" }] },
          { type: "text", text: "And be quick." },
        ],
      },
    ]);
  });

  it.each([
    ["a data URL", "data:image/png;base64,iVBORw0KGgo=", { kind: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" }],
    ["an https URL", "https://example.com/cat.jpg", { kind: "url", url: "https://example.com/cat.jpg" }],
  ])("reads an image given as %s", (_, url, source) => {
    const chat = parseChatRequest(base({ messages: [user([{ type: "text", text: "What is it?" }, { type: "image_url", image_url: { url } }])] }), "anthropic");
    expect(chat.turns[0]?.parts[1]).toEqual({ type: "image", source });
  });

  it("reads the scalar parameters, max_completion_tokens over max_tokens", () => {
    const chat = parseChatRequest(
      base({
        max_tokens: 10,
        max_completion_tokens: 20,
        temperature: 0.3,
        top_p: 0.9,
        stop: "END",
        user: "u-1",
        reasoning_effort: "low",
        stream: true,
        stream_options: { include_usage: true },
        parallel_tool_calls: false,
        seed: 7,
        logprobs: true,
      }),
      "anthropic",
    );
    expect(chat).toMatchObject({
      maxTokens: 20,
      temperature: 0.3,
      topP: 0.9,
      stop: ["END"],
      user: "u-1",
      reasoningEffort: "low",
      stream: true,
      includeUsage: true,
      parallelToolCalls: false,
    });
  });

  it.each([
    ["auto", { kind: "auto" }],
    ["none", { kind: "none" }],
    ["required", { kind: "required" }],
    [{ type: "function", function: { name: "weather" } }, { kind: "tool", name: "weather" }],
  ])("reads tool_choice %j", (toolChoice, expected) => {
    const tools = [{ type: "function", function: { name: "weather", parameters: { type: "object" } } }];
    expect(parseChatRequest(base({ tools, tool_choice: toolChoice }), "anthropic").toolChoice).toEqual(expected);
  });

  it.each([
    ["n above 1", { n: 2 }, "n"],
    ["the deprecated functions", { functions: [] }, "functions"],
    ["a non-function tool", { tools: [{ type: "web_search" }] }, "tools[0]"],
    ["a tool_choice naming an unknown tool", { tools: [], tool_choice: { type: "function", function: { name: "x" } } }, "tool_choice"],
    ["an audio part", { messages: [user([{ type: "input_audio", input_audio: { data: "", format: "wav" } }])] }, "messages[0].content[0]"],
    ["an image that is neither a data URL nor http(s)", { messages: [user([{ type: "image_url", image_url: { url: "ftp://x/y.png" } }])] }, "messages[0].content[0].image_url"],
    ["tool arguments that are not a JSON object", { messages: [user("a"), { role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "[1]" } }] }] }, "messages[1].tool_calls[0].function.arguments"],
    ["a tool message without tool_call_id", { messages: [user("a"), { role: "tool", content: "x" }] }, "messages[1].tool_call_id"],
    ["an unknown role", { messages: [{ role: "function", content: "x" }] }, "messages[0].role"],
    ["an empty user message", { messages: [user("")] }, "messages[0].content"],
    ["a temperature past 2", { temperature: 3 }, "temperature"],
    ["an unknown reasoning_effort", { reasoning_effort: "max" }, "reasoning_effort"],
    ["a response_format without a schema", { response_format: { type: "json_schema", json_schema: {} } }, "response_format"],
  ])("refuses %s with a 400 naming the parameter", (_, extra, param) => {
    const refused = refusal(base(extra));
    expect(refused.status).toBe(400);
    expect(refused.param).toBe(param);
  });

  it("names the provider in the message of a refused parameter", () => {
    expect(refusal(base({ n: 3 })).message).toBe("n is not supported by anthropic: only one choice (n: 1) can be generated.");
  });
});
