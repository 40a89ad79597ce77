/**
 * Where a request goes: a provider or a route, by `x-provider`, or by the
 * request's `model` when it names a route and no `x-provider` is sent (so an
 * unchanged SDK reaches a route by its model name alone).
 *
 * Built from the configuration and one snapshot of the credentials, since the
 * secret may add providers and routes; the core keeps one per snapshot.
 */
import type { Credentials } from "../access/credentials.ts";
import type { GatewayConfig } from "../config/config.ts";
import { checkRouteProviders, type RouteSettings } from "../config/route-settings.ts";
import { SettingsFormatError } from "../config/provider-settings.ts";
import { ConfigurationError, InvalidRequestError } from "../http/errors.ts";
import type { EndpointMatch } from "../endpoints/match.ts";
import { checkProviderServes, createProviderRegistry, type ProviderRegistry } from "../providers/registry.ts";
import type { HttpProvider, LocalProvider } from "../providers/types.ts";
import type { Route } from "./route-plan.ts";

/** Where one request goes. */
export type Destination =
  | { readonly kind: "local"; readonly name: string; readonly provider: LocalProvider }
  | { readonly kind: "provider"; readonly name: string; readonly provider: HttpProvider }
  | { readonly kind: "route"; readonly name: string; readonly route: Route };

/** The providers and routes of one credentials snapshot. */
export interface Destinations {
  readonly providers: ProviderRegistry;
  /** Route names, sorted. */
  readonly routeNames: readonly string[];
  /** The destination of a request, if its `x-provider` names one (see the file's comment). */
  find(providerHeader: string | undefined, model: string | undefined): Destination | undefined;
  /**
   * Like {@link find}.
   * @throws {InvalidRequestError} for an unknown `x-provider`, listing the providers and routes
   */
  resolve(providerHeader: string | undefined, model: string | undefined): Destination;
}

/** Whether calls to a destination need a key from the caller (passthrough) or the configuration (managed). */
export function needsProviderKey(destination: Destination | undefined): boolean {
  // An unknown name is answered with a 400 that lists the names, after authentication: where keys are
  // required a stranger gets the 401 first; an open (passthrough) gateway lists them to anyone, as it serves anyone.
  if (destination === undefined) return false;
  if (destination.kind === "local") return false;
  if (destination.kind === "provider") return destination.provider.capabilities.keyRequired;
  return destination.route.targets.some((target) => target.provider.capabilities.keyRequired);
}

/**
 * Refuses a request for an endpoint its destination does not serve: a
 * provider's, or any target's of a route (a fall-back to it would fail).
 * @throws {InvalidRequestError} 400 `unsupported_endpoint`, naming the provider and what it serves
 */
export function checkDestinationServes(destination: Destination, match: EndpointMatch): void {
  if (destination.kind === "provider") checkProviderServes(destination.provider, match);
  if (destination.kind === "route") for (const target of destination.route.targets) checkProviderServes(target.provider, match, destination.name);
}

/**
 * Builds the destinations of a snapshot.
 * @throws {ConfigurationError} when a route names no configured provider (the message names the route and field)
 */
export function createDestinations(config: GatewayConfig, credentials: Credentials): Destinations {
  const providers = createProviderRegistry(config, credentials);
  const routeSettings: Record<string, RouteSettings> = { ...config.routes, ...credentials.routes };
  try {
    checkRouteProviders(routeSettings, new Set(providers.http.keys()), "routes");
  } catch (error) {
    if (error instanceof SettingsFormatError) throw new ConfigurationError(`The gateway's routes are misconfigured: ${error.message}.`, { code: "routes_misconfigured" });
    throw error;
  }
  const routes = new Map<string, Route>();
  for (const [name, settings] of Object.entries(routeSettings)) {
    const targets = settings.targets.map((target) => ({ provider: providers.http.get(target.provider) as HttpProvider, model: target.model, weight: target.weight }));
    routes.set(name, { name, settings, targets });
  }
  const routeNames = [...routes.keys()].sort();

  function find(providerHeader: string | undefined, model: string | undefined): Destination | undefined {
    const named = providerHeader?.trim().toLowerCase();
    if (named !== undefined && named !== "") {
      const route = routes.get(named);
      if (route !== undefined) return { kind: "route", name: named, route };
    } else if (model !== undefined && routes.has(model)) {
      return { kind: "route", name: model, route: routes.get(model) as Route };
    }
    const provider = providers.find(providerHeader);
    if (provider === undefined) return undefined;
    return provider.kind === "local" ? { kind: "local", name: provider.name, provider } : { kind: "provider", name: provider.name, provider };
  }

  return {
    providers,
    routeNames,
    find,
    resolve(providerHeader, model) {
      const destination = find(providerHeader, model);
      if (destination !== undefined) return destination;
      const routeList = routeNames.length === 0 ? "" : ` Routes: ${routeNames.join(", ")}.`;
      throw new InvalidRequestError(
        `Unknown provider ${JSON.stringify(providerHeader?.slice(0, 64))} in the x-provider header. Supported providers: ${providers.names.join(", ")}.${routeList}`,
        { param: "x-provider", code: "unknown_provider" },
      );
    },
  };
}
