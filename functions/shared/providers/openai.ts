/**
 * OpenAI: the reference provider. Other OpenAI-compatible providers copy this
 * module with their own name, base URL and auth headers.
 */
import type { HttpProvider, ProviderCredentials } from "./types.ts";

/** Creates the OpenAI provider for a base URL (`OPENAI_BASE_URL`, default `https://api.openai.com/v1`). */
export function createOpenAIProvider(baseUrl: string): HttpProvider {
  return {
    kind: "http",
    name: "openai",
    baseUrl,
    streamUsage: true,
    authHeaders(credentials: ProviderCredentials): Record<string, string> {
      const headers: Record<string, string> = { authorization: `Bearer ${credentials.apiKey}` };
      if (credentials.organization !== undefined) headers["openai-organization"] = credentials.organization;
      if (credentials.project !== undefined) headers["openai-project"] = credentials.project;
      return headers;
    },
  };
}
