/**
 * Providers that speak OpenAI's wire at their own base URL: the
 * `openai-compatible` preset and the named ones (Groq, Mistral, DeepSeek,
 * Together, Fireworks, OpenRouter, xAI, Gemini's OpenAI endpoint, Ollama,
 * vLLM), plus Anthropic and Bedrock, whose modules translate their wires.
 * Their preset row (config/provider-presets.ts) gives the URL, the
 * auth style and the capabilities; what differs on the wire is smoothed here:
 *
 * - Error bodies come in several shapes; `decode` turns each into OpenAI's
 *   (providers/error-body.ts lists them with their sources).
 * - Streams need no rewriting. OpenRouter's `: OPENROUTER PROCESSING` and
 *   DeepSeek's `: keep-alive` are SSE comment lines, which the official SDK's
 *   decoder skips (openai-node `SSEDecoder.decode`: `if (line.startsWith(':')) return null`;
 *   OpenRouter's streaming docs and DeepSeek's rate-limit page say the same
 *   of their comments), and the gateway's stream monitor accepts.
 * - Usage arrives where the preset sends it: Groq's `x_groq.usage`,
 *   DeepSeek's `prompt_cache_hit_tokens` (usage/usage-readers.ts).
 */
import { PROVIDER_PRESETS } from "../config/provider-presets.ts";
import type { ProviderSettings } from "../config/provider-settings.ts";
import { decodeErrorResponse } from "./decode-errors.ts";
import { apiKeyAuthorization, bearerAuthorization, createOpenAIProvider, prepareAt } from "./openai.ts";
import { createAnthropicProvider } from "./anthropic/index.ts";
import { createAzureOpenAIProvider } from "./azure-openai.ts";
import { createBedrockProvider } from "./bedrock/index.ts";
import type { HttpProvider } from "./types.ts";

/** Creates the provider a configured entry describes. */
export function createConfiguredProvider(name: string, settings: ProviderSettings): HttpProvider {
  if (settings.preset === "openai") return createOpenAIProvider(settings, name);
  if (settings.preset === "azure-openai") return createAzureOpenAIProvider(name, settings);
  // Anthropic and Bedrock speak their own wire: their modules translate it.
  if (settings.preset === "anthropic") return createAnthropicProvider(settings, name);
  if (settings.preset === "bedrock") return createBedrockProvider({ region: settings.region as string, baseUrl: settings.baseUrl, models: settings.models ?? [] }, name);
  const preset = PROVIDER_PRESETS[settings.preset] as (typeof PROVIDER_PRESETS)[keyof typeof PROVIDER_PRESETS] & { priceProvider?: string };
  const { baseUrl, headers } = settings;
  return {
    kind: "http",
    name,
    capabilities: { streamUsageOption: preset.streamUsageOption, keyRequired: preset.keyRequired },
    priceProvider: preset.priceProvider,
    prepare: (call) => prepareAt(`${baseUrl}${call.endpoint.upstreamPath}`, call, headers),
    authorize: preset.auth === "api-key" ? apiKeyAuthorization : bearerAuthorization,
    decode: decodeErrorResponse,
  };
}
