import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { blocksBeyondRetention } from '../../../src/monitor/tsdb/retention.ts';
import { appendGrid, dumpRange, labels, openDb, withTempDir } from './_helpers.ts';

const block = (minTime: number, maxTime: number, sizeBytes = 100) => ({ minTime, maxTime, sizeBytes });

test('time retention deletes blocks ending more than the retention before the newest block ends', () => {
  const blocks = [block(0, 10), block(10, 20), block(20, 30), block(30, 40)];
  assert.deepEqual(blocksBeyondRetention(blocks, { retentionTimeMs: 15, retentionBytes: 0, walBytes: 0 }), blocks.slice(0, 2));
  assert.deepEqual(blocksBeyondRetention(blocks, { retentionTimeMs: 30, retentionBytes: 0, walBytes: 0 }), [], 'exactly the retention is kept');
  assert.deepEqual(blocksBeyondRetention(blocks, { retentionTimeMs: 0, retentionBytes: 0, walBytes: 0 }), [], '0 turns it off');
  assert.deepEqual(blocksBeyondRetention([block(0, 10)], { retentionTimeMs: 1, retentionBytes: 0, walBytes: 0 }), [], 'the newest block always stays');
});

test('size retention counts the WAL first, then blocks from the newest, and deletes the rest', () => {
  const blocks = [block(0, 10, 300), block(10, 20, 200), block(20, 30, 100)];
  assert.deepEqual(blocksBeyondRetention(blocks, { retentionTimeMs: 0, retentionBytes: 350, walBytes: 0 }), blocks.slice(0, 1));
  assert.deepEqual(blocksBeyondRetention(blocks, { retentionTimeMs: 0, retentionBytes: 350, walBytes: 100 }), blocks.slice(0, 2));
  assert.deepEqual(blocksBeyondRetention(blocks, { retentionTimeMs: 0, retentionBytes: 50, walBytes: 60 }), blocks, 'a WAL over the limit leaves no block');
  assert.deepEqual(blocksBeyondRetention(blocks, { retentionTimeMs: 0, retentionBytes: 600, walBytes: 0 }), []);
});

const rangeMs = 60_000;
const series = [labels({ __name__: 'm', instance: 'a' }), labels({ __name__: 'm', instance: 'b' })];

test('a database deletes whole old blocks by time', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory, { blockRangeMs: rangeMs, retentionTimeMs: 2 * rangeMs, largestBlockRangeMs: rangeMs });
    await appendGrid(db, series, 0, 400, 1_000, (_, timestampMs) => timestampMs);
    const report = await db.compact();
    // Blocks [0,60) .. [300,360) are cut; the newest ends at 360 s, so blocks ending before 240 s go.
    assert.equal(report.headBlocksWritten, 6);
    assert.equal(report.blocksDeleted, 3);
    assert.deepEqual(db.stats().blocks.map((entry) => [entry.minTimeMs, entry.maxTimeMs]), [[180_000, 240_000], [240_000, 300_000], [300_000, 360_000]]);
    assert.equal(db.stats().compaction.blocksDeletedByRetention, 3);
    const samples = dumpRange(db, 0, 1_000_000)[0]!.samples;
    assert.deepEqual(samples[0], [180_000, 180_000], 'the oldest samples are gone with their blocks');
    assert.equal((await readdir(directory)).filter((name) => name.includes('tmp')).length, 0);
    await db.close();
  });
});

test('a database deletes oldest blocks while blocks and WAL exceed the size limit', async () => {
  await withTempDir(async (directory) => {
    const unlimited = await openDb(directory, { blockRangeMs: rangeMs, largestBlockRangeMs: rangeMs });
    await appendGrid(unlimited, series, 0, 400, 1_000, (index, timestampMs) => index * timestampMs);
    await unlimited.compact();
    const stats = unlimited.stats();
    assert.equal(stats.blocks.length, 6);
    await unlimited.close();
    // Allow the WAL plus the three newest blocks.
    const blockBytes = stats.blocks.map((entry) => entry.sizeBytes);
    const limit = stats.wal.sizeBytes + blockBytes[5]! + blockBytes[4]! + blockBytes[3]! + Math.floor(Math.min(...blockBytes) / 2);
    const limited = await openDb(directory, { blockRangeMs: rangeMs, largestBlockRangeMs: rangeMs, retentionBytes: limit });
    const report = await limited.compact();
    assert.ok(report.blocksDeleted >= 1, JSON.stringify(report));
    const kept = limited.stats();
    assert.equal(kept.blocks.length, 3, JSON.stringify(kept.blocks));
    assert.equal(kept.blocks.at(-1)!.maxTimeMs, 360_000, 'the newest block is kept');
    const total = kept.wal.sizeBytes + kept.blocks.reduce((sum, entry) => sum + entry.sizeBytes, 0);
    assert.ok(total <= limit, `${total} <= ${limit}`);
    await limited.close();
  });
});
