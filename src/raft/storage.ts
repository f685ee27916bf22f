import { assert } from './assert.ts';
import {
  type ConfState, type Entry, type HardState, type NodeId, type Snapshot, type Storage,
  StorageError, emptyConfState, emptyHardState,
} from './types.ts';

/**
 * An in-memory Storage: the log the driver has made durable. The simulator keeps one per node as its
 * "disk"; the member process keeps one as the cache in front of its WAL.
 *
 * The compaction point (`#offsetIndex`) may lag the snapshot index: a member keeps a tail of entries behind
 * its latest snapshot so that slow followers can catch up without a snapshot transfer.
 */
export class MemoryStorage implements Storage {
  #hardState: HardState = emptyHardState;
  #snapshot: Snapshot;
  /** Index and term of the last compacted entry. Invariant: #offsetIndex <= #snapshot.metadata.index. */
  #offsetIndex = 0;
  #offsetTerm = 0;
  /** Invariant: #entries[i].index === #offsetIndex + 1 + i, and terms never decrease. */
  #entries: Entry[] = [];

  /**
   * With `initial`, bootstraps a founding member: a snapshot at index 1, term 1 holding the membership and
   * an empty application state. (A member added later starts empty; since every log starts after index 1,
   * the leader always sends it that snapshot first, so it learns the founding membership.)
   * Without it, an empty storage for a member that joins an existing cluster.
   */
  constructor(initial?: { voters: readonly NodeId[]; learners?: readonly NodeId[] }) {
    if (initial === undefined) {
      this.#snapshot = { metadata: { index: 0, term: 0, confState: emptyConfState() }, data: new Uint8Array(0) };
      return;
    }
    assert(initial.voters.length > 0, 'a founding configuration needs a voter');
    const confState: ConfState = { ...emptyConfState(), voters: [...initial.voters], learners: [...(initial.learners ?? [])] };
    this.#snapshot = { metadata: { index: 1, term: 1, confState }, data: new Uint8Array(0) };
    this.#offsetIndex = 1;
    this.#offsetTerm = 1;
    this.#hardState = { term: 1, vote: 0, commit: 1 };
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.#hardState, confState: this.#snapshot.metadata.confState };
  }

  hardState(): HardState {
    return this.#hardState;
  }

  setHardState(hardState: HardState): void {
    this.#hardState = hardState;
  }

  firstIndex(): number {
    return this.#offsetIndex + 1;
  }

  lastIndex(): number {
    return this.#offsetIndex + this.#entries.length;
  }

  term(index: number): number {
    if (index < this.#offsetIndex) {
      throw new StorageError('RAFT_COMPACTED', `index ${index} is compacted (first ${this.#offsetIndex + 1})`);
    }
    if (index === this.#offsetIndex) return this.#offsetTerm;
    const entry = this.#entries[index - this.#offsetIndex - 1];
    if (entry === undefined) {
      throw new StorageError('RAFT_UNAVAILABLE', `index ${index} is past the last index ${this.lastIndex()}`);
    }
    return entry.term;
  }

  entries(low: number, high: number, maxBytes: number): Entry[] {
    if (low <= this.#offsetIndex) {
      throw new StorageError('RAFT_COMPACTED', `index ${low} is compacted (first ${this.#offsetIndex + 1})`);
    }
    assert(high <= this.lastIndex() + 1, () => `entries(${low}, ${high}) past the last index ${this.lastIndex()}`);
    const start = low - this.#offsetIndex - 1;
    return limitSize(this.#entries, start, high - this.#offsetIndex - 1, maxBytes);
  }

  snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** All entries held (for checkers and tests). */
  allEntries(): readonly Entry[] {
    return this.#entries;
  }

  /** Appends entries, first truncating any conflicting suffix (the Raft overwrite rule). */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    assert(first.index <= this.lastIndex() + 1, () => `append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    // Entries at or below the compaction point are committed and already here: skip them.
    let skip = 0;
    while (skip < entries.length && entries[skip]!.index <= this.#offsetIndex) skip++;
    if (skip === entries.length) return;
    const start = entries[skip]!.index;
    this.#entries.length = start - this.#offsetIndex - 1;
    for (let i = skip; i < entries.length; i++) {
      const entry = entries[i]!;
      assert(entry.index === this.lastIndex() + 1, 'appended entries must be contiguous');
      this.#entries.push(entry);
    }
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  applySnapshot(snapshot: Snapshot): void {
    assert(snapshot.metadata.index >= this.#snapshot.metadata.index, 'snapshot is older than the current one');
    this.#snapshot = snapshot;
    this.#offsetIndex = snapshot.metadata.index;
    this.#offsetTerm = snapshot.metadata.term;
    this.#entries = [];
  }

  /** Records a snapshot of the application's state at `index` (which must still be in the log). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    assert(index >= this.#snapshot.metadata.index, () => `snapshot index ${index} is older than ${this.#snapshot.metadata.index}`);
    assert(index <= this.lastIndex(), () => `snapshot index ${index} is past the last index ${this.lastIndex()}`);
    this.#snapshot = { metadata: { index, term: this.term(index), confState }, data };
    return this.#snapshot;
  }

  /**
   * Discards entries up to and including `index`. Invariant: a snapshot covers them, because a follower
   * that needs a discarded entry is sent the snapshot instead.
   */
  compact(index: number): void {
    if (index <= this.#offsetIndex) return;
    assert(index <= this.#snapshot.metadata.index, () => `compact(${index}) past the snapshot index ${this.#snapshot.metadata.index}`);
    const term = this.term(index);
    this.#entries = this.#entries.slice(index - this.#offsetIndex);
    this.#offsetIndex = index;
    this.#offsetTerm = term;
  }
}

/** Copies entries[start, end) but stops before `maxBytes` is exceeded; always at least one entry. */
export function limitSize(entries: readonly Entry[], start: number, end: number, maxBytes: number): Entry[] {
  const out: Entry[] = [];
  let bytes = 0;
  for (let i = start; i < end; i++) {
    const entry = entries[i]!;
    bytes += entrySizeBytes(entry);
    if (out.length > 0 && bytes > maxBytes) break;
    out.push(entry);
  }
  return out;
}

/** The size an entry counts for in flow control: its payload plus a fixed header estimate. */
export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength + 16;
}
