/**
 * Aggregation operators at one evaluation step (Prometheus 2.42's `aggregation`): sum, avg, min, max,
 * count, group, stddev, stdvar, topk, bottomk, quantile and count_values, grouped `by` or `without` labels.
 * Groups are emitted in the order their first element appears, as in Prometheus.
 */
import type { AggregateOp } from './ast.ts';
import { assertPromql, executionError } from './errors.ts';
import { keepLabels, matchingKey, removeLabels } from './_labels.ts';
import { formatFloat, formatGoFloat } from './_literals.ts';
import { quantile } from './quantile.ts';
import type { VectorElement } from './_vector.ts';
import { isValidLabelName, Labels, metricNameLabel } from '../tsdb/labels.ts';

export interface AggregationSpec {
  readonly op: AggregateOp;
  /** Sorted grouping labels. */
  readonly grouping: readonly string[];
  readonly without: boolean;
}

interface Group {
  readonly labels: Labels;
  value: number;
  mean: number;
  count: number;
  /** topk/bottomk: a heap in Go's container/heap layout; quantile: every value. */
  readonly heap: VectorElement[];
}

/**
 * Caches grouping keys and group labels per input series across steps, so a group keeps one label object
 * (and its cached key) for the whole evaluation.
 */
export class GroupingCache {
  readonly #spec: AggregationSpec;
  readonly #names: ReadonlySet<string>;
  readonly #keys = new Map<Labels, string>();
  readonly #groupLabels = new Map<Labels, Labels>();

  constructor(spec: AggregationSpec) {
    this.#spec = spec;
    this.#names = new Set(spec.grouping);
  }

  key(labels: Labels): string {
    let key = this.#keys.get(labels);
    if (key === undefined) {
      key = matchingKey(labels, !this.#spec.without, this.#names);
      this.#keys.set(labels, key);
    }
    return key;
  }

  /** The labels of the group an input series falls in. */
  groupLabels(labels: Labels): Labels {
    let group = this.#groupLabels.get(labels);
    if (group === undefined) {
      group = labelsOfGroup(labels, this.#spec.without, this.#names);
      this.#groupLabels.set(labels, group);
    }
    return group;
  }
}

/** `without`: every label but the grouping ones and the name; `by`: only the grouping ones. */
function labelsOfGroup(labels: Labels, without: boolean, names: ReadonlySet<string>): Labels {
  if (without) return removeLabels(labels, new Set([...names, metricNameLabel]));
  return names.size > 0 ? keepLabels(labels, names) : Labels.empty;
}

/**
 * Aggregates one step's vector. `parameter` is the scalar of topk/bottomk/quantile or the label name of
 * count_values.
 *
 * @example
 * aggregate({ op: 'sum', grouping: [], without: false }, vector, undefined, cache); // one element, empty labels
 */
export function aggregate(spec: AggregationSpec, vector: readonly VectorElement[], parameter: number | string | undefined, cache: GroupingCache): VectorElement[] {
  const { op } = spec;
  let k = 0;
  if (op === 'topk' || op === 'bottomk') {
    const requested = parameter as number;
    if (!(requested <= 2 ** 63 && requested >= -(2 ** 63))) throw executionError(`Scalar value ${formatGoFloat(requested)} overflows int64`);
    k = Math.trunc(requested);
    if (k < 1) return [];
  }
  let grouping = spec.grouping;
  let valueLabel: string | undefined;
  if (op === 'count_values') {
    valueLabel = parameter as string;
    if (!isValidLabelName(valueLabel)) throw executionError(`invalid label name ${JSON.stringify(valueLabel)}`);
    if (!spec.without) grouping = [...new Set([...grouping, valueLabel])].sort();
  }
  const names = new Set(grouping);
  const groups = new Map<string, Group>();
  for (const element of vector) {
    let input = element;
    let key: string;
    if (valueLabel !== undefined) {
      input = { labels: element.labels.with(valueLabel, formatFloat(element.value)), value: element.value };
      key = matchingKey(input.labels, !spec.without, names);
    } else {
      key = cache.key(element.labels);
    }
    const group = groups.get(key);
    if (group === undefined) {
      const labels = valueLabel === undefined ? cache.groupLabels(element.labels) : labelsOfGroup(input.labels, spec.without, names);
      groups.set(key, newGroup(spec, input, labels, k));
    } else {
      accumulate(op, group, input, k);
    }
  }
  return emitGroups(op, [...groups.values()], parameter);
}

function newGroup(spec: AggregationSpec, element: VectorElement, labels: Labels, k: number): Group {
  const group: Group = { labels, value: element.value, mean: element.value, count: 1, heap: [] };
  switch (spec.op) {
    case 'stddev':
    case 'stdvar':
      group.value = 0;
      break;
    case 'topk':
    case 'bottomk':
    case 'quantile':
      group.heap.push(element);
      break;
    case 'group':
      group.value = 1;
      break;
    default:
      break;
  }
  if (spec.op === 'topk' || spec.op === 'bottomk') assertHeapBound(group.heap, k);
  return group;
}

function assertHeapBound(heap: readonly VectorElement[], k: number): void {
  assertPromql(heap.length <= Math.max(k, 1), 'a topk/bottomk heap never holds more than k elements');
}

function accumulate(op: AggregateOp, group: Group, element: VectorElement, k: number): void {
  const value = element.value;
  switch (op) {
    case 'sum':
      group.value += value;
      return;
    case 'avg':
      group.count += 1;
      accumulateMean(group, value);
      return;
    case 'max':
      if (group.value < value || Number.isNaN(group.value)) group.value = value;
      return;
    case 'min':
      if (group.value > value || Number.isNaN(group.value)) group.value = value;
      return;
    case 'count':
    case 'count_values':
      group.count += 1;
      return;
    case 'stddev':
    case 'stdvar': {
      group.count += 1;
      const delta = value - group.mean;
      group.mean += delta / group.count;
      group.value += delta * (value - group.mean);
      return;
    }
    case 'topk':
      offerToHeap(group.heap, element, k, lessForTopk);
      return;
    case 'bottomk':
      offerToHeap(group.heap, element, k, lessForBottomk);
      return;
    case 'quantile':
      group.heap.push(element);
      return;
    case 'group':
      return;
  }
}

/** Prometheus's incremental mean, which keeps an infinite mean instead of turning it into NaN. */
function accumulateMean(group: Group, value: number): void {
  if (!Number.isFinite(group.mean) && !Number.isNaN(group.mean)) {
    if (!Number.isFinite(value) && !Number.isNaN(value) && (group.mean > 0) === (value > 0)) return;
    if (Number.isFinite(value)) return;
  }
  group.mean += value / group.count - group.mean / group.count;
}

type Less = (heap: readonly VectorElement[], i: number, j: number) => boolean;

/** Go's vectorByValueHeap: NaN is smallest, so topk evicts NaN first. */
const lessForTopk: Less = (heap, i, j) => Number.isNaN(heap[i]!.value) || heap[i]!.value < heap[j]!.value;
/** Go's vectorByReverseValueHeap. */
const lessForBottomk: Less = (heap, i, j) => Number.isNaN(heap[i]!.value) || heap[i]!.value > heap[j]!.value;

/** Keeps the k "largest" elements under `less`, replaying Go's container/heap so ties resolve identically. */
function offerToHeap(heap: VectorElement[], element: VectorElement, k: number, less: Less): void {
  const top = heap[0]!;
  const better = less === lessForTopk ? top.value < element.value : top.value > element.value;
  if (!(heap.length < k || better || Number.isNaN(top.value))) return;
  if (heap.length === k) {
    if (k === 1) {
      heap[0] = element;
      return;
    }
    heapPop(heap, less);
  }
  heap.push(element);
  heapUp(heap, heap.length - 1, less);
  assertHeapBound(heap, k);
}

function heapPop(heap: VectorElement[], less: Less): void {
  const last = heap.length - 1;
  swap(heap, 0, last);
  heapDown(heap, 0, last, less);
  heap.pop();
}

function heapUp(heap: VectorElement[], start: number, less: Less): void {
  let child = start;
  while (child > 0) {
    const parent = (child - 1) >> 1;
    if (parent === child || !less(heap, child, parent)) break;
    swap(heap, parent, child);
    child = parent;
  }
}

function heapDown(heap: VectorElement[], start: number, length: number, less: Less): void {
  let parent = start;
  for (;;) {
    const left = 2 * parent + 1;
    if (left >= length) break;
    let child = left;
    if (left + 1 < length && less(heap, left + 1, left)) child = left + 1;
    if (!less(heap, child, parent)) break;
    swap(heap, parent, child);
    parent = child;
  }
}

function swap(heap: VectorElement[], i: number, j: number): void {
  const held = heap[i]!;
  heap[i] = heap[j]!;
  heap[j] = held;
}

function emitGroups(op: AggregateOp, groups: readonly Group[], parameter: number | string | undefined): VectorElement[] {
  const out: VectorElement[] = [];
  for (const group of groups) {
    switch (op) {
      case 'avg':
        out.push({ labels: group.labels, value: group.mean });
        break;
      case 'count':
      case 'count_values':
        out.push({ labels: group.labels, value: group.count });
        break;
      case 'stdvar':
        out.push({ labels: group.labels, value: group.value / group.count });
        break;
      case 'stddev':
        out.push({ labels: group.labels, value: Math.sqrt(group.value / group.count) });
        break;
      case 'topk':
      case 'bottomk':
        // Descending for topk, ascending for bottomk; NaN last. Stable, like Go's insertion sort for k ≤ 12.
        out.push(...[...group.heap].sort(op === 'topk' ? compareDescendingNaNLast : compareAscendingNaNLast));
        break;
      case 'quantile':
        out.push({ labels: group.labels, value: quantile(parameter as number, group.heap.map((element) => element.value)) });
        break;
      default:
        out.push({ labels: group.labels, value: group.value });
    }
  }
  return out;
}

/** Ascending by value, NaN after every number; the order of `sort()` and `bottomk`. */
export function compareAscendingNaNLast(left: VectorElement, right: VectorElement): number {
  if (Number.isNaN(left.value)) return Number.isNaN(right.value) ? 0 : 1;
  if (Number.isNaN(right.value)) return -1;
  return left.value < right.value ? -1 : left.value > right.value ? 1 : 0;
}

/** Descending by value, NaN after every number; the order of `sort_desc()` and `topk`. */
export function compareDescendingNaNLast(left: VectorElement, right: VectorElement): number {
  if (Number.isNaN(left.value)) return Number.isNaN(right.value) ? 0 : 1;
  if (Number.isNaN(right.value)) return -1;
  return left.value > right.value ? -1 : left.value < right.value ? 1 : 0;
}
