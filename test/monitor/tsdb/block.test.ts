import assert from 'node:assert/strict';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { blockRanges, chunkCacheBytes, chunkCacheBytesDefault, planCompaction, setChunkCacheBytes } from '../../../src/monitor/tsdb/block/index.ts';
import { Matcher, TsdbError } from '../../../src/monitor/tsdb/index.ts';
import type { Tsdb } from '../../../src/monitor/tsdb/index.ts';
import { appendGrid, dump, dumpRange, labels, openDb, withTempDir } from './_helpers.ts';

const hourMs = 3_600_000;
const series = Array.from({ length: 6 }, (_, index) => labels({ __name__: index % 2 === 0 ? 'even' : 'odd', instance: `host-${index}` }));
const rangeMs = 60_000;

/** Fills [0, durationMs) at 1 s steps with one commit per step. */
async function fill(db: Tsdb, startMs: number, durationMs: number): Promise<void> {
  await appendGrid(db, series, startMs, durationMs / 1_000, 1_000, (index, timestampMs) => (index % 3 === 0 ? Math.sin(timestampMs) : index * timestampMs));
}

async function blockDirectories(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((name) => /^[0-9A-Z]{26}$/.test(name)).sort();
}

test('the head becomes a block once it spans 1.5 block ranges, and queries span head and blocks unchanged', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory, { blockRangeMs: rangeMs });
    await fill(db, 0, 90_000);
    assert.equal((await db.compact()).headBlocksWritten, 0, '89 s of data is not more than 1.5 ranges');
    await fill(db, 90_000, 60_000);
    const before = dumpRange(db, 0, 1_000_000);
    const report = await db.compact();
    assert.equal(report.headBlocksWritten, 1);
    const [block] = db.stats().blocks;
    assert.deepEqual({ minTimeMs: block!.minTimeMs, maxTimeMs: block!.maxTimeMs, numSeries: block!.numSeries, numSamples: block!.numSamples, level: block!.level },
      { minTimeMs: 0, maxTimeMs: rangeMs, numSeries: 6, numSamples: 6 * 60, level: 1 });
    assert.equal(db.stats().head.minTimeMs, rangeMs);
    assert.deepEqual(dumpRange(db, 0, 1_000_000), before, 'a query across block and head sees every sample once');
    assert.deepEqual(dumpRange(db, 59_000, 60_000, [new Matcher('=', 'instance', 'host-1')]), [{ labels: 'odd{instance="host-1"}', samples: [[59_000, 59_000], [60_000, 60_000]] }]);
    assert.deepEqual(dumpRange(db, 10_000, 10_000, [new Matcher('=', '__name__', 'even')]).map((entry) => entry.samples.length), [1, 1, 1]);
    await db.close();
    const reopened = await openDb(directory, { blockRangeMs: rangeMs });
    assert.deepEqual(dumpRange(reopened, 0, 1_000_000), before, 'blocks and the checkpointed WAL give the same answer after a restart');
    await reopened.close();
  });
});

test('head truncation waits for a querier reading the range, which keeps seeing every sample', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory, { blockRangeMs: rangeMs });
    await fill(db, 0, 150_000);
    const expected = dumpRange(db, 0, 1_000_000);
    const querier = db.querier(0, 1_000_000);
    let finished = false;
    const compaction = db.compact().then((report) => {
      finished = true;
      return report;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(finished, false, 'the cut waits for the open querier');
    assert.equal(db.stats().blocks.length, 1, 'the block is already written');
    assert.deepEqual(dumpRange(db, 0, 1_000_000), expected, 'a querier opened meanwhile sees block and head once');
    assert.deepEqual(dump(querier), expected);
    querier.close();
    assert.equal((await compaction).headBlocksWritten, 1);
    assert.equal(db.stats().head.minTimeMs, rangeMs);
    assert.deepEqual(dumpRange(db, 0, 1_000_000), expected);
    await db.close();
  });
});

test('compaction merges adjacent blocks into a larger one with identical query results', async () => {
  await withTempDir(async (directory) => {
    // Ranges 60 s, 180 s, 540 s; a gap series that stops early checks series present in only some blocks.
    const db = await openDb(directory, { blockRangeMs: rangeMs, largestBlockRangeMs: 9 * rangeMs });
    const appender = db.appender();
    appender.append(labels({ __name__: 'early', instance: 'x' }), 5_000, 42);
    await appender.commit();
    await fill(db, 0, 600_000);
    const before = dumpRange(db, 0, 10_000_000);
    const beforeBlocks = (await db.compact());
    assert.ok(beforeBlocks.headBlocksWritten >= 8, JSON.stringify(beforeBlocks));
    assert.ok(beforeBlocks.blocksMerged >= 1, JSON.stringify(beforeBlocks));
    const stats = db.stats();
    assert.ok(stats.blocks.some((block) => block.level >= 2), JSON.stringify(stats.blocks));
    const merged = stats.blocks.find((block) => block.minTimeMs === 0)!;
    assert.equal(merged.maxTimeMs, 3 * rangeMs, 'the first three 60 s blocks became one 180 s block');
    assert.equal(merged.numSamples, 6 * 180 + 1);
    for (let index = 1; index < stats.blocks.length; index += 1) assert.ok(stats.blocks[index - 1]!.maxTimeMs <= stats.blocks[index]!.minTimeMs, 'blocks do not overlap');
    assert.deepEqual(dumpRange(db, 0, 10_000_000), before);
    assert.deepEqual(await blockDirectories(directory), stats.blocks.map((block) => block.ulid).sort(), 'merged parents were deleted');
    await db.close();
    const reopened = await openDb(directory, { blockRangeMs: rangeMs, largestBlockRangeMs: 9 * rangeMs });
    assert.deepEqual(dumpRange(reopened, 0, 10_000_000), before);
    await reopened.close();
  });
});

test('a parent left behind by a crash during compaction is removed at open', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory, { blockRangeMs: rangeMs, largestBlockRangeMs: 3 * rangeMs });
    await fill(db, 0, 300_000);
    await db.compact();
    const merged = db.stats().blocks.find((block) => block.level === 2);
    assert.ok(merged !== undefined);
    const before = dumpRange(db, 0, 10_000_000);
    await db.close();
    // Recreate a parent directory as if the crash came before its deletion.
    const meta = JSON.parse(await readFile(join(directory, merged.ulid, 'meta.json'), 'utf8')) as { compaction: { parents: { ulid: string }[] } };
    const parent = meta.compaction.parents[0]!.ulid;
    await cp(join(directory, merged.ulid), join(directory, parent), { recursive: true });
    const parentMeta = JSON.parse(await readFile(join(directory, parent, 'meta.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(directory, parent, 'meta.json'), JSON.stringify({ ...parentMeta, ulid: parent }));
    const reopened = await openDb(directory, { blockRangeMs: rangeMs, largestBlockRangeMs: 3 * rangeMs });
    assert.ok(!(await blockDirectories(directory)).includes(parent));
    assert.deepEqual(dumpRange(reopened, 0, 10_000_000), before);
    await reopened.close();
  });
});

test('a damaged chunk or index is reported with its file and offset', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory, { blockRangeMs: rangeMs });
    await fill(db, 0, 150_000);
    await db.compact();
    await db.close();
    const [ulid] = await blockDirectories(directory);
    const chunkPath = join(directory, ulid!, 'chunks', '000001');
    const chunkBytes = await readFile(chunkPath);
    chunkBytes[100] = chunkBytes[100]! ^ 0x01;
    await writeFile(chunkPath, chunkBytes);
    const damaged = await openDb(directory, { blockRangeMs: rangeMs });
    assert.throws(() => dumpRange(damaged, 0, rangeMs), (error: unknown) => {
      assert.ok(error instanceof TsdbError && error.code === 'TSDB_BLOCK_CORRUPT');
      assert.match(error.message, /chunks\/000001 is corrupt at offset \d+/);
      return true;
    });
    await damaged.close();
    const indexPath = join(directory, ulid!, 'index');
    const indexBytes = await readFile(indexPath);
    indexBytes[indexBytes.length - 10] = indexBytes[indexBytes.length - 10]! ^ 0x80;
    await writeFile(indexPath, indexBytes);
    await assert.rejects(openDb(directory, { blockRangeMs: rangeMs }), (error: unknown) => {
      assert.ok(error instanceof TsdbError && error.code === 'TSDB_BLOCK_CORRUPT');
      assert.match(error.message, new RegExp(`${ulid}/index is corrupt at offset \\d+: section 3 checksum`));
      return true;
    });
    await writeFile(join(directory, ulid!, 'meta.json'), '{"version": 1');
    await assert.rejects(openDb(directory, { blockRangeMs: rangeMs }), /meta\.json is corrupt: not valid JSON/);
  });
});

test('chunk windows are cached within their bound, dropped when the block closes, and checked again when re-read', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory, { blockRangeMs: rangeMs });
    await fill(db, 0, 150_000);
    await db.compact();
    const before = chunkCacheBytes();
    const expected = dumpRange(db, 0, rangeMs - 1);
    const cached = chunkCacheBytes() - before;
    assert.ok(cached > 0, 'a query over the block caches its window');
    assert.deepEqual(dumpRange(db, 0, rangeMs - 1), expected, 'a cached window gives the same samples');
    assert.equal(chunkCacheBytes() - before, cached, 'a second query reads nothing new');
    await db.close();
    assert.equal(chunkCacheBytes(), before, 'closing the block drops its windows');
    // Damage a chunk after a first read: once its window has left the cache, the next read goes to disk and checks it again.
    const reopened = await openDb(directory, { blockRangeMs: rangeMs });
    assert.deepEqual(dumpRange(reopened, 0, rangeMs - 1), expected);
    const [ulid] = await blockDirectories(directory);
    const chunkPath = join(directory, ulid!, 'chunks', '000001');
    const chunkBytes = await readFile(chunkPath);
    chunkBytes[100] = chunkBytes[100]! ^ 0x01;
    await writeFile(chunkPath, chunkBytes);
    setChunkCacheBytes(1);
    try {
      assert.equal(chunkCacheBytes(), 0, 'a smaller bound evicts at once');
      assert.throws(() => dumpRange(reopened, 0, rangeMs - 1), { code: 'TSDB_BLOCK_CORRUPT' });
    } finally {
      setChunkCacheBytes(chunkCacheBytesDefault);
      await reopened.close();
    }
  });
});

test('blockRanges grows by three up to the largest range, as Prometheus does', () => {
  assert.deepEqual(blockRanges(2 * hourMs, 36 * hourMs), [2 * hourMs, 6 * hourMs, 18 * hourMs]);
  assert.deepEqual(blockRanges(2 * hourMs, 2 * hourMs), [2 * hourMs]);
  assert.equal(blockRanges(2 * hourMs, 31 * 24 * hourMs).at(-1), 486 * hourMs);
});

test('the planner merges a full window, or a window before the newest block, and never the newest block', () => {
  const ranges = [2 * hourMs, 6 * hourMs, 18 * hourMs];
  const block = (startHour: number, endHour: number) => ({ minTime: startHour * hourMs, maxTime: endHour * hourMs });
  // Three 2h blocks fill [0, 6h); a fourth is the newest and is left out.
  const full = [block(0, 2), block(2, 4), block(4, 6), block(6, 8)];
  assert.deepEqual(planCompaction(full, ranges), full.slice(0, 3));
  // Only two blocks of [0, 6h) exist, but newer data follows them: merge.
  const gapped = [block(0, 2), block(2, 4), block(6, 8), block(8, 10)];
  assert.deepEqual(planCompaction(gapped, ranges), gapped.slice(0, 2));
  // [0, 4h) with the newest starting at 4h: still in the window, so wait.
  assert.deepEqual(planCompaction([block(0, 2), block(2, 4), block(4, 6)], ranges), []);
  // Three 6h blocks fill [0, 18h).
  const level2 = [block(0, 6), block(6, 12), block(12, 18), block(18, 20)];
  assert.deepEqual(planCompaction(level2, ranges), level2.slice(0, 3));
  // Overlapping blocks are never merged (no vertical compaction).
  assert.deepEqual(planCompaction([block(0, 2), block(1, 3), block(4, 6), block(6, 8)], ranges), []);
});
