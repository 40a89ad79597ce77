/**
 * The providers the gateway serves, keyed by the `x-provider` header's value.
 */
import type { GatewayConfig } from "../config/config.ts";
import { ENDPOINTS } from "../endpoints/catalogue.ts";
import type { EndpointMatch } from "../endpoints/match.ts";
import { InvalidRequestError } from "../http/errors.ts";
import { createAnthropicProvider } from "./anthropic/index.ts";
import { createBedrockProvider } from "./bedrock/index.ts";
import { createMockProvider } from "./mock.ts";
import { createOpenAIProvider } from "./openai.ts";
import type { Provider } from "./types.ts";

/** The provider used when a request has no `x-provider` header. */
export const DEFAULT_PROVIDER = "openai";

/** Looks providers up by name. */
export interface ProviderRegistry {
  /** Supported names, sorted. */
  readonly names: readonly string[];
  /** The provider for an `x-provider` value (case-insensitive; absent means {@link DEFAULT_PROVIDER}), if there is one. */
  find(headerValue: string | undefined): Provider | undefined;
  /**
   * The provider for an `x-provider` value, like {@link find}.
   * @throws {InvalidRequestError} for an unknown name, listing the supported ones
   */
  resolve(headerValue: string | undefined): Provider;
}

/** Builds the registry from the configuration: one entry per configured HTTP provider, and the mock. */
export function createProviderRegistry(config: GatewayConfig): ProviderRegistry {
  const providers = new Map<string, Provider>();
  for (const [name, settings] of Object.entries(config.providers)) providers.set(name, createOpenAIProvider(settings, name));
  // TEMPORARY wiring of the translating providers, until provider configuration (presets) creates them.
  const { anthropic, bedrock } = config.translatedProviders ?? {};
  if (anthropic !== undefined) providers.set("anthropic", createAnthropicProvider(anthropic));
  if (bedrock !== undefined) providers.set("bedrock", createBedrockProvider(bedrock));
  // The mock answers anyone without a provider key: a development tool, served only when enabled.
  if (config.mockProvider) providers.set("mock", createMockProvider({ chunkDelayMs: config.mockChunkDelayMs }));
  const names = [...providers.keys()].sort();
  const find = (headerValue: string | undefined) => providers.get(headerValue?.trim().toLowerCase() || DEFAULT_PROVIDER);
  return {
    names,
    find,
    resolve(headerValue) {
      const provider = find(headerValue);
      if (provider === undefined) {
        throw new InvalidRequestError(
          `Unknown provider ${JSON.stringify(headerValue?.slice(0, 64))} in the x-provider header. Supported providers: ${names.join(", ")}.`,
          { param: "x-provider", code: "unknown_provider" },
        );
      }
      return provider;
    },
  };
}

/**
 * Refuses a request for an endpoint the provider does not serve, naming the
 * ones it does, before anything is read, counted or sent.
 * @throws {InvalidRequestError} 400 `unsupported_endpoint`
 */
export function checkProviderServes(provider: Provider, match: EndpointMatch): void {
  const served = provider.kind === "http" ? provider.capabilities.endpoints : undefined;
  if (served === undefined || served.includes(match.endpoint.name)) return;
  const routes = ENDPOINTS.filter((endpoint) => served.includes(endpoint.name)).map((endpoint) => `${endpoint.method} /v1${endpoint.path}`);
  throw new InvalidRequestError(
    `The provider ${provider.name} does not serve ${match.endpoint.method} /v1${match.endpoint.path}; it serves ${routes.join(", ")}.`,
    { code: "unsupported_endpoint" },
  );
}
