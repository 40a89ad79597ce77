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
 * joins and leaves a linked list (linked-list.ts), by the handle `add`
 * returns, without a lookup or a hash.
 */
import { Linked, LinkedList } from "./linked-list.ts";

/** A call's listener on a signal, as {@link AbortListeners.add} returns it: `remove` forgets it. */
export class AbortListener extends Linked {
  readonly #run: () => void;
  readonly #listeners: LinkedList<AbortListener>;
  constructor(run: () => void, listeners: LinkedList<AbortListener>) {
    super();
    this.#run = run;
    this.#listeners = listeners;
  }

  /** Forgets the listener; nothing happens if it ran or was removed before. */
  remove(): void {
    this.#listeners.remove(this);
  }

  /** @internal Runs it, once: it leaves its list first. */
  fire(): void {
    if (this.#listeners.remove(this)) this.#run();
  }
}

/** Listeners on abort signals, one `EventTarget` listener per signal. */
export class AbortListeners {
  readonly #bySignal = new WeakMap<AbortSignal, LinkedList<AbortListener>>();

  /** Runs `listener` when `signal` aborts, unless removed first (by the handle returned). The signal must not have aborted yet. */
  add(signal: AbortSignal, listener: () => void): AbortListener {
    let listeners = this.#bySignal.get(signal);
    if (listeners === undefined) {
      const added = new LinkedList<AbortListener>();
      listeners = added;
      this.#bySignal.set(signal, added);
      signal.addEventListener(
        "abort",
        () => {
          this.#bySignal.delete(signal);
          // The calls in flight now: a listener may end other calls, whose listeners then do not run twice.
          for (const each of added.toArray()) each.fire();
        },
        { once: true },
      );
    }
    const handle = new AbortListener(listener, listeners);
    listeners.push(handle);
    return handle;
  }

  /** How many listeners wait on `signal` (for tests). */
  count(signal: AbortSignal): number {
    return this.#bySignal.get(signal)?.size ?? 0;
  }
}
