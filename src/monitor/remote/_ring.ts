/**
 * A shard's bounded sample queue: a ring of fixed capacity in parallel arrays. Values live in a
 * Float64Array, which keeps a NaN's payload (so the staleness marker survives; see tsdb/value.ts). Private
 * to the remote package.
 */
import { assert } from '../tsdb/index.ts';
import type { Labels } from '../tsdb/index.ts';

/** The series a queued sample belongs to, after external labels and write relabelling. */
export interface QueuedSeries {
  readonly labels: Labels;
  /** Picks the shard: the same series always goes to the same shard, so its samples stay in order. */
  readonly shardKey: number;
}

/** One taken batch, in queue order. */
export interface SampleBatch {
  readonly series: readonly QueuedSeries[];
  readonly timestampsMs: Float64Array;
  readonly values: Float64Array;
}

export class SampleRing {
  readonly capacity: number;
  readonly #series: (QueuedSeries | undefined)[];
  readonly #timestampsMs: Float64Array;
  readonly #values: Float64Array;
  /** Invariant: 0 ≤ #head < capacity. */
  #head = 0;
  /** Invariant: 0 ≤ #length ≤ capacity. */
  #length = 0;

  constructor(capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity > 0, 'a ring holds at least one sample');
    this.capacity = capacity;
    this.#series = new Array<QueuedSeries | undefined>(capacity).fill(undefined);
    this.#timestampsMs = new Float64Array(capacity);
    this.#values = new Float64Array(capacity);
  }

  get length(): number {
    return this.#length;
  }

  /** Adds a sample; false when the ring is full. */
  push(series: QueuedSeries, timestampMs: number, value: number): boolean {
    if (this.#length === this.capacity) return false;
    const slot = (this.#head + this.#length) % this.capacity;
    this.#series[slot] = series;
    this.#timestampsMs[slot] = timestampMs;
    this.#values[slot] = value;
    this.#length += 1;
    return true;
  }

  /** Removes and returns the oldest `count` samples (at most the length). */
  take(count: number): SampleBatch {
    const taken = Math.min(count, this.#length);
    assert(taken >= 0, 'take a non-negative count');
    const series: QueuedSeries[] = new Array<QueuedSeries>(taken);
    const timestampsMs = new Float64Array(taken);
    const values = new Float64Array(taken);
    for (let index = 0; index < taken; index += 1) {
      const slot = (this.#head + index) % this.capacity;
      series[index] = this.#series[slot]!;
      this.#series[slot] = undefined;
      timestampsMs[index] = this.#timestampsMs[slot]!;
      values[index] = this.#values[slot]!;
    }
    this.#head = (this.#head + taken) % this.capacity;
    this.#length -= taken;
    assert(this.#length >= 0 && this.#head < this.capacity, 'ring bounds hold after take');
    return { series, timestampsMs, values };
  }

  /** Empties the ring and returns how many samples it held. */
  clear(): number {
    const dropped = this.#length;
    this.take(dropped);
    return dropped;
  }
}
