/**
 * A sample iterator over parallel time and value arrays, bounded to [minTimeMs, maxTimeMs]: what
 * MemoryStorage serves, and how the engine re-reads a subquery's result as a range.
 */
import { assertPromql } from './errors.ts';
import type { SampleIterator } from '../storage.ts';

/** Values readable by index. */
export interface IndexedValues {
  readonly length: number;
  at(index: number): number | undefined;
}

/**
 * Iterates the samples of parallel time/value arrays that fall inside [minTimeMs, maxTimeMs].
 *
 * @example
 * const it = new ArraySampleIterator([1, 2, 3], [10, 20, 30], 2, 3); // any array or ValueBuffer
 * it.next(); it.timestampMs; // 2
 */
export class ArraySampleIterator implements SampleIterator {
  readonly #timestampsMs: readonly number[];
  readonly #values: IndexedValues;
  readonly #maxTimeMs: number;
  /** Index of the current sample; starts one before the first sample in range. */
  #index: number;

  constructor(timestampsMs: readonly number[], values: IndexedValues, minTimeMs: number, maxTimeMs: number) {
    assertPromql(timestampsMs.length === values.length, 'one value per timestamp');
    this.#timestampsMs = timestampsMs;
    this.#values = values;
    this.#maxTimeMs = maxTimeMs;
    this.#index = lowerBound(timestampsMs, minTimeMs, 0) - 1;
  }

  get timestampMs(): number {
    return this.#timestampsMs[this.#index]!;
  }

  get value(): number {
    return this.#values.at(this.#index)!;
  }

  next(): boolean {
    if (this.#index >= this.#timestampsMs.length) return false;
    this.#index += 1;
    return this.#valid();
  }

  seek(timestampMs: number): boolean {
    if (this.#index >= 0 && this.#index < this.#timestampsMs.length && this.#timestampsMs[this.#index]! >= timestampMs) return this.#valid();
    this.#index = lowerBound(this.#timestampsMs, timestampMs, Math.max(this.#index, 0));
    return this.#valid();
  }

  #valid(): boolean {
    return this.#index < this.#timestampsMs.length && this.#timestampsMs[this.#index]! <= this.#maxTimeMs;
  }
}

/** The first index at or after `from` whose timestamp is ≥ `timestampMs`. */
function lowerBound(timestampsMs: readonly number[], timestampMs: number, from: number): number {
  let low = from;
  let high = timestampsMs.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (timestampsMs[middle]! < timestampMs) low = middle + 1;
    else high = middle;
  }
  return low;
}
