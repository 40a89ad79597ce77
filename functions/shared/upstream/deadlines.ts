/**
 * Deadlines for a request's long bounds: the provider's first byte, its
 * silence and the request's total time, seconds to minutes away.
 *
 * Node keeps its timers in one list per duration, made when a timer of that
 * duration is set and dropped (with its place in a priority queue) when the
 * last one is cleared. A request's bounds are each set once and cleared once,
 * with a duration of their own (what is left of the request's time), so every
 * request made and dropped its lists: a measurable share of the hot path's
 * CPU time (npm run bench). Bounds of a second or more need no millisecond's
 * precision: they wait in one set, which one interval checks every
 * {@link RESOLUTION_MS}, so such a bound fires up to that much late (the
 * Lambda handler's deadline is a second before the function's timeout, so a
 * late bound still leaves time for a stream's error event,
 * functions/gateway/handler.ts). Shorter bounds get a timer of their own, on
 * time. Time is `performance.now()`, which no change of the wall clock moves
 * (as Node's timers). undici keeps coarse timers for its own timeouts of a
 * second or more too (lib/util/timers.js). The set is a linked list
 * (linked-list.ts): a deadline joins and leaves it without being hashed.
 */
import { Linked, LinkedList } from "./linked-list.ts";

/** A pending deadline. */
export interface Deadline {
  /** Cancels it; nothing happens if it has fired. */
  clear(): void;
}

/** Delays from this long on wait in the shared set; shorter ones get a timer of their own. */
export const COARSE_FROM_MS = 1_000;

/** How often the set is checked: how late, at most, a coarse deadline fires (besides a busy event loop). */
export const RESOLUTION_MS = 100;

class NativeDeadline implements Deadline {
  readonly #timer: NodeJS.Timeout;
  constructor(delayMs: number, onExpire: () => void) {
    this.#timer = setTimeout(onExpire, delayMs);
  }
  clear(): void {
    clearTimeout(this.#timer);
  }
}

/** Monotonic milliseconds: a clock set forward or back moves no bound. */
const now = () => performance.now();

class CoarseDeadline extends Linked implements Deadline {
  readonly at: number;
  readonly onExpire: () => void;
  readonly #pending: LinkedList<CoarseDeadline>;
  constructor(at: number, onExpire: () => void, pending: LinkedList<CoarseDeadline>) {
    super();
    this.at = at;
    this.onExpire = onExpire;
    this.#pending = pending;
  }
  clear(): void {
    this.#pending.remove(this);
  }
}

/** A set of deadlines checked by one interval. */
export class Deadlines {
  readonly #pending = new LinkedList<CoarseDeadline>();
  #ticker: NodeJS.Timeout | undefined;
  // The setInterval that made the ticker: timers swapped since (as vitest's fake timers do) would
  // leave a ticker that never runs, and every later deadline unchecked.
  #tickerFrom: typeof setInterval | undefined;

  /** Calls `onExpire` once `delayMs` have passed, unless the deadline is cleared first. */
  set(delayMs: number, onExpire: () => void): Deadline {
    if (delayMs < COARSE_FROM_MS) return new NativeDeadline(delayMs, onExpire);
    const deadline = new CoarseDeadline(now() + delayMs, onExpire, this.#pending);
    this.#pending.push(deadline);
    if (this.#ticker === undefined || this.#tickerFrom !== setInterval) this.#startTicker();
    return deadline;
  }

  /** How many deadlines wait (for tests). */
  get size(): number {
    return this.#pending.size;
  }

  #startTicker(): void {
    // Unref'd, as a bound never needs to keep the process alive: the call or body it bounds does.
    const ticker: NodeJS.Timeout = setInterval(() => this.#tick(ticker), RESOLUTION_MS).unref();
    this.#ticker = ticker;
    this.#tickerFrom = setInterval;
  }

  #tick(ticker: NodeJS.Timeout): void {
    const at = now();
    // Those waiting now, in a list of their own: one that expires may clear others or set new ones.
    for (const deadline of this.#pending.toArray()) {
      if (deadline.at > at || !this.#pending.remove(deadline)) continue;
      deadline.onExpire();
    }
    // Stopped when a check finds nothing waiting, not when the last deadline is cleared: a server
    // answering requests one after another would start and stop the interval for each.
    if (this.#pending.size === 0) {
      clearInterval(ticker);
      this.#ticker = undefined;
    }
  }
}

/**
 * The process's deadlines: one interval for every request's bounds, as Node's
 * own timer lists are one per process. Each deadline belongs to its request
 * and goes with it; nothing of one request is seen by another.
 */
export const deadlines = new Deadlines();
