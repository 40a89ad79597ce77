/**
 * The memory store of the local server: values that expire, bounds on bytes
 * and entries (oldest first), oversized values refused, counters.
 */
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../../functions/shared/stores/memory-store.ts";

const bytes = (size: number, fill = 1) => new Uint8Array(size).fill(fill);

/** A clock the test moves by hand. */
function manualClock(start = 1_700_000_000_000) {
  let time = start;
  return { now: () => time, advance: (ms: number) => void (time += ms) };
}

describe("values", () => {
  it("round-trips a value and reads an unknown key as undefined", async () => {
    const store = createMemoryStore();
    expect(await store.put("a", bytes(10, 7), 60)).toBe(true);
    expect(await store.get("a")).toEqual(bytes(10, 7));
    expect(await store.get("b")).toBeUndefined();
  });

  it("a put replaces the value and its TTL", async () => {
    const clock = manualClock();
    const store = createMemoryStore({ now: clock.now });
    await store.put("a", bytes(4, 1), 1);
    await store.put("a", bytes(4, 2), 10);
    clock.advance(5_000);
    expect(await store.get("a")).toEqual(bytes(4, 2));
  });

  it("a value expires after its TTL, to the millisecond", async () => {
    const clock = manualClock();
    const store = createMemoryStore({ now: clock.now });
    await store.put("a", bytes(4), 2);
    clock.advance(1_999);
    expect(await store.get("a")).toEqual(bytes(4));
    clock.advance(1);
    expect(await store.get("a")).toBeUndefined();
    // Gone for good, even if the clock were to go back.
    clock.advance(-1_000);
    expect(await store.get("a")).toBeUndefined();
  });
});

describe("bounds", () => {
  it("refuses a value larger than a sixteenth of maxBytes, without error and without evicting", async () => {
    const store = createMemoryStore({ maxBytes: 1_600 });
    expect(await store.put("small", bytes(100), 60)).toBe(true);
    expect(await store.put("big", bytes(101), 60)).toBe(false);
    expect(await store.get("big")).toBeUndefined();
    expect(await store.get("small")).toEqual(bytes(100));
  });

  it("evicts the oldest values when the bytes would go over maxBytes", async () => {
    const store = createMemoryStore({ maxBytes: 1_600 });
    for (let index = 0; index < 16; index += 1) expect(await store.put(`v${index}`, bytes(50), 60)).toBe(true);
    for (let index = 0; index < 16; index += 1) expect(await store.get(`v${index}`)).toBeDefined();
    // 800 bytes kept: room for 16 more of 50 without evicting anything.
    for (let index = 16; index < 32; index += 1) await store.put(`v${index}`, bytes(50), 60);
    expect(await store.get("v0")).toBeDefined();
    await store.put("v32", bytes(50), 60);
    expect(await store.get("v0")).toBeUndefined();
    expect(await store.get("v1")).toBeDefined();
    // A value twice as large makes room for itself by evicting the two oldest.
    await store.put("double", bytes(100), 60);
    expect(await store.get("v1")).toBeUndefined();
    expect(await store.get("v2")).toBeUndefined();
    expect(await store.get("v3")).toBeDefined();
    expect(await store.get("double")).toEqual(bytes(100));
  });

  it("a replaced value counts as new for eviction and its old bytes are freed", async () => {
    const store = createMemoryStore({ maxBytes: 1_600 });
    for (let index = 0; index < 16; index += 1) await store.put(`v${index}`, bytes(100), 60);
    // Replacing v0 with a smaller value frees bytes: no eviction, and v0 is now the newest.
    await store.put("v0", bytes(50), 60);
    await store.put("x", bytes(50), 60);
    for (let index = 0; index < 16; index += 1) expect(await store.get(`v${index}`)).toBeDefined();
    await store.put("y", bytes(100), 60);
    expect(await store.get("v1")).toBeUndefined();
    expect(await store.get("v0")).toEqual(bytes(50));
  });

  it("evicts the oldest values when there would be more than maxEntries, and counters only among themselves", async () => {
    const store = createMemoryStore({ maxEntries: 2 });
    await store.put("a", bytes(1), 60);
    await store.put("b", bytes(1), 60);
    await store.add("c", 1, 60);
    await store.put("d", bytes(1), 60);
    expect(await store.get("a")).toBeUndefined();
    expect(await store.get("b")).toBeDefined();
    expect(await store.get("d")).toBeDefined();
    // Values never push a counter out: c is still counting.
    expect(await store.add("c", 0, 60)).toBe(1);
    await store.add("e", 1, 60);
    await store.add("f", 1, 60);
    // Past the bound, the oldest counter goes.
    expect(await store.add("c", 0, 60)).toBe(0);
    expect(await store.add("f", 0, 60)).toBe(1);
  });

  it("eviction by bytes frees value bytes and leaves counters alone (they hold none)", async () => {
    // Counters are what key limits count with: evicting them to make room for
    // cached bytes frees nothing and silently resets a key's usage.
    const store = createMemoryStore({ maxBytes: 1_600 });
    await store.add("quota:env-1:rpm:1", 5, 120);
    for (let index = 0; index < 16; index += 1) await store.put(`v${index}`, bytes(100), 60);
    await store.put("v16", bytes(100), 60);
    expect(await store.get("v0")).toBeUndefined();
    expect(await store.add("quota:env-1:rpm:1", 0, 120)).toBe(5);
  });
});

describe("counters", () => {
  it("start at 0, add atomically, and `add(key, 0)` reads", async () => {
    const store = createMemoryStore();
    expect(await store.add("n", 0, 60)).toBe(0);
    expect(await store.add("n", 1, 60)).toBe(1);
    expect(await store.add("n", 41, 60)).toBe(42);
    expect(await store.add("n", 0, 60)).toBe(42);
    const totals = await Promise.all(Array.from({ length: 100 }, () => store.add("m", 1, 60)));
    expect(new Set(totals).size).toBe(100);
    expect(Math.max(...totals)).toBe(100);
  });

  it("expire after the TTL of their first add (later adds do not extend it) and restart at 0", async () => {
    const clock = manualClock();
    const store = createMemoryStore({ now: clock.now });
    await store.add("n", 3, 10);
    clock.advance(9_000);
    expect(await store.add("n", 1, 10)).toBe(4);
    clock.advance(1_000);
    expect(await store.add("n", 1, 10)).toBe(1);
  });

  it("a counter and a value under different keys do not interfere; a counter key reads as no value", async () => {
    const store = createMemoryStore();
    await store.add("n", 5, 60);
    expect(await store.get("n")).toBeUndefined();
    await store.put("v", bytes(3), 60);
    expect(await store.add("m", 2, 60)).toBe(2);
    expect(await store.get("v")).toEqual(bytes(3));
  });
});
