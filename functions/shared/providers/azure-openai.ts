/**
 * Azure OpenAI, in both of its APIs:
 *
 * - the v1 API (`baseUrl` ending in `/openai/v1`): OpenAI's paths, the model in
 *   the body, the key in an `api-key` header;
 * - the dated deployments API (`apiVersion` set, `baseUrl` ending in `/openai`):
 *   `/deployments/{deployment}/chat/completions?api-version=2024-10-21`, where
 *   the deployment is the model's (the `deployments` map, else the model name).
 *
 * Azure accepts `stream_options` from api-version 2024-09-01-preview on (GA in
 * 2024-10-21) and in the v1 API; older versions refuse it, so it is added only
 * where it is accepted. Its streams open with a chunk of `prompt_filter_results`
 * and empty `choices` (id "", model ""), and may carry content-filter chunks
 * whose choice has no `delta` (Azure/azure-sdk-for-go#21086, microsoft/autogen#6465).
 * The official SDK takes both as they are: its chunk accumulator
 * (openai-node `ChatCompletionStream#accumulateChatCompletion`) replaces the
 * snapshot's id and model from the next chunk that has an id, and skips a
 * choice without `delta` (`if (!delta) continue`); vercel/ai#12607 reached the
 * same conclusion for its client. So the stream goes out unchanged, and the
 * usage filter only drops a chunk with empty `choices` when it carries a usage
 * object (the prompt-filter chunk has none). Its errors, `content_filter`'s
 * included (`"type": null`, `"status": 400`, `"innererror"`), get OpenAI's shape.
 */
import type { ProviderSettings } from "../config/provider-settings.ts";
import { decodeErrorResponse } from "./decode-errors.ts";
import { apiKeyAuthorization, prepareAt } from "./openai.ts";
import type { HttpProvider, ProviderCall } from "./types.ts";

/** Endpoints the dated API serves under a deployment; the rest (models, responses) sit beside them. */
const DEPLOYMENT_ENDPOINTS = new Set(["chat.completions", "completions", "embeddings"]);

/** The first api-version that takes `stream_options`. */
const STREAM_OPTIONS_SINCE = "2024-09-01";

/** Creates an Azure OpenAI provider. */
export function createAzureOpenAIProvider(name: string, settings: ProviderSettings): HttpProvider {
  const { baseUrl, headers, apiVersion } = settings;
  const dated = apiVersion !== undefined && /^\d{4}-/.test(apiVersion);
  return {
    kind: "http",
    name,
    capabilities: { streamUsageOption: !dated || apiVersion.slice(0, 10) >= STREAM_OPTIONS_SINCE, keyRequired: true },
    priceProvider: "azure",
    prepare: (call) => prepareAt(urlOf(call, settings, dated), call, headers),
    authorize: apiKeyAuthorization,
    decode: decodeErrorResponse,
  };
}

function urlOf(call: ProviderCall, settings: ProviderSettings, dated: boolean): string {
  const version = settings.apiVersion === undefined ? "" : `?api-version=${encodeURIComponent(settings.apiVersion)}`;
  const path = call.endpoint.upstreamPath;
  if (!dated || call.model === undefined || !DEPLOYMENT_ENDPOINTS.has(call.endpoint.endpoint.name)) return `${settings.baseUrl}${path}${version}`;
  const { deployments } = settings;
  const deployment = deployments !== undefined && Object.hasOwn(deployments, call.model) ? (deployments[call.model] as string) : call.model;
  return `${settings.baseUrl}/deployments/${encodeURIComponent(deployment)}${path}${version}`;
}
