/**
 * Anthropic's non-streamed answers → OpenAI's: a Message becomes a
 * `chat.completion`, the model list (GET /v1/models, `{data, has_more, …}`
 * with RFC 3339 `created_at`) OpenAI's `{"object":"list","data":[…]}`.
 */
import { chatCompletion, JSON_RESPONSE_TOOL, type ChatResult, type ResultToolCall } from "../translate/chat-result.ts";
import { isObject } from "../translate/json.ts";
import { anthropicFinishReason } from "./stream.ts";
import { anthropicToOpenAIUsage, readAnthropicUsage } from "./usage.ts";

type Json = Record<string, unknown>;

/** A Messages `message` as a chat result; `jsonResponse` when the JSON response tool answers as content. */
export function anthropicMessageToResult(message: Json, fallback: { model: string; created: number; jsonResponse: boolean }): ChatResult {
  let text = "";
  let reasoning = "";
  let jsonAnswered = false;
  const toolCalls: ResultToolCall[] = [];
  for (const block of Array.isArray(message.content) ? message.content : []) {
    if (!isObject(block)) continue;
    if (block.type === "text" && typeof block.text === "string") text += block.text;
    else if (block.type === "thinking" && typeof block.thinking === "string") reasoning += block.thinking;
    else if (block.type === "tool_use" && fallback.jsonResponse && block.name === JSON_RESPONSE_TOOL) {
      text += JSON.stringify(block.input ?? {});
      jsonAnswered = true;
    } else if (block.type === "tool_use") {
      toolCalls.push({ id: String(block.id ?? ""), name: String(block.name ?? ""), arguments: JSON.stringify(block.input ?? {}) });
    }
  }
  const finish = anthropicFinishReason(message.stop_reason);
  return {
    id: typeof message.id === "string" ? message.id : "chatcmpl-anthropic",
    model: typeof message.model === "string" ? message.model : fallback.model,
    created: fallback.created,
    text,
    reasoning: reasoning === "" ? undefined : reasoning,
    toolCalls,
    finishReason: finish === "tool_calls" && jsonAnswered && toolCalls.length === 0 ? "stop" : finish,
    usage: anthropicToOpenAIUsage(readAnthropicUsage(message.usage)),
  };
}

/** A Messages `message` as OpenAI's `chat.completion`. */
export function anthropicMessageToCompletion(message: Json, fallback: { model: string; created: number; jsonResponse: boolean }): Json {
  return chatCompletion(anthropicMessageToResult(message, fallback));
}

/** One Anthropic model object as OpenAI's model object. */
export function anthropicModel(model: Json): Json {
  const created = typeof model.created_at === "string" ? Math.floor(Date.parse(model.created_at) / 1000) : 0;
  return { id: model.id, object: "model", created: Number.isFinite(created) ? created : 0, owned_by: "anthropic" };
}

/** Anthropic's model list as OpenAI's. */
export function anthropicModelList(list: Json): Json {
  return { object: "list", data: (Array.isArray(list.data) ? list.data : []).filter(isObject).map(anthropicModel) };
}
