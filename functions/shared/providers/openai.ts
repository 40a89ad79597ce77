/**
 * OpenAI: the reference provider. It speaks OpenAI's wire, so a call goes out
 * as it came: the base URL plus the client's raw path and query, the client's
 * body bytes, and the key as a bearer token with the account headers.
 */
import type { ProviderSettings } from "../config/config.ts";
import type { HttpProvider, ProviderCall, ProviderCredential, UpstreamRequest } from "./types.ts";

/** Creates the OpenAI provider (`OPENAI_BASE_URL`, default `https://api.openai.com/v1`). */
export function createOpenAIProvider(settings: Pick<ProviderSettings, "baseUrl"> & Partial<ProviderSettings>, name = "openai"): HttpProvider {
  const { baseUrl } = settings;
  const extraHeaders = settings.headers ?? {};
  return {
    kind: "http",
    name,
    capabilities: { streamUsageOption: true, keyRequired: true },
    priceProvider: "openai",
    prepare: (call) => prepareAt(`${baseUrl}${call.endpoint.upstreamPath}`, call, extraHeaders),
    authorize: bearerAuthorization,
  };
}

/**
 * The request for a call at `url` (the client's query appended): the client's
 * headers with the configured ones on top, and the body as given.
 */
export function prepareAt(url: string, call: ProviderCall, extraHeaders: Readonly<Record<string, string>>): UpstreamRequest {
  return {
    url: call.query === "" ? url : `${url}${url.includes("?") ? "&" : "?"}${call.query}`,
    method: call.endpoint.endpoint.method,
    headers: Object.keys(extraHeaders).length === 0 ? call.headers : { ...call.headers, ...extraHeaders },
    body: call.body,
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

/**
 * Azure's key auth: `api-key: <key>`. A passthrough caller's
 * `Authorization: Bearer <key>` becomes `api-key: <key>`, so one SDK set-up
 * (an OpenAI client with its own key) works for every provider.
 */
export function apiKeyAuthorization(request: UpstreamRequest, credential: ProviderCredential): UpstreamRequest {
  if (credential.kind === "none") return request;
  const key = credential.kind === "managed" ? credential.apiKey : bearerToken(credential.authorization);
  return { ...request, headers: { ...request.headers, "api-key": key } };
}

function bearerToken(authorization: string): string {
  return /^Bearer\s+(\S.*)$/i.exec(authorization.trim())?.[1]?.trim() ?? authorization.trim();
}
