import { assert } from '../assert.ts';

/**
 * The append messages sent to one follower and not yet acknowledged, as a ring buffer bounded by count
 * and by bytes. The leader stops sending in the replicate state when it is full (flow control).
 */
export class Inflights {
  readonly #countMax: number;
  readonly #bytesMax: number;
  /** Last entry index of each message in flight, oldest first (a ring of capacity #countMax). */
  readonly #indexes: Float64Array;
  readonly #sizes: Float64Array;
  #start = 0;
  /** Invariant: 0 <= count <= #countMax. */
  count = 0;
  bytes = 0;

  constructor(countMax: number, bytesMax: number) {
    assert(countMax >= 1, 'inflights need room for one message');
    this.#countMax = countMax;
    this.#bytesMax = bytesMax;
    this.#indexes = new Float64Array(countMax);
    this.#sizes = new Float64Array(countMax);
  }

  add(index: number, bytes: number): void {
    assert(!this.full(), 'cannot add to full inflights');
    const slot = (this.#start + this.count) % this.#countMax;
    if (this.count > 0) {
      const previous = this.#indexes[(slot + this.#countMax - 1) % this.#countMax]!;
      assert(index > previous, () => `inflight index ${index} not after ${previous}`);
    }
    this.#indexes[slot] = index;
    this.#sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= `index` (they were acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && this.#indexes[this.#start]! <= index) {
      this.bytes -= this.#sizes[this.#start]!;
      this.#start = (this.#start + 1) % this.#countMax;
      this.count--;
    }
    if (this.count === 0) {
      this.#start = 0;
      this.bytes = 0;
    }
  }

  full(): boolean {
    return this.count === this.#countMax || (this.#bytesMax > 0 && this.bytes >= this.#bytesMax);
  }

  reset(): void {
    this.count = 0;
    this.bytes = 0;
    this.#start = 0;
  }
}
