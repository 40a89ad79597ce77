/**
 * OpenAI: the reference provider. It speaks OpenAI's wire, so a call goes out
 * as it came: the base URL plus the client's raw path and query, the client's
 * body bytes, and the key as a bearer token with the account headers.
 */
import type { ProviderSettings } from "../config/config.ts";
import type { HttpProvider, ProviderCredential, UpstreamRequest } from "./types.ts";

/** Creates the OpenAI provider (`OPENAI_BASE_URL`, default `https://api.openai.com/v1`). */
export function createOpenAIProvider(settings: ProviderSettings, name = "openai"): HttpProvider {
  const { baseUrl } = settings;
  return {
    kind: "http",
    name,
    capabilities: { streamUsageOption: true, keyRequired: true },
    prepare(call) {
      return {
        url: `${baseUrl}${call.endpoint.upstreamPath}${call.query === "" ? "" : `?${call.query}`}`,
        method: call.endpoint.endpoint.method,
        headers: call.headers,
        body: call.body,
      };
    },
    authorize: bearerAuthorization,
  };
}

/** OpenAI's auth: `Authorization: Bearer <key>` plus `OpenAI-Organization` / `OpenAI-Project` when configured. */
export function bearerAuthorization(request: UpstreamRequest, credential: ProviderCredential): UpstreamRequest {
  if (credential.kind === "none") return request;
  const headers: Record<string, string> = { ...request.headers };
  if (credential.kind === "passthrough") {
    headers.authorization = credential.authorization;
  } else {
    headers.authorization = `Bearer ${credential.apiKey}`;
    // The client's own organization/project headers, if any, win over the configured ones.
    if (credential.organization !== undefined) headers["openai-organization"] ??= credential.organization;
    if (credential.project !== undefined) headers["openai-project"] ??= credential.project;
  }
  return { ...request, headers };
}
