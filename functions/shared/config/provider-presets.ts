/**
 * The provider presets: how to reach each kind of provider, as data. A
 * configured provider names a preset and may override its base URL; the
 * provider module (providers/compatible.ts) reads the row for its URL, auth
 * style and capabilities, and applies the preset's wire quirks.
 *
 * Why each row says what it says (the research behind the quirks):
 * - `streamUsageOption` is false where the provider refuses or ignores
 *   `stream_options`: Mistral answers 422 `extra_forbidden` for it
 *   (avante.nvim#2347, anon-kode#53) and reports usage in its last chunk
 *   anyway; Groq reports streamed usage in `x_groq.usage` on the last chunk
 *   (read by usage/usage-readers.ts); OpenRouter documents `include_usage` as
 *   "deprecated, no effect: full usage details are always included"
 *   (openrouter.ai/docs ChatStreamOptions); Portkey's Together and Fireworks
 *   configs (src/providers/together-ai, fireworks-ai/chatComplete.ts) do not
 *   forward the option and read `usage` from the last chunk. Gemini's
 *   OpenAI endpoint takes it and puts usage on its last content chunk
 *   (envoyproxy/ai-gateway#1503); xAI, DeepSeek, vLLM and Ollama take it.
 *   Azure takes it from api-version 2024-09-01-preview on (and in the v1 API);
 *   providers/azure-openai.ts decides by the configured version.
 * - `keyRequired` is false for servers that usually run without a key
 *   (vLLM without `--api-key`, Ollama, any self-hosted server).
 * - `priceProvider` is the provider's id in the price catalogue
 *   (@pydantic/genai-prices); self-hosted models have no list price.
 * - `anthropic` and `bedrock` speak their own wire, translated to and from
 *   OpenAI's by providers/anthropic/ and providers/bedrock/. Anthropic wants
 *   its key as `x-api-key` with `anthropic-version`; Bedrock signs with SigV4
 *   (the AWS default credential chain: the function's role) unless a Bedrock
 *   API key is configured, so it needs no key, and its base URL comes from
 *   the entry's `region`. Both always report usage, so the gateway may ask
 *   for the usage chunk and hide it again.
 */

/** How a provider wants its key. */
export type AuthStyle = "bearer" | "api-key" | "x-api-key" | "aws";

/** One preset. */
export interface ProviderPreset {
  /** The base URL (with its version prefix) when the entry gives none; absent means the entry must give one. */
  readonly baseUrl?: string;
  readonly auth: AuthStyle;
  /** Whether the gateway adds `stream_options.include_usage` to streams (and hides it again). */
  readonly streamUsageOption: boolean;
  /** Whether a managed call without a configured key is a misconfiguration. */
  readonly keyRequired: boolean;
  /** The provider's id in the price catalogue, when it has list prices. */
  readonly priceProvider?: string;
}

/** Every preset by name. */
export const PROVIDER_PRESETS = {
  openai: { baseUrl: "https://api.openai.com/v1", auth: "bearer", streamUsageOption: true, keyRequired: true, priceProvider: "openai" },
  "openai-compatible": { auth: "bearer", streamUsageOption: false, keyRequired: false },
  "azure-openai": { auth: "api-key", streamUsageOption: true, keyRequired: true, priceProvider: "azure" },
  groq: { baseUrl: "https://api.groq.com/openai/v1", auth: "bearer", streamUsageOption: false, keyRequired: true, priceProvider: "groq" },
  mistral: { baseUrl: "https://api.mistral.ai/v1", auth: "bearer", streamUsageOption: false, keyRequired: true, priceProvider: "mistral" },
  deepseek: { baseUrl: "https://api.deepseek.com/v1", auth: "bearer", streamUsageOption: true, keyRequired: true, priceProvider: "deepseek" },
  together: { baseUrl: "https://api.together.xyz/v1", auth: "bearer", streamUsageOption: false, keyRequired: true, priceProvider: "together" },
  fireworks: { baseUrl: "https://api.fireworks.ai/inference/v1", auth: "bearer", streamUsageOption: false, keyRequired: true, priceProvider: "fireworks" },
  openrouter: { baseUrl: "https://openrouter.ai/api/v1", auth: "bearer", streamUsageOption: false, keyRequired: true, priceProvider: "openrouter" },
  xai: { baseUrl: "https://api.x.ai/v1", auth: "bearer", streamUsageOption: true, keyRequired: true, priceProvider: "x-ai" },
  gemini: { baseUrl: "https://generativelanguage.googleapis.com/v1beta/openai", auth: "bearer", streamUsageOption: true, keyRequired: true, priceProvider: "google" },
  ollama: { baseUrl: "http://localhost:11434/v1", auth: "bearer", streamUsageOption: true, keyRequired: false },
  vllm: { baseUrl: "http://localhost:8000/v1", auth: "bearer", streamUsageOption: true, keyRequired: false },
  anthropic: { baseUrl: "https://api.anthropic.com/v1", auth: "x-api-key", streamUsageOption: true, keyRequired: true, priceProvider: "anthropic" },
  bedrock: { auth: "aws", streamUsageOption: true, keyRequired: false, priceProvider: "aws" },
} as const satisfies Record<string, ProviderPreset>;

/** A preset's name. */
export type PresetName = keyof typeof PROVIDER_PRESETS;

/** Whether a string names a preset. */
export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(PROVIDER_PRESETS, name);
}
