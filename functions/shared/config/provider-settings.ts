/**
 * Validation of configured providers: `GATEWAY_PROVIDERS` locally, the
 * secret's `providers` field in AWS, one shape for both:
 *
 * ```json
 * {
 *   "groq": { "preset": "groq", "apiKey": "gsk_..." },
 *   "local-vllm": { "preset": "openai-compatible", "baseUrl": "http://10.0.0.5:8000/v1" },
 *   "azure": { "preset": "azure-openai", "baseUrl": "https://my-res.openai.azure.com/openai/v1", "apiKey": "..." },
 *   "claude": { "preset": "anthropic", "apiKey": "sk-ant-..." },
 *   "bedrock": { "preset": "bedrock", "region": "us-east-1", "models": ["anthropic.claude-3-5-sonnet-20241022-v2:0"] }
 * }
 * ```
 * An entry may also set `apiKeys` (a pool), `organization` and `project`
 * (OpenAI's account headers), `headers` (sent on every call), and for
 * `azure-openai` `apiVersion` (the dated deployments API) with `deployments`
 * (model name → deployment name), and for `bedrock` `region` (required; the
 * base URL defaults to `https://bedrock-runtime.{region}.amazonaws.com`) with
 * `models` (the model ids, inference profile ids or ARNs `GET /v1/models`
 * lists; the stack's IAM policy grants them). Messages name the entry and the field,
 * never a value: an entry holds keys, and a header value may be one.
 */
import { isPresetName, PROVIDER_PRESETS, type PresetName } from "./provider-presets.ts";

/** How to reach one provider. */
export interface ProviderSettings {
  readonly preset: PresetName;
  /** Base URL including the version prefix, without trailing slash (e.g. `https://api.openai.com/v1`). */
  readonly baseUrl: string;
  /** Headers sent on every call to the provider (e.g. OpenRouter's `HTTP-Referer`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Azure's dated API version: calls go to `/deployments/{deployment}/…?api-version=…`. */
  readonly apiVersion?: string;
  /** Azure deployment names by model name (default: the model name itself). */
  readonly deployments?: Readonly<Record<string, string>>;
  /** Bedrock's AWS region: of its runtime endpoint and of the signature. */
  readonly region?: string;
  /** Bedrock's models and inference profiles: what its model list answers. */
  readonly models?: readonly string[];
}

/** A provider's keys and account, as configured (managed mode). */
export interface ProviderKeySettings {
  readonly apiKey?: string;
  /** A pool of keys, rotated across requests (wins over `apiKey`). */
  readonly apiKeys?: readonly string[];
  readonly organization?: string;
  readonly project?: string;
}

/** One configured provider: how to reach it, and its keys when it has any. */
export interface ProviderEntry {
  readonly settings: ProviderSettings;
  readonly keys?: ProviderKeySettings;
}

/** A configured entry cannot be used; `field` is its path (e.g. `providers.groq.baseUrl`), the message never holds a value. */
export class SettingsFormatError extends Error {
  override name = "SettingsFormatError";
}

/** Names of providers and routes: what `x-provider` matches (case-insensitively). */
export const PROVIDER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Names no configured provider may take. */
const RESERVED_NAMES = new Set(["mock"]);

const ENTRY_FIELDS = new Set(["preset", "baseUrl", "apiKey", "apiKeys", "organization", "project", "headers", "apiVersion", "deployments", "region", "models"]);

/**
 * Headers the gateway sets itself: the credential's, and the framing of the
 * request (its body goes whole, with its length: an `Expect` would have Node
 * send the headers before the length is known, and the body chunked), and
 * the connection's own (hop-by-hop, RFC 9110 §7.6.1).
 */
const FORBIDDEN_HEADERS = new Set([
  "authorization",
  "api-key",
  "host",
  "content-length",
  "content-type",
  "transfer-encoding",
  "connection",
  "expect",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const MODEL_ID = /^[A-Za-z0-9._:/-]{1,2048}$/;
const API_VERSION = /^\d{4}-\d{2}-\d{2}(?:-preview)?$|^(?:preview|latest)$/;

/**
 * Parses the providers object.
 * @param field the path of the object in messages (`GATEWAY_PROVIDERS`, `providers`)
 * @throws {SettingsFormatError} naming the first entry and field at fault
 */
export function parseProviderEntries(value: unknown, field: string): Record<string, ProviderEntry> {
  if (!isObject(value)) throw new SettingsFormatError(`${field} must be an object of providers by name`);
  const entries: Record<string, ProviderEntry> = {};
  for (const [name, entry] of Object.entries(value)) {
    if (!PROVIDER_NAME.test(name) || RESERVED_NAMES.has(name)) {
      throw new SettingsFormatError(`${field} has a provider name that is not 1-64 of a-z, 0-9, '.', '_', '-' (or is reserved): ${JSON.stringify(name.slice(0, 64))}`);
    }
    entries[name] = parseEntry(entry, `${field}.${name}`);
  }
  return entries;
}

function parseEntry(value: unknown, field: string): ProviderEntry {
  if (!isObject(value)) throw new SettingsFormatError(`${field} must be an object with a preset`);
  const unknown = Object.keys(value).find((key) => !ENTRY_FIELDS.has(key));
  if (unknown !== undefined) throw new SettingsFormatError(`${field}.${unknown.slice(0, 64)} is not a setting (${[...ENTRY_FIELDS].join(", ")})`);
  const preset = value.preset;
  if (typeof preset !== "string" || !isPresetName(preset)) {
    throw new SettingsFormatError(`${field}.preset must be one of ${Object.keys(PROVIDER_PRESETS).join(", ")}`);
  }
  const region = parseRegion(value, preset, field);
  const defaultUrl = region === undefined ? (PROVIDER_PRESETS[preset] as { baseUrl?: string }).baseUrl : `https://bedrock-runtime.${region}.amazonaws.com`;
  const baseUrl = value.baseUrl === undefined ? defaultUrl : parseBaseUrl(value.baseUrl, `${field}.baseUrl`);
  if (baseUrl === undefined) throw new SettingsFormatError(`${field}.baseUrl is required for the ${preset} preset`);
  if (preset !== "azure-openai" && (value.apiVersion !== undefined || value.deployments !== undefined)) {
    throw new SettingsFormatError(`${field}.${value.apiVersion === undefined ? "deployments" : "apiVersion"} is only for the azure-openai preset`);
  }
  const settings: ProviderSettings = {
    preset,
    baseUrl,
    headers: parseHeaders(value.headers, `${field}.headers`),
    apiVersion: parseApiVersion(value.apiVersion, `${field}.apiVersion`),
    deployments: parseStringMap(value.deployments, `${field}.deployments`),
    region,
    models: preset === "bedrock" ? parseModels(value.models, `${field}.models`) : undefined,
  };
  return { settings: freezeDefined(settings), keys: parseKeys(value, field) };
}

/** Bedrock's region, required for it and for nothing else. */
function parseRegion(value: Record<string, unknown>, preset: PresetName, field: string): string | undefined {
  if (preset !== "bedrock") {
    if (value.region !== undefined || value.models !== undefined) throw new SettingsFormatError(`${field}.${value.region === undefined ? "models" : "region"} is only for the bedrock preset`);
    return undefined;
  }
  if (typeof value.region !== "string" || !REGION.test(value.region)) throw new SettingsFormatError(`${field}.region must be an AWS region like us-east-1`);
  return value.region;
}

/** Bedrock's model ids, inference profile ids or ARNs (none: the model list is empty). */
function parseModels(value: unknown, field: string): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value) || value.length > 1000 || !value.every((model) => typeof model === "string" && MODEL_ID.test(model))) {
    throw new SettingsFormatError(`${field} must be a list of Bedrock model ids, inference profile ids or ARNs`);
  }
  return Object.freeze([...(value as string[])]);
}

/** An absolute http(s) URL without a trailing slash, keeping its path prefix. */
function parseBaseUrl(value: unknown, field: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value.trim()) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "" || url.username !== "") {
    throw new SettingsFormatError(`${field} must be an absolute http(s) URL without query, fragment or credentials`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function parseKeys(value: Record<string, unknown>, field: string): ProviderKeySettings | undefined {
  if (value.apiKey !== undefined && value.apiKeys !== undefined) throw new SettingsFormatError(`${field} sets both apiKey and apiKeys`);
  const apiKeys = value.apiKeys ?? (value.apiKey === undefined ? undefined : [value.apiKey]);
  const organization = optionalString(value.organization, `${field}.organization`);
  const project = optionalString(value.project, `${field}.project`);
  if (apiKeys === undefined) {
    if (organization !== undefined || project !== undefined) throw new SettingsFormatError(`${field}.organization and .project need apiKey or apiKeys`);
    return undefined;
  }
  if (!Array.isArray(apiKeys) || apiKeys.length === 0 || apiKeys.length > 100 || !apiKeys.every(isNonEmptyString)) {
    throw new SettingsFormatError(`${field}.${value.apiKeys === undefined ? "apiKey" : "apiKeys"} must be a non-empty string (or a list of 1-100 of them)`);
  }
  return Object.freeze({ apiKeys: Object.freeze([...apiKeys]), organization, project });
}

function parseHeaders(value: unknown, field: string): Readonly<Record<string, string>> {
  if (value === undefined) return Object.freeze({});
  if (!isObject(value)) throw new SettingsFormatError(`${field} must be an object of header names to values`);
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name) || FORBIDDEN_HEADERS.has(lower)) {
      throw new SettingsFormatError(`${field} has a header name that is not a valid token or that the gateway sets itself: ${JSON.stringify(name.slice(0, 64))}`);
    }
    if (typeof headerValue !== "string" || headerValue.length > 4096 || /[\r\n\0]/.test(headerValue)) {
      throw new SettingsFormatError(`${field}.${lower} must be a string of at most 4096 characters without line breaks`);
    }
    headers[lower] = headerValue;
  }
  return Object.freeze(headers);
}

function parseApiVersion(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !API_VERSION.test(value)) throw new SettingsFormatError(`${field} must be a date like 2024-10-21 (optionally -preview)`);
  return value;
}

function parseStringMap(value: unknown, field: string): Readonly<Record<string, string>> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new SettingsFormatError(`${field} must be an object of model names to deployment names`);
  for (const [model, target] of Object.entries(value)) {
    if (!isNonEmptyString(target) || target.length > 256) throw new SettingsFormatError(`${field}.${model.slice(0, 64)} must be a non-empty string`);
  }
  return Object.freeze({ ...(value as Record<string, string>) });
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isNonEmptyString(value)) throw new SettingsFormatError(`${field} must be a non-empty string`);
  return value;
}

function freezeDefined<T extends object>(value: T): T {
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== undefined) copy[key] = item;
  return Object.freeze(copy) as T;
}

/** Whether a value is a plain JSON object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.trim().length > 0;
}
