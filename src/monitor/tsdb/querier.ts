/**
 * A querier over several sources (blocks, oldest first, then the head): each source answers sorted by
 * labels, and the lists are merged; a series present in several sources becomes one series whose
 * iterator merges theirs by timestamp, keeping one sample per timestamp.
 */
import type { Querier } from '../storage.ts';
import { assert } from './errors.ts';
import { checkSelectMatchers } from './head-read.ts';
import type { Matcher } from './index/index.ts';
import { compareStrings, Labels } from './labels.ts';
import { ChunkSeries, MergedSeries } from './series-iterator.ts';
import type { IterableChunk, TsdbSeries } from './series-iterator.ts';

/** A source querier whose series expose value bits. */
export interface TsdbQuerier extends Querier {
  select(matchers: readonly Matcher[]): TsdbSeries[];
}

/**
 * Merges source queriers; closing it closes them.
 *
 * @example
 * const querier = new MergeQuerier([blockQuerier, headQuerier], start, end);
 */
export class MergeQuerier implements TsdbQuerier {
  readonly #sources: readonly TsdbQuerier[];
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  #closed = false;

  constructor(sources: readonly TsdbQuerier[], minTimeMs: number, maxTimeMs: number) {
    assert(minTimeMs <= maxTimeMs, 'a querier range is not empty');
    this.#sources = sources;
    this.minTimeMs = minTimeMs;
    this.maxTimeMs = maxTimeMs;
  }

  select(matchers: readonly Matcher[]): TsdbSeries[] {
    checkSelectMatchers(matchers);
    const lists = this.#sources.map((source) => source.select(matchers)).filter((list) => list.length > 0);
    if (lists.length === 0) return [];
    if (lists.length === 1) return lists[0]!;
    return mergeSortedSeries(lists);
  }

  labelNames(matchers?: readonly Matcher[]): string[] {
    return mergeSortedStrings(this.#sources.map((source) => source.labelNames(matchers)));
  }

  labelValues(name: string, matchers?: readonly Matcher[]): string[] {
    return mergeSortedStrings(this.#sources.map((source) => source.labelValues(name, matchers)));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const source of this.#sources) source.close();
  }
}

/** Merges label-sorted lists; equal label sets become one merged series (parts in source order). */
function mergeSortedSeries(lists: readonly TsdbSeries[][]): TsdbSeries[] {
  const positions = lists.map(() => 0);
  const result: TsdbSeries[] = [];
  while (true) {
    let smallest: Labels | undefined;
    for (let index = 0; index < lists.length; index += 1) {
      const series = lists[index]![positions[index]!];
      if (series !== undefined && (smallest === undefined || Labels.compare(series.labels, smallest) < 0)) smallest = series.labels;
    }
    if (smallest === undefined) return result;
    const parts: TsdbSeries[] = [];
    for (let index = 0; index < lists.length; index += 1) {
      const series = lists[index]![positions[index]!];
      if (series === undefined || Labels.compare(series.labels, smallest) !== 0) continue;
      parts.push(series);
      positions[index] = positions[index]! + 1;
    }
    result.push(parts.length === 1 ? parts[0]! : (concatenated(smallest, parts) ?? new MergedSeries(smallest, parts)));
  }
}

/**
 * One series over the parts' chunks in order when the parts are chunk lists whose chunks follow one another
 * without overlapping in time (the usual case: blocks cover disjoint ranges, the head follows them), so its
 * iterator needs no per-sample merge; undefined when they overlap and must be merged.
 */
function concatenated(labels: Labels, parts: readonly TsdbSeries[]): ChunkSeries | undefined {
  const chunks: IterableChunk[] = [];
  let minTimeMs = Infinity;
  let maxTimeMs = -Infinity;
  for (const part of parts) {
    if (!(part instanceof ChunkSeries)) return undefined;
    for (const chunk of part.chunks) {
      const previous = chunks[chunks.length - 1];
      if (previous !== undefined && previous.maxTimeMs >= chunk.minTimeMs) return undefined;
      chunks.push(chunk);
    }
    minTimeMs = Math.min(minTimeMs, part.minTimeMs);
    maxTimeMs = Math.max(maxTimeMs, part.maxTimeMs);
  }
  return new ChunkSeries(labels, chunks, minTimeMs, maxTimeMs);
}

function mergeSortedStrings(lists: readonly string[][]): string[] {
  const set = new Set<string>();
  for (const list of lists) for (const value of list) set.add(value);
  return [...set].sort(compareStrings);
}
