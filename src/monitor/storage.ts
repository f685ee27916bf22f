/**
 * The contract between the monitor's parts: the scraper and the importer write through an Appender, the
 * PromQL engine and the HTTP API read through a Querier. The TSDB implements both (`Tsdb` in tsdb/db.ts);
 * nothing else needs to know how samples are stored.
 *
 * Timestamps are integer milliseconds since the epoch; values are float64, and the staleness marker is the
 * NaN with bits 0x7ff0000000000002 (see tsdb/value.ts). Label sets are `Labels`, sorted by name.
 *
 * @example
 * const app = db.appender();
 * app.append(Labels.fromRecord({ __name__: 'up', job: 'keel' }), Date.now(), 1);
 * await app.commit();
 * const q = db.querier(start, end);
 * for (const series of q.select([new Matcher('=', '__name__', 'up')])) { ... }
 */
import type { Matcher } from './tsdb/index/matcher.ts';
import type { Labels } from './tsdb/labels.ts';

/** Why a sample was not appended; Prometheus counts each reason separately. */
export type AppendOutcome = 'ok' | 'out_of_order' | 'duplicate_sample' | 'out_of_bounds' | 'too_old';

/** A batch of samples, visible to queries and durable only after `commit`. */
export interface Appender {
  /**
   * Adds one sample. Never throws for a sample the store refuses: it returns the reason, so a scrape can
   * count it and go on. Throws only for a broken call (empty label set).
   */
  append(labels: Labels, timestampMs: number, value: number): AppendOutcome;
  /** Writes the batch to the WAL (one write for the whole batch), then makes it visible. */
  commit(): Promise<void>;
  /** Drops the batch. */
  rollback(): void;
}

export interface Appendable {
  appender(): Appender;
}

/** One sample iterator position. `next` returns false when the series has no more samples in range. */
export interface SampleIterator {
  next(): boolean;
  /** Moves to the first sample with timestamp ≥ t; returns false if there is none. */
  seek(timestampMs: number): boolean;
  readonly timestampMs: number;
  readonly value: number;
  /** Optional: releases what the iterator holds (decode buffers) when the reader stops before the end. */
  close?(): void;
}

export interface Series {
  readonly labels: Labels;
  /** A fresh iterator over the series' samples inside the querier's [minTimeMs, maxTimeMs], in time order. */
  iterator(): SampleIterator;
}

/** A read view over [minTimeMs, maxTimeMs] (both inclusive). */
export interface Querier {
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  /** The series matching every matcher, sorted by labels. At least one matcher must not match the empty string. */
  select(matchers: readonly Matcher[]): Series[];
  /** Sorted label names of the series matching the matchers (all series when none are given). */
  labelNames(matchers?: readonly Matcher[]): string[];
  /** Sorted values of one label over the matching series (all series when none are given). */
  labelValues(name: string, matchers?: readonly Matcher[]): string[];
  close(): void;
}

export interface Queryable {
  querier(minTimeMs: number, maxTimeMs: number): Querier;
}
