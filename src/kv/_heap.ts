/** A binary min-heap of timed entries, ordered by (dueMs, id) so that ties break the same way everywhere. */
import { assert } from './errors.ts';

export interface TimedEntry {
  readonly dueMs: number;
  readonly id: number;
  /** The lease expiry the entry was pushed for; a differing current expiry makes the entry stale. */
  readonly expiryMs: number;
}

function precedes(left: TimedEntry, right: TimedEntry): boolean {
  return left.dueMs < right.dueMs || (left.dueMs === right.dueMs && left.id < right.id);
}

export class TimedHeap {
  #entries: TimedEntry[] = [];

  get size(): number {
    return this.#entries.length;
  }

  peek(): TimedEntry | undefined {
    return this.#entries[0];
  }

  clear(): void {
    this.#entries = [];
  }

  push(entry: TimedEntry): void {
    const entries = this.#entries;
    entries.push(entry);
    let index = entries.length - 1;
    while (index > 0) {
      const parent = (index - 1) >>> 1;
      if (!precedes(entries[index] as TimedEntry, entries[parent] as TimedEntry)) break;
      this.#swap(index, parent);
      index = parent;
    }
  }

  pop(): TimedEntry | undefined {
    const entries = this.#entries;
    const top = entries[0];
    if (top === undefined) return undefined;
    const last = entries.pop() as TimedEntry;
    if (entries.length > 0) {
      entries[0] = last;
      this.#siftDown(0);
    }
    assert(entries.length === 0 || !precedes(entries[0] as TimedEntry, top), 'the heap pops in order');
    return top;
  }

  /** Keeps only entries passing `keep`, then restores the heap order. */
  retain(keep: (entry: TimedEntry) => boolean): void {
    this.#entries = this.#entries.filter(keep);
    for (let index = (this.#entries.length >>> 1) - 1; index >= 0; index--) this.#siftDown(index);
  }

  #siftDown(start: number): void {
    const entries = this.#entries;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < entries.length && precedes(entries[left] as TimedEntry, entries[smallest] as TimedEntry)) smallest = left;
      if (right < entries.length && precedes(entries[right] as TimedEntry, entries[smallest] as TimedEntry)) smallest = right;
      if (smallest === index) return;
      this.#swap(index, smallest);
      index = smallest;
    }
  }

  #swap(left: number, right: number): void {
    const entries = this.#entries;
    const held = entries[left] as TimedEntry;
    entries[left] = entries[right] as TimedEntry;
    entries[right] = held;
  }
}
