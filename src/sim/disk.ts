import type { Entry, HardState, MemoryStorage, Snapshot } from '../raft/index.ts';
import { assert } from './assert.ts';
import type { PseudoRandom } from './random.ts';

export interface DiskOptions {
  readonly fsyncLatencyTypicalMs: number;
  readonly fsyncLatencyMaxMs: number;
  /** An occasional fsync stalls (a busy device, a journal commit). */
  readonly slowFsyncProbability: number;
  readonly slowFsyncLatencyMs: number;
  /** When a crash meets an unfinished write: the probability that a prefix of it reached the platter. */
  readonly tornWriteProbability: number;
}

export const diskOptionsInstant: DiskOptions = {
  fsyncLatencyTypicalMs: 0, fsyncLatencyMaxMs: 0, slowFsyncProbability: 0, slowFsyncLatencyMs: 0, tornWriteProbability: 0,
};

/** One Ready's durable part, written in this order: snapshot, entries, hard state. */
export interface DiskWrite {
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
  readonly hardState: HardState | null;
}

/** What a crash did to the write in flight. */
export interface CrashOutcome {
  /** No write was in flight. */
  readonly idle: boolean;
  /** Whether the snapshot record of the torn write survived. */
  readonly snapshotKept: boolean;
  /** Entries of the torn write that survived (a prefix); 0 when it was lost whole. */
  readonly entriesKept: number;
}

interface PendingWrite {
  readonly id: number;
  readonly write: DiskWrite;
}

/**
 * A node's disk: a MemoryStorage holding what is durable, and at most one write in flight (the driver takes
 * no new Ready until the previous one is durable). A write becomes durable all at once when its fsync
 * completes. A crash loses the write in flight, or tears it: a prefix of its records (snapshot, then
 * entries) survives, and the hard state, written last, never does.
 *
 * @example
 * const doneAtMs = disk.beginWrite({ snapshot: null, entries, hardState }, nowMs);
 * // ... at doneAtMs:
 * disk.completeWrite(writeId);
 */
export class Disk {
  readonly storage: MemoryStorage;
  readonly #options: DiskOptions;
  readonly #random: PseudoRandom;
  #pending: PendingWrite | null = null;
  #nextWriteId = 1;

  constructor(storage: MemoryStorage, options: DiskOptions, random: PseudoRandom) {
    validateDiskOptions(options);
    this.storage = storage;
    this.#options = options;
    this.#random = random;
  }

  hasPendingWrite(): boolean {
    return this.#pending !== null;
  }

  /** Starts a write; returns its ID and the simulated time its fsync completes. */
  beginWrite(write: DiskWrite, nowMs: number): { writeId: number; doneAtMs: number } {
    assert(this.#pending === null, 'one write in flight at a time');
    const options = this.#options;
    let latencyMs = this.#random.latency(options.fsyncLatencyTypicalMs, options.fsyncLatencyMaxMs);
    if (this.#random.chance(options.slowFsyncProbability)) latencyMs += options.slowFsyncLatencyMs;
    const writeId = this.#nextWriteId++;
    this.#pending = { id: writeId, write };
    return { writeId, doneAtMs: nowMs + latencyMs };
  }

  /** The fsync completed: the whole write is durable. Returns it. */
  completeWrite(writeId: number): DiskWrite {
    const pending = this.#pending;
    assert(pending !== null && pending.id === writeId, () => `completion of write ${writeId}, which is not in flight`);
    this.#pending = null;
    applyWrite(this.storage, pending.write, pending.write.entries.length, true);
    return pending.write;
  }

  /** The machine lost power: the write in flight is lost or torn. */
  crash(): CrashOutcome {
    const pending = this.#pending;
    this.#pending = null;
    if (pending === null) return { idle: true, snapshotKept: false, entriesKept: 0 };
    if (!this.#random.chance(this.#options.tornWriteProbability)) return { idle: false, snapshotKept: false, entriesKept: 0 };
    const write = pending.write;
    const recordsCount = (write.snapshot === null ? 0 : 1) + write.entries.length;
    if (recordsCount === 0) return { idle: false, snapshotKept: false, entriesKept: 0 };
    // Any strict prefix of the records, the hard state excluded: it is written last.
    const recordsKept = this.#random.nextInt(recordsCount + 1);
    const snapshotKept = write.snapshot !== null && recordsKept >= 1;
    const entriesKept = recordsKept - (write.snapshot === null ? 0 : 1);
    if (write.snapshot !== null && !snapshotKept) return { idle: false, snapshotKept: false, entriesKept: 0 };
    applyWrite(this.storage, { ...write, snapshot: snapshotKept ? write.snapshot : null }, Math.max(0, entriesKept), false);
    return { idle: false, snapshotKept, entriesKept: Math.max(0, entriesKept) };
  }
}

function applyWrite(storage: MemoryStorage, write: DiskWrite, entriesCount: number, withHardState: boolean): void {
  assert(entriesCount >= 0 && entriesCount <= write.entries.length, 'entries kept within the write');
  if (write.snapshot !== null) storage.applySnapshot(write.snapshot);
  if (entriesCount > 0) storage.append(write.entries.slice(0, entriesCount));
  if (withHardState && write.hardState !== null) storage.setHardState(write.hardState);
  const last = write.entries[entriesCount - 1];
  assert(last === undefined || storage.lastIndex() === last.index, 'the log ends with the last entry written');
}

export function validateDiskOptions(options: DiskOptions): void {
  assert(options.fsyncLatencyTypicalMs >= 0 && options.fsyncLatencyMaxMs >= options.fsyncLatencyTypicalMs, 'fsync latency bounds');
  assert(options.slowFsyncProbability >= 0 && options.slowFsyncProbability <= 1, 'slowFsyncProbability in [0, 1]');
  assert(options.slowFsyncLatencyMs >= 0, 'slowFsyncLatencyMs must be non-negative');
  assert(options.tornWriteProbability >= 0 && options.tornWriteProbability <= 1, 'tornWriteProbability in [0, 1]');
}
