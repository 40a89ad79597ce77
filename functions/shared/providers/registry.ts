/**
 * The providers the gateway serves, keyed by the `x-provider` header's value.
 */
import type { GatewayConfig } from "../config/config.ts";
import { InvalidRequestError } from "../http/errors.ts";
import { createMockProvider } from "./mock.ts";
import { createOpenAIProvider } from "./openai.ts";
import type { Provider } from "./types.ts";

/** The provider used when a request has no `x-provider` header. */
export const DEFAULT_PROVIDER = "openai";

/** Looks providers up by name. */
export interface ProviderRegistry {
  /** Supported names, sorted. */
  readonly names: readonly string[];
  /**
   * The provider for an `x-provider` value (case-insensitive; absent means {@link DEFAULT_PROVIDER}).
   * @throws {InvalidRequestError} for an unknown name, listing the supported ones
   */
  resolve(headerValue: string | undefined): Provider;
}

/** Builds the registry from the configuration: one entry per provider module. */
export function createProviderRegistry(config: GatewayConfig): ProviderRegistry {
  const providers = new Map<string, Provider>();
  const modules: Provider[] = [createOpenAIProvider(config.openaiBaseUrl)];
  // The mock answers anyone without a provider key: a development tool, served only when enabled.
  if (config.mockProvider) modules.push(createMockProvider({ chunkDelayMs: config.mockChunkDelayMs }));
  for (const provider of modules) providers.set(provider.name, provider);
  const names = [...providers.keys()].sort();
  return {
    names,
    resolve(headerValue) {
      const name = headerValue?.trim().toLowerCase() || DEFAULT_PROVIDER;
      const provider = providers.get(name);
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
