// Property tests: the engine against deliberately simple references that scan raw samples, and range
// evaluation against instant evaluation at every step. The seed is in every message (KEEL_TEST_SEED replays).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { almostEqual, Engine, MemoryStorage } from '../../../src/monitor/promql/index.ts';
import type { QueryResult } from '../../../src/monitor/promql/index.ts';
import { Labels } from '../../../src/monitor/tsdb/labels.ts';
import { floatFromBits, staleMarkerHighBits, staleMarkerLowBits } from '../../../src/monitor/tsdb/value.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';
import type { Random } from '../helpers/random.ts';

const staleMarker = floatFromBits(staleMarkerHighBits, staleMarkerLowBits);
const lookbackMs = 5 * 60_000;

interface RawSeries {
  readonly labels: Labels;
  readonly samples: { timestampMs: number; value: number; stale: boolean }[];
}

/** Random series: irregular timestamps (some gaps longer than the lookback), some staleness markers. */
async function randomStorage(random: Random): Promise<{ storage: MemoryStorage; series: RawSeries[] }> {
  const storage = new MemoryStorage();
  const appender = storage.appender();
  const series: RawSeries[] = [];
  const count = 1 + random.below(4);
  for (let index = 0; index < count; index += 1) {
    const labels = Labels.fromRecord({ __name__: 'metric', id: String(index), group: random.pick(['a', 'b']) });
    const raw: RawSeries = { labels, samples: [] };
    let timestampMs = random.below(120) * 1000;
    while (timestampMs < 3_600_000) {
      const stale = random.below(20) === 0;
      const value = stale ? staleMarker : Math.round(random.next() * 1000) / 10 - 20;
      raw.samples.push({ timestampMs, value, stale });
      appender.append(labels, timestampMs, value);
      timestampMs += random.below(8) === 0 ? 300_000 + random.below(600) * 1000 : 1000 * (5 + random.below(60));
    }
    series.push(raw);
  }
  await appender.commit();
  return { storage, series };
}

function vector(result: QueryResult): Map<string, number> {
  assert.equal(result.resultType, 'vector');
  const values = new Map<string, number>();
  if (result.resultType === 'vector') for (const sample of result.result) values.set(sample.labels.toString(), sample.value);
  return values;
}

function assertSameVector(actual: Map<string, number>, expected: Map<string, number>, context: string): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), context);
  for (const [key, value] of expected) assert.ok(almostEqual(value, actual.get(key)!), `${context}: ${key} expected ${value}, got ${actual.get(key)}`);
}

/** The newest sample in [t - lookback, t], unless it is a staleness marker. */
function referenceInstant(series: readonly RawSeries[], timeMs: number): Map<string, number> {
  const values = new Map<string, number>();
  for (const raw of series) {
    const newest = raw.samples.filter((sample) => sample.timestampMs <= timeMs && sample.timestampMs >= timeMs - lookbackMs).at(-1);
    if (newest !== undefined && !newest.stale) values.set(raw.labels.toString(), newest.value);
  }
  return values;
}

/** The non-stale samples in [t - range, t]. */
function window(raw: RawSeries, endMs: number, rangeMs: number): number[] {
  return raw.samples.filter((sample) => !sample.stale && sample.timestampMs >= endMs - rangeMs && sample.timestampMs <= endMs).map((sample) => sample.value);
}

test('instant selectors match a reference scan of the raw samples', async () => {
  const seed = testSeed(0x5eed_0001);
  const random = seededRandom(seed);
  const engine = new Engine();
  for (let round = 0; round < 20; round += 1) {
    const { storage, series } = await randomStorage(random);
    for (let query = 0; query < 10; query += 1) {
      const timeMs = random.below(3_900) * 1000;
      const offsetMs = random.pick([0, 0, 60_000, -120_000, 330_000]);
      const text = offsetMs === 0 ? 'metric' : `metric offset ${offsetMs / 1000}s`;
      const expected = referenceInstant(series, timeMs - offsetMs);
      assertSameVector(vector(await engine.instantQuery(storage, text, timeMs)), new Map([...expected].map(([key, value]) => [key, value])), `seed ${seed} round ${round} ${text} at ${timeMs}`);
    }
  }
});

test('*_over_time functions match a reference over the window', async () => {
  const seed = testSeed(0x5eed_0002);
  const random = seededRandom(seed);
  const engine = new Engine();
  const references: Record<string, (values: number[]) => number> = {
    count_over_time: (values) => values.length,
    sum_over_time: (values) => values.reduce((sum, value) => sum + value, 0),
    max_over_time: (values) => Math.max(...values),
    min_over_time: (values) => Math.min(...values),
    avg_over_time: (values) => values.reduce((sum, value) => sum + value, 0) / values.length,
    last_over_time: (values) => values[values.length - 1]!,
    changes: (values) => values.slice(1).filter((value, index) => value !== values[index]).length,
    resets: (values) => values.slice(1).filter((value, index) => value < values[index]!).length,
  };
  for (let round = 0; round < 15; round += 1) {
    const { storage, series } = await randomStorage(random);
    for (let query = 0; query < 12; query += 1) {
      const name = random.pick(Object.keys(references));
      const rangeMs = random.pick([30_000, 60_000, 300_000, 900_000]);
      const offsetMs = random.pick([0, 120_000]);
      const timeMs = random.below(3_700) * 1000;
      const text = `${name}(metric[${rangeMs / 1000}s]${offsetMs === 0 ? '' : ` offset ${offsetMs / 1000}s`})`;
      const expected = new Map<string, number>();
      for (const raw of series) {
        const values = window(raw, timeMs - offsetMs, rangeMs);
        if (values.length === 0) continue;
        const labels = name === 'last_over_time' ? raw.labels : raw.labels.without('__name__');
        expected.set(labels.toString(), references[name]!(values));
      }
      assertSameVector(vector(await engine.instantQuery(storage, text, timeMs)), expected, `seed ${seed} round ${round} ${text} at ${timeMs}`);
    }
  }
});

test('subqueries evaluate the inner expression at aligned steps', async () => {
  const seed = testSeed(0x5eed_0003);
  const random = seededRandom(seed);
  const engine = new Engine();
  for (let round = 0; round < 10; round += 1) {
    const { storage, series } = await randomStorage(random);
    for (let query = 0; query < 8; query += 1) {
      const rangeMs = random.pick([120_000, 600_000]);
      const stepMs = random.pick([7000, 30_000, 60_000]);
      const timeMs = random.below(3_600) * 1000;
      const text = `max_over_time(metric[${rangeMs / 1000}s:${stepMs / 1000}s])`;
      const expected = new Map<string, number>();
      const firstStepMs = Math.ceil((timeMs - rangeMs) / stepMs) * stepMs;
      for (let stepTimeMs = firstStepMs; stepTimeMs <= timeMs; stepTimeMs += stepMs) {
        for (const [key, value] of referenceInstant(series, stepTimeMs)) {
          const dropped = key.replace(/^metric/, '');
          expected.set(dropped, Math.max(expected.get(dropped) ?? -Infinity, value));
        }
      }
      assertSameVector(vector(await engine.instantQuery(storage, text, timeMs)), expected, `seed ${seed} round ${round} ${text} at ${timeMs}`);
    }
  }
});

/** A small random expression over `metric`. */
function randomExpression(random: Random, depth: number): string {
  const leaves = ['metric', 'metric offset 1m', 'metric @ 1800', 'rate(metric[5m])', 'max_over_time(metric[2m:30s])', 'vector(time())', 'metric{group="a"}'];
  if (depth === 0) return random.pick(leaves);
  const inner = randomExpression(random, depth - 1);
  switch (random.below(7)) {
    case 0:
      return `sum by (group) (${inner})`;
    case 1:
      return `(${inner}) * 2 - 1`;
    case 2:
      return `abs(${inner})`;
    case 3:
      return `(${inner}) > bool 10`;
    case 4:
      return `topk(2, ${inner})`;
    case 5:
      return `count_values("v", round(${inner}))`;
    default:
      return `(${inner}) unless metric{group="b"}`;
  }
}

test('a range query equals instant queries at each of its steps', async () => {
  const seed = testSeed(0x5eed_0004);
  const random = seededRandom(seed);
  const engine = new Engine();
  for (let round = 0; round < 12; round += 1) {
    const { storage } = await randomStorage(random);
    const text = randomExpression(random, random.below(3));
    const startMs = random.below(1800) * 1000;
    const stepMs = random.pick([15_000, 60_000, 137_000]);
    const endMs = startMs + stepMs * random.below(20);
    const range = await engine.rangeQuery(storage, text, startMs, endMs, stepMs);
    assert.equal(range.resultType, 'matrix');
    if (range.resultType !== 'matrix') continue;
    for (let timeMs = startMs; timeMs <= endMs; timeMs += stepMs) {
      const fromRange = new Map<string, number>();
      for (const series of range.result) {
        const point = series.points.toArray().find((candidate) => candidate.timestampMs === timeMs);
        if (point !== undefined) fromRange.set(series.labels.toString(), point.value);
      }
      assertSameVector(fromRange, vector(await engine.instantQuery(storage, text, timeMs)), `seed ${seed} round ${round} ${text} at ${timeMs}`);
    }
  }
});
