import { assert } from './assert.ts';
import { entrySizeBytes } from './storage.ts';
import { type Entry, type Snapshot, type Storage, StorageError } from './types.ts';

/**
 * The log as the core sees it: what the driver has made durable (`storage`), followed by what the core
 * has appended but not yet handed to the driver for writing (`unstable`).
 */
export class RaftLog {
  readonly storage: Storage;
  /** An incoming snapshot not yet written by the driver. Invariant: its index is unstableOffset - 1. */
  unstableSnapshot: Snapshot | null = null;
  /** Entries not yet written by the driver. Invariant: unstableEntries[i].index === unstableOffset + i. */
  unstableEntries: Entry[] = [];
  unstableOffset: number;
  /** Highest index known to be committed. Invariant: applied <= committed <= lastIndex(). */
  committed: number;
  /** Highest index the driver has applied. */
  applied: number;
  /** Highest index handed to the driver for applying. Invariant: applied <= applying <= committed. */
  applying: number;
  readonly #maxCommittedSizePerReadyBytes: number;

  constructor(storage: Storage, maxCommittedSizePerReadyBytes: number) {
    this.storage = storage;
    this.unstableOffset = storage.lastIndex() + 1;
    this.committed = storage.firstIndex() - 1;
    this.applied = storage.firstIndex() - 1;
    this.applying = this.applied;
    this.#maxCommittedSizePerReadyBytes = maxCommittedSizePerReadyBytes;
  }

  firstIndex(): number {
    if (this.unstableSnapshot !== null) return this.unstableSnapshot.metadata.index + 1;
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstableEntries.length > 0) return this.unstableOffset + this.unstableEntries.length - 1;
    if (this.unstableSnapshot !== null) return this.unstableSnapshot.metadata.index;
    return this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** The term at `index`, or 0 when the index is out of range (compacted or in the future). */
  term(index: number): number {
    if (index >= this.unstableOffset) {
      const entry = this.unstableEntries[index - this.unstableOffset];
      if (entry !== undefined) return entry.term;
      if (this.unstableSnapshot !== null && index === this.unstableSnapshot.metadata.index) {
        return this.unstableSnapshot.metadata.term;
      }
      return 0;
    }
    if (this.unstableSnapshot !== null) {
      return index === this.unstableSnapshot.metadata.index ? this.unstableSnapshot.metadata.term : 0;
    }
    if (index < this.storage.firstIndex() - 1 || index > this.storage.lastIndex()) return 0;
    return this.storage.term(index);
  }

  matchTerm(index: number, term: number): boolean {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return false;
    return this.term(index) === term;
  }

  /** §5.4.1: a log is at least as up to date if its last term is higher, or equal with an index as long. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The follower side of AppendEntries: if the entry at `index` has `logTerm`, append `entries` after
   * it (truncating at the first conflict) and return the new last index; otherwise null.
   */
  maybeAppend(index: number, logTerm: number, committed: number, entries: readonly Entry[], skipTermCheck: boolean): number | null {
    if (!(skipTermCheck ? index <= this.lastIndex() && index >= this.firstIndex() - 1 : this.matchTerm(index, logTerm))) {
      return null;
    }
    const lastNewIndex = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > this.committed, () => `entry ${conflict} conflicts with the committed prefix (${this.committed})`);
      this.append(entries.slice(conflict - index - 1));
    }
    this.commitTo(Math.min(committed, lastNewIndex));
    return lastNewIndex;
  }

  /** The index of the first entry that is new or conflicts with the log, or 0 if all are present. */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * Fast backtracking (Raft thesis §5.3 optimisation): the largest index <= `index` whose term is
   * <= `term`, so the leader can skip a whole term of mismatching entries per round trip.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let candidate = Math.min(index, this.lastIndex());
    while (candidate >= this.firstIndex() - 1) {
      const candidateTerm = this.term(candidate);
      if (candidateTerm <= term) return { index: candidate, term: candidateTerm };
      candidate--;
    }
    return { index: candidate < 0 ? 0 : candidate, term: 0 };
  }

  append(entries: readonly Entry[]): number {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    assert(first.index - 1 >= this.committed, () => `append at ${first.index} would overwrite committed ${this.committed}`);
    this.truncateAndAppend(entries);
    return this.lastIndex();
  }

  private truncateAndAppend(entries: readonly Entry[]): void {
    const after = entries[0]!.index;
    const unstableEnd = this.unstableOffset + this.unstableEntries.length;
    if (after === unstableEnd) {
      for (const entry of entries) this.unstableEntries.push(entry);
    } else if (after <= this.unstableOffset) {
      // Replaces every unstable entry, and possibly part of the durable log (the driver overwrites it).
      this.unstableOffset = after;
      this.unstableEntries = [...entries];
    } else {
      this.unstableEntries = this.unstableEntries.slice(0, after - this.unstableOffset);
      for (const entry of entries) this.unstableEntries.push(entry);
    }
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), () => `commit ${index} is past the last index ${this.lastIndex()}`);
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index <= this.applied) return;
    assert(index <= this.committed && index >= this.applied, () => `applied ${index} out of range [${this.applied}, ${this.committed}]`);
    this.applied = index;
    this.applying = Math.max(this.applying, index);
  }

  /** Entries in [low, high) with at most maxBytes (at least one), from storage and the unstable tail. */
  slice(low: number, high: number, maxBytes: number): Entry[] {
    assert(low >= this.firstIndex() && high <= this.lastIndex() + 1 && low <= high, () => `slice(${low}, ${high}) out of range`);
    const out: Entry[] = [];
    let bytes = 0;
    if (low < this.unstableOffset) {
      const storedHigh = Math.min(high, this.unstableOffset);
      for (const entry of this.storage.entries(low, storedHigh, maxBytes)) {
        bytes += entrySizeBytes(entry);
        out.push(entry);
      }
      if (out.length < storedHigh - low) return out;
    }
    for (let index = Math.max(low, this.unstableOffset); index < high; index++) {
      const entry = this.unstableEntries[index - this.unstableOffset]!;
      bytes += entrySizeBytes(entry);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  /** Entries from `index` on, for an append message; throws StorageError RAFT_COMPACTED if gone. */
  entriesFrom(index: number, maxBytes: number): Entry[] {
    if (index > this.lastIndex()) return [];
    if (index < this.firstIndex()) throw new StorageError('RAFT_COMPACTED', `index ${index} is compacted`);
    return this.slice(index, this.lastIndex() + 1, maxBytes);
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > this.applied && this.applied + 1 >= this.firstIndex() && this.unstableSnapshot === null;
  }

  /** The next committed entries to apply; they count as being applied until appliedTo() confirms them. */
  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    const entries = this.slice(this.applied + 1, this.committed + 1, this.#maxCommittedSizePerReadyBytes);
    const last = entries[entries.length - 1];
    if (last !== undefined) this.applying = last.index;
    return entries;
  }

  /** The driver wrote the unstable entries up to `index` (with `term`). Ignored if they were replaced since. */
  stableTo(index: number, term: number): void {
    if (index < this.unstableOffset) return;
    const entry = this.unstableEntries[index - this.unstableOffset];
    if (entry === undefined || entry.term !== term) return;
    this.unstableEntries = this.unstableEntries.slice(index + 1 - this.unstableOffset);
    this.unstableOffset = index + 1;
  }

  stableSnapshotTo(index: number): void {
    if (this.unstableSnapshot !== null && this.unstableSnapshot.metadata.index === index) this.unstableSnapshot = null;
  }

  /** Replaces the log with a snapshot (follower side of InstallSnapshot). */
  restore(snapshot: Snapshot): void {
    assert(this.applying === this.applied, 'restoring a snapshot while entries are being applied');
    this.committed = snapshot.metadata.index;
    this.unstableOffset = snapshot.metadata.index + 1;
    this.unstableEntries = [];
    this.unstableSnapshot = snapshot;
  }

  snapshot(): Snapshot {
    return this.unstableSnapshot ?? this.storage.snapshot();
  }
}
