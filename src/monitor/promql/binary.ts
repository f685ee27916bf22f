/**
 * Binary operators at one evaluation step, with Prometheus 2.42's semantics: arithmetic and comparison
 * between scalars and vectors, `bool`, set operators, one-to-one and many-to-one/one-to-many matching with
 * `on`/`ignoring` and `group_left`/`group_right`, and the errors for ambiguous matches.
 */
import type { BinaryOp, VectorMatching } from './ast.ts';
import { comparisonOps } from './ast.ts';
import { executionError } from './errors.ts';
import { dropMetricName, formatLabelsForError, labelsKey, matchingKey, matchingLabels } from './_labels.ts';
import type { VectorElement } from './_vector.ts';
import { Labels, metricNameLabel } from '../tsdb/labels.ts';

/** Operators whose result drops the metric name. Prometheus 2.42 keeps it for atan2 (shouldDropMetricName). */
const nameDroppingOps: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['+', '-', '*', '/', '%', '^']);

/** The value of `lhs op rhs` and, for comparisons, whether the comparison holds. */
export function applyOperator(op: BinaryOp, lhs: number, rhs: number): { value: number; keep: boolean } {
  switch (op) {
    case '+': return { value: lhs + rhs, keep: true };
    case '-': return { value: lhs - rhs, keep: true };
    case '*': return { value: lhs * rhs, keep: true };
    case '/': return { value: lhs / rhs, keep: true };
    case '%': return { value: goMod(lhs, rhs), keep: true };
    case '^': return { value: goPow(lhs, rhs), keep: true };
    case 'atan2': return { value: Math.atan2(lhs, rhs), keep: true };
    case '==': return { value: lhs, keep: lhs === rhs };
    case '!=': return { value: lhs, keep: lhs !== rhs };
    case '>': return { value: lhs, keep: lhs > rhs };
    case '<': return { value: lhs, keep: lhs < rhs };
    case '>=': return { value: lhs, keep: lhs >= rhs };
    case '<=': return { value: lhs, keep: lhs <= rhs };
    default: throw executionError(`operator ${JSON.stringify(op)} not allowed for operations between vector elements`);
  }
}

/** Go's math.Mod: the result takes the sign of the dividend, like JavaScript's `%`. */
function goMod(lhs: number, rhs: number): number {
  return lhs % rhs;
}

/** Go's math.Pow, which differs from JavaScript's `**` for a base of ±1 and an infinite or NaN exponent. */
function goPow(base: number, exponent: number): number {
  if (exponent === 0) return 1;
  if (base === 1) return 1;
  if (base === -1 && (exponent === Infinity || exponent === -Infinity)) return 1;
  return base ** exponent;
}

/** `scalar op scalar` (comparisons give 0 or 1; the parser demands `bool` for them). */
export function scalarBinary(op: BinaryOp, lhs: number, rhs: number): number {
  const { value, keep } = applyOperator(op, lhs, rhs);
  return comparisonOps.has(op) ? (keep ? 1 : 0) : value;
}

/** `vector op scalar`, or `scalar op vector` when `scalarOnLeft`. */
export function vectorScalarBinary(
  op: BinaryOp,
  vector: readonly VectorElement[],
  scalar: number,
  options: { scalarOnLeft: boolean; returnBool: boolean },
): VectorElement[] {
  const out: VectorElement[] = [];
  const isComparison = comparisonOps.has(op);
  for (const element of vector) {
    const [lhs, rhs] = options.scalarOnLeft ? [scalar, element.value] : [element.value, scalar];
    let { value, keep } = applyOperator(op, lhs, rhs);
    // A comparison keeps the vector element's value, whichever side it is on.
    if (isComparison && options.scalarOnLeft) value = rhs;
    if (options.returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    const labels = nameDroppingOps.has(op) || options.returnBool ? dropMetricName(element.labels) : element.labels;
    out.push({ labels, value });
  }
  return out;
}

/** Caches the matching key of each input series across steps. */
export class SignatureCache {
  readonly #on: boolean;
  readonly #names: ReadonlySet<string>;
  readonly #keys = new Map<Labels, string>();

  constructor(matching: VectorMatching) {
    this.#on = matching.on;
    this.#names = new Set(matching.matchingLabels);
  }

  signature(labels: Labels): string {
    let key = this.#keys.get(labels);
    if (key === undefined) {
      key = matchingKey(labels, this.#on, this.#names);
      this.#keys.set(labels, key);
    }
    return key;
  }
}

/** `lhs and rhs`: left elements whose match group exists on the right. */
export function vectorAnd(lhs: readonly VectorElement[], rhs: readonly VectorElement[], signatures: SignatureCache): VectorElement[] {
  if (lhs.length === 0 || rhs.length === 0) return [];
  const rightSignatures = new Set(rhs.map((element) => signatures.signature(element.labels)));
  return lhs.filter((element) => rightSignatures.has(signatures.signature(element.labels)));
}

/** `lhs or rhs`: every left element, then right elements whose match group is absent on the left. */
export function vectorOr(lhs: readonly VectorElement[], rhs: readonly VectorElement[], signatures: SignatureCache): VectorElement[] {
  if (lhs.length === 0) return [...rhs];
  if (rhs.length === 0) return [...lhs];
  const leftSignatures = new Set(lhs.map((element) => signatures.signature(element.labels)));
  return [...lhs, ...rhs.filter((element) => !leftSignatures.has(signatures.signature(element.labels)))];
}

/** `lhs unless rhs`: left elements whose match group is absent on the right. */
export function vectorUnless(lhs: readonly VectorElement[], rhs: readonly VectorElement[], signatures: SignatureCache): VectorElement[] {
  if (lhs.length === 0 || rhs.length === 0) return [...lhs];
  const rightSignatures = new Set(rhs.map((element) => signatures.signature(element.labels)));
  return lhs.filter((element) => !rightSignatures.has(signatures.signature(element.labels)));
}

/**
 * Caches result label sets per (left, right) pair across steps. Input series keep their label objects for
 * the whole evaluation, so identity is the key, and each result keeps one object too.
 */
export class ResultLabelsCache {
  readonly #cache = new Map<Labels, Map<Labels, Labels>>();

  resultLabels(lhs: Labels, rhs: Labels, op: BinaryOp, matching: VectorMatching): Labels {
    let byRight = this.#cache.get(lhs);
    if (byRight === undefined) {
      byRight = new Map();
      this.#cache.set(lhs, byRight);
    }
    let labels = byRight.get(rhs);
    if (labels === undefined) {
      labels = computeResultLabels(lhs, rhs, op, matching);
      byRight.set(rhs, labels);
    }
    return labels;
  }
}

function computeResultLabels(lhs: Labels, rhs: Labels, op: BinaryOp, matching: VectorMatching): Labels {
  const pairs = new Map<string, string>();
  for (const { name, value } of lhs) pairs.set(name, value);
  if (nameDroppingOps.has(op)) pairs.delete(metricNameLabel);
  if (matching.cardinality === 'one-to-one') {
    const names = new Set(matching.matchingLabels);
    for (const name of [...pairs.keys()]) {
      if (matching.on ? !names.has(name) : names.has(name)) pairs.delete(name);
    }
  }
  for (const name of matching.include) {
    // Labels named by group_left/group_right come from the "one" side.
    const value = rhs.get(name);
    if (value !== '') pairs.set(name, value);
    else pairs.delete(name);
  }
  return Labels.fromPairs(pairs);
}

/** Arithmetic or comparison between two vectors with one-to-one, many-to-one or one-to-many matching. */
export function vectorBinary(
  op: BinaryOp,
  lhsInput: readonly VectorElement[],
  rhsInput: readonly VectorElement[],
  options: { matching: VectorMatching; returnBool: boolean; signatures: SignatureCache; resultLabels: ResultLabelsCache },
): VectorElement[] {
  const { matching, returnBool, signatures } = options;
  if (lhsInput.length === 0 || rhsInput.length === 0) return [];
  // One-to-many is many-to-one with the sides swapped; values are swapped back below.
  const swapped = matching.cardinality === 'one-to-many';
  const [lhs, rhs] = swapped ? [rhsInput, lhsInput] : [lhsInput, rhsInput];
  const oneSide = indexOneSide(rhs, signatures, matching, swapped);
  const matchedSignatures = new Map<string, Set<string> | null>();
  const out: VectorElement[] = [];
  for (const left of lhs) {
    const signature = signatures.signature(left.labels);
    const right = oneSide.get(signature);
    if (right === undefined) continue;
    const [lhsValue, rhsValue] = swapped ? [right.value, left.value] : [left.value, right.value];
    const result = applyOperator(op, lhsValue, rhsValue);
    if (!returnBool && !result.keep) continue;
    const value = returnBool ? (result.keep ? 1 : 0) : result.value;
    let labels = options.resultLabels.resultLabels(left.labels, right.labels, op, matching);
    if (returnBool) labels = dropMetricName(labels);
    recordMatch(matchedSignatures, signature, labels, matching);
    out.push({ labels, value });
  }
  return out;
}

/** Indexes the "one" side by signature; two elements with one signature make the match many-to-many. */
function indexOneSide(
  elements: readonly VectorElement[],
  signatures: SignatureCache,
  matching: VectorMatching,
  swapped: boolean,
): Map<string, VectorElement> {
  const bySignature = new Map<string, VectorElement>();
  for (const element of elements) {
    const signature = signatures.signature(element.labels);
    const duplicate = bySignature.get(signature);
    if (duplicate !== undefined) {
      const group = matchingLabels(element.labels, matching.on, new Set(matching.matchingLabels));
      throw executionError(
        `found duplicate series for the match group ${formatLabelsForError(group)} on the ${swapped ? 'left' : 'right'} hand-side of the operation: ` +
          `[${formatLabelsForError(element.labels)}, ${formatLabelsForError(duplicate.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    bySignature.set(signature, element);
  }
  return bySignature;
}

function recordMatch(matched: Map<string, Set<string> | null>, signature: string, labels: Labels, matching: VectorMatching): void {
  const inserted = matched.get(signature);
  if (matching.cardinality === 'one-to-one') {
    if (inserted !== undefined) throw executionError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
    matched.set(signature, null);
    return;
  }
  const resultKey = labelsKey(labels);
  if (inserted === undefined || inserted === null) {
    matched.set(signature, new Set([resultKey]));
    return;
  }
  if (inserted.has(resultKey)) throw executionError('multiple matches for labels: grouping labels must ensure unique matches');
  inserted.add(resultKey);
}
