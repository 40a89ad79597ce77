/**
 * The shape of a gateway key's permissions: which models, providers and
 * endpoint families it may use. An absent list allows everything; a list
 * allows only what it names. Checking them is access/permissions.ts's job.
 */

/** What a gateway key may use. */
export interface KeyPermissions {
  /** Model names or globs (`*` any characters, `?` one), e.g. `gpt-4o`, `gpt-4.1*`. */
  readonly models?: readonly string[];
  /** Providers or routes, as the `x-provider` header names them (lower case). */
  readonly providers?: readonly string[];
  /** Endpoint families: the part of an endpoint's name before the first dot (`chat`, `embeddings`, `models`…). */
  readonly endpoints?: readonly string[];
}

/** The fields of {@link KeyPermissions}. */
export const PERMISSION_FIELDS = ["models", "providers", "endpoints"] as const;

const ENTRY = /^[\x21-\x7e]{1,128}$/;
const MAX_ENTRIES = 100;

/**
 * Validates a permissions object (from a key record).
 * @returns an error message naming the field, or the permissions
 */
export function parseKeyPermissions(value: unknown, field: string): KeyPermissions | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `${field} must be an object with any of ${PERMISSION_FIELDS.join(", ")}`;
  }
  const permissions: Record<string, readonly string[]> = {};
  for (const [name, list] of Object.entries(value)) {
    if (!(PERMISSION_FIELDS as readonly string[]).includes(name)) return `${field}.${name} is not a permission (use ${PERMISSION_FIELDS.join(", ")})`;
    const problem = listProblem(list);
    if (problem !== undefined) return `${field}.${name} ${problem}`;
    permissions[name] = name === "models" ? (list as string[]) : (list as string[]).map((entry) => entry.toLowerCase());
  }
  return permissions;
}

/** Why a value cannot be a permission list, or undefined when it can. */
export function listProblem(list: unknown): string | undefined {
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_ENTRIES) return `must be a list of 1 to ${MAX_ENTRIES} names`;
  const bad = list.find((entry) => typeof entry !== "string" || !ENTRY.test(entry));
  return bad === undefined ? undefined : "holds a name that is not 1-128 visible ASCII characters without spaces";
}
