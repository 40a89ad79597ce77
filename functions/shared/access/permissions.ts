/**
 * A managed key's permissions, checked before anything is counted or sent:
 * the endpoint family (the part of the catalogue name before the first dot,
 * e.g. `chat` for `chat.completions`), the provider or route the `x-provider`
 * header names, and the model (names or globs: `*` any characters, `?` one).
 * A request outside them is the gateway's own 403.
 */
import type { KeyPermissions } from "../config/key-permissions.ts";
import { GatewayError } from "../http/errors.ts";
import type { Caller } from "./authenticate.ts";

/** What a request would use. */
export interface RequestScope {
  /** The endpoint's catalogue name, e.g. `chat.completions`. */
  readonly endpoint: string;
  /** The provider or route, as the registry names it. */
  readonly provider: string;
  /** The model the request names, if any. */
  readonly model: string | undefined;
  /** Whether the request could name a model (it has a JSON body or a model in its path). */
  readonly takesModel: boolean;
}

/** 403: the key may not do this; the message says what it may do. */
export class KeyPermissionError extends GatewayError {
  constructor(message: string, param: string | null) {
    super(403, message, { code: "permission_denied", param });
  }
}

/** The endpoint family of a catalogue name: `chat` for `chat.completions`. */
export function endpointFamily(endpoint: string): string {
  return endpoint.split(".", 1)[0] ?? endpoint;
}

/**
 * Checks a managed caller's permissions; other callers have none to check.
 * @throws {KeyPermissionError} when the request is outside them
 */
export function checkPermissions(caller: Caller, scope: RequestScope): void {
  if (caller.mode !== "managed" || caller.permissions === undefined) return;
  const { endpoints, providers, models }: KeyPermissions = caller.permissions;
  const who = `Gateway key ${caller.keyId}`;
  const family = endpointFamily(scope.endpoint);
  if (endpoints !== undefined && !endpoints.includes(family)) {
    throw new KeyPermissionError(`${who} may not call ${family} endpoints; it may call: ${endpoints.join(", ")}.`, null);
  }
  if (providers !== undefined && !providers.includes(scope.provider)) {
    throw new KeyPermissionError(`${who} may not use provider ${scope.provider}; it may use: ${providers.join(", ")}.`, "x-provider");
  }
  if (models === undefined || !scope.takesModel) return;
  if (scope.model === undefined) {
    throw new KeyPermissionError(`${who} may only use the models ${models.join(", ")}; name one in the request.`, "model");
  }
  if (!models.some((pattern) => matchesGlob(pattern, scope.model as string))) {
    throw new KeyPermissionError(`${who} may not use model ${truncate(scope.model, 128)}; it may use: ${models.join(", ")}.`, "model");
  }
}

/** Whether `name` matches a glob where `*` is any run of characters and `?` one character (case-sensitive, whole name). */
export function matchesGlob(pattern: string, name: string): boolean {
  if (!pattern.includes("*") && !pattern.includes("?")) return pattern === name;
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".");
  return new RegExp(`^${source}$`, "s").test(name);
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}
