import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BTreeMap, nodeEntriesMax } from '../../src/kv/_b-tree.ts';
import { seededRandom } from './_helpers.ts';

function collect(tree: BTreeMap<number>, start: string, end: string | null, stopAfter = Infinity, markedOnly = false): string[] {
  const keys: string[] = [];
  tree.forEachInRange(start, end, (key) => {
    keys.push(key);
    return keys.length < stopAfter;
  }, markedOnly);
  return keys;
}

test('a B-tree matches a sorted-array reference under random inserts, deletes and range scans', () => {
  for (const seed of [1, 2, 3]) {
    const random = seededRandom(seed);
    const tree = new BTreeMap<number>();
    const reference = new Map<string, number>();
    for (let step = 0; step < 6000; step++) {
      const key = String.fromCharCode(Math.floor(random() * 40), Math.floor(random() * 40)) + (random() < 0.3 ? '\u00ff' : '');
      if (random() < 0.6) {
        tree.set(key, step);
        reference.set(key, step);
      } else {
        assert.equal(tree.delete(key), reference.delete(key), `seed ${seed} step ${step}`);
      }
      if (step % 500 === 0) tree.checkInvariants();
    }
    tree.checkInvariants();
    assert.equal(tree.size, reference.size);
    const sorted = [...reference.keys()].sort();
    assert.deepEqual(collect(tree, '', null), sorted, `seed ${seed}`);
    for (const key of sorted.slice(0, 50)) assert.equal(tree.get(key), reference.get(key));
    const start = String.fromCharCode(10);
    const end = String.fromCharCode(20, 5);
    assert.deepEqual(collect(tree, start, end), sorted.filter((key) => key >= start && key < end));
  }
});

test('get agrees with a reference when lookups, inserts and deletes of a few keys interleave', () => {
  // Few keys, so the same key is looked up again right after it is set, replaced or deleted, and a
  // delete of one key falls between two lookups of another.
  const random = seededRandom(9);
  const tree = new BTreeMap<number>();
  const reference = new Map<string, number>();
  for (let step = 0; step < 20_000; step++) {
    const key = `k${Math.floor(random() * 8)}`;
    const choice = random();
    if (choice < 0.3) {
      tree.set(key, step);
      reference.set(key, step);
    } else if (choice < 0.45) {
      assert.equal(tree.delete(key), reference.delete(key), `delete ${key} at step ${step}`);
    } else {
      assert.equal(tree.get(key), reference.get(key), `get ${key} at step ${step}`);
    }
  }
});

test('past its key limit the exact-lookup map is dropped and lookups descend the tree', () => {
  const random = seededRandom(11);
  const tree = new BTreeMap<number>({ exactKeysMax: 50 });
  const reference = new Map<string, number>();
  for (let step = 0; step < 4000; step++) {
    const key = `k${Math.floor(random() * 200)}`;
    if (random() < 0.7) {
      tree.set(key, step);
      reference.set(key, step);
    } else {
      assert.equal(tree.delete(key), reference.delete(key));
    }
    assert.equal(tree.get(key), reference.get(key), `step ${step}`);
    if (step % 500 === 0) tree.checkInvariants();
  }
  for (const [key, value] of reference) assert.equal(tree.get(key), value);
});

test('marked counts over any range match a reference through inserts, marks and deletes', () => {
  for (const seed of [4, 5]) {
    const random = seededRandom(seed);
    const tree = new BTreeMap<number>();
    const marked = new Map<string, boolean>();
    const randomKey = (): string => String.fromCharCode(Math.floor(random() * 60), Math.floor(random() * 60));
    for (let step = 0; step < 8000; step++) {
      const key = randomKey();
      const choice = random();
      if (choice < 0.45) {
        tree.set(key, step);
        if (!marked.has(key)) marked.set(key, false);
      } else if (choice < 0.75 && marked.has(key)) {
        const mark = random() < 0.7;
        tree.setMarked(key, mark);
        marked.set(key, mark);
      } else {
        assert.equal(tree.delete(key), marked.delete(key));
      }
      if (step % 400 === 0) {
        tree.checkInvariants();
        const start = randomKey();
        const end = random() < 0.2 ? null : randomKey();
        const expected = [...marked].filter(([entry, mark]) => mark && entry >= start && (end === null || entry < end)).map(([entry]) => entry).sort();
        assert.equal(tree.countMarked(start, end), expected.length, `seed ${seed} step ${step}`);
        assert.deepEqual(collect(tree, start, end, Infinity, true), expected);
      }
    }
    tree.checkInvariants();
    assert.equal(tree.countMarked('', null), [...marked.values()].filter((mark) => mark).length);
  }
});

test('a B-tree keeps its shape through growth to several levels and shrinkage back to empty', () => {
  const tree = new BTreeMap<number>();
  const count = nodeEntriesMax * nodeEntriesMax * 3;
  for (let index = 0; index < count; index++) tree.set(String(index).padStart(6, '0'), index);
  assert.ok(tree.checkInvariants() >= 3, 'at least three levels');
  assert.equal(tree.size, count);
  for (let index = 0; index < count; index += 2) assert.ok(tree.delete(String(index).padStart(6, '0')));
  tree.checkInvariants();
  assert.equal(tree.size, count / 2);
  assert.equal(tree.get('000001'), 1);
  assert.equal(tree.get('000002'), undefined);
  for (let index = 1; index < count; index += 2) assert.ok(tree.delete(String(index).padStart(6, '0')));
  assert.equal(tree.checkInvariants(), 1);
  assert.equal(tree.size, 0);
  assert.deepEqual(collect(tree, '', null), []);
});

test('a B-tree range scan stops when the visitor says so and respects an exclusive end', () => {
  const tree = new BTreeMap<number>();
  for (const key of ['a', 'b', 'c', 'd']) tree.set(key, 0);
  assert.deepEqual(collect(tree, 'b', null, 2), ['b', 'c']);
  assert.deepEqual(collect(tree, 'a', 'c'), ['a', 'b']);
  assert.deepEqual(collect(tree, 'bb', 'd'), ['c']);
  assert.deepEqual(collect(tree, 'e', null), []);
  tree.set('b', 7);
  assert.equal(tree.size, 4, 'set on an existing key replaces');
  assert.equal(tree.get('b'), 7);
  assert.equal(tree.delete('zz'), false);
});
