/**
 * OpenAI chat completion → Anthropic Messages request (POST /v1/messages),
 * pure. The parameter treatment is data (translate/chat-parameters.ts); what
 * Messages wants differently is decided here:
 * - `max_tokens` is required: the caller's, else {@link DEFAULT_MAX_TOKENS};
 * - `temperature` is capped at 1 (Messages' range is 0-1; Anthropic's own
 *   OpenAI layer caps it the same way), and `top_p` is dropped when a
 *   temperature is sent too: current Claude models refuse both at once
 *   ("temperature and top_p cannot both be specified for this model");
 * - `reasoning_effort` is extended thinking with a token budget
 *   ({@link THINKING_BUDGETS}), which must stay below `max_tokens`;
 * - images are base64 blocks, or URL blocks that Anthropic fetches itself;
 * - `response_format` is a forced tool (translate/chat-result.ts).
 */
import { InvalidRequestError } from "../../http/errors.ts";
import type { ChatPart, ChatRequest, ChatTurn, ImageSource, ReasoningEffort, ToolResultPart } from "../translate/chat-request.ts";
import { JSON_RESPONSE_TOOL, jsonResponseTool } from "../translate/chat-result.ts";

type Json = Record<string, unknown>;

/** The Messages API version the gateway speaks (the `anthropic-version` header Anthropic's SDKs send). */
export const ANTHROPIC_VERSION = "2023-06-01";

/** `max_tokens` when the caller gives none (Messages requires one). */
export const DEFAULT_MAX_TOKENS = 4096;

/** Thinking budget in tokens by `reasoning_effort` (1,024 is Messages' minimum). */
export const THINKING_BUDGETS: Readonly<Record<Exclude<ReasoningEffort, "none">, number>> = { minimal: 1024, low: 2048, medium: 8192, high: 16384 };

/**
 * The Messages request for a chat request.
 * @throws {InvalidRequestError} for combinations Messages cannot take
 */
export function toAnthropicRequest(chat: ChatRequest): Json {
  const budget = chat.reasoningEffort === undefined || chat.reasoningEffort === "none" ? undefined : THINKING_BUDGETS[chat.reasoningEffort];
  const maxTokens = chat.maxTokens ?? (budget === undefined ? DEFAULT_MAX_TOKENS : budget + DEFAULT_MAX_TOKENS);
  if (budget !== undefined && maxTokens <= budget) {
    throw new InvalidRequestError(
      `max_completion_tokens (${maxTokens}) must be larger than the thinking budget of reasoning_effort ${chat.reasoningEffort} (${budget} tokens).`,
      { param: "max_completion_tokens" },
    );
  }
  const body: Json = { model: chat.model, max_tokens: maxTokens, messages: chat.turns.map(anthropicTurn) };
  if (chat.system.length > 0) body.system = chat.system.map((text) => ({ type: "text", text }));
  if (chat.temperature !== undefined) body.temperature = Math.min(chat.temperature, 1);
  else if (chat.topP !== undefined) body.top_p = chat.topP;
  if (chat.stop.length > 0) body.stop_sequences = chat.stop;
  Object.assign(body, toolFields(chat));
  if (budget !== undefined) body.thinking = { type: "enabled", budget_tokens: budget };
  if (chat.user !== undefined) body.metadata = { user_id: chat.user };
  if (chat.stream) body.stream = true;
  return body;
}

function toolFields(chat: ChatRequest): Json {
  if (chat.responseFormat !== undefined) {
    if (chat.tools.length > 0) {
      throw new InvalidRequestError("response_format cannot be combined with tools for this provider: it is answered through a forced tool.", {
        param: "response_format",
      });
    }
    const schema = chat.responseFormat.kind === "json_schema" ? chat.responseFormat.schema : undefined;
    return { tools: [anthropicTool(jsonResponseTool(schema))], tool_choice: { type: "tool", name: JSON_RESPONSE_TOOL } };
  }
  if (chat.tools.length === 0) return {};
  const disable = chat.parallelToolCalls ? {} : { disable_parallel_tool_use: true };
  const choice = chat.toolChoice;
  const toolChoice =
    choice.kind === "none"
      ? { type: "none" }
      : choice.kind === "required"
        ? { type: "any", ...disable }
        : choice.kind === "tool"
          ? { type: "tool", name: choice.name, ...disable }
          : { type: "auto", ...disable };
  return { tools: chat.tools.map(anthropicTool), tool_choice: toolChoice };
}

function anthropicTool(tool: { name: string; description?: string; parameters: Readonly<Json> }): Json {
  return { name: tool.name, ...(tool.description === undefined ? {} : { description: tool.description }), input_schema: tool.parameters };
}

function anthropicTurn(turn: ChatTurn): Json {
  return { role: turn.role, content: turn.parts.map(anthropicBlock) };
}

function anthropicBlock(part: ChatPart): Json {
  switch (part.type) {
    case "text":
      return { type: "text", text: part.text };
    case "image":
      return anthropicImage(part.source);
    case "tool_call":
      return { type: "tool_use", id: part.id, name: part.name, input: part.input };
    case "tool_result":
      return { type: "tool_result", tool_use_id: part.toolCallId, content: toolResultContent(part.content) };
  }
}

/** A tool result's content: a string when it is all text (joined), else blocks. */
function toolResultContent(content: readonly ToolResultPart[]): string | Json[] {
  if (content.every((part) => part.type === "text")) return content.map((part) => (part as { text: string }).text).join("\n");
  return content.filter((part) => part.type !== "text" || part.text !== "").map((part) => (part.type === "text" ? { type: "text", text: part.text } : anthropicImage(part.source)));
}

function anthropicImage(source: ImageSource): Json {
  return source.kind === "base64"
    ? { type: "image", source: { type: "base64", media_type: source.mediaType, data: source.data } }
    : { type: "image", source: { type: "url", url: source.url } };
}
