// The member's heap growth policy: fourfold below 128 MiB of live heap, V8's own factor above, chosen again
// after every full collection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { followHeapGrowth, generousHeapBytesMax, heapGrowingPercent } from '../../src/cli/_gc.ts';

test('the heap may grow fourfold while the live heap is small, and by V8\'s own factor past 128 MiB', () => {
  assert.equal(heapGrowingPercent(40 * 1024 * 1024), 300);
  assert.equal(heapGrowingPercent(generousHeapBytesMax - 1), 300);
  assert.equal(heapGrowingPercent(generousHeapBytesMax), 0);
  assert.equal(heapGrowingPercent(2 * 1024 ** 3), 0);
});

test('the choice is made at start and again after a full collection, and only a change sets the flag', async () => {
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void;
  const set: string[] = [];
  let heapUsed = 10 * 1024 * 1024;
  const following = followHeapGrowth({ setFlags: (flags) => set.push(flags), heapUsedBytes: () => heapUsed });
  try {
    assert.deepEqual(set, ['--heap-growing-percent=300']);
    collect({ type: 'minor' });
    heapUsed = 200 * 1024 * 1024;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(set, ['--heap-growing-percent=300'], 'a scavenge does not choose again');
    collect();
    for (let waited = 0; set.length < 2 && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(set, ['--heap-growing-percent=300', '--heap-growing-percent=0']);
    collect();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(set.length, 2, 'the same choice is not set twice');
  } finally {
    following.stop();
  }
});
