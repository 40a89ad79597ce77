/**
 * Anthropic's token usage, in OpenAI's terms. Messages reports
 * `input_tokens` without the cached part: `cache_read_input_tokens` and
 * `cache_creation_input_tokens` come on top, so OpenAI's `prompt_tokens` is
 * their sum (translate/chat-result.ts). In a stream, `message_start` holds
 * the input side and `message_delta` the cumulative output (and, in newer
 * API versions, the input fields again): the latest value of each field wins.
 */
import { openAIUsage, type OpenAIUsage } from "../translate/chat-result.ts";

/** Anthropic's usage fields, read so far. */
export interface AnthropicUsage {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
}

export const NO_USAGE: AnthropicUsage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

/** Lays an Anthropic usage object over what was read before. */
export function readAnthropicUsage(raw: unknown, previous: AnthropicUsage = NO_USAGE): AnthropicUsage {
  if (typeof raw !== "object" || raw === null) return previous;
  const usage = raw as Record<string, unknown>;
  return {
    input: count(usage.input_tokens) ?? previous.input,
    output: count(usage.output_tokens) ?? previous.output,
    cacheRead: count(usage.cache_read_input_tokens) ?? previous.cacheRead,
    cacheWrite: count(usage.cache_creation_input_tokens) ?? previous.cacheWrite,
  };
}

/** OpenAI's usage object for Anthropic's counts. */
export function anthropicToOpenAIUsage(usage: AnthropicUsage): OpenAIUsage {
  return openAIUsage(usage);
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}
