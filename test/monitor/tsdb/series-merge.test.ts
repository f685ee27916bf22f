import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels, Matcher, XorChunk } from '../../../src/monitor/tsdb/index.ts';
import { MergeQuerier } from '../../../src/monitor/tsdb/querier.ts';
import type { TsdbQuerier } from '../../../src/monitor/tsdb/querier.ts';
import { ChunkSeries, MergedSeries, StoredChunk } from '../../../src/monitor/tsdb/series-iterator.ts';
import type { TsdbSampleIterator, TsdbSeries } from '../../../src/monitor/tsdb/series-iterator.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';
import type { Random } from '../helpers/random.ts';

interface Sample { readonly timestampMs: number; readonly value: number }

const labels = Labels.fromRecord({ __name__: 'up', job: 'a' });
const everything: readonly Matcher[] = [new Matcher('=~', '__name__', '.+')];

function chunkOf(samples: readonly Sample[]): StoredChunk {
  const chunk = new XorChunk();
  for (const sample of samples) chunk.append(sample.timestampMs, sample.value);
  return new StoredChunk(chunk.bytes(), samples[0]!.timestampMs, samples[samples.length - 1]!.timestampMs, samples.length);
}

/** A source's series: its samples cut into chunks of `perChunk`. */
function seriesOf(samples: readonly Sample[], perChunk: number, minTimeMs: number, maxTimeMs: number): ChunkSeries {
  const chunks: StoredChunk[] = [];
  for (let start = 0; start < samples.length; start += perChunk) chunks.push(chunkOf(samples.slice(start, start + perChunk)));
  return new ChunkSeries(labels, chunks, minTimeMs, maxTimeMs);
}

/** A querier over one source's series, as a block or the head would answer. */
function source(series: TsdbSeries): TsdbQuerier {
  return {
    minTimeMs: 0,
    maxTimeMs: Number.MAX_SAFE_INTEGER,
    select: () => [series],
    labelNames: () => [],
    labelValues: () => [],
    close: () => undefined,
  } as unknown as TsdbQuerier;
}

function drain(iterator: TsdbSampleIterator): Sample[] {
  const samples: Sample[] = [];
  while (iterator.next()) samples.push({ timestampMs: iterator.timestampMs, value: iterator.value });
  return samples;
}

/** The reference merge: every timestamp once, from the earliest source holding it, inside the range. */
function referenceMerge(sources: readonly (readonly Sample[])[], minTimeMs: number, maxTimeMs: number): Sample[] {
  const byTime = new Map<number, Sample>();
  for (const samples of sources) {
    for (const sample of samples) if (!byTime.has(sample.timestampMs)) byTime.set(sample.timestampMs, sample);
  }
  return [...byTime.values()].filter((sample) => sample.timestampMs >= minTimeMs && sample.timestampMs <= maxTimeMs)
    .sort((a, b) => a.timestampMs - b.timestampMs);
}

/** Increasing timestamps from `startMs`, with gaps, values tagged by source so a wrong winner shows. */
function samplesFrom(random: Random, startMs: number, count: number, tag: number): Sample[] {
  const samples: Sample[] = [];
  let timestampMs = startMs;
  for (let index = 0; index < count; index += 1) {
    timestampMs += 1 + random.below(3);
    samples.push({ timestampMs, value: tag * 1_000_000 + index });
  }
  return samples;
}

test('sources that follow one another in time are chained into one chunk series, read in order', () => {
  const random = seededRandom(testSeed(11));
  const parts = [samplesFrom(random, 0, 300, 1), samplesFrom(random, 1_000, 250, 2), samplesFrom(random, 2_000, 40, 3)];
  const querier = new MergeQuerier(parts.map((samples) => source(seriesOf(samples, 120, 0, 10_000))), 0, 10_000);
  const [series] = querier.select(everything);
  assert.ok(series instanceof ChunkSeries, 'disjoint sources need no per-sample merge');
  assert.deepEqual(drain(series.iterator()), parts.flat());
  const iterator = series.iterator();
  assert.equal(iterator.seek(1_500), true);
  assert.equal(iterator.timestampMs, parts[1]!.find((sample) => sample.timestampMs >= 1_500)!.timestampMs);
  assert.equal(iterator.seek(3_000), false);
});

test('overlapping sources are merged: one sample per timestamp, the earliest source winning (randomized)', () => {
  const seed = testSeed(7);
  const random = seededRandom(seed);
  for (let round = 0; round < 200; round += 1) {
    const sourceCount = 2 + random.below(4);
    const sources: Sample[][] = [];
    for (let index = 0; index < sourceCount; index += 1) sources.push(samplesFrom(random, random.below(400), 1 + random.below(300), index + 1));
    const minTimeMs = random.below(200);
    const maxTimeMs = minTimeMs + random.below(1_000);
    const querier = new MergeQuerier(sources.map((samples) => source(seriesOf(samples, 1 + random.below(130), minTimeMs, maxTimeMs))), minTimeMs, maxTimeMs);
    const [series] = querier.select(everything);
    assert.ok(series !== undefined, `seed ${seed} round ${round}: the series is found`);
    const expected = referenceMerge(sources, minTimeMs, maxTimeMs);
    assert.deepEqual(drain(series.iterator()), expected, `seed ${seed} round ${round}: merged samples`);
    // A seek lands on the first sample at or after its target, and reading on continues the merge.
    const targetMs = random.below(1_200);
    const iterator = series.iterator();
    const after = expected.filter((sample) => sample.timestampMs >= targetMs);
    assert.equal(iterator.seek(targetMs), after.length > 0, `seed ${seed} round ${round}: seek ${targetMs}`);
    if (after.length > 0) {
      const rest = [{ timestampMs: iterator.timestampMs, value: iterator.value }, ...drain(iterator)];
      assert.deepEqual(rest, after, `seed ${seed} round ${round}: samples after seek ${targetMs}`);
    }
  }
});

test('a merged series over sources with identical samples yields each sample once', () => {
  const samples = samplesFrom(seededRandom(3), 0, 500, 1);
  const copy = samples.map((sample) => ({ timestampMs: sample.timestampMs, value: sample.value + 0.5 }));
  const series = new MergedSeries(labels, [seriesOf(samples, 120, 0, 10_000), seriesOf(copy, 77, 0, 10_000)]);
  assert.deepEqual(drain(series.iterator()), samples);
});
