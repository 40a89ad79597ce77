import { describe, expect, it } from "vitest";
import { GatewayError } from "../../functions/shared/http/errors.ts";
import { modelPath, toConverseRequest } from "../../functions/shared/providers/bedrock/request.ts";
import { parseChatRequest } from "../../functions/shared/providers/translate/chat-request.ts";

const weather = { type: "function", function: { name: "weather", description: "Weather of a city", parameters: { type: "object", properties: { city: { type: "string" } } } } };

function converse(extra: Record<string, unknown>): Record<string, unknown> {
  return toConverseRequest(parseChatRequest({ model: "anthropic.claude-3-haiku-20240307-v1:0", messages: [{ role: "user", content: "Hi" }], ...extra }, "bedrock"));
}

function refusal(extra: Record<string, unknown>): GatewayError {
  try {
    converse(extra);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error("expected a refusal");
}

describe("model ids in Bedrock's URL", () => {
  it.each([
    ["a foundation model id", "anthropic.claude-3-haiku-20240307-v1:0", "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"],
    ["a cross-region inference profile", "us.anthropic.claude-sonnet-4-20250514-v1:0", "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse"],
    ["a global inference profile", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "/model/global.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"],
    [
      "an application inference profile ARN (one segment: its slash encoded)",
      "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/a1b2c3",
      "/model/arn%3Aaws%3Abedrock%3Aeu-west-1%3A123456789012%3Aapplication-inference-profile%2Fa1b2c3/converse",
    ],
  ])("encodes %s as one path segment", (_, model, path) => {
    expect(modelPath(model, "converse")).toBe(path);
  });

  it.each(["", ".", ".."])("refuses the model id %j", (model) => {
    expect(() => modelPath(model, "converse")).toThrow(/Bedrock model id/);
  });
});

describe("OpenAI chat request → Bedrock Converse", () => {
  it.each([
    ["max_tokens, temperature, top_p and stop in inferenceConfig", { max_tokens: 64, temperature: 1.5, top_p: 0.9, stop: "END" }, { inferenceConfig: { maxTokens: 64, temperature: 1.5, topP: 0.9, stopSequences: ["END"] } }],
    ["user as requestMetadata", { user: "team-a:user@example.com" }, { requestMetadata: { user: "team-a:user@example.com" } }],
    ["reasoning_effort as Claude's thinking in additionalModelRequestFields", { reasoning_effort: "medium" }, { additionalModelRequestFields: { thinking: { type: "enabled", budget_tokens: 8192 } }, inferenceConfig: { maxTokens: 8192 + 4096 } }],
    ["tools as toolSpecs, auto by default", { tools: [weather] }, { toolConfig: { tools: [{ toolSpec: { name: "weather", description: "Weather of a city", inputSchema: { json: weather.function.parameters } } }], toolChoice: { auto: {} } } }],
    ["tool_choice required as any", { tools: [weather], tool_choice: "required" }, { toolConfig: { toolChoice: { any: {} } } }],
    ["a named tool_choice as tool", { tools: [weather], tool_choice: { type: "function", function: { name: "weather" } } }, { toolConfig: { toolChoice: { tool: { name: "weather" } } } }],
    ["response_format as a forced json_response tool", { response_format: { type: "json_object" } }, { toolConfig: { tools: [{ toolSpec: { name: "json_response", inputSchema: { json: { type: "object" } } } }], toolChoice: { tool: { name: "json_response" } } } }],
  ])("%s", (_, extra, expected) => {
    expect(converse(extra)).toMatchObject(expected);
  });

  it.each([
    ["no inferenceConfig without parameters (Converse has its own defaults)", {}, "inferenceConfig"],
    ["tool_choice none without tool turns as no tools at all", { tools: [weather], tool_choice: "none" }, "toolConfig"],
  ])("%s", (_, extra, absent) => {
    expect(converse(extra)).not.toHaveProperty(absent);
  });

  it("never sends stream_options, which Converse refuses (LiteLLM #9916)", () => {
    const body = converse({ stream: true, stream_options: { include_usage: true } });
    expect(JSON.stringify(body)).not.toMatch(/include_usage|stream/);
  });

  it("maps system, images as bytes, tool calls and grouped tool results", () => {
    const body = converse({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Look" }, { type: "image_url", image_url: { url: "data:image/webp;base64,UklGRg==" } }] },
        { role: "assistant", content: "On it.", tool_calls: [{ id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } }, { id: "call_2", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } }] },
        { role: "tool", tool_call_id: "call_1", content: "9C" },
        { role: "tool", tool_call_id: "call_2", content: "21C" },
      ],
      tools: [weather],
    });
    expect(body.system).toEqual([{ text: "Be brief." }]);
    expect(body.messages).toEqual([
      { role: "user", content: [{ text: "Look" }, { image: { format: "webp", source: { bytes: "UklGRg==" } } }] },
      {
        role: "assistant",
        content: [{ text: "On it." }, { toolUse: { toolUseId: "call_1", name: "weather", input: { city: "Oslo" } } }, { toolUse: { toolUseId: "call_2", name: "weather", input: { city: "Rome" } } }],
      },
      {
        role: "user",
        content: [{ toolResult: { toolUseId: "call_1", content: [{ text: "9C" }] } }, { toolResult: { toolUseId: "call_2", content: [{ text: "21C" }] } }],
      },
    ]);
  });

  it.each([
    ["an http(s) image URL (never fetched by the gateway)", { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x.test/a.png" } }] }] }, "messages", /data URLs/],
    [
      "tool_choice none in a conversation with tool calls",
      { tools: [weather], tool_choice: "none", messages: [{ role: "user", content: "a" }, { role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "weather", arguments: "{}" } }] }, { role: "tool", tool_call_id: "c", content: "x" }] },
      "tool_choice",
      /not available on Bedrock/,
    ],
    ["a user Bedrock's metadata cannot hold", { user: "a\u00e9b" }, "user", /at most 256 characters/],
  ])("refuses %s with a 400", (_, extra, param, message) => {
    const error = refusal(extra);
    expect(error.status).toBe(400);
    expect(error.param).toBe(param);
    expect(error.message).toMatch(message);
  });
});
