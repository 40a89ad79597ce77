/**
 * Listeners on callers' abort signals, added and removed per upstream call
 * without touching the signal itself.
 *
 * An adapter may give every request of a connection the same signal
 * (functions/local/server.ts), and adding and removing an `EventTarget`
 * listener for each call was a measurable share of the hot path's CPU time
 * (npm run bench; Node's `EventTarget` validates and wraps each listener).
 * Here a signal gets one listener of its own, on its first call, which runs
 * the listeners of the calls in flight when it aborts; a call's listener
 * comes and goes in a set.
 */
export class AbortListeners {
  readonly #bySignal = new WeakMap<AbortSignal, Set<() => void>>();

  /** Runs `listener` when `signal` aborts, unless removed first. The signal must not have aborted yet. */
  add(signal: AbortSignal, listener: () => void): void {
    let listeners = this.#bySignal.get(signal);
    if (listeners === undefined) {
      const added = new Set<() => void>();
      listeners = added;
      this.#bySignal.set(signal, added);
      signal.addEventListener(
        "abort",
        () => {
          this.#bySignal.delete(signal);
          for (const each of added) each();
        },
        { once: true },
      );
    }
    listeners.add(listener);
  }

  /** Forgets `listener`; nothing happens if it ran or was never added. */
  remove(signal: AbortSignal, listener: () => void): void {
    this.#bySignal.get(signal)?.delete(listener);
  }

  /** How many listeners wait on `signal` (for tests). */
  count(signal: AbortSignal): number {
    return this.#bySignal.get(signal)?.size ?? 0;
  }
}
