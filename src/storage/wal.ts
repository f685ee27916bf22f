/**
 * The write-ahead log: a directory of segment files holding entries, hard states and snapshot markers,
 * written with group commit (one durable write for every save that arrived while the previous one ran:
 * segments are opened O_DSYNC, so a write returns once its data would have survived an fdatasync) and
 * replayed, with torn-tail repair, at start-up. Byte formats: docs/format/wal.md.
 */
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Entry, HardState } from '../raft/types.ts';
import { EntryType, emptyHardState } from '../raft/types.ts';
import { syncDirectory, writeFully } from './_binary.ts';
import {
  RecordEncoder, entryPayloadFixedBytes, entryRecordBytes, hardStatePayloadBytes, metadataBytesMax, recordBytes,
  recordPayloadBytesMax, segmentHeaderPayloadBytes, snapshotMarkerPayloadBytes,
} from './_wal-record.ts';
import type { SnapshotMarker } from './_wal-record.ts';
import { LogReplay } from './_wal-replay.ts';
import { type SegmentFile, listSegments, segmentFileName, temporaryFileSuffix } from './_wal-segment.ts';
import { replaySegments } from './_wal-open.ts';
import { StorageError, assert } from './errors.ts';
import type { StorageLogger } from './logger.ts';

export type { SnapshotMarker } from './_wal-record.ts';

/** Default size at which a segment is closed and a new one started. */
export const segmentBytesMaxDefault = 64 * 1024 * 1024;
/** Smallest segment size allowed: a segment must hold its head records and then some. */
export const segmentBytesMin = 4096;
/** Default bound on encoded bytes accepted but not yet made durable (admitted plus being written). */
export const pendingBytesMaxDefault = 64 * 1024 * 1024;
/** Default bound on saves waiting for room in the pending bytes; beyond it a save fails WAL_OVERLOADED. */
export const waitingSavesMaxDefault = 1024;
/** Largest data an entry may carry: what fits a record payload after the entry's fixed fields. */
export const entryDataBytesMax = recordPayloadBytesMax - entryPayloadFixedBytes;

const hardStateRecordBytes = recordBytes(hardStatePayloadBytes);
const snapshotMarkerRecordBytes = recordBytes(snapshotMarkerPayloadBytes);
/** The most the head records (segment header, metadata, hard state, marker) of a segment can take. */
export const segmentHeadBytesMax =
  recordBytes(segmentHeaderPayloadBytes) + recordBytes(metadataBytesMax) + hardStateRecordBytes + snapshotMarkerRecordBytes;
assert(segmentHeadBytesMax < segmentBytesMin, 'segment head records must fit the smallest segment');
assert(recordBytes(recordPayloadBytesMax) <= pendingBytesMaxDefault, 'the largest record must fit the default pending bytes');

export interface WalOptions {
  /** Receives repair reports (torn tails cut off, leftover files removed) and segment lifecycle events. */
  readonly logger: StorageLogger;
  readonly segmentBytesMax?: number;
  readonly pendingBytesMax?: number;
  readonly waitingSavesMax?: number;
  /**
   * Called before every sync the WAL issues (each durable write of a batch, each new segment), and awaited.
   * For tests and fault injection: count syncs, hold one in progress, or throw to simulate a failing disk.
   */
  readonly onSync?: (event: WalSyncEvent) => void | Promise<void>;
  /** Called after each durable write of the open segment with its duration (metrics: etcd's wal_fsync_duration). */
  readonly onSynced?: (event: WalSyncedEvent) => void;
}

export interface WalSyncEvent {
  readonly path: string;
}

export interface WalSyncedEvent {
  readonly path: string;
  /** Time the durable write took (O_DSYNC: write and sync in one call), in milliseconds. */
  readonly durationMs: number;
}

export interface WalCreateOptions extends WalOptions {
  /** Identity bytes (cluster and member IDs), written at the head of every segment. */
  readonly metadata: Uint8Array;
}

export interface WalOpenOptions extends WalOptions {
  /**
   * Replay from the newest snapshot marker at or below this index (the snapshot the caller loaded).
   * Default: the newest marker of all.
   */
  readonly snapshotIndexMax?: number;
}

export interface WalReplay {
  readonly metadata: Uint8Array;
  readonly hardState: HardState;
  /** The snapshot replay started from, or null when the log starts at index 1. */
  readonly snapshot: SnapshotMarker | null;
  /** The log after `snapshot`: contiguous, the latest write of each index. */
  readonly entries: Entry[];
  /** Set when a torn tail of the last segment was cut off. */
  readonly repair: WalRepair | null;
}

export interface WalRepair {
  readonly file: string;
  /** Where the file was truncated: the start of the torn record. */
  readonly offset: number;
  readonly droppedBytes: number;
  readonly reason: string;
}

export interface WalStatistics {
  /** Syncs: durable batch writes and new segments' fdatasyncs. */
  readonly syncCount: number;
  /** Group commits written: each is one durable write for all the saves it holds. */
  readonly flushCount: number;
  readonly bytesWritten: number;
  readonly segmentCount: number;
  /** Encoded bytes admitted but not yet durable. Invariant: at most pendingBytesMax. */
  readonly pendingBytes: number;
  /** Saves waiting for room. Invariant: at most waitingSavesMax. */
  readonly waitingSaves: number;
}

interface Limits {
  readonly segmentBytesMax: number;
  readonly pendingBytesMax: number;
  readonly waitingSavesMax: number;
}

interface SaveRequest {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly marker: SnapshotMarker | null;
}

interface SaveJob extends SaveRequest {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** What the writer needs to continue a replayed log. */
interface WriterPosition {
  readonly segments: SegmentFile[];
  readonly segmentBytes: number;
  readonly chainCrc: number;
  readonly lastIndex: number;
  readonly marker: SnapshotMarker | null;
  readonly hardState: HardState;
}

type WalState = 'open' | 'closing' | 'closed' | 'failed';

/**
 * A segmented WAL with group commit.
 *
 * @example
 * const wal = await Wal.create(dir, { logger, metadata: memberIdBytes });
 * await wal.save({ term: 1, vote: 1, commit: 0 }, [{ term: 1, index: 1, type: EntryType.Normal, data }]);
 * await wal.close();
 * const { wal: reopened, replay } = await Wal.open(dir, { logger });
 */
export class Wal {
  readonly #directory: string;
  readonly #logger: StorageLogger;
  readonly #limits: Limits;
  readonly #onSync: WalOptions['onSync'];
  readonly #onSynced: WalOptions['onSynced'];
  readonly #metadata: Uint8Array;
  /** Invariant: sorted by sequence with no gap; the last one is the open segment. */
  readonly #segments: SegmentFile[];
  #handle: FileHandle;
  /** Invariant: the open segment's size on disk, a multiple of 8. */
  #segmentBytes: number;
  #state: WalState = 'open';
  /** Invariant: true once #handle is closed; a failed WAL is still closed exactly once. */
  #handleClosed = false;

  // What the caller has had accepted (checked at admission, in call order).
  #acceptedLastIndex: number;
  #acceptedMarkerIndex: number;
  #acceptedHardState: HardState;

  // What has been encoded into the files, in write order. Segment names and heads come from these.
  /** Invariant: the CRC of the last record written to the open segment. */
  #chainCrc: number;
  #writtenLastIndex: number;
  #writtenMarker: SnapshotMarker | null;
  #writtenHardState: HardState;
  /** Invariant: <= #writtenMarker.index; only segments below a durable marker may be released. */
  #durableMarkerIndex: number;

  // Group commit. Invariant: #admittedBytes + #inFlightBytes <= #limits.pendingBytesMax.
  #admitted: SaveJob[] = [];
  #admittedBytes = 0;
  #inFlight: SaveJob[] = [];
  #inFlightBytes = 0;
  /** Invariant: at most #limits.waitingSavesMax; FIFO, so saves reach the disk in call order. */
  #waiting: SaveJob[] = [];
  #flushLoop: Promise<void> | null = null;

  #syncCount = 0;
  #flushCount = 0;
  #bytesWritten = 0;

  private constructor(directory: string, options: WalOptions, metadata: Uint8Array, handle: FileHandle, position: WriterPosition) {
    this.#directory = directory;
    this.#logger = options.logger;
    this.#limits = validateLimits(options);
    this.#onSync = options.onSync;
    this.#onSynced = options.onSynced;
    this.#metadata = metadata;
    this.#segments = position.segments;
    this.#handle = handle;
    this.#segmentBytes = position.segmentBytes;
    this.#chainCrc = position.chainCrc;
    this.#acceptedLastIndex = this.#writtenLastIndex = position.lastIndex;
    this.#acceptedMarkerIndex = position.marker?.index ?? 0;
    this.#writtenMarker = position.marker;
    this.#durableMarkerIndex = this.#acceptedMarkerIndex;
    this.#acceptedHardState = this.#writtenHardState = position.hardState;
    assert(this.#segments.length > 0, 'a WAL has at least one segment');
    assert(this.#segmentBytes % 8 === 0, 'the open segment must end on the record grid');
  }

  /** Creates a new WAL in `directory` (made if missing). Fails with WAL_EXISTS if segments are there. */
  static async create(directory: string, options: WalCreateOptions): Promise<Wal> {
    validateLimits(options);
    if (options.metadata.length > metadataBytesMax) {
      throw new StorageError('WAL_INVALID_ARGUMENT', `WAL metadata is ${options.metadata.length} bytes, over the bound ${metadataBytesMax}`);
    }
    await mkdir(directory, { recursive: true });
    // The directory itself must survive a crash too: make its entry in the parent durable.
    await syncDirectory(dirname(directory));
    const listing = await listSegments(directory);
    if (listing.segments.length > 0) throw new StorageError('WAL_EXISTS', `a WAL already exists in ${directory}`, { file: directory });
    await removeTemporaryFiles(directory, listing.temporaryFileNames, options.logger);
    const metadata = options.metadata.slice();
    const segment = { sequence: 1, firstIndex: 1, fileName: segmentFileName(1, 1) };
    const head = encodeSegmentHead(segment, { metadata, previousCrc: 0, hardState: emptyHardState, marker: null });
    const handle = await createSegmentFile(directory, segment.fileName, head.bytes, options.onSync);
    options.logger.info('WAL created', { directory });
    return new Wal(directory, options, metadata, handle, {
      segments: [segment], segmentBytes: head.bytes.length, chainCrc: head.chainCrc, lastIndex: 0, marker: null, hardState: emptyHardState,
    });
  }

  /**
   * Opens an existing WAL and replays it. A torn last record of the last segment is cut off and reported
   * through the logger; any other bad record fails with WAL_CORRUPT naming the file and byte offset.
   */
  static async open(directory: string, options: WalOpenOptions): Promise<{ wal: Wal; replay: WalReplay }> {
    validateLimits(options);
    const snapshotIndexMax = options.snapshotIndexMax ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(snapshotIndexMax) || snapshotIndexMax < 0) {
      throw new StorageError('WAL_INVALID_ARGUMENT', `snapshotIndexMax must be a non-negative integer, not ${snapshotIndexMax}`);
    }
    const listing = await listSegments(directory).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { segments: [], temporaryFileNames: [] };
      throw error;
    });
    if (listing.segments.length === 0) throw new StorageError('WAL_NOT_FOUND', `no WAL segment in ${directory}`, { file: directory });
    await removeTemporaryFiles(directory, listing.temporaryFileNames, options.logger);
    const replay = new LogReplay(snapshotIndexMax);
    const result = await replaySegments(listing.segments, { directory, replay, logger: options.logger });
    const replayed = replay.finish(directory);
    const handle = await open(join(directory, result.lastSegment.fileName), appendFlags);
    const wal = new Wal(directory, options, result.metadata, handle, {
      segments: listing.segments,
      segmentBytes: result.lastSegmentBytes,
      chainCrc: result.chainCrc,
      lastIndex: replay.lastIndex,
      marker: result.latestMarker,
      hardState: replayed.hardState,
    });
    return { wal, replay: { metadata: result.metadata, ...replayed, repair: result.repair } };
  }

  /** True when `directory` holds at least one WAL segment. */
  static async exists(directory: string): Promise<boolean> {
    try {
      return (await listSegments(directory)).segments.length > 0;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /**
   * Appends `entries`, then `hardState` if given, and resolves once they are durable. Saves made while a
   * sync is running share the next single fdatasync. An entry at or below the last index replaces the log
   * from that index on (Raft's overwrite rule). Entries must not be mutated until the promise settles.
   */
  save(hardState: HardState | null, entries: readonly Entry[]): Promise<void> {
    return this.#submit({ hardState, entries, marker: null });
  }

  /** Records that a snapshot exists at (index, term), once its snapshot file is durable. */
  saveSnapshotMarker(marker: SnapshotMarker): Promise<void> {
    return this.#submit({ hardState: null, entries: [], marker: { index: marker.index, term: marker.term } });
  }

  /**
   * Deletes the segments that hold nothing needed to replay from a snapshot at `index` or later: all those
   * before the newest segment whose first index is at or below `index`. The open segment is never deleted.
   * `index` must not pass the newest durable snapshot marker. Resolves to the number of segments deleted.
   */
  async releaseTo(index: number): Promise<number> {
    this.#throwIfRefused();
    if (!Number.isSafeInteger(index) || index < 0 || index > this.#durableMarkerIndex) {
      throw new StorageError('WAL_INVALID_ARGUMENT', `cannot release to ${index}: the newest durable snapshot marker is at ${this.#durableMarkerIndex}`);
    }
    let keepFrom = 0;
    for (let position = 0; position < this.#segments.length; position++) {
      if (this.#segments[position]!.firstIndex <= index) keepFrom = position;
    }
    // Oldest first, so that a crash part-way leaves the remaining segments without a gap.
    const released = this.#segments.splice(0, keepFrom);
    for (const segment of released) await unlink(join(this.#directory, segment.fileName));
    if (released.length > 0) {
      await syncDirectory(this.#directory);
      this.#logger.info('WAL segments released', { directory: this.#directory, count: released.length, index });
    }
    assert(this.#segments.length > 0, 'release never deletes the open segment');
    return released.length;
  }

  /** Waits for every save already made, then closes. Later calls fail with WAL_CLOSED. */
  async close(): Promise<void> {
    if (this.#state === 'open') this.#state = 'closing';
    while (this.#flushLoop !== null) await this.#flushLoop;
    assert(this.#waiting.length === 0 && this.#admitted.length === 0, 'saves left behind at close');
    if (this.#handleClosed) return;
    this.#handleClosed = true;
    await this.#handle.close();
    if (this.#state === 'closing') this.#state = 'closed';
  }

  get statistics(): WalStatistics {
    return {
      syncCount: this.#syncCount,
      flushCount: this.#flushCount,
      bytesWritten: this.#bytesWritten,
      segmentCount: this.#segments.length,
      pendingBytes: this.#admittedBytes + this.#inFlightBytes,
      waitingSaves: this.#waiting.length,
    };
  }

  /** The segment file names, oldest first. */
  segmentFileNames(): string[] {
    return this.#segments.map((segment) => segment.fileName);
  }

  // -------------------------------------------------------------------------------------------------------
  // Admission: a save is shape-checked at once, then admitted in call order when its bytes fit.

  #submit(request: SaveRequest): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const refusal = this.#refusal();
      if (refusal !== null) return reject(refusal);
      const shapeProblem = checkShape(request);
      if (shapeProblem !== null) return reject(new StorageError('WAL_INVALID_ARGUMENT', shapeProblem));
      const bytes = requestBytes(request);
      if (bytes > this.#limits.pendingBytesMax) {
        return reject(new StorageError('WAL_BATCH_TOO_LARGE', `a save of ${bytes} bytes is over the pending bound ${this.#limits.pendingBytesMax}`));
      }
      const job: SaveJob = { ...request, bytes, resolve, reject };
      if (this.#waiting.length === 0 && this.#fits(bytes)) return this.#admit(job);
      if (this.#waiting.length >= this.#limits.waitingSavesMax) {
        return reject(new StorageError('WAL_OVERLOADED', `${this.#waiting.length} saves are already waiting for the disk`));
      }
      this.#waiting.push(job);
    });
  }

  #fits(bytes: number): boolean {
    return this.#admittedBytes + this.#inFlightBytes + bytes <= this.#limits.pendingBytesMax;
  }

  /** Checks the save against the log accepted so far; admits it or rejects it alone. */
  #admit(job: SaveJob): void {
    const problem = this.#contractProblem(job);
    if (problem !== null) return job.reject(new StorageError('WAL_INVALID_ARGUMENT', problem));
    const lastEntry = job.entries[job.entries.length - 1];
    if (lastEntry !== undefined) this.#acceptedLastIndex = lastEntry.index;
    if (job.marker !== null) this.#acceptedMarkerIndex = job.marker.index;
    if (job.hardState !== null) this.#acceptedHardState = job.hardState;
    this.#admitted.push(job);
    this.#admittedBytes += job.bytes;
    assert(this.#admittedBytes + this.#inFlightBytes <= this.#limits.pendingBytesMax, 'admitted past the pending bound');
    this.#flushLoop ??= this.#runFlushes();
  }

  #admitWaiting(): void {
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0]!.bytes)) this.#admit(this.#waiting.shift()!);
  }

  /** Raft's rules the save must keep, given what was accepted before it; null when it keeps them. */
  #contractProblem(request: SaveRequest): string | null {
    const first = request.entries[0];
    if (first !== undefined) {
      const nextIndexMax = Math.max(this.#acceptedLastIndex, this.#acceptedMarkerIndex) + 1;
      if (first.index <= this.#acceptedMarkerIndex) return `entry ${first.index} is at or below the snapshot marker ${this.#acceptedMarkerIndex}`;
      if (first.index > nextIndexMax) return `entry ${first.index} leaves a gap after ${nextIndexMax - 1}`;
    }
    if (request.marker !== null && request.marker.index < this.#acceptedMarkerIndex) {
      return `snapshot marker ${request.marker.index} is below the marker ${this.#acceptedMarkerIndex}`;
    }
    return request.hardState === null ? null : hardStateProblem(this.#acceptedHardState, request.hardState);
  }

  // -------------------------------------------------------------------------------------------------------
  // Flushing: one durable (O_DSYNC) write for everything admitted since the last one started.

  async #runFlushes(): Promise<void> {
    // Yield once so that saves made in the same tick join the first flush.
    await Promise.resolve();
    try {
      while (this.#admitted.length > 0) {
        this.#inFlight = this.#admitted;
        this.#inFlightBytes = this.#admittedBytes;
        this.#admitted = [];
        this.#admittedBytes = 0;
        await this.#writeBatch(this.#inFlight, this.#inFlightBytes);
        const done = this.#inFlight;
        this.#inFlight = [];
        this.#inFlightBytes = 0;
        for (const job of done) job.resolve();
        this.#admitWaiting();
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#flushLoop = null;
    }
  }

  async #writeBatch(jobs: readonly SaveJob[], bytes: number): Promise<void> {
    if (bytes === 0) return;
    if (this.#segmentBytes > segmentHeadBytesMax && this.#segmentBytes + bytes > this.#limits.segmentBytesMax) {
      await this.#rotate();
    }
    const buffer = Buffer.allocUnsafeSlow(bytes);
    const encoder = new RecordEncoder(buffer, this.#chainCrc);
    for (const job of jobs) this.#encodeJob(encoder, job);
    assert(encoder.offset === bytes, () => `encoded ${encoder.offset} bytes, expected ${bytes}`);
    // The segment is open with O_DSYNC: the write returns once the batch is durable, as a write and an
    // fdatasync would, in one thread-pool round trip instead of two. It counts (and is timed) as the sync.
    const path = this.#openSegmentPath();
    await this.#countSync(path);
    const startedAtMs = performance.now();
    await writeFully(this.#handle, buffer, this.#segmentBytes);
    this.#onSynced?.({ path, durationMs: performance.now() - startedAtMs });
    this.#segmentBytes += bytes;
    this.#bytesWritten += bytes;
    this.#chainCrc = encoder.chainCrc;
    this.#flushCount++;
    this.#durableMarkerIndex = this.#writtenMarker?.index ?? 0;
  }

  /** Order inside a save: marker, entries, then the hard state, whose commit may point into the entries. */
  #encodeJob(encoder: RecordEncoder, job: SaveJob): void {
    if (job.marker !== null) {
      encoder.appendSnapshotMarker(job.marker);
      this.#writtenMarker = job.marker;
    }
    for (const entry of job.entries) encoder.appendEntry(entry);
    const lastEntry = job.entries[job.entries.length - 1];
    if (lastEntry !== undefined) this.#writtenLastIndex = lastEntry.index;
    if (job.hardState !== null) {
      encoder.appendHardState(job.hardState);
      this.#writtenHardState = job.hardState;
    }
  }

  /**
   * Starts the next segment. The open segment is already durable (every flush ends with a sync), and the
   * new one is renamed into place only once its head records are durable, so a segment file with a valid
   * name always starts with a whole head.
   */
  async #rotate(): Promise<void> {
    assert(this.#segmentBytes > segmentHeadBytesMax, 'rotating a segment that holds only its head');
    const previous = this.#segments[this.#segments.length - 1]!;
    // Named above every index the log held when it started, which is what makes releaseTo safe.
    const firstIndex = Math.max(this.#writtenLastIndex, this.#writtenMarker?.index ?? 0) + 1;
    const segment = { sequence: previous.sequence + 1, firstIndex, fileName: segmentFileName(previous.sequence + 1, firstIndex) };
    const head = encodeSegmentHead(segment, {
      metadata: this.#metadata, previousCrc: this.#chainCrc, hardState: this.#writtenHardState, marker: this.#writtenMarker,
    });
    const handle = await createSegmentFile(this.#directory, segment.fileName, head.bytes, (event) => this.#countSync(event.path));
    const previousHandle = this.#handle;
    this.#handle = handle;
    this.#segments.push(segment);
    this.#segmentBytes = head.bytes.length;
    this.#bytesWritten += head.bytes.length;
    this.#chainCrc = head.chainCrc;
    await previousHandle.close();
    this.#logger.info('WAL segment started', { file: segment.fileName, firstIndex });
  }

  /** Counts a sync (a durable write: a batch, or a new segment's head) and runs the hook before it. */
  async #countSync(path: string): Promise<void> {
    this.#syncCount++;
    if (this.#onSync !== undefined) await this.#onSync({ path });
  }

  #openSegmentPath(): string {
    return join(this.#directory, this.#segments[this.#segments.length - 1]!.fileName);
  }

  /** After a failed write or sync, what reached the disk is unknown: refuse everything from now on. */
  #fail(cause: unknown): void {
    assert(this.#state !== 'closed', 'a closed WAL cannot fail');
    this.#state = 'failed';
    const error = new StorageError('WAL_FAILED', `WAL ${this.#directory} failed to write or sync; restart to recover`, { cause });
    this.#logger.warn('WAL failed', { directory: this.#directory, cause: String(cause) });
    const jobs = [...this.#inFlight, ...this.#admitted, ...this.#waiting];
    this.#inFlight = [];
    this.#admitted = [];
    this.#waiting = [];
    this.#inFlightBytes = this.#admittedBytes = 0;
    for (const job of jobs) job.reject(error);
  }

  #refusal(): StorageError | null {
    if (this.#state === 'failed') return new StorageError('WAL_FAILED', `WAL ${this.#directory} failed earlier; restart to recover`);
    if (this.#state !== 'open') return new StorageError('WAL_CLOSED', `WAL ${this.#directory} is closed`);
    return null;
  }

  #throwIfRefused(): void {
    const refusal = this.#refusal();
    if (refusal !== null) throw refusal;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers without state.

function validateLimits(options: WalOptions): Limits {
  const limits: Limits = {
    segmentBytesMax: options.segmentBytesMax ?? segmentBytesMaxDefault,
    pendingBytesMax: options.pendingBytesMax ?? pendingBytesMaxDefault,
    waitingSavesMax: options.waitingSavesMax ?? waitingSavesMaxDefault,
  };
  const problem =
    !Number.isSafeInteger(limits.segmentBytesMax) || limits.segmentBytesMax < segmentBytesMin ? `segmentBytesMax must be at least ${segmentBytesMin}`
    : !Number.isSafeInteger(limits.pendingBytesMax) || limits.pendingBytesMax < hardStateRecordBytes ? 'pendingBytesMax is too small'
    : !Number.isSafeInteger(limits.waitingSavesMax) || limits.waitingSavesMax < 1 ? 'waitingSavesMax must be at least 1'
    : null;
  if (problem !== null) throw new StorageError('WAL_INVALID_ARGUMENT', problem);
  return limits;
}

function isIndex(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Checks a save on its own (sizes, ranges, contiguity); null when well formed. */
function checkShape(request: SaveRequest): string | null {
  const first = request.entries[0];
  for (let position = 0; position < request.entries.length; position++) {
    const entry = request.entries[position]!;
    if (!isIndex(entry.index) || !isIndex(entry.term) || entry.index < 1 || entry.term < 1) return `entry ${position} has a bad index or term`;
    if (entry.type !== EntryType.Normal && entry.type !== EntryType.ConfChange) return `entry ${entry.index} has unknown type ${entry.type}`;
    if (entry.data.length > entryDataBytesMax) return `entry ${entry.index} data is over the bound ${entryDataBytesMax}`;
    if (entry.index !== first!.index + position) return `entries are not contiguous at position ${position}`;
    if (position > 0 && entry.term < request.entries[position - 1]!.term) return `entry ${entry.index} has a lower term than the one before`;
  }
  const hardState = request.hardState;
  if (hardState !== null && !(isIndex(hardState.term) && isIndex(hardState.vote) && isIndex(hardState.commit))) return 'bad hard state';
  const marker = request.marker;
  if (marker !== null && !(isIndex(marker.index) && isIndex(marker.term) && marker.index >= 1 && marker.term >= 1)) return 'bad snapshot marker';
  return null;
}

/** Raft's persistent-state rules: the term never goes back, one vote per term, commit never goes back. */
function hardStateProblem(before: HardState, after: HardState): string | null {
  if (after.term < before.term) return `hard state term ${after.term} is below ${before.term}`;
  if (after.term === before.term && before.vote !== 0 && after.vote !== before.vote) {
    return `hard state changes the vote in term ${after.term} from ${before.vote} to ${after.vote}`;
  }
  if (after.commit < before.commit) return `hard state commit ${after.commit} is below ${before.commit}`;
  return null;
}

function requestBytes(request: SaveRequest): number {
  let bytes = request.hardState === null ? 0 : hardStateRecordBytes;
  if (request.marker !== null) bytes += snapshotMarkerRecordBytes;
  for (const entry of request.entries) bytes += entryRecordBytes(entry);
  return bytes;
}

interface SegmentHeadState {
  readonly metadata: Uint8Array;
  readonly previousCrc: number;
  readonly hardState: HardState;
  readonly marker: SnapshotMarker | null;
}

/** The head of a segment: header, metadata, then the hard state and marker so far (each segment stands alone). */
function encodeSegmentHead(segment: SegmentFile, state: SegmentHeadState): { bytes: Uint8Array; chainCrc: number } {
  const bytes = recordBytes(segmentHeaderPayloadBytes) + recordBytes(state.metadata.length) + hardStateRecordBytes
    + (state.marker === null ? 0 : snapshotMarkerRecordBytes);
  assert(bytes <= segmentHeadBytesMax, 'segment head over its bound');
  const buffer = new Uint8Array(bytes);
  const encoder = new RecordEncoder(buffer, state.previousCrc);
  encoder.appendSegmentHeader({ sequence: segment.sequence, firstIndex: segment.firstIndex, previousCrc: state.previousCrc });
  encoder.appendMetadata(state.metadata);
  encoder.appendHardState(state.hardState);
  if (state.marker !== null) encoder.appendSnapshotMarker(state.marker);
  assert(encoder.offset === bytes, 'segment head size mismatch');
  return { bytes: buffer, chainCrc: encoder.chainCrc };
}

/**
 * Segments are written with O_DSYNC: each write is durable when it returns (write plus fdatasync in one
 * system call). Opened read-write for appends, and created exclusively.
 */
const appendFlags = constants.O_RDWR | constants.O_DSYNC;
const createFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DSYNC;

/**
 * Writes a segment's head under a temporary name (durably: O_DSYNC), renames it into place and syncs the
 * directory. `onSync` runs before the write, as it does before every durable write.
 */
async function createSegmentFile(
  directory: string,
  fileName: string,
  head: Uint8Array,
  onSync: WalOptions['onSync'],
): Promise<FileHandle> {
  const path = join(directory, fileName);
  const temporaryPath = path + temporaryFileSuffix;
  const handle = await open(temporaryPath, createFlags);
  try {
    if (onSync !== undefined) await onSync({ path: temporaryPath });
    await writeFully(handle, head, 0);
    await rename(temporaryPath, path);
    await syncDirectory(directory);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

async function removeTemporaryFiles(directory: string, fileNames: readonly string[], logger: StorageLogger): Promise<void> {
  for (const fileName of fileNames) {
    await unlink(join(directory, fileName));
    logger.warn('WAL removed a segment left unfinished by a crash', { file: join(directory, fileName) });
  }
  if (fileNames.length > 0) await syncDirectory(directory);
}
