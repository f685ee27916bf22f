/**
 * The time-series database: a head block with its WAL, persistent blocks, and the maintenance that moves
 * data from the first to the second (head compaction, WAL checkpoints), merges blocks (leveled compaction)
 * and deletes old ones (retention). Directory layout:
 *
 *     <dir>/lock                 the owner's process ID (lock.ts)
 *     <dir>/wal/00000001 ...     head WAL segments, checkpoint.<n>/ (wal/)
 *     <dir>/<ULID>/              blocks: meta.json, index, chunks/000001 ... (block/)
 *
 * Maintenance runs one step at a time (a promise chain), from an unref'd timer or from `compact()`.
 */
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Appendable, Queryable } from '../storage.ts';
import { Block, blockRanges, compactBlocks, creationSuffix, deletionSuffix, directoryBytes, planCompaction, ulidPattern, writeBlock } from './block/index.ts';
import { largestBlockRange, resolveTsdbOptions } from './db-options.ts';
import type { TsdbOptions } from './db-options.ts';
import { assert, TsdbError } from './errors.ts';
import { Head } from './head.ts';
import type { RejectedSampleCounts } from './head.ts';
import { HeadAppender } from './head-append.ts';
import { isHeadCompactable, nextHeadRange, snapshotHeadRange } from './head-compact.ts';
import { HeadQuerier } from './head-read.ts';
import { replayWal } from './head-wal.ts';
import type { ReplayResult, WalRepair } from './head-wal.ts';
import { acquireDirectoryLock } from './lock.ts';
import type { DirectoryLock } from './lock.ts';
import { MergeQuerier } from './querier.ts';
import type { TsdbQuerier } from './querier.ts';
import { blocksBeyondRetention } from './retention.ts';
import { headCardinality } from './stats.ts';
import type { CardinalityStats } from './stats.ts';
import { checkpointName, syncDirectory, WalWriter, writeCheckpoint } from './wal/index.ts';

/** Head ranges written in one maintenance step at most (a head idle for weeks catches up over several). */
const headCompactionsPerStepMax = 64;
/** How long head truncation waits for queriers reading the range it cuts. */
const headQuerierWaitMsMax = 60_000;
/** Block merges in one maintenance step at most. */
const blockCompactionsPerStepMax = 64;

/** What one maintenance step did. */
export interface CompactionReport {
  readonly headBlocksWritten: number;
  readonly blocksMerged: number;
  readonly blocksDeleted: number;
  readonly walCheckpoint: number | undefined;
}

export interface BlockStats {
  readonly ulid: string;
  readonly minTimeMs: number;
  /** Exclusive. */
  readonly maxTimeMs: number;
  readonly numSamples: number;
  readonly numSeries: number;
  readonly numChunks: number;
  readonly level: number;
  readonly sizeBytes: number;
}

/** Everything `/api/v1/status/tsdb` and keel's own metrics need. */
export interface TsdbStats {
  readonly head: {
    readonly numSeries: number;
    readonly numChunks: number;
    readonly numLabelPairs: number;
    /** Undefined when the head holds no samples. */
    readonly minTimeMs: number | undefined;
    readonly maxTimeMs: number | undefined;
    readonly minValidTimeMs: number | undefined;
    readonly samplesAppended: number;
    readonly seriesCreated: number;
    readonly seriesRemoved: number;
  };
  /** Samples refused by appenders, by reason. */
  readonly rejectedSamples: Readonly<RejectedSampleCounts>;
  readonly blocks: readonly BlockStats[];
  readonly wal: {
    readonly segments: number;
    /** Segments plus the checkpoint. */
    readonly sizeBytes: number;
    readonly checkpoint: number | undefined;
    readonly replay: Omit<ReplayResult, 'segmentBytes' | 'repairs' | 'nextSegmentIndex' | 'checkpointIndex'>;
    readonly repairs: readonly WalRepair[];
  };
  readonly compaction: {
    readonly headCompactions: number;
    readonly blockCompactions: number;
    readonly blocksDeletedByRetention: number;
    readonly failures: number;
    readonly lastError: string | undefined;
  };
  /** Top-10 lists of the head's cardinality, as Prometheus's TSDB status page shows them. */
  readonly cardinality: CardinalityStats;
}

/**
 * keel's embedded TSDB.
 *
 * @example
 * const db = await Tsdb.open('/var/lib/keel/monitor', { retentionTimeMs: 7 * 24 * 3_600_000 });
 * const appender = db.appender();
 * appender.append(Labels.fromRecord({ __name__: 'up', job: 'keel' }), Date.now(), 1);
 * await appender.commit();
 * const querier = db.querier(Date.now() - 300_000, Date.now());
 * querier.select([new Matcher('=', '__name__', 'up')]);
 * querier.close();
 * await db.close();
 */
export class Tsdb implements Appendable, Queryable {
  readonly directory: string;
  readonly options: TsdbOptions;
  readonly #lock: DirectoryLock;
  readonly #head: Head;
  readonly #wal: WalWriter;
  readonly #replay: ReplayResult;
  readonly #ranges: number[];
  /** Invariant: sorted by minTime; none overlaps another (import and head compaction ensure it). */
  #blocks: Block[];
  #checkpoint: { index: number; bytes: number } | undefined;
  #maintenance: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Open head queriers: truncation waits until none reads the range being cut away. */
  readonly #headQueriers = new Set<HeadQuerier>();
  #headQuerierWaiters: (() => void)[] = [];
  #headCompactions = 0;
  #blockCompactions = 0;
  #blocksDeletedByRetention = 0;
  #failures = 0;
  #lastError: string | undefined;

  private constructor(directory: string, options: TsdbOptions, parts: { lock: DirectoryLock; head: Head; wal: WalWriter; replay: ReplayResult; blocks: Block[]; checkpoint: { index: number; bytes: number } | undefined }) {
    this.directory = directory;
    this.options = options;
    this.#lock = parts.lock;
    this.#head = parts.head;
    this.#wal = parts.wal;
    this.#replay = parts.replay;
    this.#blocks = parts.blocks;
    this.#checkpoint = parts.checkpoint;
    this.#ranges = blockRanges(options.blockRangeMs, largestBlockRange(options));
  }

  /**
   * Opens (creating if needed) the database in `directory`: takes the lock, removes unfinished block
   * directories and blocks already merged into others, opens the blocks, replays the WAL (repairing a torn
   * tail) and starts the maintenance timer.
   */
  static async open(directory: string, options?: Partial<TsdbOptions>): Promise<Tsdb> {
    const resolved = resolveTsdbOptions(options);
    await mkdir(directory, { recursive: true });
    const lock = await acquireDirectoryLock(directory, resolved.logger);
    let blocks: Block[] = [];
    try {
      blocks = await openBlocks(directory);
      const head = new Head({ blockRangeMs: resolved.blockRangeMs, appendWindow: true });
      const newestEnd = blocks.reduce((end, block) => Math.max(end, block.maxTimeMs), -Infinity);
      head.setMinValidTime(newestEnd);
      const walDirectory = join(directory, 'wal');
      const replay = await replayWal(head, walDirectory, resolved.logger);
      const wal = await WalWriter.create(walDirectory, replay.nextSegmentIndex, {
        segmentBytesMax: resolved.walSegmentBytesMax,
        fsyncEveryCommit: resolved.walFsyncEveryCommit,
        queuedBytesMax: resolved.walQueuedBytesMax,
      }, replay.segmentBytes);
      const checkpoint = replay.checkpointIndex === undefined ? undefined
        : { index: replay.checkpointIndex, bytes: await directoryBytes(join(walDirectory, checkpointName(replay.checkpointIndex))) };
      const db = new Tsdb(directory, resolved, { lock, head, wal, replay, blocks, checkpoint });
      db.#startTimer();
      return db;
    } catch (error) {
      for (const block of blocks) block.close();
      await lock.release();
      throw error;
    }
  }

  /** A new appender over the head (single use: commit or roll back). */
  appender(): HeadAppender {
    this.#checkOpen();
    return new HeadAppender(this.#head, this.#wal, this.options.appenderSamplesMax);
  }

  /** A querier over blocks and head for [minTimeMs, maxTimeMs] (inclusive). Close it when done. */
  querier(minTimeMs: number, maxTimeMs: number): TsdbQuerier {
    this.#checkOpen();
    if (Number.isNaN(minTimeMs) || Number.isNaN(maxTimeMs) || minTimeMs > maxTimeMs) {
      throw new TsdbError('TSDB_INVALID_ARGUMENT', `Query range [${minTimeMs}, ${maxTimeMs}] is empty or not numeric.`);
    }
    const sources: TsdbQuerier[] = [];
    for (const block of this.#blocks) {
      if (block.overlapsRange(minTimeMs, maxTimeMs)) sources.push(block.querier(minTimeMs, maxTimeMs));
    }
    const head = this.#head;
    if (!head.isEmpty() && head.minTimeMs <= maxTimeMs && head.maxTimeMs >= minTimeMs) {
      const querier = new HeadQuerier(head, minTimeMs, maxTimeMs, (closed) => this.#headQuerierClosed(closed));
      this.#headQueriers.add(querier);
      sources.push(querier);
    }
    return new MergeQuerier(sources, minTimeMs, maxTimeMs);
  }

  /** The blocks, oldest first. */
  blocks(): readonly Block[] {
    return this.#blocks;
  }

  /**
   * One maintenance step: write compactable head ranges to blocks and checkpoint the WAL, merge blocks,
   * then apply retention. Steps never overlap; a call during one runs after it.
   */
  compact(): Promise<CompactionReport> {
    if (this.#closed) return Promise.reject(new TsdbError('TSDB_CLOSED', `TSDB in ${this.directory} is closed.`));
    const step = this.#maintenance.then(() => this.#maintain());
    this.#maintenance = step.catch(() => undefined);
    return step;
  }

  /** Stops the timer, waits for maintenance and pending commits, fsyncs the WAL, closes files, releases the lock. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const waiter of this.#headQuerierWaiters.splice(0)) waiter();
    await this.#maintenance;
    try {
      await this.#wal.close();
    } finally {
      for (const block of this.#blocks) block.markDeleted();
      await this.#lock.release();
    }
  }

  stats(): TsdbStats {
    const head = this.#head;
    const cardinality = headCardinality(head.index, 10);
    const { segmentBytes: _segments, repairs, nextSegmentIndex: _next, checkpointIndex: _checkpoint, ...replay } = this.#replay;
    return {
      head: {
        numSeries: head.seriesCount,
        numChunks: head.chunkCount(),
        numLabelPairs: cardinality.labelPairCount,
        minTimeMs: head.isEmpty() ? undefined : head.minTimeMs,
        maxTimeMs: head.isEmpty() ? undefined : head.maxTimeMs,
        minValidTimeMs: Number.isFinite(head.minValidTimeMs) ? head.minValidTimeMs : undefined,
        samplesAppended: head.samplesAppended,
        seriesCreated: head.seriesCreated,
        seriesRemoved: head.seriesRemoved,
      },
      rejectedSamples: { ...head.rejected },
      blocks: this.#blocks.map((block) => ({
        ulid: block.ulid,
        minTimeMs: block.minTimeMs,
        maxTimeMs: block.maxTimeMs,
        ...block.meta.stats,
        level: block.meta.compaction.level,
        sizeBytes: block.sizeBytes,
      })),
      wal: { segments: this.#wal.segmentCount, sizeBytes: this.#walBytes(), checkpoint: this.#checkpoint?.index, replay, repairs },
      compaction: {
        headCompactions: this.#headCompactions,
        blockCompactions: this.#blockCompactions,
        blocksDeletedByRetention: this.#blocksDeletedByRetention,
        failures: this.#failures,
        lastError: this.#lastError,
      },
      cardinality,
    };
  }

  #walBytes(): number {
    return this.#wal.sizeBytes + (this.#checkpoint?.bytes ?? 0);
  }

  #startTimer(): void {
    if (this.options.compactionIntervalMs === 0) return;
    this.#timer = setInterval(() => {
      if (this.#closed) return;
      this.compact().catch((error: unknown) => {
        this.options.logger.warn('TSDB maintenance failed', { error: error instanceof Error ? error.message : String(error) });
      });
    }, this.options.compactionIntervalMs);
    this.#timer.unref();
  }

  async #maintain(): Promise<CompactionReport> {
    try {
      const headBlocksWritten = await this.#compactHead();
      const walCheckpoint = headBlocksWritten.truncated ? await this.#truncateWal() : undefined;
      const blocksMerged = await this.#compactBlocks();
      const blocksDeleted = await this.#applyRetention();
      return { headBlocksWritten: headBlocksWritten.written, blocksMerged, blocksDeleted, walCheckpoint };
    } catch (error) {
      this.#failures += 1;
      this.#lastError = error instanceof Error ? error.message : String(error);
      throw error;
    }
  }

  /** Writes each compactable head range to a block and truncates the head after it. */
  async #compactHead(): Promise<{ written: number; truncated: boolean }> {
    let written = 0;
    let truncated = false;
    for (let round = 0; round < headCompactionsPerStepMax && isHeadCompactable(this.#head); round += 1) {
      const range = nextHeadRange(this.#head);
      const series = snapshotHeadRange(this.#head, range);
      if (series.length > 0) {
        const meta = await writeBlock(this.directory, series, { minTimeMs: range.minTimeMs, maxTimeMs: range.maxTimeMs, level: 1 });
        if (meta !== undefined) {
          this.#addBlock(await Block.open(join(this.directory, meta.ulid), meta.ulid));
          written += 1;
          this.#headCompactions += 1;
        }
      }
      // The new block is already visible; queriers opened meanwhile see the range twice, which the
      // merge deduplicates. Older head queriers still need the head's copy.
      await this.#waitForHeadQueriers(range.maxTimeMs);
      this.#head.truncateBefore(range.maxTimeMs);
      truncated = true;
    }
    return { written, truncated };
  }

  /**
   * Waits until no open head querier reads before `cutMs` (Prometheus waits for pending readers too). A
   * querier left open longer than {@link headQuerierWaitMsMax} is logged, no longer waited for, and the
   * head is cut anyway.
   */
  async #waitForHeadQueriers(cutMs: number): Promise<void> {
    const deadline = performance.now() + headQuerierWaitMsMax;
    while (!this.#closed && [...this.#headQueriers].some((querier) => querier.minTimeMs < cutMs)) {
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0) {
        this.options.logger.warn('truncating the TSDB head under a querier left open', { cutMs, openQueriers: this.#headQueriers.size });
        // Waited for once: later cuts do not wait for the same forgotten queriers again.
        this.#headQueriers.clear();
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remainingMs);
        this.#headQuerierWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #headQuerierClosed(querier: HeadQuerier): void {
    this.#headQueriers.delete(querier);
    for (const waiter of this.#headQuerierWaiters.splice(0)) waiter();
  }

  /** Starts a new segment, condenses all older ones into a checkpoint, and deletes them. */
  async #truncateWal(): Promise<number> {
    const current = await this.#wal.rotate();
    const through = current - 1;
    const head = this.#head;
    const result = await writeCheckpoint(this.#wal.directory, through, {
      keepSeries: (id) => head.getById(id) !== undefined,
      minTimeMs: head.minValidTimeMs,
    }, this.options.walSegmentBytesMax);
    this.#checkpoint = { index: result.index, bytes: await directoryBytes(result.path) };
    await this.#wal.removeSegmentsBefore(through + 1);
    return result.index;
  }

  async #compactBlocks(): Promise<number> {
    let merged = 0;
    for (let round = 0; round < blockCompactionsPerStepMax; round += 1) {
      const plan = planCompaction(this.#blocks, this.#ranges);
      if (plan.length === 0) break;
      const meta = await compactBlocks(this.directory, plan);
      if (meta !== undefined) this.#addBlock(await Block.open(join(this.directory, meta.ulid), meta.ulid));
      await this.#deleteBlocks(plan);
      merged += 1;
      this.#blockCompactions += 1;
    }
    return merged;
  }

  async #applyRetention(): Promise<number> {
    const doomed = blocksBeyondRetention(this.#blocks, {
      retentionTimeMs: this.options.retentionTimeMs,
      retentionBytes: this.options.retentionBytes,
      walBytes: this.#walBytes(),
    });
    await this.#deleteBlocks(doomed);
    this.#blocksDeletedByRetention += doomed.length;
    return doomed.length;
  }

  #addBlock(block: Block): void {
    this.#blocks = [...this.#blocks, block].sort((left, right) => left.minTimeMs - right.minTimeMs);
  }

  /** Removes blocks from the list, then their directories (renamed first, so a crash never leaves half a block). */
  async #deleteBlocks(blocks: readonly Block[]): Promise<void> {
    if (blocks.length === 0) return;
    const doomed = new Set(blocks);
    this.#blocks = this.#blocks.filter((block) => !doomed.has(block));
    for (const block of blocks) {
      const moved = `${block.directory}${deletionSuffix}`;
      await rename(block.directory, moved);
      block.markDeleted();
      await rm(moved, { recursive: true, force: true });
    }
    await syncDirectory(this.directory);
  }

  #checkOpen(): void {
    if (this.#closed) throw new TsdbError('TSDB_CLOSED', `TSDB in ${this.directory} is closed.`);
  }
}

/**
 * Opens every block directory, after removing unfinished ones (`.tmp-for-creation`, `.tmp-for-deletion`)
 * and blocks another block lists as a compaction parent (a crash hit between writing and deleting).
 */
async function openBlocks(directory: string): Promise<Block[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const blocks: Block[] = [];
  try {
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      if (entry.name.endsWith(creationSuffix) || entry.name.endsWith(deletionSuffix)) {
        await rm(join(directory, entry.name), { recursive: true, force: true });
        continue;
      }
      if (ulidPattern.test(entry.name)) blocks.push(await Block.open(join(directory, entry.name), entry.name));
    }
  } catch (error) {
    for (const block of blocks) block.close();
    throw error;
  }
  const parents = new Set(blocks.flatMap((block) => (block.meta.compaction.parents ?? []).map((parent) => parent.ulid)));
  const kept: Block[] = [];
  for (const block of blocks) {
    if (!parents.has(block.ulid)) {
      kept.push(block);
      continue;
    }
    block.close();
    await rm(block.directory, { recursive: true, force: true });
  }
  assert(kept.every((block) => !parents.has(block.ulid)), 'merged parents are gone');
  return kept.sort((left, right) => left.minTimeMs - right.minTimeMs);
}
