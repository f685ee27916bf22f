import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Snapshot } from '../../src/raft/types.ts';
import { emptyConfState } from '../../src/raft/types.ts';
import {
  isStorageError, listSnapshotFiles, loadNewestSnapshotFile, loadSnapshotFile, purgeSnapshotFiles, saveSnapshotFile,
} from '../../src/storage/index.ts';
import { recordingLogger, temporaryDirectory } from './_fixtures.ts';

function snapshotAt(index: number, term: number, dataBytes = 1000): Snapshot {
  return {
    metadata: {
      index,
      term,
      confState: { voters: [1, 2, 2 ** 40 + 3], learners: [9], votersOutgoing: [1, 2], learnersNext: [4], autoLeave: true },
    },
    data: Uint8Array.from({ length: dataBytes }, (_, position) => (position * 13 + index) & 0xff),
  };
}

test('a saved snapshot loads back with its metadata, conf state and data', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger, warnings } = recordingLogger();
  const snapshot = snapshotAt(120, 7, 100_000);
  const path = await saveSnapshotFile(directory, snapshot, { logger });
  assert.equal(path, join(directory, '0000000000000120-0000000000000007.snap'));
  assert.deepEqual(await loadSnapshotFile(path), snapshot);
  const newest = await loadNewestSnapshotFile(directory, { logger });
  assert.deepEqual(newest, { snapshot, path });
  assert.deepEqual(warnings(), []);
  assert.deepEqual((await readdir(directory)).filter((name) => name.endsWith('.tmp')), [], 'no temporary file is left');

  const empty: Snapshot = { metadata: { index: 1, term: 1, confState: emptyConfState() }, data: new Uint8Array(0) };
  const emptyPath = await saveSnapshotFile(directory, empty, { logger });
  assert.deepEqual(await loadSnapshotFile(emptyPath), empty);
});

test('a snapshot of several write pieces (1 MiB each) loads back, and damage in a later piece is caught', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const snapshot = snapshotAt(300, 4, 3 * 1024 * 1024 + 12_345);
  const path = await saveSnapshotFile(directory, snapshot, { logger });
  assert.deepEqual(await loadSnapshotFile(path), snapshot);
  const file = await readFile(path);
  file[file.length - 1_000_000]! ^= 0x01; // a data byte in the fourth piece
  await writeFile(path, file);
  await assert.rejects(loadSnapshotFile(path), (error) => isStorageError(error, 'SNAPSHOT_CORRUPT'));
});

test('an empty directory has no snapshot', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  assert.equal(await loadNewestSnapshotFile(directory, { logger }), null);
});

test('retention keeps the newest N snapshot files', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  for (let index = 10; index <= 80; index += 10) await saveSnapshotFile(directory, snapshotAt(index, 2, 10), { logger });
  assert.deepEqual((await listSnapshotFiles(directory)).map((name) => name.index), [80, 70, 60, 50, 40]);
  await saveSnapshotFile(directory, snapshotAt(90, 3, 10), { logger, retainCount: 2 });
  assert.deepEqual((await listSnapshotFiles(directory)).map((name) => name.index), [90, 80]);
  assert.equal(await purgeSnapshotFiles(directory, { logger, retainCount: 1 }), 1);
  assert.deepEqual((await readdir(directory)).sort(), ['0000000000000090-0000000000000003.snap']);
  await assert.rejects(purgeSnapshotFiles(directory, { logger, retainCount: 0 }), (error) => isStorageError(error, 'SNAPSHOT_INVALID_ARGUMENT'));
});

test('a corrupt newest snapshot is reported, set aside, and an older valid one loaded', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger, warnings } = recordingLogger();
  const older = snapshotAt(50, 2);
  await saveSnapshotFile(directory, older, { logger });
  const middlePath = await saveSnapshotFile(directory, snapshotAt(60, 2), { logger });
  const newestPath = await saveSnapshotFile(directory, snapshotAt(70, 3), { logger });
  const newest = await readFile(newestPath);
  newest[500]! ^= 0x10; // a data byte
  await writeFile(newestPath, newest);
  await writeFile(middlePath, (await readFile(middlePath)).subarray(0, 200)); // truncated

  await assert.rejects(loadSnapshotFile(newestPath), (error) => isStorageError(error, 'SNAPSHOT_CORRUPT') && (error as Error).message.includes(newestPath));
  const loaded = await loadNewestSnapshotFile(directory, { logger });
  assert.deepEqual(loaded?.snapshot, older);
  assert.deepEqual(warnings().map((event) => event.fields.file), [newestPath, middlePath]);
  assert.match(String(warnings()[0]!.fields.reason), /CRC mismatch/);
  assert.deepEqual((await readdir(directory)).sort(), [
    '0000000000000050-0000000000000002.snap',
    '0000000000000060-0000000000000002.snap.broken',
    '0000000000000070-0000000000000003.snap.broken',
  ]);
});

test('every damaged header field is caught', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const path = await saveSnapshotFile(directory, snapshotAt(5, 1, 64), { logger });
  const pristine = await readFile(path);
  for (let offset = 0; offset < pristine.length; offset++) {
    const damaged = Buffer.from(pristine);
    damaged[offset]! ^= 0x04;
    await writeFile(path, damaged);
    await assert.rejects(loadSnapshotFile(path), (error) => isStorageError(error, 'SNAPSHOT_CORRUPT'), `byte ${offset}`);
  }
  await writeFile(path, Buffer.concat([pristine, Buffer.alloc(1)]));
  await assert.rejects(loadSnapshotFile(path), (error) => isStorageError(error, 'SNAPSHOT_CORRUPT'));
});

test('a snapshot whose name does not match its header is corrupt', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const path = await saveSnapshotFile(directory, snapshotAt(5, 1), { logger });
  const misnamed = join(directory, '0000000000000006-0000000000000001.snap');
  await writeFile(misnamed, await readFile(path));
  await assert.rejects(loadSnapshotFile(misnamed), (error) => isStorageError(error, 'SNAPSHOT_CORRUPT') && /file name/.test((error as Error).message));
});

test('indexMax limits which snapshots are considered, and leftovers of a crashed save are removed', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger, warnings } = recordingLogger();
  await saveSnapshotFile(directory, snapshotAt(10, 1), { logger });
  await saveSnapshotFile(directory, snapshotAt(20, 1), { logger });
  const leftover = join(directory, '0000000000000030-0000000000000001.snap.tmp');
  await writeFile(leftover, 'half a snapshot');
  const loaded = await loadNewestSnapshotFile(directory, { logger, indexMax: 19 });
  assert.equal(loaded?.snapshot.metadata.index, 10);
  assert.deepEqual(warnings().map((event) => event.fields.file), [leftover]);
  await assert.rejects(stat(leftover), { code: 'ENOENT' });
});

test('invalid snapshot metadata is refused before anything is written', async (context) => {
  const directory = await temporaryDirectory(context);
  const { logger } = recordingLogger();
  const bad: Snapshot = { metadata: { index: -1, term: 1, confState: emptyConfState() }, data: new Uint8Array(0) };
  await assert.rejects(saveSnapshotFile(directory, bad, { logger }), (error) => isStorageError(error, 'SNAPSHOT_INVALID_ARGUMENT'));
  const tooMany: Snapshot = {
    metadata: { index: 1, term: 1, confState: { ...emptyConfState(), voters: Array.from({ length: 5000 }, (_, id) => id + 1) } },
    data: new Uint8Array(0),
  };
  await assert.rejects(saveSnapshotFile(directory, tooMany, { logger }), (error) => isStorageError(error, 'SNAPSHOT_INVALID_ARGUMENT'));
  assert.deepEqual(await readdir(directory), []);
});
