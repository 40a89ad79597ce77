/**
 * Reading one setting's value: the one place that decides what a whole
 * number, a boolean or a URL looks like, for environment variables and for
 * the `x-gateway-*` request headers alike.
 */

/** A settings source: environment variables by name. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A setting is missing or has a value the gateway cannot use. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** The variable at fault: what a caller may be told (the message, with the value, is for the operator's log). */
  readonly variable: string;

  constructor(variable: string, message: string) {
    super(message);
    this.variable = variable;
  }
}

/**
 * A whole number written as plain digits (surrounding blanks allowed) from
 * `min` to `max`, or undefined for anything else: signs, decimals, exponents,
 * hex and values past `Number.MAX_SAFE_INTEGER` are all refused.
 */
export function parseWholeNumber(raw: string, min: number, max: number): number | undefined {
  const trimmed = raw.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined;
}

/** `true`/`1` or `false`/`0` (any case), or undefined for anything else. */
export function parseBoolean(raw: string): boolean | undefined {
  const value = raw.trim().toLowerCase();
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  return undefined;
}

/** A variable's trimmed value; empty counts as unset. */
export function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/** @throws {ConfigError} for a value that is not a whole number from `min` to `max` */
export function readInt(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const value = parseWholeNumber(raw, min, max);
  if (value === undefined) throw new ConfigError(name, `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}.`);
  return value;
}

/** @throws {ConfigError} for a value other than true/false/1/0 */
export function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const value = parseBoolean(raw);
  if (value === undefined) throw new ConfigError(name, `${name} must be true or false, got ${JSON.stringify(raw.toLowerCase())}.`);
  return value;
}

/**
 * An absolute http(s) URL, without a trailing slash so paths append cleanly.
 * @throws {ConfigError} for anything else
 */
export function readUrl(env: Env, name: string, fallback: string): string {
  const raw = readString(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `${name} must be an absolute http(s) URL, got ${JSON.stringify(raw)}.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(name, `${name} must use http or https, got ${JSON.stringify(url.protocol)}.`);
  }
  // Keep the path prefix (".../v1").
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * A JSON object from a variable, or undefined when unset.
 * @throws {ConfigError} for invalid JSON or a non-object, with `example` in the message
 */
export function readJsonObject(env: Env, name: string, example: string): Record<string, unknown> | undefined {
  const raw = readString(env, name);
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(name, `${name} is not valid JSON.`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(name, `${name} must be an object like ${example}.`);
  }
  return parsed as Record<string, unknown>;
}
