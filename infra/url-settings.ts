/**
 * The context settings that are URLs or origins: the provider base URL and
 * the CORS origins of the Function URL. Errors name the key and the bad entry
 * but never echo credentials.
 */
import { SettingsError } from "./settings-error.ts";

type Context = (key: string) => unknown;

/** Function URLs accept at most this many CORS origins. */
const MAX_CORS_ORIGINS = 100;

/**
 * `gateway:openaiBaseUrl`: an https URL without credentials, query or fragment.
 * The function sends the provider key to this URL, so http:// would put the
 * key on the network in clear text; there is no loopback exception because
 * nothing the provider key should reach listens on a Lambda's loopback.
 */
export function readBaseUrl(context: Context): string | undefined {
  const key = "gateway:openaiBaseUrl";
  const raw = context(key);
  if (raw === undefined || raw === "") return undefined;
  if (typeof raw !== "string" || !URL.canParse(raw)) {
    throw new SettingsError(`Context ${key} must be an absolute https:// URL such as "https://api.openai.com/v1"; the value given is not a URL.`);
  }
  const url = new URL(raw);
  if (url.username !== "" || url.password !== "") {
    throw new SettingsError(`Context ${key} must not hold a user name or password; provider keys belong in the secret.`);
  }
  const shown = JSON.stringify(`${url.protocol}//${url.host}${url.pathname}`);
  if (url.protocol !== "https:") {
    throw new SettingsError(`Context ${key} must use https:// (the provider key would cross the network in clear text), got ${shown}.`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new SettingsError(`Context ${key} must not have a query or fragment (the gateway keeps only the origin and path), got ${shown} with one.`);
  }
  return raw;
}

/**
 * `gateway:corsAllowedOrigins`: a list (or comma-separated string) of origins
 * exactly as browsers send them in `Origin` (`https://app.example.com`,
 * `http://localhost:5173`: lowercase, no path, no trailing slash, no default
 * port), or `*` alone. The Function URL compares origins as strings, so
 * anything else would silently never match.
 */
export function readCorsOrigins(context: Context): readonly string[] {
  const key = "gateway:corsAllowedOrigins";
  const raw = context(key);
  if (raw === undefined) return [];
  const list = typeof raw === "string" ? raw.split(",").map((item) => item.trim()).filter(Boolean) : raw;
  if (!Array.isArray(list) || !list.every((item) => typeof item === "string" && item.length > 0)) {
    throw new SettingsError(`Context ${key} must be a list of strings (or a comma-separated string).`);
  }
  const origins = list as string[];
  if (origins.length > MAX_CORS_ORIGINS) {
    throw new SettingsError(`Context ${key} may list at most ${MAX_CORS_ORIGINS} origins (a Function URL limit), got ${origins.length}.`);
  }
  if (origins.includes("*") && origins.length > 1) {
    throw new SettingsError(`Context ${key}: "*" already allows every origin; list it alone or list origins without it.`);
  }
  for (const origin of origins) {
    const problem = originProblem(origin);
    if (problem !== undefined) {
      throw new SettingsError(`Context ${key} entry ${JSON.stringify(origin)} is not an origin: ${problem}. Write it as scheme://host[:port], e.g. "https://app.example.com".`);
    }
  }
  return origins;
}

/** Why `origin` is not an origin as a browser sends it, or undefined when it is one. */
function originProblem(origin: string): string | undefined {
  if (origin === "*") return undefined;
  if (origin.includes("*")) return "a Function URL allows no wildcard inside an origin, only \"*\" alone";
  if (!URL.canParse(origin)) return "it does not parse as scheme://host[:port]";
  const url = new URL(origin);
  if (url.protocol !== "https:" && url.protocol !== "http:") return `the scheme must be https or http, not ${url.protocol.slice(0, -1)}`;
  if (url.username !== "" || url.password !== "") return "it holds a user name or password";
  if (origin.endsWith("/")) return "it ends with a slash";
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "") return "it has a path, query or fragment";
  if (url.origin !== origin) return `a browser would send it as ${JSON.stringify(url.origin)} (lowercase, without a default port)`;
  return undefined;
}
