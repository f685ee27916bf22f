/**
 * The head WAL's writer: appends each commit's records with one write call, group-committing commits that
 * arrive while a write is in flight into a single `writev`.
 *
 * Durability, as in Prometheus: a commit is not fsynced by default. A resolved `write` has reached the
 * operating system, so a crash of the process loses nothing; a crash of the machine can lose what was
 * written since the last fsync. Segments are fsynced when they are completed (rotation), when a checkpoint
 * is taken and on close. `fsyncEveryCommit` adds an fsync (shared by the group) before commits resolve.
 */
import { open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { assert, TsdbError } from '../errors.ts';
import { segmentHeader, segmentHeaderBytes, segmentIndexMax, segmentName } from './segment.ts';

export interface WalWriterOptions {
  /** A segment is completed once a write would take it past this size. */
  readonly segmentBytesMax: number;
  readonly fsyncEveryCommit: boolean;
  /** Bytes waiting behind an in-flight write; further writers wait (back-pressure). */
  readonly queuedBytesMax: number;
}

type QueueEntry =
  | { readonly kind: 'write'; readonly bytes: Uint8Array; readonly resolve: () => void; readonly reject: (error: Error) => void }
  | { readonly kind: 'rotate'; readonly resolve: () => void; readonly reject: (error: Error) => void };

/**
 * Appends records to the newest segment of a WAL directory.
 *
 * @example
 * const writer = await WalWriter.create(walDirectory, 4, { segmentBytesMax: 128 << 20, fsyncEveryCommit: false, queuedBytesMax: 64 << 20 });
 * await writer.write(encodedRecords);
 * await writer.close();
 */
export class WalWriter {
  readonly directory: string;
  readonly #options: WalWriterOptions;
  #handle: FileHandle;
  /** Invariant: the segment being appended to; every lower index present on disk is complete. */
  #segmentIndex: number;
  #segmentBytes: number;
  /** Sizes of complete segments still on disk, by index. */
  readonly #closedSegmentBytes = new Map<number, number>();
  #queue: QueueEntry[] = [];
  #queuedBytes = 0;
  #flushing: Promise<void> | undefined;
  #idleWaiters: (() => void)[] = [];
  #failure: Error | undefined;
  #closed = false;

  private constructor(directory: string, options: WalWriterOptions, handle: FileHandle, segmentIndex: number) {
    this.directory = directory;
    this.#options = options;
    this.#handle = handle;
    this.#segmentIndex = segmentIndex;
    this.#segmentBytes = segmentHeaderBytes;
  }

  /**
   * Starts a new segment `segmentIndex` after the existing `closedSegments` (as Prometheus does on every
   * start, so nothing is ever appended after a repaired tail).
   */
  static async create(directory: string, segmentIndex: number, options: WalWriterOptions, closedSegments: ReadonlyMap<number, number> = new Map()): Promise<WalWriter> {
    validateOptions(options);
    const handle = await createSegment(directory, segmentIndex);
    const writer = new WalWriter(directory, options, handle, segmentIndex);
    for (const [index, bytes] of closedSegments) {
      assert(index < segmentIndex, 'closed segments precede the new one');
      writer.#closedSegmentBytes.set(index, bytes);
    }
    return writer;
  }

  get segmentIndex(): number {
    return this.#segmentIndex;
  }

  /** Bytes in every segment on disk (checkpoints not included). */
  get sizeBytes(): number {
    let total = this.#segmentBytes;
    for (const bytes of this.#closedSegmentBytes.values()) total += bytes;
    return total;
  }

  get segmentCount(): number {
    return this.#closedSegmentBytes.size + 1;
  }

  /** Appends `bytes` (whole records) with one write; resolves once written (and fsynced if configured). */
  async write(bytes: Uint8Array): Promise<void> {
    this.#checkUsable();
    assert(bytes.length > 0, 'a write is not empty');
    while (this.#queuedBytes > 0 && this.#queuedBytes + bytes.length > this.#options.queuedBytesMax) {
      await this.#waitIdle();
      this.#checkUsable();
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ kind: 'write', bytes, resolve, reject });
      this.#queuedBytes += bytes.length;
      this.#startFlush();
    });
  }

  /** Completes the current segment and starts the next; resolves with the new segment's index. */
  async rotate(): Promise<number> {
    this.#checkUsable();
    await new Promise<void>((resolve, reject) => {
      this.#queue.push({ kind: 'rotate', resolve, reject });
      this.#startFlush();
    });
    return this.#segmentIndex;
  }

  /** Deletes complete segments with an index below `segmentIndex` (a checkpoint now stands for them). */
  async removeSegmentsBefore(segmentIndex: number): Promise<number> {
    assert(segmentIndex <= this.#segmentIndex, 'the current segment is never removed');
    const removed = [...this.#closedSegmentBytes.keys()].filter((index) => index < segmentIndex).sort((left, right) => left - right);
    for (const index of removed) {
      await rm(join(this.directory, segmentName(index)), { force: true });
      this.#closedSegmentBytes.delete(index);
    }
    return removed.length;
  }

  /** Waits for queued writes, fsyncs and closes the segment. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#waitIdle();
    try {
      if (this.#failure === undefined) await this.#handle.sync();
    } finally {
      await this.#handle.close();
    }
  }

  #checkUsable(): void {
    if (this.#closed) throw new TsdbError('TSDB_CLOSED', `WAL in ${this.directory} is closed.`);
    if (this.#failure !== undefined) {
      throw new TsdbError('TSDB_WAL_CORRUPT', `WAL in ${this.directory} failed an earlier write and accepts no more: ${this.#failure.message}`, { cause: this.#failure });
    }
  }

  #startFlush(): void {
    if (this.#flushing === undefined) this.#flushing = this.#flush();
  }

  #waitIdle(): Promise<void> {
    if (this.#flushing === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const first = this.#queue[0]!;
      const batch = first.kind === 'rotate' ? this.#queue.splice(0, 1) : this.#takeWrites();
      try {
        if (first.kind === 'rotate') await this.#rotate();
        else await this.#writeBatch(batch);
        for (const entry of batch) entry.resolve();
      } catch (error) {
        this.#failure = error instanceof Error ? error : new Error(String(error));
        for (const entry of [...batch, ...this.#queue.splice(0)]) entry.reject(this.#failure);
        this.#queuedBytes = 0;
      }
    }
    this.#flushing = undefined;
    for (const waiter of this.#idleWaiters.splice(0)) waiter();
  }

  #takeWrites(): QueueEntry[] {
    let count = 0;
    while (count < this.#queue.length && this.#queue[count]!.kind === 'write') count += 1;
    return this.#queue.splice(0, count);
  }

  async #writeBatch(batch: readonly QueueEntry[]): Promise<void> {
    const buffers: Uint8Array[] = [];
    let total = 0;
    for (const entry of batch) {
      assert(entry.kind === 'write', 'a write batch holds writes only');
      buffers.push(entry.bytes);
      total += entry.bytes.length;
    }
    if (this.#segmentBytes > segmentHeaderBytes && this.#segmentBytes + total > this.#options.segmentBytesMax) await this.#rotate();
    const { bytesWritten } = await this.#handle.writev(buffers, this.#segmentBytes);
    if (bytesWritten !== total) throw new Error(`short write: ${bytesWritten} of ${total} bytes reached ${segmentName(this.#segmentIndex)}`);
    this.#segmentBytes += total;
    this.#queuedBytes -= total;
    if (this.#options.fsyncEveryCommit) await this.#handle.datasync();
  }

  async #rotate(): Promise<void> {
    const next = this.#segmentIndex + 1;
    await this.#handle.sync();
    await this.#handle.close();
    this.#closedSegmentBytes.set(this.#segmentIndex, this.#segmentBytes);
    this.#handle = await createSegment(this.directory, next);
    this.#segmentIndex = next;
    this.#segmentBytes = segmentHeaderBytes;
  }
}

/** Creates segment `index` holding just its header, and makes its name durable. */
async function createSegment(directory: string, index: number): Promise<FileHandle> {
  if (index > segmentIndexMax) throw new TsdbError('TSDB_WAL_CORRUPT', `WAL in ${directory} ran out of segment numbers.`);
  const handle = await open(join(directory, segmentName(index)), 'wx+');
  try {
    await handle.write(segmentHeader(), 0, segmentHeaderBytes, 0);
    await syncDirectory(directory);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Fsyncs a directory so that entries created or renamed in it survive a machine crash. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function validateOptions(options: WalWriterOptions): void {
  if (!Number.isSafeInteger(options.segmentBytesMax) || options.segmentBytesMax < 64 * 1024) {
    throw new TsdbError('TSDB_INVALID_OPTIONS', `WAL segment size ${options.segmentBytesMax} is below 64 KiB or not an integer.`);
  }
  if (!Number.isSafeInteger(options.queuedBytesMax) || options.queuedBytesMax < 1) {
    throw new TsdbError('TSDB_INVALID_OPTIONS', `WAL queue bound ${options.queuedBytesMax} is not a positive integer.`);
  }
}
