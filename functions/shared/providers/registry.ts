/**
 * The providers the gateway serves, keyed by the `x-provider` header's value:
 * `openai` and the deployment's configured providers (`GATEWAY_PROVIDERS`),
 * the secret's (`providers`, which win over a deployment's entry of the same
 * name), and the offline `mock`.
 */
import type { Credentials } from "../access/credentials.ts";
import type { GatewayConfig } from "../config/config.ts";
import type { ProviderSettings } from "../config/provider-settings.ts";
import { ENDPOINTS } from "../endpoints/catalogue.ts";
import type { EndpointMatch } from "../endpoints/match.ts";
import { InvalidRequestError } from "../http/errors.ts";
import { createConfiguredProvider } from "./compatible.ts";
import { createMockProvider } from "./mock.ts";
import type { HttpProvider, Provider } from "./types.ts";

/** The provider used when a request has no `x-provider` header. */
export const DEFAULT_PROVIDER = "openai";

/** Looks providers up by name. */
export interface ProviderRegistry {
  /** Supported names, sorted. */
  readonly names: readonly string[];
  /** The HTTP providers by name. */
  readonly http: ReadonlyMap<string, HttpProvider>;
  /** The provider for an `x-provider` value (case-insensitive; absent means {@link DEFAULT_PROVIDER}), if there is one. */
  find(headerValue: string | undefined): Provider | undefined;
  /**
   * The provider for an `x-provider` value, like {@link find}.
   * @throws {InvalidRequestError} for an unknown name, listing the supported ones
   */
  resolve(headerValue: string | undefined): Provider;
}

/** The settings of every HTTP provider: the deployment's, with the secret's laid over them. */
export function providerSettingsOf(config: GatewayConfig, credentials?: Credentials): Readonly<Record<string, ProviderSettings>> {
  return credentials?.providerSettings === undefined ? config.providers : { ...config.providers, ...credentials.providerSettings };
}

/** Builds the registry: one entry per configured HTTP provider, and the mock. */
export function createProviderRegistry(config: GatewayConfig, credentials?: Credentials): ProviderRegistry {
  const http = new Map<string, HttpProvider>();
  for (const [name, settings] of Object.entries(providerSettingsOf(config, credentials))) http.set(name, createConfiguredProvider(name, settings));
  const providers = new Map<string, Provider>(http);
  // The mock answers anyone without a provider key: a development tool, served only when enabled.
  if (config.mockProvider) providers.set("mock", createMockProvider({ chunkDelayMs: config.mockChunkDelayMs }));
  const names = [...providers.keys()].sort();
  const find = (headerValue: string | undefined) => providers.get(headerValue?.trim().toLowerCase() || DEFAULT_PROVIDER);
  return {
    names,
    http,
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
 * ones it does, before anything is counted or sent; `route` names the route
 * the provider is a target of, if any.
 * @throws {InvalidRequestError} 400 `unsupported_endpoint`
 */
export function checkProviderServes(provider: Provider, match: EndpointMatch, route?: string): void {
  const served = provider.kind === "http" ? provider.capabilities.endpoints : undefined;
  if (served === undefined || served.includes(match.endpoint.name)) return;
  const routes = ENDPOINTS.filter((endpoint) => served.includes(endpoint.name)).map((endpoint) => `${endpoint.method} /v1${endpoint.path}`);
  const via = route === undefined ? "" : ` (a target of the route ${route})`;
  throw new InvalidRequestError(
    `The provider ${provider.name}${via} does not serve ${match.endpoint.method} /v1${match.endpoint.path}; it serves ${routes.join(", ")}.`,
    { code: "unsupported_endpoint" },
  );
}
