import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Wal, isStorageError } from '../../src/storage/index.ts';
import type { StorageError } from '../../src/storage/index.ts';
import { describeEntries, entry, entryRange, hardState, memberMetadata, recordingLogger, temporaryDirectory } from './_fixtures.ts';

const segmentBytesSmall = 4096;

async function onlySegment(directory: string): Promise<string> {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.wal'));
  assert.equal(names.length, 1);
  return join(directory, names[0]!);
}

async function segmentPaths(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((name) => name.endsWith('.wal')).sort().map((name) => join(directory, name));
}

/**
 * A WAL of one segment: `committed` batches, then a last batch (an entry and a hard state). Returns the
 * segment's bytes and where the last batch starts, so that tests can damage exactly that batch.
 */
async function walWithLastBatch(directory: string): Promise<{ path: string; pristine: Buffer; lastBatchStart: number }> {
  const { logger } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata });
  await wal.save(hardState(1, 1, 0), entryRange(1, 5, 1));
  await wal.save(hardState(1, 1, 5), entryRange(6, 10, 1));
  await wal.close();
  const path = await onlySegment(directory);
  const lastBatchStart = (await stat(path)).size;
  const { wal: again } = await Wal.open(directory, { logger });
  await again.save(hardState(2, 1, 10), [entry(11, 2, 'the last entry, torn at every byte')]);
  await again.close();
  return { path, pristine: await readFile(path), lastBatchStart };
}

function isCorruptAt(path: string, offset: number): (error: unknown) => boolean {
  return (error) => {
    if (!isStorageError(error, 'WAL_CORRUPT')) return false;
    const corrupt = error as StorageError;
    assert.equal(corrupt.file, path);
    assert.equal(corrupt.offset, offset, corrupt.message);
    assert.ok(corrupt.message.includes(path) && corrupt.message.includes(`byte offset ${offset}`), corrupt.message);
    return true;
  };
}

test('a last batch torn at every byte offset is cut back to its last whole record; writing continues', async (context) => {
  const directory = await temporaryDirectory(context);
  const { path, pristine, lastBatchStart } = await walWithLastBatch(directory);
  // The last batch is two records: entry 11 (12 + 17 + 34 bytes, padded to 64), then the hard state (40).
  const hardStateStart = lastBatchStart + 64;
  assert.equal(pristine.length, hardStateStart + 40);
  for (let cut = lastBatchStart; cut < pristine.length; cut++) {
    await writeFile(path, pristine.subarray(0, cut));
    const { logger, warnings } = recordingLogger();
    const { wal, replay } = await Wal.open(directory, { logger });
    const entryWhole = cut >= hardStateStart;
    const validEnd = entryWhole ? hardStateStart : lastBatchStart;
    const expected = entryWhole ? [...entryRange(1, 10, 1), entry(11, 2, 'the last entry, torn at every byte')] : entryRange(1, 10, 1);
    assert.deepEqual(describeEntries(replay.entries), describeEntries(expected), `cut at ${cut}`);
    assert.deepEqual(replay.hardState, hardState(1, 1, 5), `cut at ${cut}: the torn hard state is not used`);
    if (cut === validEnd) {
      assert.equal(replay.repair, null, `cut at ${cut}: a cut on a record boundary needs no repair`);
      assert.deepEqual(warnings(), []);
    } else {
      assert.deepEqual(replay.repair && { offset: replay.repair.offset, droppedBytes: replay.repair.droppedBytes }, {
        offset: validEnd, droppedBytes: cut - validEnd,
      }, `cut at ${cut}`);
      assert.equal(warnings().length, 1, `cut at ${cut}: the repair is logged`);
      assert.equal(warnings()[0]!.fields.offset, validEnd);
      assert.equal(warnings()[0]!.fields.file, path);
    }
    assert.equal((await stat(path)).size, validEnd, `cut at ${cut}: truncated at the torn record`);
    const next = entryWhole ? 12 : 11;
    await wal.save(hardState(3, 0, next), [entry(next, 3, 'after the repair')]);
    await wal.close();
    const { wal: again, replay: after } = await Wal.open(directory, { logger });
    assert.deepEqual(describeEntries(after.entries), describeEntries([...expected, entry(next, 3, 'after the repair')]), `cut at ${cut}`);
    assert.deepEqual(after.hardState, hardState(3, 0, next));
    assert.equal(after.repair, null);
    await again.close();
  }
});

test('a zero-filled tail is cut off, whether after the last record or over part of it', async (context) => {
  const directory = await temporaryDirectory(context);
  const { path, pristine, lastBatchStart } = await walWithLastBatch(directory);
  const { logger, warnings } = recordingLogger();

  await writeFile(path, Buffer.concat([pristine, Buffer.alloc(8192)]));
  const padded = await Wal.open(directory, { logger });
  assert.equal(padded.replay.entries.length, 11);
  assert.deepEqual(padded.replay.hardState, hardState(2, 1, 10));
  assert.equal(padded.replay.repair?.offset, pristine.length);
  assert.equal(padded.replay.repair?.droppedBytes, 8192);
  assert.equal(padded.replay.repair?.reason, 'a zero-filled tail');
  await padded.wal.close();
  assert.equal((await stat(path)).size, pristine.length);

  const zeroed = Buffer.from(pristine);
  zeroed.fill(0, lastBatchStart + 20);
  await writeFile(path, zeroed);
  const overwritten = await Wal.open(directory, { logger });
  assert.equal(overwritten.replay.entries.length, 10);
  assert.equal(overwritten.replay.repair?.offset, lastBatchStart);
  await overwritten.wal.close();
  assert.equal(warnings().length, 2);
});

test('a CRC mismatch in the final record is repaired like a torn write', async (context) => {
  const directory = await temporaryDirectory(context);
  const { path, pristine } = await walWithLastBatch(directory);
  const damaged = Buffer.from(pristine);
  const lastRecordStart = pristine.length - 40; // the hard state record: 12 + 24 bytes, padded to 40
  damaged[lastRecordStart + 20]! ^= 0x01;
  await writeFile(path, damaged);
  const { logger } = recordingLogger();
  const { wal, replay } = await Wal.open(directory, { logger });
  assert.equal(replay.entries.length, 11, 'the entry before the damaged record survives');
  assert.deepEqual(replay.hardState, hardState(1, 1, 5));
  assert.equal(replay.repair?.offset, lastRecordStart);
  assert.match(replay.repair?.reason ?? '', /CRC mismatch/);
  await wal.close();
});

test('a flipped bit anywhere in a middle record fails with WAL_CORRUPT naming the file and the record offset', async (context) => {
  const directory = await temporaryDirectory(context);
  const { path, pristine, lastBatchStart } = await walWithLastBatch(directory);
  // The second batch's first entry record (entry 6): 12 + 17 + 17 bytes of data, padded to 48.
  const firstBatch = await firstBatchEnd(directory, pristine);
  const recordStart = firstBatch;
  const recordEnd = recordStart + 48;
  assert.ok(recordEnd < lastBatchStart);
  const { logger, warnings } = recordingLogger();
  for (let offset = recordStart; offset < recordEnd; offset++) {
    for (const bit of [0x01, 0x80]) {
      const damaged = Buffer.from(pristine);
      damaged[offset]! ^= bit;
      await writeFile(path, damaged);
      await assert.rejects(Wal.open(directory, { logger }), isCorruptAt(path, recordStart), `bit ${bit} of byte ${offset}`);
    }
  }
  assert.deepEqual(warnings(), [], 'corruption is never repaired');
  assert.deepEqual(await readFile(path), (() => {
    const damaged = Buffer.from(pristine);
    damaged[recordEnd - 1]! ^= 0x80;
    return damaged;
  })(), 'a corrupt WAL is left untouched');
});

/** The end of the first batch: the WAL is rewritten with only that batch to measure it. */
async function firstBatchEnd(directory: string, pristine: Buffer): Promise<number> {
  const probe = join(directory, 'probe');
  const { logger } = recordingLogger();
  const wal = await Wal.create(probe, { logger, metadata: memberMetadata });
  await wal.save(hardState(1, 1, 0), entryRange(1, 5, 1));
  await wal.close();
  const bytes = await readFile(await onlySegment(probe));
  assert.deepEqual(pristine.subarray(0, bytes.length), bytes, 'the probe WAL matches the first batch');
  return bytes.length;
}

test('a damaged length that runs past the end of the file is corruption, not a torn tail, when records follow', async (context) => {
  const directory = await temporaryDirectory(context);
  const { path, pristine, lastBatchStart } = await walWithLastBatch(directory);
  const recordStart = await firstBatchEnd(directory, pristine);
  const damaged = Buffer.from(pristine);
  damaged.writeUInt32LE(pristine.length, recordStart + 4);
  await writeFile(path, damaged);
  const { logger } = recordingLogger();
  await assert.rejects(Wal.open(directory, { logger }), isCorruptAt(path, recordStart));
  assert.ok(recordStart < lastBatchStart);
});

test('damage in a segment that is not the last is corruption, even at its tail', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger, warnings } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata, segmentBytesMax: segmentBytesSmall });
  for (let batch = 0; batch < 30; batch++) await wal.save(hardState(1, 1, batch * 10), entryRange(batch * 10 + 1, batch * 10 + 10, 1));
  await wal.close();
  const paths = await segmentPaths(directory);
  assert.ok(paths.length >= 3);
  const middle = paths[1]!;
  const original = await readFile(middle);

  await writeFile(middle, original.subarray(0, original.length - 8));
  await assert.rejects(Wal.open(directory, { logger }), isCorruptAt(middle, original.length - 40));
  await writeFile(middle, Buffer.concat([original, Buffer.alloc(64)]));
  await assert.rejects(Wal.open(directory, { logger }), isCorruptAt(middle, original.length));
  const flipped = Buffer.from(original);
  flipped[original.length - 1]! ^= 0x40; // padding of the last record
  await writeFile(middle, flipped);
  await assert.rejects(Wal.open(directory, { logger }), (error) => isStorageError(error, 'WAL_CORRUPT'));
  assert.deepEqual(warnings(), []);
  await writeFile(middle, original);
  const { wal: reopened, replay } = await Wal.open(directory, { logger });
  assert.equal(replay.entries.length, 300);
  await reopened.close();
});

test('a missing middle segment, a renamed segment and a segment from another WAL are corruption', async (context) => {
  const directory = await temporaryDirectory(context);
  const other = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  for (const [target, metadata] of [[directory, memberMetadata], [other, new TextEncoder().encode('another member')]] as const) {
    const wal = await Wal.create(target, { logger, metadata, segmentBytesMax: segmentBytesSmall });
    for (let batch = 0; batch < 30; batch++) await wal.save(hardState(1, 1, batch * 10), entryRange(batch * 10 + 1, batch * 10 + 10, 1));
    await wal.close();
  }
  const paths = await segmentPaths(directory);
  const otherPaths = await segmentPaths(other);
  const middle = paths[1]!;
  const original = await readFile(middle);

  await writeFile(middle, await readFile(otherPaths[1]!));
  await assert.rejects(Wal.open(directory, { logger }), (error) => isStorageError(error, 'WAL_CORRUPT') && (error as StorageError).file === middle);

  await unlink(middle);
  await assert.rejects(Wal.open(directory, { logger }), (error) => isStorageError(error, 'WAL_CORRUPT') && /missing/.test((error as Error).message));
  await writeFile(middle, original);

  const renamed = middle.replace(/-(\d{16})\.wal$/, (_, index: string) => `-${String(Number(index) + 1).padStart(16, '0')}.wal`);
  await rename(middle, renamed);
  await assert.rejects(Wal.open(directory, { logger }), isCorruptAt(renamed, 0));
});

test('a segment left unfinished by a crash during rotation is removed and reported', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger, warnings } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata });
  await wal.save(hardState(1, 1, 0), entryRange(1, 3, 1));
  await wal.close();
  const leftover = join(directory, '0000000000000002-0000000000000004.wal.tmp');
  await writeFile(leftover, Buffer.alloc(100, 7));
  const { wal: reopened, replay } = await Wal.open(directory, { logger });
  assert.equal(replay.entries.length, 3);
  assert.deepEqual(warnings().map((event) => event.fields.file), [leftover]);
  assert.deepEqual((await readdir(directory)).filter((name) => name.endsWith('.tmp')), []);
  await reopened.close();
});

test('a damaged segment header is corruption, even in the last segment', async (context) => {
  const directory = await temporaryDirectory(context);
  const { path, pristine } = await walWithLastBatch(directory);
  const { logger } = recordingLogger();
  for (const offset of [0, 4, 12, 20, 36]) {
    const damaged = Buffer.from(pristine);
    damaged[offset]! ^= 0x02;
    await writeFile(path, damaged);
    await assert.rejects(Wal.open(directory, { logger }), isCorruptAt(path, 0), `byte ${offset}`);
  }
  await writeFile(path, pristine.subarray(0, 20));
  await assert.rejects(Wal.open(directory, { logger }), isCorruptAt(path, 0));
});
