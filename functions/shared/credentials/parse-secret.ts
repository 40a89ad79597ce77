/**
 * Validation of the gateway's secret document:
 *
 * ```json
 * {
 *   "openai": { "apiKey": "sk-...", "organization": "org-...", "project": "proj_..." },
 *   "gatewayKeys": [{ "id": "team-a", "key": "gw-..." }],
 *   "allowPassthrough": false
 * }
 * ```
 * `"apiKeys": ["sk-1", "sk-2"]` instead of `apiKey` is a pool. Every
 * top-level object other than the gateway fields holds a provider's keys.
 * Messages name the field at fault and never a value.
 */
import { createCredentials, type Credentials, type ProviderKeys } from "./types.ts";

/** The secret's content cannot be used; the message names the field, never a value. */
export class SecretFormatError extends Error {
  override name = "SecretFormatError";
}

const GATEWAY_FIELDS = new Set(["gatewayKeys", "allowPassthrough"]);
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Parses and validates the secret string into credentials. */
export function parseSecret(secretString: string): Credentials {
  let document: unknown;
  try {
    document = JSON.parse(secretString);
  } catch {
    throw new SecretFormatError("the secret is not valid JSON");
  }
  if (!isObject(document)) throw new SecretFormatError("the secret must be a JSON object");

  const providers: Record<string, ProviderKeys> = {};
  for (const [name, value] of Object.entries(document)) {
    if (!GATEWAY_FIELDS.has(name)) providers[name] = parseProviderKeys(name, value);
  }
  const gatewayKeys = parseGatewayKeys(document.gatewayKeys);
  const allowPassthrough = document.allowPassthrough ?? false;
  if (typeof allowPassthrough !== "boolean") throw new SecretFormatError("field allowPassthrough must be true or false");
  return createCredentials({ providers, gatewayKeys, allowPassthrough });
}

function parseProviderKeys(name: string, value: unknown): ProviderKeys {
  if (!isObject(value)) throw new SecretFormatError(`field ${name} must be an object with apiKey or apiKeys`);
  const apiKeys = value.apiKeys ?? (value.apiKey === undefined ? undefined : [value.apiKey]);
  if (apiKeys === undefined) throw new SecretFormatError(`field ${name}.apiKey (or ${name}.apiKeys) is missing`);
  if (!Array.isArray(apiKeys) || apiKeys.length === 0 || !apiKeys.every(isNonEmptyString)) {
    throw new SecretFormatError(`field ${name}.${value.apiKeys === undefined ? "apiKey" : "apiKeys"} must be a non-empty string (or list of them)`);
  }
  return {
    apiKeys,
    organization: optionalString(value.organization, `${name}.organization`),
    project: optionalString(value.project, `${name}.project`),
  };
}

function parseGatewayKeys(value: unknown): { id: string; key: string }[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new SecretFormatError("field gatewayKeys must be a list of {id, key}");
  const ids = new Set<string>();
  return value.map((entry, index) => {
    if (!isObject(entry)) throw new SecretFormatError(`field gatewayKeys[${index}] must be an object with id and key`);
    if (typeof entry.id !== "string" || !KEY_ID.test(entry.id)) {
      throw new SecretFormatError(`field gatewayKeys[${index}].id must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'`);
    }
    if (ids.has(entry.id)) throw new SecretFormatError(`field gatewayKeys[${index}].id repeats the id ${entry.id}`);
    ids.add(entry.id);
    if (!isNonEmptyString(entry.key) || entry.key.length < 16) {
      throw new SecretFormatError(`field gatewayKeys[${index}].key must be a string of at least 16 characters`);
    }
    return { id: entry.id, key: entry.key };
  });
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isNonEmptyString(value)) throw new SecretFormatError(`field ${field} must be a non-empty string`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.trim().length > 0;
}
