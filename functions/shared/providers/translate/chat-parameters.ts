/**
 * What becomes of each OpenAI chat completion parameter on a provider that
 * speaks another wire (Anthropic Messages, Bedrock Converse), as data: the
 * request parser refuses what is `refused`, the mappings read what is
 * `mapped`, and what is `ignored` is dropped, as Anthropic's own OpenAI
 * compatibility layer documents for the same fields
 * (platform.claude.com/docs/en/cli-sdks-libraries/libraries/openai-sdk:
 * logprobs, metadata, prediction, penalties, seed, service_tier, audio,
 * logit_bias, store, modalities, top_logprobs are "Ignored"; `n` "must be
 * exactly 1"). The README's mapping tables are this table in prose.
 */

/** How a parameter is treated. */
export interface ParameterRule {
  readonly treatment: "mapped" | "ignored" | "refused";
  /** For a refused parameter: the values that are nevertheless fine (e.g. `n: 1`). */
  readonly allows?: (value: unknown) => boolean;
  /** Why, as the 400's message or the README says it. */
  readonly note: string;
}

const mapped = (note: string): ParameterRule => ({ treatment: "mapped", note });
const ignored = (note: string): ParameterRule => ({ treatment: "ignored", note });

/** Every OpenAI chat completion parameter the gateway knows, by name. */
export const OPENAI_PARAMETERS: Readonly<Record<string, ParameterRule>> = {
  model: mapped("the provider's model id"),
  messages: mapped("system/developer hoisted; user, assistant and tool turns translated"),
  max_completion_tokens: mapped("the provider's output token limit"),
  max_tokens: mapped("the provider's output token limit (max_completion_tokens wins)"),
  temperature: mapped("passed on (Anthropic: capped at 1)"),
  top_p: mapped("passed on (Anthropic: dropped when temperature is also sent)"),
  stop: mapped("stop sequences"),
  stream: mapped("the provider's stream, translated to chat.completion.chunk events"),
  stream_options: mapped("include_usage: a final usage chunk"),
  tools: mapped("function tools only"),
  tool_choice: mapped("auto, required, none, or a named function"),
  parallel_tool_calls: mapped("false: Anthropic's disable_parallel_tool_use; Bedrock has no equivalent (ignored)"),
  response_format: mapped("json_schema and json_object: a forced tool whose input is the JSON answer"),
  reasoning_effort: mapped("extended thinking with a token budget by effort"),
  user: mapped("Anthropic metadata.user_id; Bedrock requestMetadata.user"),
  n: { treatment: "refused", allows: (value) => value === 1, note: "only one choice (n: 1) can be generated." },
  functions: { treatment: "refused", note: "the deprecated functions parameter is not translated; send tools." },
  function_call: { treatment: "refused", note: "the deprecated function_call parameter is not translated; send tool_choice." },
  logprobs: ignored("no log probabilities; logprobs is null"),
  top_logprobs: ignored("no log probabilities"),
  logit_bias: ignored("not available"),
  presence_penalty: ignored("not available"),
  frequency_penalty: ignored("not available"),
  seed: ignored("not available"),
  metadata: ignored("OpenAI's stored-completion metadata"),
  store: ignored("nothing is stored"),
  service_tier: ignored("not available"),
  prediction: ignored("not available"),
  modalities: ignored("text only"),
  audio: ignored("text only"),
};
