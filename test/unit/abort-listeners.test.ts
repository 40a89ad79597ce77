/**
 * Listeners on callers' abort signals (upstream/abort-listeners.ts): a call's
 * listener runs when its signal aborts unless removed first, and a signal
 * shared by many calls carries one listener of its own, whatever their number.
 */
import { getEventListeners } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { AbortListeners } from "../../functions/shared/upstream/abort-listeners.ts";

describe("abort listeners", () => {
  it("runs the listeners present when the signal aborts, not those removed", () => {
    const listeners = new AbortListeners();
    const controller = new AbortController();
    const kept = vi.fn();
    const removed = vi.fn();
    listeners.add(controller.signal, kept);
    listeners.add(controller.signal, removed).remove();
    controller.abort();
    expect(kept).toHaveBeenCalledTimes(1);
    expect(removed).not.toHaveBeenCalled();
    expect(listeners.count(controller.signal)).toBe(0);
  });

  it("a signal shared by calls one after another carries one listener of its own", () => {
    const listeners = new AbortListeners();
    const controller = new AbortController();
    for (let call = 0; call < 50; call += 1) {
      listeners.add(controller.signal, () => undefined).remove();
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    expect(listeners.count(controller.signal)).toBe(0);
    // The calls in flight when it aborts still hear of it.
    const inFlight = vi.fn();
    listeners.add(controller.signal, inFlight);
    controller.abort();
    expect(inFlight).toHaveBeenCalledTimes(1);
  });

  it("signals are apart: one aborting runs only its own calls' listeners", () => {
    const listeners = new AbortListeners();
    const first = new AbortController();
    const second = new AbortController();
    const onFirst = vi.fn();
    const onSecond = vi.fn();
    listeners.add(first.signal, onFirst);
    listeners.add(second.signal, onSecond);
    first.abort();
    expect(onFirst).toHaveBeenCalledTimes(1);
    expect(onSecond).not.toHaveBeenCalled();
    expect(listeners.count(second.signal)).toBe(1);
  });

  it("a listener that ends other calls as it runs keeps theirs from running too, and each runs once", () => {
    const listeners = new AbortListeners();
    const controller = new AbortController();
    const later = vi.fn();
    const middle = vi.fn();
    let laterHandle: ReturnType<AbortListeners["add"]> | undefined;
    const first = vi.fn(() => laterHandle?.remove());
    const firstHandle = listeners.add(controller.signal, first);
    listeners.add(controller.signal, middle);
    laterHandle = listeners.add(controller.signal, later);
    controller.abort();
    expect(first).toHaveBeenCalledTimes(1);
    expect(middle).toHaveBeenCalledTimes(1);
    expect(later).not.toHaveBeenCalled();
    // A handle removed after its listener ran changes nothing.
    firstHandle.remove();
    expect(first).toHaveBeenCalledTimes(1);
  });

  it("removing a call's listener leaves the others of its signal, before and after it, in place", () => {
    const listeners = new AbortListeners();
    const controller = new AbortController();
    const ran: string[] = [];
    const handles = ["a", "b", "c", "d"].map((name) => listeners.add(controller.signal, () => ran.push(name)));
    handles[1]?.remove();
    handles[3]?.remove();
    handles[1]?.remove();
    expect(listeners.count(controller.signal)).toBe(2);
    controller.abort();
    expect(ran).toEqual(["a", "c"]);
  });
});
