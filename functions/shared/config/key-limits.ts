/**
 * The shape of a gateway key's limits and budgets, as settings give them (the
 * secret's `gatewayKeys[].limits`, `GATEWAY_KEY_LIMITS`, a key record of the
 * key file or table), validated in one place. Enforcing them is
 * access/key-limits.ts's job.
 */

/** The limits of one gateway key; an absent limit is no limit. */
export interface KeyLimits {
  readonly requestsPerMinute?: number;
  readonly tokensPerMinute?: number;
  readonly tokensPerDay?: number;
  /** Spend in USD (from the price table) per UTC day. */
  readonly usdPerDay?: number;
  /** Spend in USD per UTC calendar month. */
  readonly usdPerMonth?: number;
}

/** Limits counted in whole requests or tokens. */
export const COUNT_LIMIT_FIELDS = ["requestsPerMinute", "tokensPerMinute", "tokensPerDay"] as const;
/** Budgets in USD. */
export const BUDGET_FIELDS = ["usdPerDay", "usdPerMonth"] as const;
const LIMIT_FIELDS: readonly string[] = [...COUNT_LIMIT_FIELDS, ...BUDGET_FIELDS];

/** The largest budget accepted: a million dollars a window is no budget at all. */
export const MAX_BUDGET_USD = 1_000_000;

/**
 * Validates a limits object (from the secret, `GATEWAY_KEY_LIMITS` or a key record).
 * @returns an error message naming the field, or the limits
 */
export function parseKeyLimits(value: unknown, field: string): KeyLimits | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `${field} must be an object with any of ${LIMIT_FIELDS.join(", ")}`;
  }
  const limits: Record<string, number> = {};
  for (const [name, limit] of Object.entries(value)) {
    if (!LIMIT_FIELDS.includes(name)) return `${field}.${name} is not a limit (use ${LIMIT_FIELDS.join(", ")})`;
    const problem = (BUDGET_FIELDS as readonly string[]).includes(name) ? budgetProblem(limit) : countProblem(limit);
    if (problem !== undefined) return `${field}.${name} ${problem}`;
    limits[name] = limit as number;
  }
  return limits;
}

/** Why a value cannot be a request or token limit, or undefined when it can. */
export function countProblem(value: unknown): string | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1 ? undefined : "must be a positive integer";
}

/** Why a value cannot be a USD budget, or undefined when it can (a positive amount up to {@link MAX_BUDGET_USD}). */
export function budgetProblem(value: unknown): string | undefined {
  return typeof value === "number" && Number.isFinite(value) && value > 0 && value <= MAX_BUDGET_USD
    ? undefined
    : `must be a number of US dollars above 0 and at most ${MAX_BUDGET_USD}`;
}
