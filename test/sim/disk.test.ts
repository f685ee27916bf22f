import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Entry, EntryType, MemoryStorage } from '../../src/raft/index.ts';
import { Disk, type DiskOptions } from '../../src/sim/disk.ts';
import { PseudoRandom } from '../../src/sim/random.ts';

const options: DiskOptions = { fsyncLatencyTypicalMs: 5, fsyncLatencyMaxMs: 20, slowFsyncProbability: 0, slowFsyncLatencyMs: 0, tornWriteProbability: 0 };

function entries(first: number, count: number, term: number): Entry[] {
  return Array.from({ length: count }, (_, i) => ({ term, index: first + i, type: EntryType.Normal, data: new Uint8Array([i]) }));
}

function freshDisk(diskOptions: DiskOptions, seed = 1): Disk {
  return new Disk(new MemoryStorage({ voters: [1, 2, 3] }), diskOptions, PseudoRandom.fromSeed(seed, 'disk'));
}

test('a write becomes durable only when its fsync completes', () => {
  const disk = freshDisk(options);
  const before = disk.storage.lastIndex();
  const { writeId, doneAtMs } = disk.beginWrite({ snapshot: null, entries: entries(2, 3, 2), hardState: { term: 2, vote: 1, commit: 1 } }, 100);
  assert.ok(doneAtMs > 100 && doneAtMs <= 120);
  assert.equal(disk.storage.lastIndex(), before, 'nothing is durable before the fsync');
  disk.completeWrite(writeId);
  assert.equal(disk.storage.lastIndex(), 4);
  assert.deepEqual(disk.storage.hardState(), { term: 2, vote: 1, commit: 1 });
});

test('one write at a time', () => {
  const disk = freshDisk(options);
  disk.beginWrite({ snapshot: null, entries: entries(2, 1, 2), hardState: null }, 0);
  assert.throws(() => disk.beginWrite({ snapshot: null, entries: entries(3, 1, 2), hardState: null }, 0));
});

test('a crash loses the write in flight', () => {
  const disk = freshDisk(options);
  disk.beginWrite({ snapshot: null, entries: entries(2, 3, 2), hardState: { term: 2, vote: 1, commit: 1 } }, 0);
  const outcome = disk.crash();
  assert.deepEqual(outcome, { idle: false, snapshotKept: false, entriesKept: 0 });
  assert.equal(disk.storage.lastIndex(), 1);
  assert.deepEqual(disk.storage.hardState(), { term: 1, vote: 0, commit: 1 });
  assert.equal(disk.hasPendingWrite(), false);
});

test('a torn write keeps a prefix of its entries and never the hard state', () => {
  let sawPartialPrefix = false;
  for (let seed = 1; seed <= 40; seed++) {
    const disk = freshDisk({ ...options, tornWriteProbability: 1 }, seed);
    disk.beginWrite({ snapshot: null, entries: entries(2, 5, 2), hardState: { term: 2, vote: 3, commit: 1 } }, 0);
    const outcome = disk.crash();
    assert.equal(disk.storage.lastIndex(), 1 + outcome.entriesKept);
    assert.deepEqual(disk.storage.hardState(), { term: 1, vote: 0, commit: 1 }, 'the hard state is written last');
    for (let index = 2; index <= disk.storage.lastIndex(); index++) assert.equal(disk.storage.term(index), 2);
    if (outcome.entriesKept > 0 && outcome.entriesKept < 5) sawPartialPrefix = true;
  }
  assert.ok(sawPartialPrefix, 'some crashes tear the write in the middle');
});

test('a crash with no write in flight changes nothing', () => {
  const disk = freshDisk({ ...options, tornWriteProbability: 1 });
  assert.deepEqual(disk.crash(), { idle: true, snapshotKept: false, entriesKept: 0 });
  assert.equal(disk.storage.lastIndex(), 1);
});

test('slow fsyncs add their latency', () => {
  const disk = freshDisk({ ...options, slowFsyncProbability: 1, slowFsyncLatencyMs: 500 });
  const { doneAtMs } = disk.beginWrite({ snapshot: null, entries: entries(2, 1, 2), hardState: null }, 0);
  assert.ok(doneAtMs >= 500);
});
