/**
 * OpenAI chat completion → Bedrock Converse / ConverseStream request, pure
 * (docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html).
 * What Converse wants differently from OpenAI:
 * - the model is in the URL, {@link modelPath}: percent-encoded as the AWS
 *   SDK encodes its path labels, so inference profile ARNs
 *   (`…:inference-profile/us.anthropic…`, with a slash) and ids with colons
 *   stay one segment (envoyproxy/ai-gateway #1332, Portkey #1092,
 *   anthropic-sdk-go #185 all had to fix this);
 * - images are bytes only: an http(s) image URL is refused with a 400, never
 *   fetched by the gateway;
 * - `tool_choice: "none"` does not exist: without tool turns in the
 *   conversation the tools are left out, which means the same; with them
 *   (Converse then requires `toolConfig`) it is refused;
 * - `parallel_tool_calls` has no equivalent and is ignored;
 * - `reasoning_effort` is Claude's extended thinking, in
 *   `additionalModelRequestFields` (other models refuse the field);
 * - `user` becomes `requestMetadata.user`, which Bedrock's invocation logs show.
 * `stream_options` is never sent: Converse refuses unknown keys (LiteLLM #9916)
 * and always reports usage.
 */
import { InvalidRequestError } from "../../http/errors.ts";
import { DEFAULT_MAX_TOKENS, THINKING_BUDGETS } from "../anthropic/request.ts";
import type { ChatPart, ChatRequest, ChatTurn, ImageSource } from "../translate/chat-request.ts";
import { JSON_RESPONSE_TOOL, jsonResponseTool } from "../translate/chat-result.ts";

type Json = Record<string, unknown>;

/** What Bedrock accepts as a request metadata value (API_runtime_Converse.html, `requestMetadata`). */
const METADATA_VALUE = /^[a-zA-Z0-9\s:_@$#=/+,.-]{0,256}$/;

/**
 * The path of a model's operation, e.g. `/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream`.
 * @throws {InvalidRequestError} for a model id that cannot be one
 */
export function modelPath(model: string, operation: "converse" | "converse-stream" | "invoke"): string {
  if (model === "" || model === "." || model === ".." || model.length > 2048) {
    throw new InvalidRequestError("model must be a Bedrock model id, inference profile id or ARN.", { param: "model" });
  }
  return `/model/${encodePathLabel(model)}/${operation}`;
}

/** The AWS SDK's path-label encoding (smithy `extendedEncodeURIComponent`): every reserved character, `/` included. */
export function encodePathLabel(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The Converse request body for a chat request.
 * @throws {InvalidRequestError} for what Converse cannot take
 */
export function toConverseRequest(chat: ChatRequest): Json {
  const body: Json = { messages: chat.turns.map(converseTurn) };
  if (chat.system.length > 0) body.system = chat.system.map((text) => ({ text }));
  const budget = chat.reasoningEffort === undefined || chat.reasoningEffort === "none" ? undefined : THINKING_BUDGETS[chat.reasoningEffort];
  const inference: Json = {};
  const maxTokens = chat.maxTokens ?? (budget === undefined ? undefined : budget + DEFAULT_MAX_TOKENS);
  if (maxTokens !== undefined) inference.maxTokens = maxTokens;
  if (chat.temperature !== undefined) inference.temperature = chat.temperature;
  if (chat.topP !== undefined) inference.topP = chat.topP;
  if (chat.stop.length > 0) inference.stopSequences = chat.stop;
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  const toolConfig = converseToolConfig(chat);
  if (toolConfig !== undefined) body.toolConfig = toolConfig;
  if (budget !== undefined) body.additionalModelRequestFields = { thinking: { type: "enabled", budget_tokens: budget } };
  if (chat.user !== undefined) {
    if (!METADATA_VALUE.test(chat.user)) {
      throw new InvalidRequestError("user must be at most 256 characters of letters, digits, spaces and : _ @ $ # = / + , . - for Bedrock.", { param: "user" });
    }
    body.requestMetadata = { user: chat.user };
  }
  return body;
}

function converseToolConfig(chat: ChatRequest): Json | undefined {
  if (chat.responseFormat !== undefined) {
    if (chat.tools.length > 0) {
      throw new InvalidRequestError("response_format cannot be combined with tools for this provider: it is answered through a forced tool.", {
        param: "response_format",
      });
    }
    const schema = chat.responseFormat.kind === "json_schema" ? chat.responseFormat.schema : undefined;
    return { tools: [converseTool(jsonResponseTool(schema))], toolChoice: { tool: { name: JSON_RESPONSE_TOOL } } };
  }
  if (chat.tools.length === 0) return undefined;
  const choice = chat.toolChoice;
  if (choice.kind === "none") {
    const toolTurns = chat.turns.some((turn) => turn.parts.some((part) => part.type === "tool_call" || part.type === "tool_result"));
    if (!toolTurns) return undefined;
    throw new InvalidRequestError('tool_choice "none" is not available on Bedrock for a conversation with tool calls; send "auto" or leave the tools out.', {
      param: "tool_choice",
    });
  }
  const toolChoice = choice.kind === "required" ? { any: {} } : choice.kind === "tool" ? { tool: { name: choice.name } } : { auto: {} };
  return { tools: chat.tools.map(converseTool), toolChoice };
}

function converseTool(tool: { name: string; description?: string; parameters: Readonly<Json> }): Json {
  const description = tool.description === undefined || tool.description === "" ? {} : { description: tool.description };
  return { toolSpec: { name: tool.name, ...description, inputSchema: { json: tool.parameters } } };
}

function converseTurn(turn: ChatTurn): Json {
  return { role: turn.role, content: turn.parts.map(converseBlock) };
}

function converseBlock(part: ChatPart): Json {
  switch (part.type) {
    case "text":
      return { text: part.text };
    case "image":
      return converseImage(part.source);
    case "tool_call":
      return { toolUse: { toolUseId: part.id, name: part.name, input: part.input } };
    case "tool_result":
      return {
        toolResult: {
          toolUseId: part.toolCallId,
          content: part.content.map((item) => (item.type === "text" ? { text: item.text } : converseImage(item.source))),
        },
      };
  }
}

function converseImage(source: ImageSource): Json {
  if (source.kind === "url") {
    throw new InvalidRequestError("Bedrock takes images only as base64 data URLs (data:image/png;base64,…); the gateway does not fetch image URLs.", {
      param: "messages",
      code: "unsupported_content",
    });
  }
  return { image: { format: source.mediaType.slice("image/".length), source: { bytes: source.data } } };
}
