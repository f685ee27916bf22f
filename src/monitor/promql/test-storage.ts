/**
 * A small in-memory store implementing the monitor's storage contract (storage.ts): series sorted by labels,
 * samples in time order in plain arrays, binary search for seeks. It backs the PromQL test-file harness and
 * unit tests; it is deliberately simple, with no compression, retention or WAL.
 *
 * @example
 * const storage = new MemoryStorage();
 * const app = storage.appender();
 * app.append(Labels.fromRecord({ __name__: 'up' }), 0, 1);
 * await app.commit();
 * const result = await new Engine().instantQuery(storage, 'up', 0);
 */
import type { Matcher } from '../tsdb/index/matcher.ts';
import { Labels } from '../tsdb/labels.ts';
import type { Appendable, Appender, AppendOutcome, Querier, Queryable, Series } from '../storage.ts';
import { assertPromql, PromqlError } from './errors.ts';
import { labelsKey } from './_labels.ts';
import { ArraySampleIterator } from './_sample-array.ts';

/** Most series one MemoryStorage holds; tests stay far below it. */
export const memoryStorageSeriesMax = 1_000_000;
/** Most samples in one uncommitted batch. */
export const memoryAppenderBatchSamplesMax = 10_000_000;

/** Float64 values in a growable typed array: unlike a plain array it keeps every NaN payload (staleness). */
class ValueBuffer {
  #values = new Float64Array(16);
  length = 0;

  push(value: number): void {
    if (this.length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.length] = value;
    this.length += 1;
  }

  at(index: number): number {
    assertPromql(index >= 0 && index < this.length, 'value index in range');
    return this.#values[index]!;
  }
}

interface StoredSeries {
  readonly labels: Labels;
  /** Invariant: strictly increasing; as long as values. */
  readonly timestampsMs: number[];
  readonly values: ValueBuffer;
}

/** An in-memory `Queryable` and `Appendable`. */
export class MemoryStorage implements Queryable, Appendable {
  readonly #seriesByKey = new Map<string, StoredSeries>();
  /** Invariant: sorted by Labels.compare; undefined after a new series until the next query. */
  #sorted: StoredSeries[] | undefined = [];

  /** Number of series stored. */
  get seriesCount(): number {
    return this.#seriesByKey.size;
  }

  appender(): Appender {
    return new MemoryAppender(this);
  }

  querier(minTimeMs: number, maxTimeMs: number): Querier {
    if (!(minTimeMs <= maxTimeMs)) throw new PromqlError('PROMQL_BAD_QUERY', 'bad_data', `Querier range [${minTimeMs}, ${maxTimeMs}] is empty.`);
    if (this.#sorted === undefined) {
      this.#sorted = [...this.#seriesByKey.values()].sort((left, right) => Labels.compare(left.labels, right.labels));
    }
    return new MemoryQuerier(this.#sorted, minTimeMs, maxTimeMs);
  }

  /** Removes every series. */
  clear(): void {
    this.#seriesByKey.clear();
    this.#sorted = [];
  }

  /** Appends one sample directly (used by the appender's commit). */
  appendCommitted(labels: Labels, timestampMs: number, value: number): AppendOutcome {
    const key = labelsKey(labels);
    let series = this.#seriesByKey.get(key);
    if (series === undefined) {
      if (this.#seriesByKey.size >= memoryStorageSeriesMax) return 'out_of_bounds';
      series = { labels, timestampsMs: [], values: new ValueBuffer() };
      this.#seriesByKey.set(key, series);
      this.#sorted = undefined;
    }
    const last = series.timestampsMs[series.timestampsMs.length - 1];
    if (last !== undefined && timestampMs < last) return 'out_of_order';
    if (last === timestampMs) {
      const previous = series.values.at(series.values.length - 1);
      return Object.is(previous, value) || (Number.isNaN(previous) && Number.isNaN(value)) ? 'ok' : 'duplicate_sample';
    }
    series.timestampsMs.push(timestampMs);
    series.values.push(value);
    return 'ok';
  }

  /** The outcome appending would have, without appending. */
  checkAppend(labels: Labels, timestampMs: number): AppendOutcome {
    const series = this.#seriesByKey.get(labelsKey(labels));
    const last = series?.timestampsMs[series.timestampsMs.length - 1];
    if (last !== undefined && timestampMs < last) return 'out_of_order';
    return 'ok';
  }
}

class MemoryAppender implements Appender {
  readonly #storage: MemoryStorage;
  #batch: { labels: Labels; timestampMs: number; value: number }[] = [];

  constructor(storage: MemoryStorage) {
    this.#storage = storage;
  }

  append(labels: Labels, timestampMs: number, value: number): AppendOutcome {
    if (labels.size === 0) throw new PromqlError('PROMQL_BAD_QUERY', 'bad_data', 'Cannot append a sample with an empty label set.');
    if (!Number.isSafeInteger(timestampMs)) return 'out_of_bounds';
    if (this.#batch.length >= memoryAppenderBatchSamplesMax) return 'out_of_bounds';
    const outcome = this.#storage.checkAppend(labels, timestampMs);
    if (outcome === 'ok') this.#batch.push({ labels, timestampMs, value });
    return outcome;
  }

  commit(): Promise<void> {
    const batch = this.#batch;
    this.#batch = [];
    // Stable by time per series, so a batch may add samples to several series in any interleaving.
    batch.sort((left, right) => left.timestampMs - right.timestampMs);
    for (const sample of batch) this.#storage.appendCommitted(sample.labels, sample.timestampMs, sample.value);
    return Promise.resolve();
  }

  rollback(): void {
    this.#batch = [];
  }
}

class MemoryQuerier implements Querier {
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly #series: readonly StoredSeries[];

  constructor(series: readonly StoredSeries[], minTimeMs: number, maxTimeMs: number) {
    this.#series = series;
    this.minTimeMs = minTimeMs;
    this.maxTimeMs = maxTimeMs;
  }

  select(matchers: readonly Matcher[]): Series[] {
    assertPromql(matchers.some((matcher) => !matcher.matchesEmpty), 'select needs a matcher that does not match the empty string');
    return this.#matching(matchers).map((stored) => ({
      labels: stored.labels,
      iterator: () => new ArraySampleIterator(stored.timestampsMs, stored.values, this.minTimeMs, this.maxTimeMs),
    }));
  }

  labelNames(matchers?: readonly Matcher[]): string[] {
    const names = new Set<string>();
    for (const stored of this.#matching(matchers ?? [])) for (const { name } of stored.labels) names.add(name);
    return [...names].sort();
  }

  labelValues(name: string, matchers?: readonly Matcher[]): string[] {
    const values = new Set<string>();
    for (const stored of this.#matching(matchers ?? [])) if (stored.labels.has(name)) values.add(stored.labels.get(name));
    return [...values].sort();
  }

  close(): void {}

  #matching(matchers: readonly Matcher[]): StoredSeries[] {
    return this.#series.filter((stored) => matchers.every((matcher) => matcher.matches(stored.labels.get(matcher.name))));
  }
}
