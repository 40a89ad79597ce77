/**
 * A finished chat answer, provider-neutral, and OpenAI's `chat.completion`
 * made from it. Both translating providers read their native answer into a
 * {@link ChatResult}; this one function writes the OpenAI object, so the two
 * cannot drift apart.
 */

/** OpenAI's `finish_reason` values the translations produce. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/** OpenAI's usage object, as chat completions report it. */
export interface OpenAIUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
  readonly prompt_tokens_details: { readonly cached_tokens: number };
}

/** A tool call of the answer, arguments as a JSON string. */
export interface ResultToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** A finished answer. */
export interface ChatResult {
  readonly id: string;
  readonly model: string;
  /** Seconds since the epoch. */
  readonly created: number;
  readonly text: string;
  /** The model's reasoning (extended thinking), when it showed any. */
  readonly reasoning?: string;
  readonly toolCalls: readonly ResultToolCall[];
  readonly finishReason: FinishReason;
  readonly usage?: OpenAIUsage;
}

/**
 * The usage OpenAI would report: cache reads and cache writes are input
 * tokens too, so they count inside `prompt_tokens` (Anthropic and Bedrock
 * report them apart from `input_tokens`); reads are also
 * `prompt_tokens_details.cached_tokens`, OpenAI's field for the discounted share.
 */
export function openAIUsage(input: { input: number; output: number; cacheRead?: number; cacheWrite?: number }): OpenAIUsage {
  const cacheRead = input.cacheRead ?? 0;
  const prompt = input.input + cacheRead + (input.cacheWrite ?? 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: input.output,
    total_tokens: prompt + input.output,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
}

/**
 * OpenAI's `chat.completion` for a result. The reasoning goes in
 * `message.reasoning_content`, the field DeepSeek, vLLM and LiteLLM use and
 * OpenAI's SDKs pass through untouched.
 */
export function chatCompletion(result: ChatResult): Record<string, unknown> {
  const message: Record<string, unknown> = { role: "assistant", content: result.text === "" && result.toolCalls.length > 0 ? null : result.text, refusal: null };
  if (result.reasoning !== undefined && result.reasoning !== "") message.reasoning_content = result.reasoning;
  if (result.toolCalls.length > 0) {
    message.tool_calls = result.toolCalls.map((call) => ({ id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } }));
  }
  return {
    id: result.id,
    object: "chat.completion",
    created: result.created,
    model: result.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: result.finishReason }],
    ...(result.usage === undefined ? {} : { usage: result.usage }),
  };
}

/** The name of the tool that carries a `response_format` answer (see {@link jsonResponseTool}). */
export const JSON_RESPONSE_TOOL = "json_response";

/**
 * `response_format` on providers without a JSON mode: a tool whose input
 * schema is the requested schema, forced with tool choice; its input is the
 * answer, returned as the message's content (LiteLLM translates
 * `response_format` for Anthropic the same way).
 */
export function jsonResponseTool(schema: Readonly<Record<string, unknown>> | undefined): { name: string; description: string; parameters: Readonly<Record<string, unknown>> } {
  return {
    name: JSON_RESPONSE_TOOL,
    description: "Respond with a JSON object that matches the schema.",
    parameters: schema ?? { type: "object" },
  };
}
