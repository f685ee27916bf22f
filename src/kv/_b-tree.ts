/**
 * An ordered map from binary-string keys to values: a B+ tree whose leaves are chained for range scans.
 * Lookups, inserts and deletes are O(log n); a range scan is O(log n + k).
 *
 * Each entry also carries a mark (the store marks keys that are live now), and internal nodes keep the
 * number of marked entries under each child, so counting the marked keys of a range is O(log n) instead of
 * a scan that touches every value (which costs a cache miss or more per key).
 *
 * Leaves and internal nodes hold at most {@link nodeEntriesMax} entries and, except the root, at least half.
 */
import { assert } from './errors.ts';

export const nodeEntriesMax = 64;
/** Keys the exact-lookup map of a {@link BTreeMap} holds at most (half of what a V8 Map can). */
export const exactKeysMaxDefault = 1 << 23;
const nodeEntriesMin = nodeEntriesMax / 2;

class LeafNode<V> {
  readonly leaf = true;
  keys: string[] = [];
  values: V[] = [];
  marks: boolean[] = [];
  next: LeafNode<V> | null = null;
}

class InternalNode<V> {
  readonly leaf = false;
  /** Invariant: separators[i] is <= every key under children[i + 1] and > every key under children[i]. */
  separators: string[] = [];
  children: Array<TreeNode<V>> = [];
  /** Invariant: counts[i] is the number of marked entries under children[i]. */
  counts: number[] = [];
}

type TreeNode<V> = LeafNode<V> | InternalNode<V>;

interface Split<V> {
  readonly separator: string;
  readonly right: TreeNode<V>;
}

/** First index whose key is >= `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** First index whose key is > `key`: the child of an internal node that covers `key`. */
function upperBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) <= key) low = middle + 1;
    else high = middle;
  }
  return low;
}

function entryCount<V>(node: TreeNode<V>): number {
  return node.leaf ? node.keys.length : node.children.length;
}

function sum(values: readonly number[], end = values.length): number {
  let total = 0;
  for (let index = 0; index < end; index++) total += values[index] as number;
  return total;
}

function markedCount<V>(node: TreeNode<V>): number {
  if (!node.leaf) return sum(node.counts);
  let total = 0;
  for (const mark of node.marks) if (mark) total++;
  return total;
}

export class BTreeMap<V> {
  #root: TreeNode<V> = new LeafNode<V>();
  #size = 0;
  /**
   * The same entries in a hash map, for `get`: a put looks its key up three times (the previous record, the
   * write's check, the append), and a descent of the tree costs a cache miss or more per string compared
   * (about 18 at 100,000 keys), where the map costs one or two. The tree stays the order, for ranges and
   * counts. Past `exactKeysMax` keys (V8's Map holds at most 2^24) the map is dropped and `get` descends.
   */
  #exact: Map<string, V> | null = new Map<string, V>();
  readonly #exactKeysMax: number;

  constructor(options: { readonly exactKeysMax?: number } = {}) {
    this.#exactKeysMax = options.exactKeysMax ?? exactKeysMaxDefault;
  }

  get size(): number {
    return this.#size;
  }

  get(key: string): V | undefined {
    if (this.#exact !== null) return this.#exact.get(key);
    const leaf = this.#leafFor(key);
    const index = lowerBound(leaf.keys, key);
    return leaf.keys[index] === key ? leaf.values[index] : undefined;
  }

  /** Inserts (unmarked) or replaces the value (keeping the mark). */
  set(key: string, value: V): void {
    const exact = this.#exact;
    if (exact !== null) {
      if (exact.size >= this.#exactKeysMax && !exact.has(key)) this.#exact = null;
      else exact.set(key, value);
    }
    const split = this.#insert(this.#root, key, value);
    if (split !== null) {
      const root = new InternalNode<V>();
      root.separators = [split.separator];
      root.children = [this.#root, split.right];
      root.counts = [markedCount(this.#root), markedCount(split.right)];
      this.#root = root;
    }
  }

  /** Sets the mark of an existing key, keeping the counts on its path. */
  setMarked(key: string, marked: boolean): void {
    const path: Array<[InternalNode<V>, number]> = [];
    let node = this.#root;
    while (!node.leaf) {
      const childIndex = upperBound(node.separators, key);
      path.push([node, childIndex]);
      node = node.children[childIndex] as TreeNode<V>;
    }
    const index = lowerBound(node.keys, key);
    assert(node.keys[index] === key, 'only an existing key is marked');
    if (node.marks[index] === marked) return;
    node.marks[index] = marked;
    const delta = marked ? 1 : -1;
    for (const [parent, childIndex] of path) parent.counts[childIndex] = (parent.counts[childIndex] as number) + delta;
  }

  isMarked(key: string): boolean {
    const leaf = this.#leafFor(key);
    const index = lowerBound(leaf.keys, key);
    return leaf.keys[index] === key && leaf.marks[index] === true;
  }

  /** Marked keys with start <= key < end (end null: unbounded), in O(log n). */
  countMarked(start: string, end: string | null): number {
    if (end !== null && end <= start) return 0;
    const below = (key: string | null): number => (key === null ? markedCount(this.#root) : this.#markedBelow(key));
    return below(end) - below(start);
  }

  #markedBelow(key: string): number {
    let total = 0;
    let node = this.#root;
    while (!node.leaf) {
      const childIndex = upperBound(node.separators, key);
      total += sum(node.counts, childIndex);
      node = node.children[childIndex] as TreeNode<V>;
    }
    const end = lowerBound(node.keys, key);
    for (let index = 0; index < end; index++) if (node.marks[index] === true) total++;
    return total;
  }

  delete(key: string): boolean {
    this.#exact?.delete(key);
    if (this.isMarked(key)) this.setMarked(key, false);
    const removed = this.#remove(this.#root, key);
    const root = this.#root;
    if (!root.leaf && root.children.length === 1) this.#root = root.children[0] as TreeNode<V>;
    return removed;
  }

  /**
   * Visits entries with start <= key < end (end null: unbounded) in ascending order until `visit` returns
   * false. With `markedOnly`, unmarked entries are skipped without touching their values.
   */
  forEachInRange(start: string, end: string | null, visit: (key: string, value: V) => boolean, markedOnly = false): void {
    let leaf: LeafNode<V> | null = this.#leafFor(start);
    let index = lowerBound(leaf.keys, start);
    while (leaf !== null) {
      const keys = leaf.keys;
      for (; index < keys.length; index++) {
        const key = keys[index] as string;
        if (end !== null && key >= end) return;
        if (markedOnly && leaf.marks[index] !== true) continue;
        if (!visit(key, leaf.values[index] as V)) return;
      }
      leaf = leaf.next;
      index = 0;
    }
  }

  #leafFor(key: string): LeafNode<V> {
    let node = this.#root;
    while (!node.leaf) node = node.children[upperBound(node.separators, key)] as TreeNode<V>;
    return node;
  }

  #insert(node: TreeNode<V>, key: string, value: V): Split<V> | null {
    if (node.leaf) return this.#insertIntoLeaf(node, key, value);
    const childIndex = upperBound(node.separators, key);
    const child = node.children[childIndex] as TreeNode<V>;
    const split = this.#insert(child, key, value);
    if (split === null) return null;
    node.separators.splice(childIndex, 0, split.separator);
    node.children.splice(childIndex + 1, 0, split.right);
    node.counts[childIndex] = markedCount(child);
    node.counts.splice(childIndex + 1, 0, markedCount(split.right));
    if (node.children.length <= nodeEntriesMax) return null;
    const middle = node.separators.length >>> 1;
    const right = new InternalNode<V>();
    const separator = node.separators[middle] as string;
    right.separators = node.separators.slice(middle + 1);
    right.children = node.children.slice(middle + 1);
    right.counts = node.counts.slice(middle + 1);
    node.separators.length = middle;
    node.children.length = middle + 1;
    node.counts.length = middle + 1;
    return { separator, right };
  }

  #insertIntoLeaf(leaf: LeafNode<V>, key: string, value: V): Split<V> | null {
    const index = lowerBound(leaf.keys, key);
    if (leaf.keys[index] === key) {
      leaf.values[index] = value;
      return null;
    }
    leaf.keys.splice(index, 0, key);
    leaf.values.splice(index, 0, value);
    leaf.marks.splice(index, 0, false);
    this.#size++;
    if (leaf.keys.length <= nodeEntriesMax) return null;
    const middle = leaf.keys.length >>> 1;
    const right = new LeafNode<V>();
    right.keys = leaf.keys.slice(middle);
    right.values = leaf.values.slice(middle);
    right.marks = leaf.marks.slice(middle);
    leaf.keys.length = middle;
    leaf.values.length = middle;
    leaf.marks.length = middle;
    right.next = leaf.next;
    leaf.next = right;
    return { separator: right.keys[0] as string, right };
  }

  #remove(node: TreeNode<V>, key: string): boolean {
    if (node.leaf) {
      const index = lowerBound(node.keys, key);
      if (node.keys[index] !== key) return false;
      assert(node.marks[index] === false, 'a removed entry is unmarked first');
      node.keys.splice(index, 1);
      node.values.splice(index, 1);
      node.marks.splice(index, 1);
      this.#size--;
      return true;
    }
    const childIndex = upperBound(node.separators, key);
    const removed = this.#remove(node.children[childIndex] as TreeNode<V>, key);
    if (removed) this.#rebalance(node, childIndex);
    return removed;
  }

  /** Restores the minimum fill of `parent.children[childIndex]` by borrowing from or merging with a sibling. */
  #rebalance(parent: InternalNode<V>, childIndex: number): void {
    const child = parent.children[childIndex] as TreeNode<V>;
    if (entryCount(child) >= nodeEntriesMin) return;
    const left = childIndex > 0 ? (parent.children[childIndex - 1] as TreeNode<V>) : null;
    const right = childIndex + 1 < parent.children.length ? (parent.children[childIndex + 1] as TreeNode<V>) : null;
    assert(left !== null || right !== null, 'a non-root node has a sibling');
    if (left !== null && entryCount(left) > nodeEntriesMin) this.#borrowFromLeft(parent, childIndex, left, child);
    else if (right !== null && entryCount(right) > nodeEntriesMin) this.#borrowFromRight(parent, childIndex, child, right);
    else if (left !== null) this.#merge(parent, childIndex - 1, left, child);
    else this.#merge(parent, childIndex, child, right as TreeNode<V>);
  }

  /** Moves `moved` marked entries from parent.children[from] to parent.children[to] in the parent's counts. */
  #moveCount(parent: InternalNode<V>, from: number, to: number, moved: number): void {
    parent.counts[from] = (parent.counts[from] as number) - moved;
    parent.counts[to] = (parent.counts[to] as number) + moved;
  }

  #borrowFromLeft(parent: InternalNode<V>, childIndex: number, left: TreeNode<V>, child: TreeNode<V>): void {
    if (left.leaf && child.leaf) {
      const mark = left.marks.pop() as boolean;
      child.keys.unshift(left.keys.pop() as string);
      child.values.unshift(left.values.pop() as V);
      child.marks.unshift(mark);
      parent.separators[childIndex - 1] = child.keys[0] as string;
      this.#moveCount(parent, childIndex - 1, childIndex, mark ? 1 : 0);
      return;
    }
    assert(!left.leaf && !child.leaf, 'siblings are on the same level');
    const moved = left.counts.pop() as number;
    child.separators.unshift(parent.separators[childIndex - 1] as string);
    child.children.unshift(left.children.pop() as TreeNode<V>);
    child.counts.unshift(moved);
    parent.separators[childIndex - 1] = left.separators.pop() as string;
    this.#moveCount(parent, childIndex - 1, childIndex, moved);
  }

  #borrowFromRight(parent: InternalNode<V>, childIndex: number, child: TreeNode<V>, right: TreeNode<V>): void {
    if (right.leaf && child.leaf) {
      const mark = right.marks.shift() as boolean;
      child.keys.push(right.keys.shift() as string);
      child.values.push(right.values.shift() as V);
      child.marks.push(mark);
      parent.separators[childIndex] = right.keys[0] as string;
      this.#moveCount(parent, childIndex + 1, childIndex, mark ? 1 : 0);
      return;
    }
    assert(!right.leaf && !child.leaf, 'siblings are on the same level');
    const moved = right.counts.shift() as number;
    child.separators.push(parent.separators[childIndex] as string);
    child.children.push(right.children.shift() as TreeNode<V>);
    child.counts.push(moved);
    parent.separators[childIndex] = right.separators.shift() as string;
    this.#moveCount(parent, childIndex + 1, childIndex, moved);
  }

  /** Moves everything of `right` (at leftIndex + 1) into `left` (at leftIndex) and drops `right`. */
  #merge(parent: InternalNode<V>, leftIndex: number, left: TreeNode<V>, right: TreeNode<V>): void {
    if (left.leaf && right.leaf) {
      for (let index = 0; index < right.keys.length; index++) {
        left.keys.push(right.keys[index] as string);
        left.values.push(right.values[index] as V);
        left.marks.push(right.marks[index] as boolean);
      }
      left.next = right.next;
    } else {
      assert(!left.leaf && !right.leaf, 'siblings are on the same level');
      left.separators.push(parent.separators[leftIndex] as string, ...right.separators);
      left.children.push(...right.children);
      left.counts.push(...right.counts);
    }
    assert(entryCount(left) <= nodeEntriesMax, 'a merge fits one node');
    this.#moveCount(parent, leftIndex + 1, leftIndex, parent.counts[leftIndex + 1] as number);
    parent.separators.splice(leftIndex, 1);
    parent.children.splice(leftIndex + 1, 1);
    parent.counts.splice(leftIndex + 1, 1);
  }

  /** Checks every structural invariant; for tests. Returns the tree's height. */
  checkInvariants(): number {
    const leaves: Array<LeafNode<V>> = [];
    const height = this.#checkNode(this.#root, null, null, true, leaves);
    let count = 0;
    for (let index = 0; index < leaves.length; index++) {
      const leaf = leaves[index] as LeafNode<V>;
      assert(leaf.next === (leaves[index + 1] ?? null), 'leaves are chained in order');
      count += leaf.keys.length;
      if (this.#exact !== null) {
        for (let entry = 0; entry < leaf.keys.length; entry++) assert(this.#exact.get(leaf.keys[entry] as string) === leaf.values[entry], 'the exact-lookup map agrees with the tree');
      }
    }
    assert(count === this.#size, 'size matches the entries');
    assert(this.#exact === null || this.#exact.size === this.#size, 'the exact-lookup map holds every key');
    return height;
  }

  #checkNode(node: TreeNode<V>, low: string | null, high: string | null, isRoot: boolean, leaves: Array<LeafNode<V>>): number {
    const keys = node.leaf ? node.keys : node.separators;
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index] as string;
      assert(index === 0 || (keys[index - 1] as string) < key, 'keys ascend strictly');
      assert(low === null || key >= low, 'keys respect the lower separator');
      assert(high === null || key < high, 'keys respect the upper separator');
    }
    assert(entryCount(node) <= nodeEntriesMax, 'a node is not overfull');
    assert(isRoot || entryCount(node) >= nodeEntriesMin, 'a non-root node is at least half full');
    if (node.leaf) {
      assert(node.keys.length === node.values.length && node.keys.length === node.marks.length, 'a leaf has a value and a mark per key');
      leaves.push(node);
      return 1;
    }
    assert(node.children.length === node.separators.length + 1, 'an internal node has one more child than separators');
    assert(node.counts.length === node.children.length, 'an internal node has a count per child');
    assert(!isRoot || node.children.length >= 2, 'an internal root has two children');
    let height = -1;
    for (let index = 0; index < node.children.length; index++) {
      const child = node.children[index] as TreeNode<V>;
      assert(node.counts[index] === markedCount(child), 'a child count matches its marked entries');
      const childLow = index === 0 ? low : (node.separators[index - 1] as string);
      const childHigh = index === node.separators.length ? high : (node.separators[index] as string);
      const childHeight = this.#checkNode(child, childLow, childHigh, false, leaves);
      assert(height === -1 || height === childHeight, 'all leaves are at the same depth');
      height = childHeight;
    }
    return height + 1;
  }
}
