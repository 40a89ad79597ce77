/**
 * Bedrock's non-streamed answers → OpenAI's: a Converse response becomes a
 * `chat.completion`; the model list is the configured one (Bedrock's own
 * ListFoundationModels is a control-plane call that IAM cannot scope to
 * models, and lists models the function may not invoke).
 */
import { modelOfPath } from "../../endpoints/match.ts";
import { chatCompletion, JSON_RESPONSE_TOOL, type ChatResult, type ResultToolCall } from "../translate/chat-result.ts";
import { errorAnswer, isObject, jsonAnswer } from "../translate/json.ts";
import type { ProviderCall, ProviderResponse } from "../types.ts";
import { bedrockFinishReason } from "./stream.ts";
import { converseUsage } from "./usage.ts";

type Json = Record<string, unknown>;

/** A Converse response as a chat result. */
export function converseToResult(response: Json, facts: { id: string; model: string; created: number; jsonResponse: boolean }): ChatResult {
  const output = isObject(response.output) ? response.output : {};
  const message = isObject(output.message) ? output.message : {};
  let text = "";
  let reasoning = "";
  let jsonAnswered = false;
  const toolCalls: ResultToolCall[] = [];
  for (const block of Array.isArray(message.content) ? message.content : []) {
    if (!isObject(block)) continue;
    if (typeof block.text === "string") text += block.text;
    else if (isObject(block.reasoningContent) && isObject(block.reasoningContent.reasoningText)) {
      const piece = block.reasoningContent.reasoningText.text;
      if (typeof piece === "string") reasoning += piece;
    } else if (isObject(block.toolUse)) {
      const { toolUseId, name, input } = block.toolUse;
      if (facts.jsonResponse && name === JSON_RESPONSE_TOOL) {
        text += JSON.stringify(input ?? {});
        jsonAnswered = true;
      } else {
        toolCalls.push({ id: String(toolUseId ?? ""), name: String(name ?? ""), arguments: JSON.stringify(input ?? {}) });
      }
    }
  }
  const finish = bedrockFinishReason(response.stopReason);
  return {
    id: facts.id,
    model: facts.model,
    created: facts.created,
    text,
    reasoning: reasoning === "" ? undefined : reasoning,
    toolCalls,
    finishReason: finish === "tool_calls" && jsonAnswered && toolCalls.length === 0 ? "stop" : finish,
    usage: converseUsage(response.usage),
  };
}

/** A Converse response as OpenAI's `chat.completion`. */
export function converseToCompletion(response: Json, facts: { id: string; model: string; created: number; jsonResponse: boolean }): Json {
  return chatCompletion(converseToResult(response, facts));
}

/** `GET /v1/models` and `/v1/models/{model}` from the configured models; undefined for other calls. */
export function configuredModelsAnswer(call: ProviderCall, models: readonly string[]): ProviderResponse | undefined {
  const model = (id: string) => ({ id, object: "model", created: 0, owned_by: "bedrock" });
  switch (call.endpoint.endpoint.name) {
    case "models.list":
      return jsonAnswer(200, { object: "list", data: models.map(model) });
    case "models.retrieve": {
      const id = modelOfPath(call.endpoint) ?? "";
      if (models.includes(id)) return jsonAnswer(200, model(id));
      return errorAnswer(404, `The model ${JSON.stringify(id.slice(0, 256))} is not among this gateway's Bedrock models.`, "model", "model_not_found");
    }
    default:
      return undefined;
  }
}
