/**
 * The deadlines that bound upstream calls and relays (upstream/deadlines.ts):
 * short ones on a timer of their own, long ones in one set checked by one
 * interval, each firing once, never early, and at most a check's interval late.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { COARSE_FROM_MS, Deadlines, RESOLUTION_MS } from "../../functions/shared/upstream/deadlines.ts";

describe("deadlines", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a short deadline fires on time, on a timer of its own", () => {
    const deadlines = new Deadlines();
    const fired = vi.fn();
    deadlines.set(COARSE_FROM_MS - 1, fired);
    expect(deadlines.size).toBe(0);
    vi.advanceTimersByTime(COARSE_FROM_MS - 2);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it("a long deadline waits in the set and fires once, never early and at most one check late", () => {
    const deadlines = new Deadlines();
    const fired = vi.fn();
    deadlines.set(5_000, fired);
    expect(deadlines.size).toBe(1);
    vi.advanceTimersByTime(4_999);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(RESOLUTION_MS + 1);
    expect(fired).toHaveBeenCalledTimes(1);
    expect(deadlines.size).toBe(0);
    vi.advanceTimersByTime(10 * RESOLUTION_MS);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it("a cleared deadline never fires, short or long", () => {
    const deadlines = new Deadlines();
    const short = vi.fn();
    const long = vi.fn();
    deadlines.set(10, short).clear();
    deadlines.set(2_000, long).clear();
    expect(deadlines.size).toBe(0);
    vi.advanceTimersByTime(3_000);
    expect(short).not.toHaveBeenCalled();
    expect(long).not.toHaveBeenCalled();
  });

  it("deadlines that expire in one check all fire, each once, and the others wait", () => {
    const deadlines = new Deadlines();
    const first = vi.fn();
    const second = vi.fn();
    const later = vi.fn();
    deadlines.set(1_000, first);
    deadlines.set(1_050, second);
    deadlines.set(3_000, later);
    vi.advanceTimersByTime(1_050 + RESOLUTION_MS);
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(1);
    expect(later).not.toHaveBeenCalled();
    expect(deadlines.size).toBe(1);
  });

  it("a deadline cleared by another that expires in the same check does not fire", () => {
    const deadlines = new Deadlines();
    const second = vi.fn();
    let secondDeadline: ReturnType<Deadlines["set"]> | undefined;
    const first = vi.fn(() => secondDeadline?.clear());
    // Both expire between the same two checks (every RESOLUTION_MS from the first deadline's setting).
    deadlines.set(1_020, first);
    secondDeadline = deadlines.set(1_030, second);
    vi.advanceTimersByTime(1_030 + RESOLUTION_MS);
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).not.toHaveBeenCalled();
    expect(deadlines.size).toBe(0);
  });

  it("an expiring deadline may set the next one (a relay's bounds do)", () => {
    const deadlines = new Deadlines();
    const times: number[] = [];
    const started = Date.now();
    const check = () => {
      times.push(Date.now() - started);
      if (times.length < 3) deadlines.set(2_000, check);
    };
    deadlines.set(2_000, check);
    vi.advanceTimersByTime(10_000);
    expect(times).toHaveLength(3);
    times.forEach((at, index) => {
      expect(at).toBeGreaterThanOrEqual(2_000 * (index + 1));
      expect(at).toBeLessThanOrEqual((2_000 + RESOLUTION_MS) * (index + 1));
    });
  });

  it("one interval serves every long deadline, and stops once a check finds none waiting", () => {
    const deadlines = new Deadlines();
    // Requests one after another: each sets its bounds and clears them.
    for (let request = 0; request < 100; request += 1) {
      deadlines.set(60_000, () => undefined).clear();
      deadlines.set(120_000, () => undefined).clear();
    }
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(RESOLUTION_MS);
    expect(vi.getTimerCount()).toBe(0);
    // And starts again with the next one.
    const fired = vi.fn();
    deadlines.set(1_500, fired);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1_500 + RESOLUTION_MS);
    expect(fired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(RESOLUTION_MS);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a wall clock set forward or back moves no deadline (time is monotonic)", () => {
    const deadlines = new Deadlines();
    const fired = vi.fn();
    deadlines.set(5_000, fired);
    vi.setSystemTime(Date.now() + 120_000);
    vi.advanceTimersByTime(4_000);
    expect(fired).not.toHaveBeenCalled();
    vi.setSystemTime(Date.now() - 600_000);
    vi.advanceTimersByTime(1_000 + RESOLUTION_MS);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it("timers swapped after a deadline (as fake timers in a test are) still check the later ones", async () => {
    const deadlines = new Deadlines();
    // Set and cleared under fake timers: the interval that checks them is a fake one, left behind.
    deadlines.set(2_000, () => undefined).clear();
    vi.useRealTimers();
    const fired = vi.fn();
    deadlines.set(COARSE_FROM_MS, fired);
    await vi.waitFor(() => expect(fired).toHaveBeenCalledTimes(1), { timeout: 5_000, interval: 20 });
    // And the other way round: set and cleared under real timers, then fake ones.
    deadlines.set(2_000, () => undefined).clear();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date", "performance"] });
    const later = vi.fn();
    deadlines.set(2_000, later);
    vi.advanceTimersByTime(2_000 + RESOLUTION_MS);
    expect(later).toHaveBeenCalledTimes(1);
  });
});
