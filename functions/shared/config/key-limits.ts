/**
 * The shape of a gateway key's limits, as settings give them (the secret's
 * `gatewayKeys[].limits`, `GATEWAY_KEY_LIMITS`), validated in one place.
 * Enforcing them is access/key-limits.ts's job.
 */

/** The limits of one gateway key; an absent limit is no limit. */
export interface KeyLimits {
  readonly requestsPerMinute?: number;
  readonly tokensPerMinute?: number;
  readonly tokensPerDay?: number;
}

const LIMIT_FIELDS = ["requestsPerMinute", "tokensPerMinute", "tokensPerDay"] as const;

/**
 * Validates a limits object (from the secret or `GATEWAY_KEY_LIMITS`).
 * @returns an error message naming the field, or the limits
 */
export function parseKeyLimits(value: unknown, field: string): KeyLimits | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `${field} must be an object with requestsPerMinute, tokensPerMinute and/or tokensPerDay`;
  }
  const limits: Record<string, number> = {};
  for (const [name, limit] of Object.entries(value)) {
    if (!(LIMIT_FIELDS as readonly string[]).includes(name)) return `${field}.${name} is not a limit (use ${LIMIT_FIELDS.join(", ")})`;
    if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1) return `${field}.${name} must be a positive integer`;
    limits[name] = limit;
  }
  return limits;
}
