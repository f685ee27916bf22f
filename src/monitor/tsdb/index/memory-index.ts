/**
 * The head block's inverted index: for every (label name, label value) pair, the sorted IDs of the series
 * carrying it, plus the series' label sets. Selection by matchers follows Prometheus's PostingsForMatchers:
 * intersect what the positive matchers accept, then subtract what the empty-matching ones reject.
 */
import { assert, TsdbError } from '../errors.ts';
import { compareStrings } from '../labels.ts';
import type { Labels } from '../labels.ts';
import type { Matcher } from './matcher.ts';
import { insertPosting, intersectPostings, mergePostings, subtractPostings } from './postings.ts';
import type { Postings } from './postings.ts';
import { SymbolTable } from './symbols.ts';

/** A series' ID: the head hands these out, increasing. */
export type SeriesId = number;

/**
 * An in-memory inverted index over label sets.
 *
 * @example
 * const index = new MemoryIndex();
 * index.add(1, Labels.fromRecord({ __name__: 'up', job: 'api' }));
 * index.add(2, Labels.fromRecord({ __name__: 'up', job: 'web', env: 'prod' }));
 * index.select([new Matcher('=', '__name__', 'up'), new Matcher('=', 'env', '')]); // [1]
 */
export class MemoryIndex {
  #symbols = new SymbolTable();
  /** Invariant: every list is strictly increasing and non-empty; every ID in it is in #series. */
  #postings = new Map<string, Map<string, number[]>>();
  /** Invariant: strictly increasing; exactly the keys of #series. */
  #allSeries: number[] = [];
  #series = new Map<SeriesId, Labels>();

  /** Number of series indexed. */
  get seriesCount(): number {
    return this.#series.size;
  }

  /** Adds a series. Its ID must be new; its labels must not be empty. */
  add(seriesId: SeriesId, labels: Labels): void {
    if (!Number.isSafeInteger(seriesId) || seriesId < 0) {
      throw new TsdbError('TSDB_INVALID_SERIES_ID', `Series ID ${seriesId} is not a non-negative safe integer.`);
    }
    if (this.#series.has(seriesId)) throw new TsdbError('TSDB_DUPLICATE_SERIES', `Series ID ${seriesId} is already indexed.`);
    assert(labels.size > 0, 'a series has at least one label');
    const interned = labels.withInternedStrings((text) => this.#symbols.symbol(this.#symbols.intern(text)));
    this.#series.set(seriesId, interned);
    insertPosting(this.#allSeries, seriesId);
    for (let index = 0; index < interned.size; index += 1) {
      const inserted = insertPosting(this.#postingsListFor(interned.nameAt(index), interned.valueAt(index)), seriesId);
      assert(inserted, 'a new series is in no postings list yet');
    }
  }

  /** Removes series (absent IDs are ignored). Each affected postings list is rewritten once. */
  delete(seriesIds: Iterable<SeriesId>): void {
    const removedByList = new Map<number[], Set<SeriesId>>();
    const removed = new Set<SeriesId>();
    for (const seriesId of seriesIds) {
      const labels = this.#series.get(seriesId);
      if (labels === undefined || removed.has(seriesId)) continue;
      removed.add(seriesId);
      for (let index = 0; index < labels.size; index += 1) {
        const list = this.#postings.get(labels.nameAt(index))!.get(labels.valueAt(index))!;
        let ids = removedByList.get(list);
        if (ids === undefined) removedByList.set(list, (ids = new Set()));
        ids.add(seriesId);
      }
    }
    if (removed.size === 0) return;
    for (const [list, ids] of removedByList) filterInPlace(list, ids);
    filterInPlace(this.#allSeries, removed);
    for (const seriesId of removed) this.#forget(seriesId);
  }

  /** The labels of a series, or undefined when it is not indexed. */
  labels(seriesId: SeriesId): Labels | undefined {
    return this.#series.get(seriesId);
  }

  /** The series carrying `name="value"` (a copy). */
  postings(name: string, value: string): number[] {
    return [...(this.#postings.get(name)?.get(value) ?? [])];
  }

  /** Every series ID (a copy). */
  allPostings(): number[] {
    return [...this.#allSeries];
  }

  /** Label names in use, sorted. */
  labelNames(): string[] {
    return [...this.#postings.keys()].sort(compareStrings);
  }

  /** Values of `name` in use, sorted in UTF-8 order. */
  labelValues(name: string): string[] {
    return [...(this.#postings.get(name)?.keys() ?? [])].sort(compareStrings);
  }

  /** Every label string in use, sorted in UTF-8 order: the future block index's symbol section. */
  symbols(): string[] {
    return this.#symbols.sorted();
  }

  /**
   * The IDs of the series matching every matcher, increasing. No matchers select nothing, as in Prometheus.
   */
  select(matchers: readonly Matcher[]): number[] {
    if (matchers.length === 0) return [];
    const intersected: Postings[] = [];
    const subtracted: Postings[] = [];
    for (const matcher of matchers) {
      if (matcher.matchesEverything) continue;
      // An empty-matching matcher keeps series without the label, so it can only remove series whose
      // value it rejects; any other matcher names the series it keeps.
      if (matcher.matchesEmpty) subtracted.push(this.#postingsForValues(matcher, false));
      else intersected.push(this.#postingsForValues(matcher, true));
    }
    const base = intersected.length > 0 ? intersectPostings(intersected) : this.#allSeries;
    const result = subtracted.length > 0 ? subtractPostings(base, mergePostings(subtracted)) : [...base];
    assert(result.length <= this.#allSeries.length, 'a selection is a subset of the index');
    return result;
  }

  /** The union of postings for the values of the matcher's label where `matches(value) === accepted`. */
  #postingsForValues(matcher: Matcher, accepted: boolean): number[] {
    const values = this.#postings.get(matcher.name);
    if (values === undefined) return [];
    const literals = matcher.literalValues;
    const lists: Postings[] = [];
    // A literal set names exactly the values accepted by the positive form, or rejected by the negative.
    if (literals !== undefined && matcher.isNegative !== accepted) {
      for (const literal of literals) {
        const list = values.get(literal);
        if (list !== undefined) lists.push(list);
      }
    } else {
      for (const [value, list] of values) {
        if (matcher.matches(value) === accepted) lists.push(list);
      }
    }
    return mergePostings(lists);
  }

  #postingsListFor(name: string, value: string): number[] {
    let values = this.#postings.get(name);
    if (values === undefined) this.#postings.set(name, (values = new Map()));
    let list = values.get(value);
    if (list === undefined) values.set(value, (list = []));
    return list;
  }

  /** Drops a removed series' labels, empty postings lists and unreferenced symbols. */
  #forget(seriesId: SeriesId): void {
    const labels = this.#series.get(seriesId)!;
    this.#series.delete(seriesId);
    for (let index = 0; index < labels.size; index += 1) {
      const name = labels.nameAt(index);
      const value = labels.valueAt(index);
      // Another removed series may already have dropped the shared (now empty) list or map.
      const values = this.#postings.get(name);
      if (values !== undefined && values.get(value)?.length === 0) values.delete(value);
      if (values !== undefined && values.size === 0) this.#postings.delete(name);
      this.#symbols.release(this.#symbols.lookup(name)!);
      this.#symbols.release(this.#symbols.lookup(value)!);
    }
  }
}

function filterInPlace(list: number[], removed: ReadonlySet<number>): void {
  let kept = 0;
  for (let index = 0; index < list.length; index += 1) {
    const id = list[index]!;
    if (!removed.has(id)) list[kept++] = id;
  }
  list.length = kept;
}
