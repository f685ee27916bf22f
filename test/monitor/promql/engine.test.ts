import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate } from 'node:timers';
import { Engine, MemoryStorage, parseExpr, PromqlError } from '../../../src/monitor/promql/index.ts';
import type { QueryResult } from '../../../src/monitor/promql/index.ts';
import { Labels } from '../../../src/monitor/tsdb/labels.ts';

async function storageWith(series: Record<string, number[]>, intervalMs = 60_000): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  const appender = storage.appender();
  for (const [text, values] of Object.entries(series)) {
    const [name, job] = text.split('/') as [string, string | undefined];
    const labels = Labels.fromRecord(job === undefined ? { __name__: name } : { __name__: name, job });
    values.forEach((value, index) => appender.append(labels, index * intervalMs, value));
  }
  await appender.commit();
  return storage;
}

function vectorValues(result: QueryResult): Record<string, number> {
  assert.equal(result.resultType, 'vector');
  const values: Record<string, number> = {};
  if (result.resultType === 'vector') for (const sample of result.result) values[sample.labels.toString()] = sample.value;
  return values;
}

test('an instant vector reports every sample at the evaluation time', async () => {
  const storage = await storageWith({ 'up/a': [1, 1, 0], 'up/b': [1, 1, 1] });
  const result = await new Engine().instantQuery(storage, 'up', 150_000);
  assert.equal(result.resultType, 'vector');
  if (result.resultType !== 'vector') return;
  assert.deepEqual(result.result.map((sample) => [sample.labels.toString(), sample.timestampMs, sample.value]), [
    ['up{job="a"}', 150_000, 0],
    ['up{job="b"}', 150_000, 1],
  ]);
});

test('scalars, strings and range selectors keep their result types', async () => {
  const storage = await storageWith({ 'up/a': [1, 2, 3] });
  const engine = new Engine();
  assert.deepEqual(await engine.instantQuery(storage, '1 + 1', 5000), { resultType: 'scalar', result: { timestampMs: 5000, value: 2 } });
  assert.deepEqual(await engine.instantQuery(storage, '"text"', 5000), { resultType: 'string', result: { timestampMs: 5000, value: 'text' } });
  const matrix = await engine.instantQuery(storage, 'up[90s]', 120_000);
  assert.equal(matrix.resultType, 'matrix');
  if (matrix.resultType === 'matrix') {
    assert.equal(matrix.result.length, 1);
    // Raw sample timestamps, not the evaluation time.
    assert.deepEqual(matrix.result[0]!.points.toArray(), [{ timestampMs: 60_000, value: 2 }, { timestampMs: 120_000, value: 3 }]);
  }
  const subquery = await engine.instantQuery(storage, 'up[2m:1m]', 120_000);
  assert.equal(subquery.resultType, 'matrix');
  if (subquery.resultType === 'matrix') assert.deepEqual(subquery.result[0]!.points.timestamps, [0, 60_000, 120_000]);
});

test('a range query returns series sorted by labels with one point per step', async () => {
  const storage = await storageWith({ 'b_metric': [5, 6, 7], 'a_metric/z': [1, 2, 3], 'a_metric/y': [0, 0, 0] });
  const result = await new Engine().rangeQuery(storage, '{__name__=~".+_metric"} * 2', 0, 120_000, 60_000);
  assert.equal(result.resultType, 'matrix');
  if (result.resultType !== 'matrix') return;
  // Prometheus's label order: pair by pair, and a shorter set first.
  assert.deepEqual(result.result.map((series) => series.labels.toString()), ['{}', '{job="y"}', '{job="z"}']);
  assert.deepEqual(result.result[2]!.points.toArray(), [
    { timestampMs: 0, value: 2 },
    { timestampMs: 60_000, value: 4 },
    { timestampMs: 120_000, value: 6 },
  ]);
});

test('a parsed expression can be evaluated directly', async () => {
  const storage = await storageWith({ 'up/a': [4] });
  const result = await new Engine().instantQuery(storage, parseExpr('up * 2'), 0);
  assert.deepEqual(vectorValues(result), { '{job="a"}': 8 });
});

test('the lookback delta is an engine option and a per-query option', async () => {
  const storage = await storageWith({ 'up/a': [1] });
  assert.deepEqual(vectorValues(await new Engine().instantQuery(storage, 'up', 300_000)), { 'up{job="a"}': 1 });
  assert.deepEqual(vectorValues(await new Engine().instantQuery(storage, 'up', 300_001)), {});
  assert.deepEqual(vectorValues(await new Engine({ lookbackDeltaMs: 60_000 }).instantQuery(storage, 'up', 90_000)), {});
  assert.deepEqual(vectorValues(await new Engine().instantQuery(storage, 'up', 600_000, { lookbackDeltaMs: 600_000 })), { 'up{job="a"}': 1 });
  // Zero or negative keeps the engine's default, as in Prometheus.
  assert.deepEqual(vectorValues(await new Engine().instantQuery(storage, 'up', 200_000, { lookbackDeltaMs: 0 })), { 'up{job="a"}': 1 });
});

test('bad query parameters are rejected as bad_data', async () => {
  const storage = new MemoryStorage();
  const engine = new Engine();
  const badData = (message: string | RegExp) => (error: unknown): boolean => {
    assert.ok(error instanceof PromqlError);
    assert.equal(error.errorType, 'bad_data');
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  };
  await assert.rejects(engine.rangeQuery(storage, 'up', 10, 0, 1), badData('end timestamp must not be before start time'));
  await assert.rejects(engine.rangeQuery(storage, 'up', 0, 10, 0), badData('zero or negative query resolution step widths are not accepted. Try a positive integer'));
  await assert.rejects(engine.rangeQuery(storage, 'up', 0, 11_001, 1), badData(/exceeded maximum resolution of 11,000 points per timeseries/));
  await assert.rejects(engine.rangeQuery(storage, 'up[5m]', 0, 10, 1), badData('invalid expression type "range vector" for range query, must be Scalar or instant Vector'));
  await assert.rejects(engine.instantQuery(storage, 'up', 1.5), badData(/invalid time timestamp/));
  await assert.rejects(engine.instantQuery(storage, 'up +', 0), badData('1:5: parse error: unexpected end of input'));
  assert.throws(() => new Engine({ maxSamples: 0 }), badData('maxSamples must be a positive integer, got 0'));
  assert.throws(() => new Engine({ timeoutMs: -1 }), badData(/timeoutMs must be a positive integer/));
});

test('a query that runs past its timeout fails with errorType timeout', async () => {
  const storage = await storageWith({ 'up/a': Array.from({ length: 100 }, (_, index) => index) });
  // A clock that advances 1ms per reading: the evaluator reads it at every step.
  let nowMs = 0;
  const engine = new Engine({ timeoutMs: 50, clock: () => (nowMs += 1) });
  await assert.rejects(engine.rangeQuery(storage, 'sum(rate(up[5m]))', 0, 99 * 60_000, 60_000), (error: unknown) => {
    assert.ok(error instanceof PromqlError);
    assert.equal(error.errorType, 'timeout');
    assert.equal(error.code, 'PROMQL_TIMEOUT');
    assert.equal(error.message, 'query timed out in expression evaluation');
    return true;
  });
  // The same query fits a larger budget.
  nowMs = 0;
  const result = await new Engine({ timeoutMs: 100_000, clock: () => (nowMs += 1) }).rangeQuery(storage, 'sum(rate(up[5m]))', 0, 99 * 60_000, 60_000);
  assert.equal(result.resultType, 'matrix');
});

test('a query that would hold too many samples fails with errorType execution', async () => {
  const storage = await storageWith({ 'up/a': Array.from({ length: 50 }, () => 1), 'up/b': Array.from({ length: 50 }, () => 1) });
  const tooMany = (error: unknown): boolean => {
    assert.ok(error instanceof PromqlError);
    assert.equal(error.errorType, 'execution');
    assert.equal(error.code, 'PROMQL_TOO_MANY_SAMPLES');
    assert.equal(error.message, 'query processing would load too many samples into memory in query execution');
    return true;
  };
  const engine = new Engine({ maxSamples: 60 });
  await assert.rejects(engine.rangeQuery(storage, 'up', 0, 49 * 60_000, 60_000), tooMany);
  // A range function holds one series' window at a time: 50 samples fit 60, not 40.
  assert.deepEqual(vectorValues(await engine.instantQuery(storage, 'count_over_time(up[1h])', 49 * 60_000)), { '{job="a"}': 50, '{job="b"}': 50 });
  await assert.rejects(new Engine({ maxSamples: 40 }).instantQuery(storage, 'count_over_time(up[1h])', 49 * 60_000), tooMany);
  await assert.rejects(engine.instantQuery(storage, 'up[1h]', 49 * 60_000), tooMany);
  await assert.rejects(engine.instantQuery(storage, 'max_over_time(up[1h:1m])', 49 * 60_000), tooMany);
  // Within the limit the same engine answers.
  assert.deepEqual(vectorValues(await engine.instantQuery(storage, 'count_over_time(up[20m])', 49 * 60_000)), { '{job="a"}': 21, '{job="b"}': 21 });
  assert.equal((await engine.rangeQuery(storage, 'sum(up)', 0, 10 * 60_000, 60_000)).resultType, 'matrix');
});

test('runtime errors carry errorType execution', async () => {
  const storage = await storageWith({ 'a/x': [1], 'b/x': [2] });
  await assert.rejects(new Engine().instantQuery(storage, '{__name__=~"a|b"} + 1', 0), (error: unknown) => {
    assert.ok(error instanceof PromqlError);
    assert.equal(error.errorType, 'execution');
    assert.equal(error.code, 'PROMQL_EXECUTION_ERROR');
    assert.equal(error.message, 'vector cannot contain metrics with the same labelset');
    return true;
  });
});

test('a long query lets other work run on the event loop', async () => {
  const storage = await storageWith({ 'up/a': Array.from({ length: 200 }, (_, index) => index) });
  let nowMs = 0;
  const engine = new Engine({ clock: () => (nowMs += 1) });
  let ticks = 0;
  let done = false;
  const tick = (): void => {
    ticks += 1;
    if (!done) setImmediate(tick);
  };
  setImmediate(tick);
  await engine.rangeQuery(storage, 'rate(up[10m])', 0, 199 * 60_000, 60_000);
  done = true;
  assert.ok(ticks > 5, `the event loop ran ${ticks} times during the query`);
});

test('concurrent queries on one engine do not interfere', async () => {
  const storage = await storageWith({ 'up/a': [1, 2, 3, 4], 'up/b': [10, 20, 30, 40] });
  const engine = new Engine();
  const [sum, max, rate] = await Promise.all([
    engine.instantQuery(storage, 'sum(up)', 180_000),
    engine.instantQuery(storage, 'max(up)', 120_000),
    engine.rangeQuery(storage, 'rate(up[3m])', 0, 180_000, 60_000),
  ]);
  assert.deepEqual(vectorValues(sum), { '{}': 44 });
  assert.deepEqual(vectorValues(max), { '{}': 30 });
  assert.equal(rate.resultType, 'matrix');
});

test('queries without selectors do not open a querier', async () => {
  const queryable = { querier: () => assert.fail('no querier needed') };
  assert.deepEqual(await new Engine().instantQuery(queryable, 'vector(1) * 3', 0), {
    resultType: 'vector',
    result: [{ labels: Labels.empty, timestampMs: 0, value: 3 }],
  });
});

test('the querier covers the lookback, ranges, offsets and subqueries and is closed', async () => {
  const requested: [number, number][] = [];
  let closed = 0;
  const queryable = {
    querier: (minTimeMs: number, maxTimeMs: number) => {
      requested.push([minTimeMs, maxTimeMs]);
      return { minTimeMs, maxTimeMs, select: () => [], labelNames: () => [], labelValues: () => [], close: () => (closed += 1) };
    },
  };
  const engine = new Engine();
  await engine.instantQuery(queryable, 'up', 1_000_000);
  await engine.instantQuery(queryable, 'rate(up[10m] offset 1m)', 1_000_000);
  await engine.instantQuery(queryable, 'max_over_time(up[5m:1m] offset 2m)', 1_000_000);
  await engine.rangeQuery(queryable, 'up @ 50 + up offset -1m', 1_000_000, 2_000_000, 1000);
  assert.deepEqual(requested, [
    [700_000, 1_000_000],
    [340_000, 940_000],
    // The subquery's first step also looks back 5m.
    [280_000, 880_000],
    [-250_000, 2_060_000],
  ]);
  assert.equal(closed, 4);
});
