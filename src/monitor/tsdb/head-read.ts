/**
 * Reading the head: a querier over a time range, and the chunk lists of single series. Full chunks are
 * immutable and shared; the open chunk is read up to the samples present when an iterator decodes it.
 */
import type { Querier } from '../storage.ts';
import type { DecodedSamples, XorChunk } from './chunkenc/index.ts';
import { assert, TsdbError } from './errors.ts';
import type { Head } from './head.ts';
import type { HeadSeries } from './head-series.ts';
import type { Matcher } from './index/index.ts';
import { compareStrings, Labels } from './labels.ts';
import { ChunkSeries, overlaps } from './series-iterator.ts';
import type { IterableChunk, TsdbSeries } from './series-iterator.ts';

/** The open chunk as a query sees it: its bounds when the query selected it. */
class OpenChunkView implements IterableChunk {
  readonly #chunk: XorChunk;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;

  constructor(chunk: XorChunk) {
    assert(chunk.sampleCount > 0, 'an open chunk holds samples');
    this.#chunk = chunk;
    this.minTimeMs = chunk.firstTimestampMs!;
    this.maxTimeMs = chunk.lastTimestampMs!;
  }

  decodeInto(untilMs: number, out: DecodedSamples): void {
    this.#chunk.decodeInto(untilMs, out);
  }
}

/** The series' chunks overlapping [minTimeMs, maxTimeMs], oldest first. */
export function headChunksInRange(series: HeadSeries, minTimeMs: number, maxTimeMs: number): IterableChunk[] {
  const chunks: IterableChunk[] = [];
  for (const chunk of series.closedChunks) {
    if (overlaps(chunk.minTimeMs, chunk.maxTimeMs, minTimeMs, maxTimeMs)) chunks.push(chunk);
  }
  const open = series.openChunk;
  if (open !== undefined && overlaps(open.firstTimestampMs!, open.lastTimestampMs!, minTimeMs, maxTimeMs)) chunks.push(new OpenChunkView(open));
  return chunks;
}

/**
 * Checks a select's matchers: at least one must not match the empty string, or the selection would be
 * every series (Prometheus's rule for vector selectors).
 */
export function checkSelectMatchers(matchers: readonly Matcher[]): void {
  if (!matchers.some((matcher) => !matcher.matchesEmpty)) {
    throw new TsdbError('TSDB_INVALID_ARGUMENT', `A selection needs at least one matcher that does not match the empty string (got {${matchers.join(', ')}}).`);
  }
}

/**
 * A querier over the head.
 *
 * @example
 * const querier = new HeadQuerier(head, start, end);
 * const series = querier.select([new Matcher('=', '__name__', 'up')]);
 */
export class HeadQuerier implements Querier {
  readonly #head: Head;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly #onClose: ((querier: HeadQuerier) => void) | undefined;
  #closed = false;

  /** `onClose` lets the database know when the head may be truncated under this querier's range. */
  constructor(head: Head, minTimeMs: number, maxTimeMs: number, onClose?: (querier: HeadQuerier) => void) {
    assert(minTimeMs <= maxTimeMs, 'a querier range is not empty');
    this.#head = head;
    this.minTimeMs = minTimeMs;
    this.maxTimeMs = maxTimeMs;
    this.#onClose = onClose;
  }

  /** Series with samples in range, sorted by labels. */
  select(matchers: readonly Matcher[]): TsdbSeries[] {
    checkSelectMatchers(matchers);
    const result: TsdbSeries[] = [];
    for (const id of this.#head.index.select(matchers)) {
      const series = this.#head.getById(id);
      assert(series !== undefined, 'an indexed ID names a head series');
      const chunks = headChunksInRange(series, this.minTimeMs, this.maxTimeMs);
      if (chunks.length > 0) result.push(new ChunkSeries(series.labels, chunks, this.minTimeMs, this.maxTimeMs));
    }
    return result.sort((left, right) => Labels.compare(left.labels, right.labels));
  }

  labelNames(matchers?: readonly Matcher[]): string[] {
    const index = this.#head.index;
    if (matchers === undefined || matchers.length === 0) return index.labelNames();
    const names = new Set<string>();
    for (const id of index.select(matchers)) {
      for (const label of index.labels(id)!) names.add(label.name);
    }
    return [...names].sort(compareStrings);
  }

  labelValues(name: string, matchers?: readonly Matcher[]): string[] {
    const index = this.#head.index;
    if (matchers === undefined || matchers.length === 0) return index.labelValues(name);
    const values = new Set<string>();
    for (const id of index.select(matchers)) {
      const value = index.labels(id)!.get(name);
      if (value !== '') values.add(value);
    }
    return [...values].sort(compareStrings);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose?.(this);
  }
}
