/**
 * The head block: the in-memory, appendable part of the store. It holds every series seen recently, keyed
 * by label-set hash (with an equality check on collision) and by ID, indexed for selection in a
 * `MemoryIndex`. Samples older than the head's window are refused (see `appendMinValidTimeMs`), and a range
 * written to a block is cut away with `truncateBefore`.
 *
 * This file has no I/O: the appender (head-append.ts) writes the WAL, head-wal.ts replays it, and
 * head-read.ts answers queries.
 */
import type { AppendOutcome } from '../storage.ts';
import { timestampMsMax, timestampMsMin } from './chunkenc/index.ts';
import { assert, TsdbError } from './errors.ts';
import { MemoryIndex } from './index/index.ts';
import type { Labels } from './labels.ts';
import { HeadSeries } from './head-series.ts';

/** Counts of refused samples, by reason (Prometheus counts each separately). */
export interface RejectedSampleCounts {
  out_of_order: number;
  duplicate_sample: number;
  out_of_bounds: number;
  too_old: number;
}

export interface HeadOptions {
  /** Chunks never cross a multiple of this; compaction cuts the head at these boundaries. */
  readonly blockRangeMs: number;
  /**
   * Whether to refuse samples older than half a block range before the newest sample (Prometheus's
   * appendable window). The importer turns it off: it appends a file's series one after another.
   */
  readonly appendWindow: boolean;
}

/**
 * The head block.
 *
 * @example
 * const head = new Head({ blockRangeMs: 7_200_000, appendWindow: true });
 * const series = head.getOrCreate(Labels.fromRecord({ __name__: 'up' }));
 * head.appendCommitted(series, Date.now(), floatHighBits(1), floatLowBits(1));
 */
export class Head {
  readonly blockRangeMs: number;
  readonly appendWindow: boolean;
  readonly rejected: RejectedSampleCounts = { out_of_order: 0, duplicate_sample: 0, out_of_bounds: 0, too_old: 0 };
  samplesAppended = 0;
  seriesCreated = 0;
  seriesRemoved = 0;
  /**
   * Series by {@link hashKey}. Invariant: a key maps to one series, or to an array of at least two with
   * distinct labels.
   */
  readonly #seriesByHash = new Map<number, HeadSeries | HeadSeries[]>();
  readonly #seriesById = new Map<number, HeadSeries>();
  readonly #index = new MemoryIndex();
  /** Invariant: above every ID handed out. */
  #nextSeriesId = 1;
  /** Oldest and newest sample time held (or, after truncation, the cut point); infinite when empty. */
  #minTimeMs = Infinity;
  #maxTimeMs = -Infinity;
  /** Samples before this belong to blocks already written: they are refused as too old. */
  #minValidTimeMs = -Infinity;

  constructor(options: HeadOptions) {
    assert(Number.isSafeInteger(options.blockRangeMs) && options.blockRangeMs > 0, 'the block range is a positive integer');
    this.blockRangeMs = options.blockRangeMs;
    this.appendWindow = options.appendWindow;
  }

  get seriesCount(): number {
    return this.#seriesById.size;
  }

  get minTimeMs(): number {
    return this.#minTimeMs;
  }

  get maxTimeMs(): number {
    return this.#maxTimeMs;
  }

  get minValidTimeMs(): number {
    return this.#minValidTimeMs;
  }

  get index(): MemoryIndex {
    return this.#index;
  }

  /** Whether the head holds no sample time range at all. */
  isEmpty(): boolean {
    return this.#maxTimeMs === -Infinity;
  }

  /** Raises the time before which samples are refused; it never moves back. */
  setMinValidTime(timeMs: number): void {
    if (timeMs > this.#minValidTimeMs) this.#minValidTimeMs = timeMs;
  }

  /**
   * The earliest timestamp an appender may add: not before data already in blocks, and (with the window)
   * not more than half a block range before the newest sample, as Prometheus's head appender allows.
   */
  appendMinValidTimeMs(): number {
    if (!this.appendWindow || this.#maxTimeMs === -Infinity) return this.#minValidTimeMs;
    return Math.max(this.#minValidTimeMs, this.#maxTimeMs - this.blockRangeMs / 2);
  }

  /** Head-wide checks of a timestamp, before any series lookup: 'ok', 'out_of_bounds' or 'too_old'. */
  checkTimestamp(timestampMs: number): AppendOutcome {
    if (!Number.isInteger(timestampMs) || timestampMs < timestampMsMin || timestampMs > timestampMsMax) return 'out_of_bounds';
    if (timestampMs < this.#minValidTimeMs) return 'too_old';
    if (this.appendWindow && timestampMs < this.#maxTimeMs - this.blockRangeMs / 2) return 'out_of_bounds';
    return 'ok';
  }

  /**
   * The series with exactly these labels, or undefined. With `remember`, the labels object is kept for an
   * identity check next time (a scraper passes the same object every interval); a caller whose label sets
   * are used once (an import, which parses a fresh set per sample out of a large text) passes false, or the
   * series would keep that text alive.
   */
  get(labels: Labels, remember = true): HeadSeries | undefined {
    const entry = this.#seriesByHash.get(hashKey(labels));
    if (entry === undefined) return undefined;
    if (!Array.isArray(entry)) {
      if (entry.lastQueriedLabels === labels) return entry;
      if (!entry.labels.equals(labels)) return undefined;
      if (remember) entry.lastQueriedLabels = labels;
      return entry;
    }
    for (const series of entry) {
      if (series.labels.equals(labels)) return series;
    }
    return undefined;
  }

  getById(id: number): HeadSeries | undefined {
    return this.#seriesById.get(id);
  }

  /** The series with these labels, created with the next ID if new. */
  getOrCreate(labels: Labels, remember = true): HeadSeries {
    const existing = this.get(labels, remember);
    if (existing !== undefined) return existing;
    if (labels.size === 0) throw new TsdbError('TSDB_INVALID_ARGUMENT', 'A series needs at least one label.');
    return this.#create(this.#nextSeriesId, labels);
  }

  /**
   * Recreates a series under a known ID (WAL replay). If the labels already exist under another ID, that
   * series is returned: the caller maps the record's ID onto it.
   */
  createWithId(id: number, labels: Labels): HeadSeries {
    const existing = this.get(labels);
    if (existing !== undefined) return existing;
    const byId = this.#seriesById.get(id);
    assert(byId === undefined, 'a replayed series ID names one label set');
    return this.#create(id, labels);
  }

  /**
   * Appends a committed sample to a series and updates the head's time bounds; counts refusals. The
   * minimum valid time is checked again: a block may have been cut since the appender checked it.
   */
  appendCommitted(series: HeadSeries, timestampMs: number, valueHighBits: number, valueLowBits: number): AppendOutcome {
    const outcome = timestampMs < this.#minValidTimeMs ? 'too_old' : this.appendUncounted(series, timestampMs, valueHighBits, valueLowBits);
    if (outcome !== 'ok') this.rejected[outcome] += 1;
    return outcome;
  }

  /**
   * Appends a sample that no appender checked (WAL replay, import): refusals are returned, not counted as
   * append failures. The caller has checked the timestamp against the head's bounds.
   */
  appendUncounted(series: HeadSeries, timestampMs: number, valueHighBits: number, valueLowBits: number): AppendOutcome {
    if (timestampMs <= series.lastTimestampMs) return series.appendable(timestampMs, valueHighBits, valueLowBits);
    series.append(timestampMs, valueHighBits, valueLowBits, this.blockRangeMs);
    this.samplesAppended += 1;
    if (timestampMs < this.#minTimeMs) this.#minTimeMs = timestampMs;
    if (timestampMs > this.#maxTimeMs) this.#maxTimeMs = timestampMs;
    return 'ok';
  }

  /** Counts a sample an appender refused before it reached a series. */
  countRejected(outcome: AppendOutcome): void {
    assert(outcome !== 'ok', 'only refusals are counted');
    this.rejected[outcome] += 1;
  }

  /** Every series, in ID order. */
  allSeries(): IterableIterator<HeadSeries> {
    return this.#seriesById.values();
  }

  /** Total chunks held (open ones included). */
  chunkCount(): number {
    let count = 0;
    for (const series of this.#seriesById.values()) count += series.chunkCount;
    return count;
  }

  /**
   * Drops every chunk ending before `minTimeMs` (which must be a block-range boundary once data was
   * written below it), then forgets series left with no chunks and no open batch. Raises the head's
   * minimum time to `minTimeMs`. Returns the number of series removed.
   */
  truncateBefore(minTimeMs: number): number {
    assert(Number.isFinite(minTimeMs), 'truncation time is finite');
    const removed: number[] = [];
    for (const series of this.#seriesById.values()) {
      series.truncateBefore(minTimeMs);
      if (series.chunkCount === 0 && series.pendingCommits === 0) removed.push(series.id);
    }
    for (const id of removed) this.#forget(this.#seriesById.get(id)!);
    this.#index.delete(removed);
    this.seriesRemoved += removed.length;
    if (minTimeMs > this.#minTimeMs || this.#minTimeMs === Infinity) this.#minTimeMs = minTimeMs;
    assert(this.#index.seriesCount === this.#seriesById.size, 'the index holds exactly the head series');
    return removed.length;
  }

  #create(id: number, parsedLabels: Labels): HeadSeries {
    // The series (and the index) keep the labels as long as the series lives: detached from the text they came from.
    const labels = parsedLabels.detached();
    this.#index.add(id, labels);
    const series = new HeadSeries(id, this.#index.labels(id)!);
    this.#seriesById.set(id, series);
    const hash = hashKey(labels);
    const entry = this.#seriesByHash.get(hash);
    if (entry === undefined) this.#seriesByHash.set(hash, series);
    else if (Array.isArray(entry)) entry.push(series);
    else this.#seriesByHash.set(hash, [entry, series]);
    if (id >= this.#nextSeriesId) this.#nextSeriesId = id + 1;
    this.seriesCreated += 1;
    return series;
  }

  #forget(series: HeadSeries): void {
    this.#seriesById.delete(series.id);
    const hash = hashKey(series.labels);
    const entry = this.#seriesByHash.get(hash);
    assert(entry !== undefined, 'a head series is in the hash map');
    if (!Array.isArray(entry)) {
      this.#seriesByHash.delete(hash);
      return;
    }
    const remaining = entry.filter((candidate) => candidate !== series);
    assert(remaining.length === entry.length - 1, 'the series was in its hash bucket');
    this.#seriesByHash.set(hash, remaining.length === 1 ? remaining[0]! : remaining);
  }
}

/**
 * The low 30 bits of the label set's hash: a small integer, which V8's Map hashes and compares without a
 * heap number (a third faster lookups at a million series). Collisions are resolved by label equality.
 */
function hashKey(labels: Labels): number {
  return labels.hash() & 0x3fff_ffff;
}
