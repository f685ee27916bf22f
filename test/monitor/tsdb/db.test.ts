import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { lockFileName, Matcher, resolveTsdbOptions, TsdbError } from '../../../src/monitor/tsdb/index.ts';
import type { TsdbLogger } from '../../../src/monitor/tsdb/index.ts';
import { appendGrid, dumpRange, labels, openDb, withTempDir } from './_helpers.ts';

const isCode = (code: string) => (error: unknown) => error instanceof TsdbError && error.code === code;

test('the lock file keeps a second database out of the directory until the first closes', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory);
    assert.equal((await readFile(join(directory, lockFileName), 'utf8')).trim(), String(process.pid));
    await assert.rejects(openDb(directory), isCode('TSDB_LOCKED'));
    await db.close();
    const again = await openDb(directory);
    await again.close();
  });
});

test('a lock held by another live process refuses the open; a dead holder\'s lock is taken over and reported', async () => {
  await withTempDir(async (directory) => {
    // The test runner's parent process is alive and is not this process.
    await writeFile(join(directory, lockFileName), `${process.ppid}\n`);
    await assert.rejects(openDb(directory), (error: unknown) => isCode('TSDB_LOCKED')(error) && (error as Error).message.includes(String(process.ppid)));
    const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await writeFile(join(directory, lockFileName), `${exited.stdout}\n`);
    const warnings: string[] = [];
    const logger: TsdbLogger = { info() {}, warn: (message) => warnings.push(message) };
    const db = await openDb(directory, { logger });
    assert.deepEqual(warnings, ['taking over a stale TSDB lock file']);
    await db.close();
  });
});

test('options are checked with a clear error', () => {
  assert.throws(() => resolveTsdbOptions({ blockRangeMs: 0 }), (error: unknown) => isCode('TSDB_INVALID_OPTIONS')(error) && /blockRangeMs \(0\)/.test((error as Error).message));
  assert.throws(() => resolveTsdbOptions({ retentionBytes: -1 }), isCode('TSDB_INVALID_OPTIONS'));
  assert.throws(() => resolveTsdbOptions({ walSegmentBytesMax: 1000 }), isCode('TSDB_INVALID_OPTIONS'));
  assert.throws(() => resolveTsdbOptions({ blockRangeMs: 7_200_000, largestBlockRangeMs: 3_600_000 }), /largestBlockRangeMs/);
  assert.equal(resolveTsdbOptions({}).blockRangeMs, 7_200_000);
  assert.equal(resolveTsdbOptions({ retentionTimeMs: undefined }).retentionTimeMs, 15 * 24 * 3_600_000);
});

test('stats report the head, rejections, blocks, WAL and cardinality', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory, { blockRangeMs: 60_000 });
    const series = [labels({ __name__: 'a', job: 'x' }), labels({ __name__: 'a', job: 'y' }), labels({ __name__: 'b', job: 'x' })];
    await appendGrid(db, series, 0, 150, 1_000, () => 1);
    const refused = db.appender();
    assert.equal(refused.append(series[0]!, 149_000, 5), 'duplicate_sample');
    refused.rollback();
    await db.compact();
    const stats = db.stats();
    assert.equal(stats.head.numSeries, 3);
    assert.deepEqual([stats.head.minTimeMs, stats.head.maxTimeMs], [60_000, 149_000]);
    assert.equal(stats.head.numLabelPairs, 4);
    assert.equal(stats.rejectedSamples.duplicate_sample, 1);
    assert.equal(stats.blocks.length, 1);
    assert.equal(stats.blocks[0]!.numSamples, 180);
    assert.ok(stats.blocks[0]!.sizeBytes > 0);
    assert.ok(stats.wal.sizeBytes > 0 && stats.wal.checkpoint !== undefined);
    assert.deepEqual(stats.cardinality.seriesCountByMetricName, [{ name: 'a', value: 2 }, { name: 'b', value: 1 }]);
    assert.deepEqual(stats.cardinality.seriesCountByLabelValuePair.slice(0, 2), [{ name: '__name__=a', value: 2 }, { name: 'job=x', value: 2 }]);
    assert.deepEqual(stats.cardinality.labelValueCountByLabelName, [{ name: '__name__', value: 2 }, { name: 'job', value: 2 }]);
    assert.equal(stats.compaction.headCompactions, 1);
    await db.close();
  });
});

test('a closed database refuses appenders, queriers and compaction; open queriers survive block deletion', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory, { blockRangeMs: 60_000, largestBlockRangeMs: 60_000, retentionTimeMs: 60_000 });
    const series = [labels({ __name__: 'a' })];
    await appendGrid(db, series, 0, 100, 1_000, (_, timestampMs) => timestampMs);
    await db.compact();
    // The range ends before the head starts, so the querier holds only the block (a head querier would
    // make the next cut wait for it).
    const querier = db.querier(0, 59_000);
    await appendGrid(db, series, 100_000, 200, 1_000, (_, timestampMs) => timestampMs);
    const report = await db.compact();
    assert.ok(report.blocksDeleted >= 1, 'the first block fell out of retention');
    // The querier opened before the deletion still reads the deleted block's files.
    const selected = querier.select([new Matcher('=', '__name__', 'a')]);
    const iterator = selected[0]!.iterator();
    assert.ok(iterator.next());
    assert.equal(iterator.timestampMs, 0);
    querier.close();
    await db.close();
    assert.throws(() => db.appender(), isCode('TSDB_CLOSED'));
    assert.throws(() => db.querier(0, 1), isCode('TSDB_CLOSED'));
    await assert.rejects(db.compact(), isCode('TSDB_CLOSED'));
    await db.close();
    const reopened = await openDb(directory, { blockRangeMs: 60_000 });
    assert.throws(() => reopened.querier(10, 5), isCode('TSDB_INVALID_ARGUMENT'));
    assert.ok(dumpRange(reopened, 0, 1_000_000)[0]!.samples[0]![0] > 0);
    await reopened.close();
  });
});
