import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFile, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ByteWriter } from '../../../src/monitor/tsdb/encoding.ts';
import { Labels, TsdbError } from '../../../src/monitor/tsdb/index.ts';
import { RecordType, scanSegment, segmentHeaderBytes, writeSamplesRecords, writeSeriesRecords } from '../../../src/monitor/tsdb/wal/index.ts';
import { segmentHeader } from '../../../src/monitor/tsdb/wal/segment.ts';
import { appendGrid, dumpRange, labels, openDb, withTempDir } from './_helpers.ts';

const series = [labels({ __name__: 'requests_total', code: '200' }), labels({ __name__: 'requests_total', code: '500' })];

async function segments(directory: string): Promise<string[]> {
  return (await readdir(join(directory, 'wal'))).filter((name) => /^\d{8}$/.test(name)).sort();
}

/** The last segment holding records (a clean restart adds an empty one). */
async function lastWrittenSegment(directory: string): Promise<string> {
  const names = await segments(directory);
  for (const name of names.reverse()) {
    const path = join(directory, 'wal', name);
    if ((await stat(path)).size > segmentHeaderBytes) return path;
  }
  throw new Error('no segment holds records');
}

test('after a kill -9 the WAL replays every committed sample', async () => {
  await withTempDir(async (directory) => {
    const module = pathToFileURL(resolve('src/monitor/tsdb/index.ts')).href;
    const script = `
      import { Labels, Tsdb, silentLogger } from ${JSON.stringify(module)};
      const db = await Tsdb.open(${JSON.stringify(directory)}, { compactionIntervalMs: 0, logger: silentLogger });
      for (let step = 0; step < 50; step += 1) {
        const appender = db.appender();
        appender.append(Labels.fromRecord({ __name__: 'crash', code: '200' }), step * 1000, step);
        appender.append(Labels.fromRecord({ __name__: 'crash', code: '500' }), step * 1000, -step);
        await appender.commit();
      }
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    const db = await openDb(directory);
    const dumped = dumpRange(db, 0, 100_000);
    assert.equal(dumped.length, 2);
    assert.deepEqual(dumped[0]!.samples, Array.from({ length: 50 }, (_, step) => [step * 1000, step]));
    assert.deepEqual(dumped[1]!.samples, Array.from({ length: 50 }, (_, step) => [step * 1000, -step]));
    assert.equal(db.stats().wal.replay.samplesReplayed, 100);
    await db.close();
  });
});

test('a torn tail of the last segment is cut off and reported, and earlier commits survive', async () => {
  await withTempDir(async (directory) => {
    let db = await openDb(directory);
    await appendGrid(db, series, 0, 10, 1_000, (index, timestampMs) => index * 1_000 + timestampMs);
    await db.close();
    const path = await lastWrittenSegment(directory);
    const size = (await stat(path)).size;
    // The last commit (two samples) is one record of 8 + 1 + ... bytes: cut into it.
    await truncate(path, size - 7);
    db = await openDb(directory);
    const repairs = db.stats().wal.repairs;
    assert.equal(repairs.length, 1);
    assert.equal(repairs[0]!.path, path);
    const dumped = dumpRange(db, 0, 100_000);
    assert.equal(dumped[0]!.samples.length, 9, 'the torn commit is gone');
    assert.deepEqual(dumped[0]!.samples.at(-1), [8_000, 8_000]);
    await db.close();
    // The repair is durable: the next open finds nothing to repair.
    db = await openDb(directory);
    assert.deepEqual(db.stats().wal.repairs, []);
    assert.equal(dumpRange(db, 0, 100_000)[1]!.samples.length, 9);
    await db.close();
  });
});

test('zeros or garbage at the end of the last segment are a torn tail, not corruption', async () => {
  await withTempDir(async (directory) => {
    let db = await openDb(directory);
    await appendGrid(db, series, 0, 5, 1_000, () => 1);
    await db.close();
    await appendFile(await lastWrittenSegment(directory), new Uint8Array(4096));
    db = await openDb(directory);
    assert.equal(db.stats().wal.repairs.length, 1);
    assert.equal(dumpRange(db, 0, 100_000)[0]!.samples.length, 5);
    await db.close();
  });
});

test('a flipped byte in the middle of a segment stops open with the file and offset', async () => {
  await withTempDir(async (directory) => {
    const db = await openDb(directory);
    await appendGrid(db, series, 0, 20, 1_000, () => 1);
    await db.close();
    const path = await lastWrittenSegment(directory);
    const bytes = await readFile(path);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0x40;
    await writeFile(path, bytes);
    await assert.rejects(openDb(directory), (error: unknown) => {
      assert.ok(error instanceof TsdbError);
      assert.equal(error.code, 'TSDB_WAL_CORRUPT');
      assert.match(error.message, new RegExp(`${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is corrupt at offset \\d+`));
      return true;
    });
    // The lock was released: a later open fails the same way rather than as locked.
    await assert.rejects(openDb(directory), (error: unknown) => error instanceof TsdbError && error.code === 'TSDB_WAL_CORRUPT');
  });
});

test('a bad record at the end of an older segment is corruption, not a torn tail', async () => {
  await withTempDir(async (directory) => {
    let db = await openDb(directory);
    await appendGrid(db, series, 0, 5, 1_000, () => 1);
    await db.close();
    const older = await lastWrittenSegment(directory);
    db = await openDb(directory);
    await appendGrid(db, series, 5_000, 5, 1_000, () => 1);
    await db.close();
    assert.notEqual(await lastWrittenSegment(directory), older);
    await truncate(older, (await stat(older)).size - 3);
    await assert.rejects(openDb(directory), (error: unknown) => error instanceof TsdbError && error.code === 'TSDB_WAL_CORRUPT' && error.message.includes(older));
  });
});

test('a missing segment between two others is reported, not skipped', async () => {
  await withTempDir(async (directory) => {
    for (let run = 0; run < 3; run += 1) {
      const db = await openDb(directory);
      await appendGrid(db, series, run * 10_000, 2, 1_000, () => run);
      await db.close();
    }
    const names = await segments(directory);
    await rm(join(directory, 'wal', names[1]!));
    await assert.rejects(openDb(directory), (error: unknown) => error instanceof TsdbError && error.code === 'TSDB_WAL_CORRUPT' && /missing segment/.test(error.message));
  });
});

test('after head compaction a checkpoint replaces old segments, and replay restores the same head', async () => {
  await withTempDir(async (directory) => {
    const rangeMs = 60_000;
    let db = await openDb(directory, { blockRangeMs: rangeMs });
    const many = Array.from({ length: 20 }, (_, index) => labels({ __name__: 'g', index: String(index) }));
    await appendGrid(db, many.slice(0, 10), 0, 60, 1_000, (index, timestampMs) => index + timestampMs);
    // Series 10..19 exist only after the first range, so the checkpoint must keep their records too.
    await appendGrid(db, many, 60_000, 60, 1_000, (index, timestampMs) => index * timestampMs);
    const report = await db.compact();
    assert.equal(report.headBlocksWritten, 1);
    assert.equal(typeof report.walCheckpoint, 'number');
    const before = dumpRange(db, 0, 1_000_000);
    const headBefore = dumpRange(db, 60_000, 1_000_000);
    await db.close();
    const walNames = await readdir(join(directory, 'wal'));
    assert.ok(walNames.includes(`checkpoint.${String(report.walCheckpoint).padStart(8, '0')}`), walNames.join(','));
    assert.ok((await segments(directory)).every((name) => Number(name) > report.walCheckpoint!), 'segments the checkpoint covers are gone');
    db = await openDb(directory, { blockRangeMs: rangeMs });
    assert.deepEqual(dumpRange(db, 0, 1_000_000), before);
    assert.deepEqual(dumpRange(db, 60_000, 1_000_000), headBefore);
    assert.equal(db.stats().wal.replay.samplesSkipped, 0, 'the checkpoint dropped the samples already in the block');
    await db.close();
  });
});

test('scanSegment reads series and samples records and reports a bad type with its offset', () => {
  const writer = new ByteWriter();
  writer.bytes(segmentHeader());
  writeSeriesRecords(writer, [{ id: 7, labels: Labels.fromRecord({ __name__: 'x', a: 'b' }) }]);
  writeSamplesRecords(writer, { seriesIds: [7, 7], timestampsMs: [1_000, 2_000], valueHighBits: [0, 0x3ff0_0000], valueLowBits: [0, 0] }, 0, 2);
  const bytes = writer.copy();
  const types: number[] = [];
  const result = scanSegment(bytes, 'segment', false, (type) => types.push(type));
  assert.deepEqual(types, [RecordType.Series, RecordType.Samples]);
  assert.deepEqual(result, { validBytes: bytes.length, torn: undefined });
  const damaged = bytes.slice();
  damaged[segmentHeaderBytes] = 9;
  assert.throws(() => scanSegment(damaged, 'segment', true, () => {}), /segment is corrupt at offset 8: unknown record type 9/);
});
