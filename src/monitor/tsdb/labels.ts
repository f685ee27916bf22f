/**
 * Label sets: the identity of a series. A set is immutable, sorted by name, free of duplicate names and
 * free of empty values (Prometheus's data model treats `foo=""` as the label being absent, so keeping
 * both forms would split one series into two).
 */
import { assert, TsdbError } from './errors.ts';

/** The label that holds the metric name. */
export const metricNameLabel = '__name__';

const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const metricNamePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** One name/value pair. */
export interface Label {
  readonly name: string;
  readonly value: string;
}

/**
 * Whether `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
 *
 * @example
 * isValidLabelName('job'); // true
 * isValidLabelName('0day'); // false
 */
export function isValidLabelName(name: string): boolean {
  return labelNamePattern.test(name);
}

/**
 * Whether `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
 *
 * @example
 * isValidMetricName('node:cpu:rate5m'); // true
 */
export function isValidMetricName(name: string): boolean {
  return metricNamePattern.test(name);
}

/**
 * Whether `value` is well-formed Unicode (no lone surrogate), so that it has a UTF-8 form.
 *
 * @example
 * isWellFormedLabelValue('caf\u00e9'); // true
 * isWellFormedLabelValue('\ud800'); // false
 */
export function isWellFormedLabelValue(value: string): boolean {
  for (let index = 0; index < value.length; index += 1) {
    const unit = value.charCodeAt(index);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    if (unit > 0xdbff) return false;
    const next = value.charCodeAt(index + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
    index += 1;
  }
  return true;
}

/**
 * Compares two strings in the order of their UTF-8 bytes, which is Prometheus's order for symbols and
 * label values. Plain `<` compares UTF-16 code units, which disagrees for characters above U+FFFF against
 * U+E000..U+FFFF.
 *
 * @example
 * ['b', 'a'].sort(compareStrings); // ['a', 'b']
 */
export function compareStrings(left: string, right: string): number {
  if (left === right) return 0;
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index += 1) {
    const leftUnit = left.charCodeAt(index);
    const rightUnit = right.charCodeAt(index);
    if (leftUnit === rightUnit) continue;
    return utf8OrderKey(leftUnit) - utf8OrderKey(rightUnit);
  }
  return left.length - right.length;
}

/** Surrogates (0xD800..0xDFFF) start characters above U+FFFF, so they sort after 0xE000..0xFFFF in UTF-8. */
function utf8OrderKey(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit <= 0xdfff ? unit + 0x2000 : unit - 0x800;
}

/**
 * An immutable, sorted label set.
 *
 * @example
 * const labels = Labels.fromRecord({ __name__: 'up', job: 'keel', instance: '127.0.0.1:2379' });
 * labels.get('job'); // 'keel'
 * labels.toString(); // 'up{instance="127.0.0.1:2379", job="keel"}'
 */
export class Labels implements Iterable<Label> {
  /** The empty label set. */
  static readonly empty = new Labels([], []);

  /** Invariant: strictly increasing, each a valid label name; same length as #values. */
  readonly #names: readonly string[];
  /** Invariant: non-empty, well-formed strings. */
  readonly #values: readonly string[];
  #hash: number | undefined;
  #string: string | undefined;

  private constructor(names: readonly string[], values: readonly string[]) {
    assert(names.length === values.length, 'one value per name');
    this.#names = names;
    this.#values = values;
  }

  /**
   * The same set with every string copied into memory of its own. A label parsed out of a large text (a
   * scrape body, an import file) is a slice that keeps the whole text alive; a set kept for as long as its
   * series lives is detached first, or each series would pin the megabyte it was first read from.
   */
  detached(): Labels {
    return new Labels(this.#names.map(detachedString), this.#values.map(detachedString));
  }

  /**
   * A set read back from a block index, whose writer validated every label and whose sections are
   * checksummed: only the shape is checked here (names strictly increasing, values non-empty), not each
   * name's syntax, which costs a query a regular expression per label per series.
   */
  static fromIndex(names: string[], values: string[]): Labels {
    for (let index = 0; index < names.length; index += 1) {
      if (values[index] === '' || (index > 0 && !(names[index - 1]! < names[index]!))) {
        throw new TsdbError('TSDB_BLOCK_CORRUPT', `Series labels from an index are not sorted with non-empty values (label ${index}, "${names[index]}").`);
      }
    }
    return new Labels(names, values);
  }

  /** Builds a set from a record; empty values are dropped. Throws a {@link TsdbError} on invalid input. */
  static fromRecord(record: Readonly<Record<string, string>>): Labels {
    return Labels.fromPairs(Object.entries(record));
  }

  /** Builds a set from name/value pairs in any order; empty values are dropped, duplicate names rejected. */
  static fromPairs(pairs: Iterable<readonly [string, string]>): Labels {
    const names: string[] = [];
    const values: string[] = [];
    let emptyCount = 0;
    for (const [name, value] of pairs) {
      validateLabel(name, value);
      // Insertion sort: label sets are small, and this allocates nothing beyond the two arrays.
      let index = names.length;
      while (index > 0 && names[index - 1]! > name) index -= 1;
      if (names[index - 1] === name) {
        throw new TsdbError('TSDB_DUPLICATE_LABEL_NAME', `Label name "${name}" appears twice.`);
      }
      names.splice(index, 0, name);
      values.splice(index, 0, value);
      if (value === '') emptyCount += 1;
    }
    if (emptyCount === 0) return new Labels(names, values);
    // Empty values are dropped only now, so that `a=""` still collides with a second `a`.
    return new Labels(names.filter((_, index) => values[index] !== ''), values.filter((value) => value !== ''));
  }

  /** Orders label sets the way Prometheus does: pair by pair, names first, then values; shorter first. */
  static compare(left: Labels, right: Labels): number {
    const length = Math.min(left.#names.length, right.#names.length);
    for (let index = 0; index < length; index += 1) {
      const byName = compareStrings(left.#names[index]!, right.#names[index]!);
      if (byName !== 0) return byName;
      const byValue = compareStrings(left.#values[index]!, right.#values[index]!);
      if (byValue !== 0) return byValue;
    }
    return left.#names.length - right.#names.length;
  }

  /** Number of labels. */
  get size(): number {
    return this.#names.length;
  }

  /** The value of `name`, or '' when absent (an absent label and an empty one are the same thing). */
  get(name: string): string {
    const index = this.#indexOf(name);
    return index < 0 ? '' : this.#values[index]!;
  }

  has(name: string): boolean {
    return this.#indexOf(name) >= 0;
  }

  /** The metric name, or '' when the set has none. */
  metricName(): string {
    return this.get(metricNameLabel);
  }

  /** The name at `index` in sorted order. */
  nameAt(index: number): string {
    assert(index >= 0 && index < this.#names.length, 'label index in range');
    return this.#names[index]!;
  }

  /** The value at `index` in sorted order. */
  valueAt(index: number): string {
    assert(index >= 0 && index < this.#values.length, 'label index in range');
    return this.#values[index]!;
  }

  *[Symbol.iterator](): Iterator<Label> {
    for (let index = 0; index < this.#names.length; index += 1) {
      yield { name: this.#names[index]!, value: this.#values[index]! };
    }
  }

  toRecord(): Record<string, string> {
    const record: Record<string, string> = {};
    for (let index = 0; index < this.#names.length; index += 1) record[this.#names[index]!] = this.#values[index]!;
    return record;
  }

  equals(other: Labels): boolean {
    if (this === other) return true;
    if (this.#names.length !== other.#names.length) return false;
    for (let index = 0; index < this.#names.length; index += 1) {
      if (this.#names[index] !== other.#names[index] || this.#values[index] !== other.#values[index]) return false;
    }
    return true;
  }

  /** A copy with `name` set to `value`; an empty value removes the label. */
  with(name: string, value: string): Labels {
    validateLabel(name, value);
    const pairs: [string, string][] = [];
    for (let index = 0; index < this.#names.length; index += 1) {
      if (this.#names[index] !== name) pairs.push([this.#names[index]!, this.#values[index]!]);
    }
    pairs.push([name, value]);
    return Labels.fromPairs(pairs);
  }

  /** A copy without the given names. */
  without(...names: string[]): Labels {
    const removed = new Set(names);
    const keptNames: string[] = [];
    const keptValues: string[] = [];
    for (let index = 0; index < this.#names.length; index += 1) {
      if (removed.has(this.#names[index]!)) continue;
      keptNames.push(this.#names[index]!);
      keptValues.push(this.#values[index]!);
    }
    return new Labels(keptNames, keptValues);
  }

  /**
   * The same set with every string replaced by `intern(string)`, which must return an equal string. The
   * index uses it so that a million series share one copy of `job="node"`.
   */
  withInternedStrings(intern: (text: string) => string): Labels {
    const names = this.#names.map(intern);
    const values = this.#values.map(intern);
    for (let index = 0; index < names.length; index += 1) {
      assert(names[index] === this.#names[index] && values[index] === this.#values[index], 'interning keeps strings equal');
    }
    const labels = new Labels(names, values);
    labels.#hash = this.#hash;
    return labels;
  }

  /**
   * A 53-bit hash, stable across processes, platforms and releases (it may be persisted). Two 32-bit lanes
   * of multiply-rotate mixing over the UTF-16 units; each string is prefixed by its length so that
   * `a="bc"` and `ab="c"` differ.
   */
  hash(): number {
    if (this.#hash !== undefined) return this.#hash;
    let first = 0x2f0b_3c49;
    let second = 0x61c8_8647;
    for (let index = 0; index < this.#names.length; index += 1) {
      for (const text of [this.#names[index]!, this.#values[index]!]) {
        first = mixUnit(first, text.length, 0xcc9e_2d51, 15);
        second = mixUnit(second, text.length, 0x1b87_3593, 13);
        for (let unit = 0; unit < text.length; unit += 1) {
          first = mixUnit(first, text.charCodeAt(unit), 0xcc9e_2d51, 15);
          second = mixUnit(second, text.charCodeAt(unit), 0x1b87_3593, 13);
        }
      }
    }
    first = finalizeLane(first ^ this.#names.length);
    second = finalizeLane(second ^ Math.imul(first, 0x9e37_79b1));
    this.#hash = (second >>> 11) * 2 ** 32 + (first >>> 0);
    return this.#hash;
  }

  /** The PromQL form: `name{a="1", b="2"}`, or `{a="1"}` without a metric name; values escaped. */
  toString(): string {
    if (this.#string !== undefined) return this.#string;
    const parts: string[] = [];
    for (let index = 0; index < this.#names.length; index += 1) {
      if (this.#names[index] === metricNameLabel) continue;
      parts.push(`${this.#names[index]!}=${quoteLabelValue(this.#values[index]!)}`);
    }
    const name = this.metricName();
    this.#string = parts.length === 0 && name !== '' ? name : `${name}{${parts.join(', ')}}`;
    return this.#string;
  }

  #indexOf(name: string): number {
    let low = 0;
    let high = this.#names.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const candidate = this.#names[middle]!;
      if (candidate === name) return middle;
      if (candidate < name) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }
}

/**
 * Quotes a label value for the exposition format and PromQL: backslash, double quote and newline escaped.
 *
 * @example
 * quoteLabelValue('a"b'); // '"a\\"b"'
 */
export function quoteLabelValue(value: string): string {
  return `"${value.replace(/[\\"\n]/g, (character) => (character === '\n' ? '\\n' : `\\${character}`))}"`;
}

function validateLabel(name: string, value: string): void {
  if (!isValidLabelName(name)) {
    throw new TsdbError('TSDB_INVALID_LABEL_NAME', `Label name "${name}" does not match [a-zA-Z_][a-zA-Z0-9_]*.`);
  }
  if (!isWellFormedLabelValue(value)) {
    throw new TsdbError('TSDB_INVALID_LABEL_VALUE', `Value of label "${name}" is not well-formed Unicode.`);
  }
  if (name === metricNameLabel && value !== '' && !isValidMetricName(value)) {
    throw new TsdbError('TSDB_INVALID_METRIC_NAME', `Metric name "${value}" does not match [a-zA-Z_:][a-zA-Z0-9_:]*.`);
  }
}

function mixUnit(lane: number, unit: number, multiplier: number, rotation: number): number {
  const mixed = Math.imul(lane ^ unit, multiplier);
  return Math.imul((mixed << rotation) | (mixed >>> (32 - rotation)), 5) + 0xe654_6b64;
}

/** The MurmurHash3 finaliser: every input bit affects every output bit. */
function finalizeLane(lane: number): number {
  let mixed = lane ^ (lane >>> 16);
  mixed = Math.imul(mixed, 0x85eb_ca6b);
  mixed ^= mixed >>> 13;
  mixed = Math.imul(mixed, 0xc2b2_ae35);
  return mixed ^ (mixed >>> 16);
}

/** Below this length V8 copies a substring rather than pointing into its parent. */
const sharedStringLengthMin = 13;

/** A copy of `text` that references no other string (see {@link Labels.detached}). */
function detachedString(text: string): string {
  return text.length < sharedStringLengthMin ? text : Buffer.from(text, 'utf8').toString('utf8');
}
