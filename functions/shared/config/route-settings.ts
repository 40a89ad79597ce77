/**
 * Validation of routes: `GATEWAY_ROUTES` locally, the secret's `routes` field
 * in AWS, one shape for both:
 *
 * ```json
 * {
 *   "smart": { "strategy": "fallback", "targets": [{ "provider": "openai", "model": "gpt-4o" }, { "provider": "groq", "model": "llama-3.3-70b-versatile" }] },
 *   "cheap": { "strategy": "loadbalance", "targets": [{ "provider": "groq", "model": "llama-3.1-8b-instant", "weight": 3 }, { "provider": "openai", "model": "gpt-4o-mini", "weight": 1 }] }
 * }
 * ```
 * A route may also set `fallbackOn` (any of 401, 403, 404: statuses that move
 * on to the next target besides 429, 5xx, timeouts and connection failures)
 * and `cooldown` (`{ "failures": 3, "seconds": 30 }`: a target that failed
 * that many times in a row is skipped for that long).
 */
import { isObject, PROVIDER_NAME, SettingsFormatError } from "./provider-settings.ts";

/** One place a route may send a request. */
export interface RouteTargetSettings {
  readonly provider: string;
  /** Replaces the request's `model`; absent keeps it. */
  readonly model?: string;
  /** Share of the first attempts under `loadbalance` (relative to the other targets'). */
  readonly weight: number;
}

/** How a failing target is set aside. */
export interface CooldownSettings {
  /** Failures in a row that put a target in cool-down. */
  readonly failures: number;
  readonly seconds: number;
}

/** A route: targets tried in order (`fallback`) or picked by weight (`loadbalance`), falling back on failures. */
export interface RouteSettings {
  readonly strategy: "fallback" | "loadbalance";
  readonly targets: readonly RouteTargetSettings[];
  /** Statuses besides 429 and 5xx that move on to the next target (a subset of 401, 403, 404). */
  readonly fallbackOn: readonly number[];
  readonly cooldown: CooldownSettings;
}

/** A target's failures before cool-down, and its length, unless the route says otherwise. */
export const DEFAULT_COOLDOWN: CooldownSettings = Object.freeze({ failures: 3, seconds: 30 });

const ROUTE_FIELDS = new Set(["strategy", "targets", "fallbackOn", "cooldown"]);
const TARGET_FIELDS = new Set(["provider", "model", "weight"]);
/** Statuses a route may choose to fall back on: a target's key or deployment may be wrong, another's not. */
const OPTIONAL_FALLBACK_STATUSES = new Set([401, 403, 404]);
const MAX_TARGETS = 16;

/**
 * Parses the routes object. Whether each target's provider exists is checked
 * where the providers are known (see {@link checkRouteProviders}).
 * @throws {SettingsFormatError} naming the first route and field at fault
 */
export function parseRoutes(value: unknown, field: string): Record<string, RouteSettings> {
  if (!isObject(value)) throw new SettingsFormatError(`${field} must be an object of routes by name`);
  const routes: Record<string, RouteSettings> = {};
  for (const [name, route] of Object.entries(value)) {
    if (!PROVIDER_NAME.test(name)) throw new SettingsFormatError(`${field} has a route name that is not 1-64 of a-z, 0-9, '.', '_', '-': ${JSON.stringify(name.slice(0, 64))}`);
    routes[name] = parseRoute(route, `${field}.${name}`);
  }
  return routes;
}

function parseRoute(value: unknown, field: string): RouteSettings {
  if (!isObject(value)) throw new SettingsFormatError(`${field} must be an object with strategy and targets`);
  const unknown = Object.keys(value).find((key) => !ROUTE_FIELDS.has(key));
  if (unknown !== undefined) throw new SettingsFormatError(`${field}.${unknown.slice(0, 64)} is not a setting (${[...ROUTE_FIELDS].join(", ")})`);
  const strategy = value.strategy ?? "fallback";
  if (strategy !== "fallback" && strategy !== "loadbalance") throw new SettingsFormatError(`${field}.strategy must be fallback or loadbalance`);
  if (!Array.isArray(value.targets) || value.targets.length === 0 || value.targets.length > MAX_TARGETS) {
    throw new SettingsFormatError(`${field}.targets must be a list of 1-${MAX_TARGETS} targets`);
  }
  const targets = value.targets.map((target, index) => parseTarget(target, `${field}.targets[${index}]`, strategy));
  return Object.freeze({
    strategy,
    targets: Object.freeze(targets),
    fallbackOn: parseFallbackOn(value.fallbackOn, `${field}.fallbackOn`),
    cooldown: parseCooldown(value.cooldown, `${field}.cooldown`),
  });
}

function parseTarget(value: unknown, field: string, strategy: RouteSettings["strategy"]): RouteTargetSettings {
  if (!isObject(value)) throw new SettingsFormatError(`${field} must be an object with a provider`);
  const unknown = Object.keys(value).find((key) => !TARGET_FIELDS.has(key));
  if (unknown !== undefined) throw new SettingsFormatError(`${field}.${unknown.slice(0, 64)} is not a setting (provider, model, weight)`);
  if (typeof value.provider !== "string" || !PROVIDER_NAME.test(value.provider)) throw new SettingsFormatError(`${field}.provider must be a provider's name`);
  if (value.model !== undefined && (typeof value.model !== "string" || value.model.trim() === "" || value.model.length > 256)) {
    throw new SettingsFormatError(`${field}.model must be a non-empty string of at most 256 characters`);
  }
  if (value.weight !== undefined && strategy !== "loadbalance") throw new SettingsFormatError(`${field}.weight is only for the loadbalance strategy`);
  const weight = value.weight ?? 1;
  if (typeof weight !== "number" || !Number.isFinite(weight) || weight <= 0 || weight > 1_000_000) {
    throw new SettingsFormatError(`${field}.weight must be a number above 0`);
  }
  return Object.freeze({ provider: value.provider, model: value.model as string | undefined, weight });
}

function parseFallbackOn(value: unknown, field: string): readonly number[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value) || !value.every((status) => OPTIONAL_FALLBACK_STATUSES.has(status as number))) {
    throw new SettingsFormatError(`${field} must list statuses among 401, 403 and 404 (429, 5xx, timeouts and connection failures always fall back; 400 and 422 never do)`);
  }
  return Object.freeze([...new Set(value as number[])]);
}

function parseCooldown(value: unknown, field: string): CooldownSettings {
  if (value === undefined) return DEFAULT_COOLDOWN;
  if (!isObject(value)) throw new SettingsFormatError(`${field} must be an object with failures and seconds`);
  const failures = value.failures ?? DEFAULT_COOLDOWN.failures;
  const seconds = value.seconds ?? DEFAULT_COOLDOWN.seconds;
  if (!Number.isInteger(failures) || (failures as number) < 1 || (failures as number) > 100) throw new SettingsFormatError(`${field}.failures must be an integer from 1 to 100`);
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new SettingsFormatError(`${field}.seconds must be a number above 0 and at most 3600`);
  }
  return Object.freeze({ failures: failures as number, seconds });
}

/**
 * Checks that every target names a known provider and that no route shares
 * a provider's name (both are values of `x-provider`).
 * @throws {SettingsFormatError} naming the route and target at fault
 */
export function checkRouteProviders(routes: Readonly<Record<string, RouteSettings>>, providers: ReadonlySet<string>, field: string): void {
  for (const [name, route] of Object.entries(routes)) {
    if (providers.has(name)) throw new SettingsFormatError(`${field}.${name} has the name of a provider; x-provider could not tell them apart`);
    route.targets.forEach((target, index) => {
      if (!providers.has(target.provider)) {
        throw new SettingsFormatError(`${field}.${name}.targets[${index}].provider names no configured provider (${[...providers].sort().join(", ")})`);
      }
    });
  }
}
