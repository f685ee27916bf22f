/**
 * The log as replay rebuilds it from records, in write order. The rules mirror what the writer allows:
 *
 * - An entry at index i replaces the entry at i and drops everything after it (Raft's overwrite rule,
 *   §5.3), so the latest write of each index wins.
 * - No entry may be at or below a snapshot marker: snapshots hold committed entries, and committed
 *   entries are never overwritten.
 * - A snapshot marker whose (index, term) does not match the log is a snapshot installed from the leader
 *   (etcd-raft's `restore`): the log is replaced, so the entries held are dropped. A marker that matches
 *   (a local snapshot) leaves the log as it is.
 */
import type { Entry, HardState } from '../raft/types.ts';
import { emptyHardState } from '../raft/types.ts';
import { RecordFormatError } from './_wal-record.ts';
import type { SnapshotMarker } from './_wal-record.ts';
import { StorageError, assert } from './errors.ts';

export interface ReplayedLog {
  readonly hardState: HardState;
  /** The newest marker at or below the bound asked for, or null when there is none. */
  readonly snapshot: SnapshotMarker | null;
  /** Contiguous entries after `snapshot` (after index 0 without one). */
  readonly entries: Entry[];
}

/**
 * Invariant: #entries[i].index === #firstIndex + i.
 * Invariant: every held entry's index is above #markerIndex, or the log was truncated by a marker after it.
 */
export class LogReplay {
  readonly #snapshotIndexMax: number;
  #entries: Entry[] = [];
  #firstIndex = 0;
  /** The newest marker's index; markers never go backwards. */
  #markerIndex = 0;
  #chosenMarker: SnapshotMarker | null = null;
  #hardState: HardState = emptyHardState;

  constructor(snapshotIndexMax: number) {
    assert(snapshotIndexMax >= 0, 'snapshotIndexMax must not be negative');
    this.#snapshotIndexMax = snapshotIndexMax;
  }

  get lastIndex(): number {
    return this.#entries.length === 0 ? 0 : this.#firstIndex + this.#entries.length - 1;
  }

  get markerIndex(): number {
    return this.#markerIndex;
  }

  get hardState(): HardState {
    return this.#hardState;
  }

  applyEntry(entry: Entry): void {
    if (entry.index <= this.#markerIndex) {
      throw new RecordFormatError(`entry ${entry.index} is at or below the snapshot marker at ${this.#markerIndex}`);
    }
    const next = this.#firstIndex + this.#entries.length;
    if (entry.index === next && this.#entries.length > 0) {
      this.#entries.push(entry);
    } else if (this.#entries.length === 0 || entry.index < this.#firstIndex) {
      // The first entry seen, or an overwrite reaching before it (into a released segment).
      this.#entries = [entry];
      this.#firstIndex = entry.index;
    } else if (entry.index <= next) {
      this.#entries.length = entry.index - this.#firstIndex;
      this.#entries.push(entry);
    } else if (entry.index === this.#markerIndex + 1) {
      // The first entry after an installed snapshot that reached past the log.
      this.#entries = [entry];
      this.#firstIndex = entry.index;
    } else {
      throw new RecordFormatError(`entry ${entry.index} leaves a gap after entry ${next - 1}`);
    }
    assert(this.#entries[this.#entries.length - 1] === entry, 'replayed entry not last');
  }

  applyHardState(hardState: HardState): void {
    if (hardState.term < this.#hardState.term) {
      throw new RecordFormatError(`hard state term ${hardState.term} went back from ${this.#hardState.term}`);
    }
    this.#hardState = hardState;
  }

  applySnapshotMarker(marker: SnapshotMarker): void {
    if (marker.index < this.#markerIndex) {
      throw new RecordFormatError(`snapshot marker ${marker.index} went back from ${this.#markerIndex}`);
    }
    const position = marker.index - this.#firstIndex;
    const held = this.#entries.length > 0 && position >= 0 ? this.#entries[position] : undefined;
    if (held !== undefined && held.term !== marker.term) this.#entries = [];
    this.#markerIndex = marker.index;
    if (marker.index <= this.#snapshotIndexMax) this.#chosenMarker = marker;
  }

  /** The replayed log, checked to be usable from the chosen snapshot. */
  finish(directory: string): ReplayedLog {
    const snapshotIndex = this.#chosenMarker?.index ?? 0;
    if (this.#entries.length > 0 && this.#firstIndex > snapshotIndex + 1) {
      throw new StorageError(
        'WAL_SNAPSHOT_MISMATCH',
        `WAL ${directory} does not reach back to the snapshot at index ${snapshotIndex}: its oldest entry is ${this.#firstIndex}`,
        { file: directory },
      );
    }
    const start = Math.max(0, snapshotIndex + 1 - this.#firstIndex);
    const entries = start === 0 ? this.#entries : this.#entries.slice(start);
    assert(entries.length === 0 || entries[0]!.index === snapshotIndex + 1, 'replayed entries do not follow the snapshot');
    return { hardState: this.#hardState, snapshot: this.#chosenMarker, entries };
  }
}
