/**
 * The clients people use, against Anthropic and Bedrock through the gateway:
 * the official openai SDK, the Vercel AI SDK (`@ai-sdk/openai`'s chat model)
 * and LangChain (`@langchain/openai`), each running a streamed tool-calling
 * turn (two parallel calls after a sentence) and its follow-up with the tool
 * results. The fakes refuse a follow-up whose tool results are not grouped
 * in one user turn, as the real APIs do.
 */
import { createOpenAI } from "@ai-sdk/openai";
import { AIMessageChunk, HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { jsonSchema, stepCountIs, streamText, tool } from "ai";
import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { useTestGateway } from "../support/gateway-fixture.ts";
import { translatedProvidersSetting, useFakeAnthropic, useFakeBedrock, useLocalAwsCredentials } from "../support/translated-fakes.ts";

const GATEWAY_KEY = "gw-clients-test-0123456789";
const WEATHER: Record<string, string> = { Paris: "18C in Paris", Oslo: "9C in Oslo" };
const FINAL = "The weather is 18C in Paris and 9C in Oslo.";
const SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] } as const;

const credentials = useLocalAwsCredentials();
const anthropic = useFakeAnthropic();
const bedrock = useFakeBedrock({ region: "us-east-1", credentials });
const fixture = useTestGateway(() => ({
  GATEWAY_PROVIDERS: translatedProvidersSetting(anthropic(), bedrock()),
  GATEWAY_API_KEYS: GATEWAY_KEY,
}));

const PROVIDERS = [
  { provider: "anthropic", model: "claude-sonnet-4-5", requests: () => anthropic().requests.map((request) => request.json) },
  { provider: "bedrock", model: "us.anthropic.claude-sonnet-4-20250514-v1:0", requests: () => bedrock().requests.map((request) => request.json) },
] as const;

/** What every client must have seen: the first turn's text and calls, and the follow-up's answer. */
function expectTwoTurns(firstText: string, calls: { id: string; name: string; args: unknown }[], finalText: string, requests: unknown[]): void {
  expect(firstText).toBe("Let me check both cities.");
  expect(calls).toEqual([
    { id: "toolu_01Paris", name: "weather", args: { city: "Paris" } },
    { id: "toolu_02Oslo", name: "weather", args: { city: "Oslo" } },
  ]);
  expect(finalText).toBe(FINAL);
  expect(requests).toHaveLength(2);
}

describe.each(PROVIDERS)("streamed tool calls through $provider", ({ provider, model, requests }) => {
  const baseURL = () => fixture.gateway.baseURL;

  it("with the official openai SDK", async () => {
    const client: OpenAI = fixture.gateway.client(GATEWAY_KEY, { "x-provider": provider });
    const tools = [{ type: "function" as const, function: { name: "weather", description: "Current weather", parameters: SCHEMA } }];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris and Oslo?" }];
    const first = client.chat.completions.stream({ model, messages, tools, stream_options: { include_usage: true } });
    const turn = await first.finalMessage();
    const calls = (turn.tool_calls ?? []).map((call) => ({ id: call.id, name: call.type === "function" ? call.function.name : "", args: call.type === "function" ? JSON.parse(call.function.arguments) : undefined }));
    messages.push(turn, ...calls.map((call) => ({ role: "tool" as const, tool_call_id: call.id, content: WEATHER[call.args.city] ?? "" })));
    const second = client.chat.completions.stream({ model, messages, tools });
    const final = await second.finalMessage();
    expectTwoTurns(turn.content ?? "", calls, final.content ?? "", requests());
    expect((await first.totalUsage()).prompt_tokens).toBe(150);
  });

  it("with the Vercel AI SDK", async () => {
    const openai = createOpenAI({ baseURL: baseURL(), apiKey: GATEWAY_KEY, headers: { "x-provider": provider } });
    const result = streamText({
      model: openai.chat(model),
      prompt: "Weather in Paris and Oslo?",
      tools: {
        weather: tool({ description: "Current weather", inputSchema: jsonSchema<{ city: string }>(SCHEMA), execute: async ({ city }) => WEATHER[city] ?? "" }),
      },
      stopWhen: stepCountIs(2),
    });
    const steps = await result.steps;
    const calls = (steps[0]?.toolCalls ?? []).map((call) => ({ id: call.toolCallId, name: call.toolName, args: call.input }));
    expectTwoTurns(steps[0]?.text ?? "", calls, steps[1]?.text ?? "", requests());
  });

  it("with LangChain", async () => {
    const chat = new ChatOpenAI({ model, apiKey: GATEWAY_KEY, streaming: true, maxRetries: 0, configuration: { baseURL: baseURL(), defaultHeaders: { "x-provider": provider } } }).bindTools([
      { type: "function", function: { name: "weather", description: "Current weather", parameters: SCHEMA } },
    ]);
    const history: BaseMessage[] = [new HumanMessage("Weather in Paris and Oslo?")];
    const collect = async () => {
      let full: AIMessageChunk | undefined;
      for await (const chunk of await chat.stream(history)) full = full === undefined ? chunk : full.concat(chunk);
      return full as AIMessageChunk;
    };
    const turn = await collect();
    const calls = (turn.tool_calls ?? []).map((call) => ({ id: call.id ?? "", name: call.name, args: call.args }));
    history.push(turn, ...calls.map((call) => new ToolMessage({ tool_call_id: call.id, content: WEATHER[(call.args as { city: string }).city] ?? "" })));
    const final = await collect();
    expectTwoTurns(typeof turn.content === "string" ? turn.content : "", calls, typeof final.content === "string" ? final.content : "", requests());
  });
});
