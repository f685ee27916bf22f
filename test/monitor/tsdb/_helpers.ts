// Shared helpers for the TSDB tests: temporary directories, a quiet database, and reading a querier's
// whole answer into plain data that assert.deepStrictEqual can compare (NaN equals NaN there).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Querier } from '../../../src/monitor/storage.ts';
import { Labels, Matcher, silentLogger, Tsdb } from '../../../src/monitor/tsdb/index.ts';
import type { TsdbOptions, TsdbSampleIterator, XorChunk } from '../../../src/monitor/tsdb/index.ts';

/** A sample as raw words, so comparisons are bit-exact (NaN payloads included). */
export interface RawSample {
  timestampMs: number;
  high: number;
  low: number;
}

/** Every sample of a chunk through its one-sample-at-a-time iterator, as raw words. */
export function decodeRaw(chunk: XorChunk): RawSample[] {
  const samples: RawSample[] = [];
  const iterator = chunk.iterator();
  while (iterator.next()) samples.push({ timestampMs: iterator.timestampMs, high: iterator.valueHighBits, low: iterator.valueLowBits });
  return samples;
}

/** Runs `body` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(body: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(join(tmpdir(), 'keel-tsdb-test-'));
  try {
    return await body(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Opens a database with no background timer and no log output. */
export function openDb(directory: string, options: Partial<TsdbOptions> = {}): Promise<Tsdb> {
  return Tsdb.open(directory, { compactionIntervalMs: 0, logger: silentLogger, ...options });
}

export interface SeriesDump {
  readonly labels: string;
  readonly samples: readonly (readonly [number, number])[];
}

/** Every series matching `matchers` with all its samples. */
export function dump(querier: Querier, matchers: readonly Matcher[] = [new Matcher('=~', '__name__', '.+')]): SeriesDump[] {
  return querier.select(matchers).map((series) => {
    const samples: [number, number][] = [];
    const iterator = series.iterator();
    while (iterator.next()) samples.push([iterator.timestampMs, iterator.value]);
    return { labels: series.labels.toString(), samples };
  });
}

/** Queries [min, max] of a database, dumps it and closes the querier. */
export function dumpRange(db: Tsdb, minTimeMs: number, maxTimeMs: number, matchers?: readonly Matcher[]): SeriesDump[] {
  const querier = db.querier(minTimeMs, maxTimeMs);
  try {
    return dump(querier, matchers);
  } finally {
    querier.close();
  }
}

/** Labels from a record, shorter to write. */
export function labels(record: Readonly<Record<string, string>>): Labels {
  return Labels.fromRecord(record);
}

/** Appends `count` samples per series at `stepMs` from `startMs`, one commit per timestamp; value = f(series, t). */
export async function appendGrid(db: Tsdb, series: readonly Labels[], startMs: number, count: number, stepMs: number, value: (seriesIndex: number, timestampMs: number) => number): Promise<void> {
  for (let step = 0; step < count; step += 1) {
    const appender = db.appender();
    const timestampMs = startMs + step * stepMs;
    series.forEach((entry, index) => appender.append(entry, timestampMs, value(index, timestampMs)));
    await appender.commit();
  }
}

/** The single series' iterator for a selection (asserting there is exactly one). */
export function onlyIterator(querier: Querier, matchers: readonly Matcher[]): TsdbSampleIterator {
  const selected = querier.select(matchers);
  if (selected.length !== 1) throw new Error(`expected one series, got ${selected.length}`);
  return selected[0]!.iterator() as TsdbSampleIterator;
}
