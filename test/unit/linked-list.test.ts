/**
 * The linked list under the deadlines and abort listeners
 * (upstream/linked-list.ts): items keep their order, leave from anywhere in
 * constant time, and a list never takes out another list's item.
 */
import { describe, expect, it } from "vitest";
import { Linked, LinkedList } from "../../functions/shared/upstream/linked-list.ts";

class Item extends Linked {
  readonly name: string;
  constructor(name: string) {
    super();
    this.name = name;
  }
}

const names = (list: LinkedList<Item>) => list.toArray().map((item) => item.name);

describe("linked list", () => {
  it("keeps items in the order they came, and takes them out from the head, the middle and the tail", () => {
    const list = new LinkedList<Item>();
    const [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map((name) => new Item(name)) as [Item, Item, Item, Item, Item];
    for (const item of [a, b, c, d, e]) list.push(item);
    expect(names(list)).toEqual(["a", "b", "c", "d", "e"]);
    expect(list.remove(c)).toBe(true);
    expect(names(list)).toEqual(["a", "b", "d", "e"]);
    expect(list.remove(a)).toBe(true);
    expect(names(list)).toEqual(["b", "d", "e"]);
    expect(list.remove(e)).toBe(true);
    expect(names(list)).toEqual(["b", "d"]);
    expect(list.size).toBe(2);
    // Items added after removals go at the end, and the list empties and fills again.
    list.push(a);
    expect(names(list)).toEqual(["b", "d", "a"]);
    for (const item of [d, b, a]) list.remove(item);
    expect(names(list)).toEqual([]);
    expect(list.size).toBe(0);
    list.push(e);
    expect(names(list)).toEqual(["e"]);
  });

  it("an item taken out twice, or never added, or in another list, is not taken out", () => {
    const list = new LinkedList<Item>();
    const other = new LinkedList<Item>();
    const [a, b, stranger] = [new Item("a"), new Item("b"), new Item("s")];
    list.push(a);
    list.push(b);
    other.push(stranger);
    expect(list.remove(a)).toBe(true);
    expect(list.remove(a)).toBe(false);
    expect(list.remove(new Item("x"))).toBe(false);
    expect(list.remove(stranger)).toBe(false);
    expect(names(list)).toEqual(["b"]);
    expect(names(other)).toEqual(["s"]);
    expect(list.has(b)).toBe(true);
    expect(list.has(stranger)).toBe(false);
    expect([list.size, other.size]).toEqual([1, 1]);
  });
});
