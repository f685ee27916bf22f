import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArraySampleIterator, MemoryStorage } from '../../../src/monitor/promql/index.ts';
import { Matcher } from '../../../src/monitor/tsdb/index/matcher.ts';
import { Labels } from '../../../src/monitor/tsdb/labels.ts';

const name = (value: string) => new Matcher('=', '__name__', value);

test('samples are visible after commit and sorted by time; rollback drops the batch', async () => {
  const storage = new MemoryStorage();
  const labels = Labels.fromRecord({ __name__: 'up', job: 'a' });
  const appender = storage.appender();
  assert.equal(appender.append(labels, 2000, 2), 'ok');
  assert.equal(appender.append(labels, 1000, 1), 'ok');
  assert.equal(storage.querier(0, 10_000).select([name('up')]).length, 0);
  await appender.commit();
  const [series] = storage.querier(0, 10_000).select([name('up')]);
  const iterator = series!.iterator();
  const seen: [number, number][] = [];
  while (iterator.next()) seen.push([iterator.timestampMs, iterator.value]);
  assert.deepEqual(seen, [[1000, 1], [2000, 2]]);
  const discarded = storage.appender();
  discarded.append(labels, 3000, 3);
  discarded.rollback();
  await discarded.commit();
  assert.equal(storage.seriesCount, 1);
});

test('out-of-order and conflicting samples are refused with the contract outcomes', async () => {
  const storage = new MemoryStorage();
  const labels = Labels.fromRecord({ __name__: 'up' });
  const appender = storage.appender();
  appender.append(labels, 5000, 1);
  await appender.commit();
  assert.equal(storage.appender().append(labels, 4000, 1), 'out_of_order');
  assert.equal(storage.appendCommitted(labels, 5000, 1), 'ok');
  assert.equal(storage.appendCommitted(labels, 5000, 2), 'duplicate_sample');
  assert.equal(storage.appender().append(labels, 1.5, 1), 'out_of_bounds');
  assert.throws(() => storage.appender().append(Labels.empty, 0, 1), { code: 'PROMQL_BAD_QUERY' });
});

test('select returns matching series sorted by labels, within the querier range', async () => {
  const storage = new MemoryStorage();
  const appender = storage.appender();
  for (const job of ['c', 'a', 'b']) {
    for (let index = 0; index < 10; index += 1) appender.append(Labels.fromRecord({ __name__: 'up', job }), index * 1000, index);
  }
  appender.append(Labels.fromRecord({ __name__: 'down', job: 'a' }), 0, 1);
  await appender.commit();
  const querier = storage.querier(3000, 5000);
  const selected = querier.select([name('up'), new Matcher('!=', 'job', 'b')]);
  assert.deepEqual(selected.map((series) => series.labels.get('job')), ['a', 'c']);
  const iterator = selected[0]!.iterator();
  assert.equal(iterator.next(), true);
  assert.equal(iterator.timestampMs, 3000);
  assert.equal(iterator.seek(4500), true);
  assert.equal(iterator.timestampMs, 5000);
  assert.equal(iterator.seek(1000), true, 'seeking backwards stays put');
  assert.equal(iterator.timestampMs, 5000);
  assert.equal(iterator.next(), false, 'samples after maxTimeMs are not returned');
  assert.deepEqual(querier.labelNames(), ['__name__', 'job']);
  assert.deepEqual(querier.labelValues('job', [name('up')]), ['a', 'b', 'c']);
  assert.deepEqual(querier.labelValues('__name__'), ['down', 'up']);
  assert.throws(() => querier.select([new Matcher('=~', 'job', '.*')]), { code: 'PROMQL_INTERNAL_ERROR' });
  assert.throws(() => storage.querier(10, 5), { code: 'PROMQL_BAD_QUERY' });
});

test('the array iterator binary-searches its start and respects both bounds', () => {
  const iterator = new ArraySampleIterator([1, 2, 3, 4, 5], [10, 20, 30, 40, 50], 2, 4);
  assert.equal(iterator.seek(3), true);
  assert.equal(iterator.value, 30);
  assert.equal(iterator.next(), true);
  assert.equal(iterator.value, 40);
  assert.equal(iterator.next(), false);
  const empty = new ArraySampleIterator([], [], 0, 10);
  assert.equal(empty.next(), false);
  assert.equal(empty.seek(0), false);
});
