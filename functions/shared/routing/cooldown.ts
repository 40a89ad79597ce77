/**
 * Targets set aside after failing again and again: a target whose last
 * `failures` outcomes were all failures is skipped for `seconds`, so requests
 * stop waiting on a provider that is down. The state is this execution
 * environment's (a Lambda instance, the local process): a cache that outlives
 * requests, bounded in size.
 */
import type { CooldownSettings } from "../config/route-settings.ts";

/** The most targets remembered; past it the oldest is forgotten. */
const MAX_TARGETS = 1024;

interface TargetHealth {
  failures: number;
  coolingUntil: number;
}

/** The cool-down state of one execution environment. */
export class TargetCooldowns {
  readonly #targets = new Map<string, TargetHealth>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Whether the target is set aside now. */
  isCooling(key: string): boolean {
    const health = this.#targets.get(key);
    return health !== undefined && health.coolingUntil > this.#now();
  }

  /** Counts a failure; the one that reaches the threshold starts a cool-down. */
  failed(key: string, settings: CooldownSettings): void {
    const health = this.#targets.get(key) ?? { failures: 0, coolingUntil: 0 };
    health.failures += 1;
    if (health.failures >= settings.failures) {
      health.coolingUntil = this.#now() + settings.seconds * 1000;
      health.failures = 0;
    }
    this.#remember(key, health);
  }

  /** A success ends the run of failures. */
  succeeded(key: string): void {
    this.#targets.delete(key);
  }

  #remember(key: string, health: TargetHealth): void {
    this.#targets.delete(key);
    this.#targets.set(key, health);
    if (this.#targets.size > MAX_TARGETS) this.#targets.delete(this.#targets.keys().next().value as string);
  }
}
