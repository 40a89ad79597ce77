/**
 * Bedrock's token usage in OpenAI's terms. Converse's `TokenUsage` reports
 * `inputTokens` apart from `cacheReadInputTokens` and `cacheWriteInputTokens`
 * (as Anthropic does; opencode #38427 found the same reading the wire), so
 * OpenAI's `prompt_tokens` is their sum. InvokeModel answers (embeddings)
 * carry their counts in the `x-amzn-bedrock-input-token-count` header.
 */
import { openAIUsage, type OpenAIUsage } from "../translate/chat-result.ts";
import { isObject } from "../translate/json.ts";

/** OpenAI's usage for a Converse `usage` object, if there is one. */
export function converseUsage(raw: unknown): OpenAIUsage | undefined {
  if (!isObject(raw)) return undefined;
  return openAIUsage({
    input: count(raw.inputTokens),
    output: count(raw.outputTokens),
    cacheRead: count(raw.cacheReadInputTokens),
    cacheWrite: count(raw.cacheWriteInputTokens),
  });
}

/** The input token count InvokeModel reports in its headers. */
export const INPUT_TOKEN_HEADER = "x-amzn-bedrock-input-token-count";

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}
