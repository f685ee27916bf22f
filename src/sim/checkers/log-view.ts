import type { Entry, MemoryStorage, Snapshot } from '../../raft/index.ts';
import { assert } from '../assert.ts';

/** A node's log as the checkers see it: what is durable plus the batch about to be written. */
export interface LogView {
  /** The term at `index`, or undefined when the view does not hold it (compacted, or past the end). */
  termAt(index: number): number | undefined;
  lastIndex(): number;
  /** The index of the snapshot the log starts after; entries at or below it are summarised by it. */
  snapshotIndex(): number;
}

/** The durable log of `storage`. */
export function storageView(storage: MemoryStorage): LogView {
  return new PendingWriteView(storage, null, []);
}

/**
 * The log after `snapshot` and `entries` (a Ready's durable part) are written over `storage`: what the
 * node's core holds in memory at the time it hands out that Ready.
 */
export function pendingWriteView(storage: MemoryStorage, snapshot: Snapshot | null, entries: readonly Entry[]): LogView {
  return new PendingWriteView(storage, snapshot, entries);
}

// A class rather than closures: views are built for every Ready, and this keeps them cheap.
class PendingWriteView implements LogView {
  readonly #storage: MemoryStorage;
  readonly #snapshot: Snapshot | null;
  readonly #entries: readonly Entry[];
  readonly #firstEntryIndex: number;

  constructor(storage: MemoryStorage, snapshot: Snapshot | null, entries: readonly Entry[]) {
    this.#storage = storage;
    this.#snapshot = snapshot;
    this.#entries = entries;
    this.#firstEntryIndex = entries[0]?.index ?? Infinity;
    const baseLastIndex = snapshot !== null ? snapshot.metadata.index : storage.lastIndex();
    assert(entries.length === 0 || this.#firstEntryIndex <= baseLastIndex + 1, 'a write appends without a gap');
  }

  termAt(index: number): number | undefined {
    if (index >= this.#firstEntryIndex) return this.#entries[index - this.#firstEntryIndex]?.term;
    const snapshot = this.#snapshot;
    if (snapshot !== null) return index === snapshot.metadata.index ? snapshot.metadata.term : undefined;
    const storage = this.#storage;
    if (index < storage.firstIndex() - 1 || index > storage.lastIndex()) return undefined;
    return storage.term(index);
  }

  lastIndex(): number {
    const last = this.#entries[this.#entries.length - 1];
    if (last !== undefined) return last.index;
    return this.#snapshot !== null ? this.#snapshot.metadata.index : this.#storage.lastIndex();
  }

  snapshotIndex(): number {
    return (this.#snapshot ?? this.#storage.snapshot()).metadata.index;
  }
}
