import assert from 'node:assert/strict';
import { test } from 'node:test';
import { floatFromBits, floatHighBits, floatLowBits, Matcher, staleMarkerHighBits, staleMarkerLowBits, TsdbError } from '../../../src/monitor/tsdb/index.ts';
import { dumpRange, labels, onlyIterator, openDb, withTempDir } from './_helpers.ts';

const up = labels({ __name__: 'up', job: 'api' });
const upMatcher = [new Matcher('=', '__name__', 'up')];

test('append then query round-trips NaN, infinities, negative zero and the stale marker bit for bit', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory);
    const stale = floatFromBits(staleMarkerHighBits, staleMarkerLowBits);
    const nanWithPayload = floatFromBits(0x7ff8_0000, 0x1234);
    const values = [1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, stale, 1e308, nanWithPayload, 0.1];
    const appender = db.appender();
    values.forEach((value, index) => assert.equal(appender.append(up, 1_000 + index * 1_000, value), 'ok'));
    await appender.commit();
    const querier = db.querier(0, 100_000);
    const iterator = onlyIterator(querier, upMatcher);
    const seen: { timestampMs: number; high: number; low: number; stale: boolean }[] = [];
    while (iterator.next()) seen.push({ timestampMs: iterator.timestampMs, high: iterator.valueHighBits, low: iterator.valueLowBits, stale: iterator.isStaleMarker() });
    querier.close();
    const expected = values.map((value, index) => {
      const isStale = index === 5;
      return {
        timestampMs: 1_000 + index * 1_000,
        high: isStale ? staleMarkerHighBits : floatHighBits(value),
        low: isStale ? staleMarkerLowBits : floatLowBits(value),
        stale: isStale,
      };
    });
    assert.deepEqual(seen, expected);
    assert.ok(Object.is(dumpRange(db, 0, 100_000)[0]!.samples[4]![1], -0), 'negative zero keeps its sign');
    await db.close();
  });
});

test('samples refused for order, duplication, bounds and age return their reason and are counted', async () => {
  await withTempDir(async (directory) => {
    const hourMs = 3_600_000;
    const db = await openDb(directory, { blockRangeMs: 2 * hourMs });
    const first = db.appender();
    assert.equal(first.append(up, 10 * hourMs, 1), 'ok');
    await first.commit();
    const second = db.appender();
    assert.equal(second.append(up, 10 * hourMs - 1, 2), 'out_of_order');
    assert.equal(second.append(up, 10 * hourMs, 2), 'duplicate_sample');
    assert.equal(second.append(up, 10 * hourMs, 1), 'ok', 'an exact repeat is accepted and ignored');
    assert.equal(second.append(up, 10 * hourMs + 2_000, 3), 'ok');
    assert.equal(second.append(up, 10 * hourMs + 1_000, 3), 'out_of_order', 'order is checked inside a batch too');
    assert.equal(second.append(up, 10 * hourMs + 2_000, 4), 'duplicate_sample');
    assert.equal(second.append(up, 1.5, 3), 'out_of_bounds', 'a fractional timestamp is out of bounds');
    assert.equal(second.append(up, 2 ** 60, 3), 'out_of_bounds');
    const other = labels({ __name__: 'up', job: 'web' });
    assert.equal(second.append(other, 10 * hourMs - hourMs - 1, 1), 'out_of_bounds', 'older than half a block range before the newest sample');
    assert.equal(second.append(other, 10 * hourMs - hourMs, 1), 'ok');
    await second.commit();
    assert.deepEqual(dumpRange(db, 0, 20 * hourMs, upMatcher)[0]!.samples, [[10 * hourMs, 1], [10 * hourMs + 2_000, 3]]);
    // Cut the head into a block: samples before its end are then too old.
    const later = db.appender();
    later.append(up, 13 * hourMs, 5);
    await later.commit();
    await db.compact();
    assert.equal(db.stats().head.minValidTimeMs, 10 * hourMs);
    const late = db.appender();
    assert.equal(late.append(labels({ __name__: 'late' }), 10 * hourMs - 1, 1), 'too_old');
    late.rollback();
    assert.deepEqual(db.stats().rejectedSamples, { out_of_order: 2, duplicate_sample: 2, out_of_bounds: 3, too_old: 1 });
    await db.close();
  });
});

test('a batch is invisible until commit, and a rolled-back batch never appears', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory);
    const appender = db.appender();
    appender.append(up, 1_000, 1);
    assert.deepEqual(dumpRange(db, 0, 10_000), []);
    const committing = appender.commit();
    assert.deepEqual(dumpRange(db, 0, 10_000), [], 'not visible while the WAL write is in flight');
    await committing;
    assert.deepEqual(dumpRange(db, 0, 10_000), [{ labels: 'up{job="api"}', samples: [[1_000, 1]] }]);
    const dropped = db.appender();
    dropped.append(up, 2_000, 2);
    dropped.append(labels({ __name__: 'gone' }), 2_000, 2);
    dropped.rollback();
    assert.deepEqual(dumpRange(db, 0, 10_000), [{ labels: 'up{job="api"}', samples: [[1_000, 1]] }]);
    assert.throws(() => dropped.append(up, 3_000, 3), (error: unknown) => error instanceof TsdbError && error.code === 'TSDB_CLOSED');
    await assert.rejects(dropped.commit(), (error: unknown) => error instanceof TsdbError && error.code === 'TSDB_CLOSED');
    // After the rollback the series may take the rolled-back timestamp again.
    const retry = db.appender();
    assert.equal(retry.append(up, 2_000, 7), 'ok');
    await retry.commit();
    assert.deepEqual(dumpRange(db, 0, 10_000, upMatcher)[0]!.samples, [[1_000, 1], [2_000, 7]]);
    await db.close();
  });
});

test('appendRef appends by series reference and refuses an unknown one', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory);
    const appender = db.appender();
    const reference = appender.seriesRef(up);
    assert.equal(appender.seriesRef(labels({ job: 'api', __name__: 'up' })), reference, 'the same label set gives the same reference');
    assert.equal(appender.appendRef(reference, 1_000, 1), 'ok');
    assert.equal(appender.appendRef(reference, 500, 1), 'out_of_order');
    assert.throws(() => appender.appendRef(987_654, 1_000, 1), (error: unknown) => error instanceof TsdbError && error.code === 'TSDB_INVALID_ARGUMENT');
    assert.throws(() => appender.append(labels({}), 1_000, 1), (error: unknown) => error instanceof TsdbError && error.code === 'TSDB_INVALID_ARGUMENT');
    await appender.commit();
    assert.deepEqual(dumpRange(db, 0, 10_000), [{ labels: 'up{job="api"}', samples: [[1_000, 1]] }]);
    await db.close();
  });
});

test('an appender batch holds at most appenderSamplesMax samples', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory, { appenderSamplesMax: 3 });
    const appender = db.appender();
    for (let index = 0; index < 3; index += 1) appender.append(up, index, index);
    assert.throws(() => appender.append(up, 10, 10), (error: unknown) => error instanceof TsdbError && error.code === 'TSDB_BATCH_TOO_LARGE');
    await appender.commit();
    assert.equal(dumpRange(db, 0, 100)[0]!.samples.length, 3);
    await db.close();
  });
});

test('select sorts series by labels, applies every matcher type and needs one non-empty matcher', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory);
    const appender = db.appender();
    for (const job of ['web', 'api', 'db']) {
      appender.append(labels({ __name__: 'up', job }), 1_000, 1);
      appender.append(labels({ __name__: 'up', job, env: 'prod' }), 1_000, 1);
    }
    appender.append(labels({ __name__: 'other', job: 'api' }), 1_000, 1);
    await appender.commit();
    const names = (matchers: Matcher[]): string[] => dumpRange(db, 0, 2_000, matchers).map((series) => series.labels);
    assert.deepEqual(names([new Matcher('=', '__name__', 'up'), new Matcher('=', 'env', '')]), ['up{job="api"}', 'up{job="db"}', 'up{job="web"}']);
    assert.deepEqual(names([new Matcher('=~', 'job', 'a.*|d.'), new Matcher('!=', 'env', 'prod')]), ['other{job="api"}', 'up{job="api"}', 'up{job="db"}']);
    assert.deepEqual(names([new Matcher('=', '__name__', 'up'), new Matcher('!~', 'job', 'web|db'), new Matcher('=~', 'env', '.+')]), ['up{env="prod", job="api"}']);
    const querier = db.querier(0, 2_000);
    assert.throws(() => querier.select([new Matcher('=~', 'job', '.*')]), (error: unknown) => error instanceof TsdbError && error.code === 'TSDB_INVALID_ARGUMENT');
    assert.deepEqual(querier.labelNames(), ['__name__', 'env', 'job']);
    assert.deepEqual(querier.labelValues('job'), ['api', 'db', 'web']);
    assert.deepEqual(querier.labelValues('job', [new Matcher('=', 'env', 'prod')]), ['api', 'db', 'web']);
    assert.deepEqual(querier.labelNames([new Matcher('=', '__name__', 'other')]), ['__name__', 'job']);
    querier.close();
    assert.deepEqual(dumpRange(db, 2_000, 3_000), [], 'a range after every sample selects nothing');
    await db.close();
  });
});

test('chunks are cut at 120 samples and at block-range boundaries; seek skips to a timestamp', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory, { blockRangeMs: 100_000 });
    const appender = db.appender();
    for (let timestampMs = 0; timestampMs < 300_000; timestampMs += 1_000) appender.append(up, timestampMs, timestampMs);
    await appender.commit();
    // 100 samples per 100 s block range: the range boundary cuts before the 120-sample target.
    assert.equal(db.stats().head.numChunks, 3);
    const querier = db.querier(50_000, 250_000);
    const iterator = onlyIterator(querier, upMatcher);
    assert.ok(iterator.seek(170_500));
    assert.equal(iterator.timestampMs, 171_000);
    assert.ok(iterator.seek(100), 'seeking backwards stays put');
    assert.equal(iterator.timestampMs, 171_000);
    assert.ok(iterator.next());
    assert.equal(iterator.value, 172_000);
    assert.equal(iterator.seek(250_001), false, 'nothing after the querier range');
    querier.close();
    const samples = dumpRange(db, 50_000, 250_000)[0]!.samples;
    assert.equal(samples.length, 201);
    assert.deepEqual([samples[0], samples.at(-1)], [[50_000, 50_000], [250_000, 250_000]]);
    await db.close();
  });
});

test('a batch committed after its range was cut into a block is refused as too old', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory, { blockRangeMs: 60_000 });
    const steady = labels({ __name__: 'steady' });
    const fill = async (fromMs: number, toMs: number): Promise<void> => {
      for (let timestampMs = fromMs; timestampMs <= toMs; timestampMs += 1_000) {
        const appender = db.appender();
        appender.append(steady, timestampMs, 1);
        await appender.commit();
      }
    };
    await fill(0, 100_000);
    const slow = db.appender();
    assert.equal(slow.append(labels({ __name__: 'late' }), 95_000, 1), 'ok', 'inside the window when appended');
    await fill(101_000, 181_000);
    assert.equal((await db.compact()).headBlocksWritten, 2);
    assert.equal(db.stats().head.minValidTimeMs, 120_000);
    await slow.commit();
    assert.equal(db.stats().rejectedSamples.too_old, 1);
    assert.deepEqual(dumpRange(db, 0, 1_000_000, [new Matcher('=', '__name__', 'late')]), []);
    await db.close();
  });
});
