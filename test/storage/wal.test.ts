import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EntryType } from '../../src/raft/types.ts';
import { Wal, isStorageError } from '../../src/storage/index.ts';
import type { WalOptions } from '../../src/storage/index.ts';
import {
  describeEntries, entry, entryRange, hardState, memberMetadata, recordingLogger, temporaryDirectory,
} from './_fixtures.ts';

const segmentBytesSmall = 4096;

async function segmentFiles(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((name) => name.endsWith('.wal')).sort();
}

async function reopen(directory: string, options: Partial<WalOptions> & { snapshotIndexMax?: number } = {}) {
  const { logger, warnings } = recordingLogger();
  const opened = await Wal.open(directory, { logger, ...options });
  return { ...opened, warnings };
}

test('save() batches round-trip through close and open', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata });
  const conf = { index: 4, term: 1, type: EntryType.ConfChange, data: new Uint8Array([1, 2, 3]) };
  const empty = { index: 5, term: 2, type: EntryType.Normal, data: new Uint8Array(0) };
  await wal.save(hardState(1, 1, 0), entryRange(1, 3, 1));
  await wal.save(hardState(2, 0, 3), [conf, empty]);
  await wal.save(null, [entry(6, 2, 'x'.repeat(1000))]);
  await wal.close();

  const { wal: reopened, replay, warnings } = await reopen(directory);
  assert.deepEqual(replay.entries, [...entryRange(1, 3, 1), conf, empty, entry(6, 2, 'x'.repeat(1000))]);
  assert.deepEqual(replay.hardState, hardState(2, 0, 3));
  assert.deepEqual(replay.metadata, memberMetadata);
  assert.equal(replay.snapshot, null);
  assert.equal(replay.repair, null);
  assert.deepEqual(warnings(), []);
  await reopened.close();
});

test('an empty WAL replays to an empty log and the zero hard state', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  await (await Wal.create(directory, { logger, metadata: new Uint8Array(0) })).close();
  const { wal, replay } = await reopen(directory);
  assert.deepEqual(replay.entries, []);
  assert.deepEqual(replay.hardState, hardState(0, 0, 0));
  assert.deepEqual(replay.metadata, new Uint8Array(0));
  await wal.close();
});

test('segments rotate at the size limit and replay reads across them', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata, segmentBytesMax: segmentBytesSmall });
  for (let batch = 0; batch < 30; batch++) {
    await wal.save(hardState(1, 1, batch * 10), entryRange(batch * 10 + 1, batch * 10 + 10, 1));
  }
  assert.ok(wal.statistics.segmentCount >= 5, `only ${wal.statistics.segmentCount} segments`);
  await wal.close();

  const names = await segmentFiles(directory);
  assert.equal(names.length, wal.statistics.segmentCount);
  assert.deepEqual(names, wal.segmentFileNames());
  assert.match(names[0]!, /^0000000000000001-0000000000000001\.wal$/);
  for (const [position, name] of names.entries()) {
    assert.equal(Number(name.slice(0, 16)), position + 1, `sequence of ${name}`);
    const firstIndex = Number(name.slice(17, 33));
    assert.equal((firstIndex - 1) % 10, 0, `${name} starts between batches`);
    // A segment is over the limit only by the batch that was written after the check.
    assert.ok((await stat(join(directory, name))).size <= segmentBytesSmall + 1024, `${name} is far over the limit`);
  }
  const { wal: reopened, replay } = await reopen(directory);
  assert.deepEqual(describeEntries(replay.entries), describeEntries(entryRange(1, 300, 1)));
  assert.deepEqual(replay.hardState, hardState(1, 1, 290));
  await reopened.close();
});

test('a reopened WAL continues the log, and a later replay sees both halves', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata, segmentBytesMax: segmentBytesSmall });
  await wal.save(hardState(1, 1, 0), entryRange(1, 50, 1));
  await wal.close();
  const first = await reopen(directory, { segmentBytesMax: segmentBytesSmall });
  await first.wal.save(hardState(2, 2, 50), entryRange(51, 150, 2));
  await first.wal.close();
  const second = await reopen(directory);
  assert.deepEqual(describeEntries(second.replay.entries), describeEntries([...entryRange(1, 50, 1), ...entryRange(51, 150, 2)]));
  assert.deepEqual(second.replay.hardState, hardState(2, 2, 50));
  await second.wal.close();
});

test('an entry at or below the last index truncates the log from there (Raft overwrite)', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata, segmentBytesMax: segmentBytesSmall });
  await wal.save(hardState(1, 1, 2), entryRange(1, 10, 1));
  await wal.save(hardState(2, 2, 2), entryRange(6, 8, 2));
  await wal.save(null, entryRange(9, 9, 2));
  await wal.save(hardState(3, 3, 5), entryRange(8, 8, 3));
  await wal.close();
  const { wal: reopened, replay } = await reopen(directory);
  assert.deepEqual(describeEntries(replay.entries), describeEntries([...entryRange(1, 5, 1), ...entryRange(6, 7, 2), entry(8, 3)]));
  // Writing after an overwrite continues from the new end.
  await reopened.save(null, entryRange(9, 12, 3));
  await reopened.close();
  const again = await reopen(directory);
  assert.deepEqual(describeEntries(again.replay.entries).slice(7), describeEntries([entry(8, 3), ...entryRange(9, 12, 3)]));
  await again.wal.close();
});

test('an overwrite reaching back into an earlier segment wins over it', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata, segmentBytesMax: segmentBytesSmall });
  for (let batch = 0; batch < 30; batch++) await wal.save(hardState(1, 1, 0), entryRange(batch * 10 + 1, batch * 10 + 10, 1));
  assert.ok(wal.statistics.segmentCount >= 3, `only ${wal.statistics.segmentCount} segments`);
  await wal.save(hardState(2, 0, 0), entryRange(5, 7, 2));
  await wal.close();
  const { wal: reopened, replay } = await reopen(directory);
  assert.deepEqual(describeEntries(replay.entries), describeEntries([...entryRange(1, 4, 1), ...entryRange(5, 7, 2)]));
  await reopened.close();
});

test('replay starts after the newest snapshot marker at or below the index asked for', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata });
  await wal.save(hardState(1, 1, 40), entryRange(1, 40, 1));
  await wal.saveSnapshotMarker({ index: 20, term: 1 });
  await wal.save(hardState(2, 1, 60), entryRange(41, 60, 2));
  await wal.saveSnapshotMarker({ index: 50, term: 2 });
  await wal.close();

  const newest = await reopen(directory);
  assert.deepEqual(newest.replay.snapshot, { index: 50, term: 2 });
  assert.deepEqual(describeEntries(newest.replay.entries), describeEntries(entryRange(51, 60, 2)));
  await newest.wal.close();
  const older = await reopen(directory, { snapshotIndexMax: 49 });
  assert.deepEqual(older.replay.snapshot, { index: 20, term: 1 });
  assert.deepEqual(describeEntries(older.replay.entries), describeEntries([...entryRange(21, 40, 1), ...entryRange(41, 60, 2)]));
  await older.wal.close();
  const none = await reopen(directory, { snapshotIndexMax: 10 });
  assert.equal(none.replay.snapshot, null);
  assert.equal(none.replay.entries.length, 60);
  await none.wal.close();
});

test('a snapshot marker that does not match the log replaces it (an installed snapshot)', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata });
  await wal.save(hardState(1, 1, 5), entryRange(1, 30, 1));
  // The leader's snapshot at 20 has term 3: entries 6..30 were never committed and must not come back.
  await wal.saveSnapshotMarker({ index: 20, term: 3 });
  await wal.save(hardState(3, 0, 20), entryRange(21, 22, 3));
  await wal.saveSnapshotMarker({ index: 100, term: 4 });
  await wal.save(hardState(4, 0, 100), entryRange(101, 101, 4));
  await wal.close();
  const { wal: reopened, replay } = await reopen(directory);
  assert.deepEqual(replay.snapshot, { index: 100, term: 4 });
  assert.deepEqual(describeEntries(replay.entries), describeEntries([entry(101, 4)]));
  await reopened.close();
  // From the snapshot at 20 the log cannot be rebuilt: entries 23..100 only ever existed in the snapshot.
  await assert.rejects(reopen(directory, { snapshotIndexMax: 99 }), (error) => isStorageError(error, 'WAL_SNAPSHOT_MISMATCH'));
});

test('a marker that matches the log (a local snapshot) keeps the entries after it', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata });
  await wal.save(hardState(2, 1, 30), [...entryRange(1, 10, 1), ...entryRange(11, 40, 2)]);
  await wal.saveSnapshotMarker({ index: 30, term: 2 });
  await wal.close();
  const { wal: reopened, replay } = await reopen(directory);
  assert.deepEqual(describeEntries(replay.entries), describeEntries(entryRange(31, 40, 2)));
  await reopened.close();
});

test('releaseTo() deletes whole segments below the snapshot and replay still works', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata, segmentBytesMax: segmentBytesSmall });
  for (let batch = 0; batch < 30; batch++) {
    await wal.save(hardState(1, 1, batch * 10 + 10), entryRange(batch * 10 + 1, batch * 10 + 10, 1));
  }
  const before = wal.segmentFileNames();
  await assert.rejects(wal.releaseTo(150), (error) => isStorageError(error, 'WAL_INVALID_ARGUMENT'));
  await wal.saveSnapshotMarker({ index: 150, term: 1 });
  const released = await wal.releaseTo(150);

  const kept = before.filter((name) => Number(name.slice(17, 33)) > 150);
  const holding = before.filter((name) => Number(name.slice(17, 33)) <= 150).at(-1)!;
  assert.equal(released, before.length - kept.length - 1);
  assert.ok(released >= 2, `released only ${released}`);
  assert.deepEqual(await segmentFiles(directory), [holding, ...kept]);
  assert.deepEqual(wal.segmentFileNames(), [holding, ...kept]);
  assert.equal(await wal.releaseTo(150), 0);
  await wal.save(hardState(1, 1, 301), entryRange(301, 305, 1));
  await wal.close();

  const { wal: reopened, replay } = await reopen(directory);
  assert.deepEqual(replay.snapshot, { index: 150, term: 1 });
  assert.deepEqual(describeEntries(replay.entries), describeEntries(entryRange(151, 305, 1)));
  assert.deepEqual(replay.hardState, hardState(1, 1, 301));
  assert.deepEqual(replay.metadata, memberMetadata);
  await reopened.close();
  // The entries before the snapshot are gone: replay from no snapshot at all cannot work any more.
  await assert.rejects(reopen(directory, { snapshotIndexMax: 0 }), (error) => isStorageError(error, 'WAL_SNAPSHOT_MISMATCH'));
});

test('releaseTo() never deletes the open segment, even when the snapshot reaches into it', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata, segmentBytesMax: segmentBytesSmall });
  await wal.save(hardState(1, 1, 10), entryRange(1, 10, 1));
  await wal.saveSnapshotMarker({ index: 10, term: 1 });
  assert.equal(await wal.releaseTo(10), 0);
  assert.equal((await segmentFiles(directory)).length, 1);
  for (let batch = 1; batch < 20; batch++) await wal.save(hardState(1, 1, batch * 10 + 10), entryRange(batch * 10 + 1, batch * 10 + 10, 1));
  const segments = wal.segmentFileNames();
  assert.ok(segments.length >= 3);
  await wal.saveSnapshotMarker({ index: 200, term: 1 });
  assert.equal(await wal.releaseTo(200), segments.length - 1);
  assert.deepEqual(await segmentFiles(directory), [segments.at(-1)!]);
  await wal.close();
  const { wal: reopened, replay } = await reopen(directory);
  assert.deepEqual(replay.snapshot, { index: 200, term: 1 });
  assert.deepEqual(replay.entries, []);
  assert.deepEqual(replay.hardState, hardState(1, 1, 200));
  await reopened.close();
});

test('saves that break the log contract are refused and leave the WAL usable', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata });
  await wal.save(hardState(2, 1, 3), entryRange(1, 5, 2));
  const refused = (error: unknown): boolean => isStorageError(error, 'WAL_INVALID_ARGUMENT');
  await assert.rejects(wal.save(null, entryRange(7, 8, 2)), refused, 'a gap after the last index');
  await assert.rejects(wal.save(null, [entry(6, 2), entry(8, 2)]), refused, 'a gap inside the batch');
  await assert.rejects(wal.save(null, [entry(6, 3), entry(7, 2)]), refused, 'a term going back inside the batch');
  await assert.rejects(wal.save(null, [entry(0, 2)]), refused, 'index 0');
  await assert.rejects(wal.save(hardState(1, 1, 3), []), refused, 'the term going back');
  await assert.rejects(wal.save(hardState(2, 3, 3), []), refused, 'a second vote in one term');
  await assert.rejects(wal.save(hardState(2, 1, 2), []), refused, 'commit going back');
  await wal.saveSnapshotMarker({ index: 3, term: 2 });
  await assert.rejects(wal.save(null, [entry(3, 3)]), refused, 'an entry at the snapshot marker');
  await assert.rejects(wal.saveSnapshotMarker({ index: 2, term: 2 }), refused, 'a marker going back');
  await wal.save(hardState(3, 0, 5), entryRange(6, 6, 3));
  await wal.close();
  const { wal: reopened, replay } = await reopen(directory);
  assert.deepEqual(describeEntries(replay.entries), describeEntries([...entryRange(4, 5, 2), entry(6, 3)]));
  assert.deepEqual(replay.hardState, hardState(3, 0, 5));
  await reopened.close();
});

test('create() refuses a directory with a WAL; open() refuses one without', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  assert.equal(await Wal.exists(directory), false);
  assert.equal(await Wal.exists(join(directory, 'missing')), false);
  await assert.rejects(Wal.open(directory, { logger }), (error) => isStorageError(error, 'WAL_NOT_FOUND'));
  await assert.rejects(Wal.open(join(directory, 'missing'), { logger }), (error) => isStorageError(error, 'WAL_NOT_FOUND'));
  const nested = join(directory, 'member', 'wal');
  await (await Wal.create(nested, { logger, metadata: memberMetadata })).close();
  assert.equal(await Wal.exists(nested), true);
  await assert.rejects(Wal.create(nested, { logger, metadata: memberMetadata }), (error) => isStorageError(error, 'WAL_EXISTS'));
  await assert.rejects(
    Wal.create(join(directory, 'other'), { logger, metadata: new Uint8Array(2000) }),
    (error) => isStorageError(error, 'WAL_INVALID_ARGUMENT'),
  );
  await assert.rejects(
    Wal.create(join(directory, 'small'), { logger, metadata: memberMetadata, segmentBytesMax: 100 }),
    (error) => isStorageError(error, 'WAL_INVALID_ARGUMENT'),
  );
});

test('a closed WAL refuses saves with WAL_CLOSED, after finishing those already made', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const wal = await Wal.create(directory, { logger, metadata: memberMetadata });
  const pending = wal.save(hardState(1, 1, 0), entryRange(1, 3, 1));
  await wal.close();
  await pending;
  await assert.rejects(wal.save(null, entryRange(4, 4, 1)), (error) => isStorageError(error, 'WAL_CLOSED'));
  await assert.rejects(wal.saveSnapshotMarker({ index: 1, term: 1 }), (error) => isStorageError(error, 'WAL_CLOSED'));
  await assert.rejects(wal.releaseTo(0), (error) => isStorageError(error, 'WAL_CLOSED'));
  await wal.close();
  const { wal: reopened, replay } = await reopen(directory);
  assert.equal(replay.entries.length, 3);
  await reopened.close();
});
