import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  insertPosting,
  intersectPostings,
  isSortedPostings,
  mergePostings,
  SymbolTable,
  subtractPostings,
} from '../../../src/monitor/tsdb/index.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';
import type { Random } from '../helpers/random.ts';

/** A sorted list of distinct IDs; sizes vary widely so both the linear and the galloping paths run. */
function randomPostings(random: Random): number[] {
  const size = random.pick([0, 1, 3, 20, 200, 2000]);
  const universe = random.pick([10, 300, 5000, 100_000]);
  const ids = new Set<number>();
  for (let index = 0; index < size; index += 1) ids.add(random.below(universe));
  return [...ids].sort((left, right) => left - right);
}

const naiveIntersect = (lists: number[][]): number[] =>
  lists.length === 0 ? [] : lists[0]!.filter((id) => lists.every((list) => list.includes(id)));
const naiveMerge = (lists: number[][]): number[] => [...new Set(lists.flat())].sort((left, right) => left - right);
const naiveSubtract = (from: number[], remove: number[]): number[] => from.filter((id) => !new Set(remove).has(id));

test('intersect, merge and subtract agree with a naive reference', () => {
  const seed = testSeed(31);
  const random = seededRandom(seed);
  for (let round = 0; round < 300; round += 1) {
    const lists = Array.from({ length: random.below(5) }, () => randomPostings(random));
    const message = `seed ${seed}, round ${round}`;
    assert.deepEqual(intersectPostings(lists), naiveIntersect(lists), message);
    assert.deepEqual(mergePostings(lists), naiveMerge(lists), message);
    const from = randomPostings(random);
    const remove = randomPostings(random);
    assert.deepEqual(subtractPostings(from, remove), naiveSubtract(from, remove), message);
  }
});

test('results are fresh arrays, never the inputs', () => {
  const list = [1, 2, 3];
  assert.notEqual(intersectPostings([list]), list);
  assert.notEqual(mergePostings([list]), list);
  assert.deepEqual(intersectPostings([]), []);
  assert.deepEqual(mergePostings([]), []);
});

test('unsorted input stops the operation with an assertion', () => {
  assert.throws(() => mergePostings([[3, 1], [2]]), { code: 'TSDB_ASSERTION_FAILED' });
  assert.throws(() => mergePostings([[1, 1]]), { code: 'TSDB_ASSERTION_FAILED' });
  assert.throws(() => subtractPostings([2, 1], []), { code: 'TSDB_ASSERTION_FAILED' });
  assert.throws(() => subtractPostings([1, 2], [5, 4]), { code: 'TSDB_ASSERTION_FAILED' });
  assert.throws(() => intersectPostings([[5, 4, 9], [4, 5, 9, 10]]), { code: 'TSDB_ASSERTION_FAILED' });
});

test('insertPosting keeps order and refuses duplicates', () => {
  const seed = testSeed(32);
  const random = seededRandom(seed);
  const postings: number[] = [];
  const reference = new Set<number>();
  for (let index = 0; index < 2000; index += 1) {
    const id = random.below(1500);
    assert.equal(insertPosting(postings, id), !reference.has(id), `seed ${seed}`);
    reference.add(id);
  }
  assert.ok(isSortedPostings(postings));
  assert.deepEqual(postings, [...reference].sort((left, right) => left - right));
});

test('the symbol table reference-counts, reuses IDs and sorts in UTF-8 order', () => {
  const symbols = new SymbolTable();
  const job = symbols.intern('job');
  assert.equal(symbols.intern('job'), job);
  const emoji = symbols.intern('\ud83d\ude00');
  const privateUse = symbols.intern('\ue000');
  assert.deepEqual(symbols.sorted(), ['job', '\ue000', '\ud83d\ude00']);
  assert.equal(symbols.referenceCount('job'), 2);
  symbols.release(job);
  assert.equal(symbols.symbol(job), 'job');
  symbols.release(job);
  assert.equal(symbols.lookup('job'), undefined);
  assert.throws(() => symbols.symbol(job), { code: 'TSDB_ASSERTION_FAILED' });
  assert.equal(symbols.intern('new'), job); // The freed ID is reused.
  assert.equal(symbols.size, 3);
  assert.notEqual(emoji, privateUse);
});
