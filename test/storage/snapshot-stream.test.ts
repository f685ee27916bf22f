import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Snapshot } from '../../src/raft/types.ts';
import {
  SnapshotChunkWriter, decodeSnapshotChunk, encodeSnapshotChunk, isStorageError, loadSnapshotFile, readSnapshotChunks,
  saveSnapshotFile, snapshotChunkHeaderBytes,
} from '../../src/storage/index.ts';
import { recordingLogger, temporaryDirectory } from './_fixtures.ts';

const chunkBytesMax = 4096;

function snapshotAt(index: number, dataBytes: number): Snapshot {
  return {
    metadata: { index, term: 4, confState: { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } },
    data: Uint8Array.from({ length: dataBytes }, (_, position) => (position * 7 + 3) & 0xff),
  };
}

async function collect(path: string): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  for await (const frame of readSnapshotChunks(path, { chunkBytesMax })) frames.push(frame);
  return frames;
}

async function sourceAndReceiver(context: Parameters<typeof temporaryDirectory>[0], dataBytes: number) {
  const source = await temporaryDirectory(context);
  const target = await temporaryDirectory(context);
  const { logger, warnings } = recordingLogger();
  const snapshot = snapshotAt(900, dataBytes);
  const sourcePath = await saveSnapshotFile(source, snapshot, { logger });
  const receiver = await SnapshotChunkWriter.create(target, { logger, chunkBytesMax });
  return { snapshot, sourcePath, target, receiver, warnings };
}

test('a snapshot streamed in bounded chunks arrives as an identical, checked file', async (context) => {
  const { snapshot, sourcePath, target, receiver } = await sourceAndReceiver(context, 50_000);
  const frames = await collect(sourcePath);
  assert.ok(frames.length >= 12, `only ${frames.length} chunks`);
  for (const frame of frames) assert.ok(frame.length <= snapshotChunkHeaderBytes + chunkBytesMax);
  for (const [position, frame] of frames.entries()) {
    const progress = await receiver.write(frame);
    assert.equal(progress.complete, position === frames.length - 1);
    if (progress.complete) {
      assert.deepEqual(progress.metadata, snapshot.metadata);
      assert.equal(progress.path, join(target, '0000000000000900-0000000000000004.snap'));
    }
  }
  assert.deepEqual(await readFile(join(target, '0000000000000900-0000000000000004.snap')), await readFile(sourcePath));
  assert.deepEqual(await loadSnapshotFile(join(target, '0000000000000900-0000000000000004.snap')), snapshot);
  assert.deepEqual(await readdir(target), ['0000000000000900-0000000000000004.snap']);
  await assert.rejects(receiver.write(frames[0]!), (error) => isStorageError(error, 'SNAPSHOT_STREAM_INVALID'));
});

test('a corrupted chunk is rejected and the stream resumes when it is sent again', async (context) => {
  const { snapshot, sourcePath, target, receiver } = await sourceAndReceiver(context, 20_000);
  const frames = await collect(sourcePath);
  const damaged = frames[2]!.slice();
  damaged[snapshotChunkHeaderBytes + 100]! ^= 0x01;
  await receiver.write(frames[0]!);
  await receiver.write(frames[1]!);
  await assert.rejects(receiver.write(damaged), (error) => isStorageError(error, 'SNAPSHOT_CHUNK_CORRUPT'));
  const header = frames[3]!.slice();
  header[8]! ^= 0x01; // the offset field
  await assert.rejects(receiver.write(header), (error) => isStorageError(error, 'SNAPSHOT_CHUNK_CORRUPT'));
  assert.equal(receiver.receivedBytes, 2 * chunkBytesMax);
  let last = null;
  for (const frame of frames.slice(2)) last = await receiver.write(frame);
  assert.equal(last?.complete, true);
  assert.deepEqual(await loadSnapshotFile(join(target, '0000000000000900-0000000000000004.snap')), snapshot);
});

test('out-of-order, duplicated or resized chunks break the stream protocol', async (context) => {
  const { sourcePath, receiver } = await sourceAndReceiver(context, 20_000);
  const frames = await collect(sourcePath);
  const invalid = (error: unknown): boolean => isStorageError(error, 'SNAPSHOT_STREAM_INVALID');
  await assert.rejects(receiver.write(frames[1]!), invalid, 'a chunk before the first');
  await receiver.write(frames[0]!);
  await assert.rejects(receiver.write(frames[0]!), invalid, 'a duplicate');
  const chunk = decodeSnapshotChunk(frames[1]!, chunkBytesMax);
  await assert.rejects(receiver.write(encodeSnapshotChunk({ ...chunk, fileBytes: chunk.fileBytes + 1 })), invalid, 'a new length');
  await assert.rejects(
    receiver.write(encodeSnapshotChunk({ offset: chunk.offset, fileBytes: chunk.fileBytes, data: new Uint8Array(chunkBytesMax + 1) })),
    (error) => isStorageError(error, 'SNAPSHOT_CHUNK_CORRUPT'),
    'a chunk over the bound',
  );
  await receiver.abort();
  await assert.rejects(receiver.write(frames[1]!), invalid, 'after abort');
});

test('a source file corrupt on disk is caught by the whole-file CRC and leaves nothing behind', async (context) => {
  const { sourcePath, target, receiver } = await sourceAndReceiver(context, 20_000);
  const frames = await collect(sourcePath);
  // Rebuild the frames from a damaged copy: every chunk CRC is right, the file CRC is not.
  const lastChunk = decodeSnapshotChunk(frames[frames.length - 1]!, chunkBytesMax);
  const data = lastChunk.data.slice();
  data[0]! ^= 0xff;
  frames[frames.length - 1] = encodeSnapshotChunk({ ...lastChunk, data });
  for (const frame of frames.slice(0, -1)) await receiver.write(frame);
  await assert.rejects(receiver.write(frames[frames.length - 1]!), (error) => isStorageError(error, 'SNAPSHOT_CORRUPT'));
  assert.deepEqual(await readdir(target), []);
});

test('aborting a transfer removes its temporary file', async (context) => {
  const { sourcePath, target, receiver } = await sourceAndReceiver(context, 20_000);
  const frames = await collect(sourcePath);
  await receiver.write(frames[0]!);
  assert.equal((await readdir(target)).length, 1);
  await receiver.abort();
  assert.deepEqual(await readdir(target), []);
});
