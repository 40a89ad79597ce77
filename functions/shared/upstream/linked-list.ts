/**
 * A doubly linked list whose items are their own links: an item joins and
 * leaves in constant time, without a hash, an entry or a node of its own.
 *
 * The deadlines and abort listeners of every upstream call come and go once
 * per request; in a `Set`, each add and delete hashed the item (and gave it an
 * identity hash first) and grew or shrank the set's table, a share of the hot
 * path's CPU time (npm run bench). Here an item keeps its neighbours.
 */

/** An item of a {@link LinkedList}: extend it to be listed. */
export class Linked {
  /** @internal */ previous: Linked | undefined = undefined;
  /** @internal */ next: Linked | undefined = undefined;
  /** @internal The list the item is in, if any. */
  owner: LinkedList<Linked> | undefined = undefined;
}

/** Items in the order they were added; each item is in at most one list at a time. */
export class LinkedList<T extends Linked> {
  #head: T | undefined = undefined;
  #tail: T | undefined = undefined;
  #size = 0;

  /** How many items are listed. */
  get size(): number {
    return this.#size;
  }

  /** Adds `item` at the end. It must not be in a list. */
  push(item: T): void {
    item.owner = this as LinkedList<Linked>;
    item.previous = this.#tail;
    item.next = undefined;
    if (this.#tail === undefined) this.#head = item;
    else this.#tail.next = item;
    this.#tail = item;
    this.#size += 1;
  }

  /** Takes `item` out; false when it was not in this list (taken out before, or never added). */
  remove(item: T): boolean {
    if (item.owner !== this) return false;
    const { previous, next } = item;
    if (previous === undefined) this.#head = next as T | undefined;
    else previous.next = next;
    if (next === undefined) this.#tail = previous as T | undefined;
    else next.previous = previous;
    item.owner = undefined;
    item.previous = undefined;
    item.next = undefined;
    this.#size -= 1;
    return true;
  }

  /** Whether `item` is in this list. */
  has(item: T): boolean {
    return item.owner === this;
  }

  /**
   * The items listed now, in order, as an array: what the caller then does
   * (runs them, takes some out, adds others) does not change what it visits.
   */
  toArray(): T[] {
    const items: T[] = [];
    for (let item = this.#head; item !== undefined; item = item.next as T | undefined) items.push(item);
    return items;
  }
}
