/**
 * Postings: strictly increasing arrays of series IDs, and the set operations the selector needs. Each
 * operation checks the order of its inputs as it walks them, so a corrupted list stops the query instead
 * of silently returning wrong series.
 */
import { assert } from '../errors.ts';

/** A strictly increasing list of series IDs. */
export type Postings = readonly number[];

/** Below this ratio of lengths a linear merge beats galloping through the longer list. */
const gallopLengthRatioMin = 8;

/**
 * Whether `postings` is strictly increasing.
 *
 * @example
 * isSortedPostings([1, 4, 9]); // true
 */
export function isSortedPostings(postings: Postings): boolean {
  for (let index = 1; index < postings.length; index += 1) {
    if (!(postings[index]! > postings[index - 1]!)) return false;
  }
  return true;
}

/**
 * Series present in every list. Empty input gives an empty result.
 *
 * @example
 * intersectPostings([[1, 2, 3], [2, 3, 4], [3, 9]]); // [3]
 */
export function intersectPostings(lists: readonly Postings[]): number[] {
  if (lists.length === 0) return [];
  const bySize = [...lists].sort((left, right) => left.length - right.length);
  let result: number[] = [...bySize[0]!];
  assert(isSortedPostings(result), 'postings are strictly increasing');
  for (let index = 1; index < bySize.length && result.length > 0; index += 1) {
    result = intersectTwo(result, bySize[index]!);
  }
  return result;
}

/**
 * Series present in at least one list.
 *
 * @example
 * mergePostings([[1, 5], [2, 5, 7]]); // [1, 2, 5, 7]
 */
export function mergePostings(lists: readonly Postings[]): number[] {
  if (lists.length === 0) return [];
  // Merging pairwise in rounds costs O(total × log(list count)), like a heap, with simpler loops.
  let round: Postings[] = [...lists];
  while (round.length > 1) {
    const next: Postings[] = [];
    for (let index = 0; index + 1 < round.length; index += 2) next.push(mergeTwo(round[index]!, round[index + 1]!));
    if (round.length % 2 === 1) next.push(round[round.length - 1]!);
    round = next;
  }
  const result = [...round[0]!];
  assert(lists.length > 1 || isSortedPostings(result), 'postings are strictly increasing');
  return result;
}

/**
 * Series in `from` that are not in `remove`.
 *
 * @example
 * subtractPostings([1, 2, 3, 4], [2, 4, 6]); // [1, 3]
 */
export function subtractPostings(from: Postings, remove: Postings): number[] {
  const result: number[] = [];
  let removeIndex = 0;
  let previous = -Infinity;
  for (let index = 0; index < from.length; index += 1) {
    const id = from[index]!;
    assert(id > previous, 'postings are strictly increasing');
    previous = id;
    removeIndex = seekIndex(remove, removeIndex, id);
    if (removeIndex >= remove.length || remove[removeIndex] !== id) result.push(id);
  }
  assert(remove.length === 0 || isSortedPostings(remove), 'postings are strictly increasing');
  return result;
}

/**
 * Inserts `id` keeping the order; returns false if it was already present. Appending a new largest ID,
 * the usual case since the head hands out increasing IDs, costs O(1).
 */
export function insertPosting(postings: number[], id: number): boolean {
  const last = postings[postings.length - 1];
  if (last === undefined || id > last) {
    postings.push(id);
    return true;
  }
  const index = seekIndex(postings, 0, id);
  if (postings[index] === id) return false;
  postings.splice(index, 0, id);
  assert(postings[index] === id, 'inserted where it belongs');
  return true;
}

function intersectTwo(small: Postings, large: Postings): number[] {
  const result: number[] = [];
  const gallop = large.length >= small.length * gallopLengthRatioMin;
  let largeIndex = 0;
  let previous = -Infinity;
  for (let index = 0; index < small.length && largeIndex < large.length; index += 1) {
    const id = small[index]!;
    largeIndex = gallop ? seekIndex(large, largeIndex, id) : advanceLinearly(large, largeIndex, id);
    if (large[largeIndex] === id) result.push(id);
    assert(id > previous, 'postings are strictly increasing');
    previous = id;
  }
  return result;
}

function mergeTwo(left: Postings, right: Postings): number[] {
  const result: number[] = [];
  let leftIndex = 0;
  let rightIndex = 0;
  while (leftIndex < left.length && rightIndex < right.length) {
    const leftId = left[leftIndex]!;
    const rightId = right[rightIndex]!;
    if (leftId <= rightId) leftIndex += 1;
    if (rightId <= leftId) rightIndex += 1;
    pushIncreasing(result, leftId < rightId ? leftId : rightId);
  }
  while (leftIndex < left.length) pushIncreasing(result, left[leftIndex++]!);
  while (rightIndex < right.length) pushIncreasing(result, right[rightIndex++]!);
  return result;
}

function pushIncreasing(result: number[], id: number): void {
  const last = result[result.length - 1];
  assert(last === undefined || id > last, 'postings are strictly increasing');
  result.push(id);
}

function advanceLinearly(postings: Postings, start: number, id: number): number {
  let index = start;
  while (index < postings.length && postings[index]! < id) index += 1;
  return index;
}

/** The first index at or after `start` whose ID is >= `id`: exponential probe, then binary search. */
function seekIndex(postings: Postings, start: number, id: number): number {
  if (start >= postings.length || postings[start]! >= id) return start;
  let step = 1;
  let low = start;
  let high = start + step;
  while (high < postings.length && postings[high]! < id) {
    low = high;
    step *= 2;
    high = start + step;
  }
  if (high > postings.length) high = postings.length;
  // Invariant: postings[low] < id, and postings[high] >= id or high is the length.
  while (high - low > 1) {
    const middle = (low + high) >>> 1;
    if (postings[middle]! < id) low = middle;
    else high = middle;
  }
  return high;
}
