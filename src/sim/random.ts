import type { Random } from '../raft/index.ts';
import { assert } from './assert.ts';

/**
 * The simulator's only source of randomness: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator,
 * 32-bit state words, passes PractRand to 2^40+), seeded through a splitmix32-style mixer. Every stream
 * (network, each disk, each node's core, the workload, the swarm) is derived from the run's seed and a
 * stream name, so one component drawing more numbers never shifts another component's draws.
 *
 * @example
 * const random = PseudoRandom.fromSeed(42, 'network');
 * const delayMs = random.range(1, 10);
 */
export class PseudoRandom implements Random {
  #a: number;
  #b: number;
  #c: number;
  #counter: number;

  private constructor(a: number, b: number, c: number, counter: number) {
    this.#a = a >>> 0;
    this.#b = b >>> 0;
    this.#c = c >>> 0;
    this.#counter = counter >>> 0;
    // Warm-up: the first outputs of sfc32 after a weak seed are correlated with it.
    for (let i = 0; i < warmUpRoundsCount; i++) this.nextUint32();
  }

  /** A stream for `seed` (a non-negative safe integer) and a stream name. */
  static fromSeed(seed: number, stream: string): PseudoRandom {
    assert(Number.isSafeInteger(seed) && seed >= 0, `seed must be a non-negative safe integer, got ${seed}`);
    const low = seed >>> 0;
    const high = Math.floor(seed / 0x1_0000_0000) >>> 0;
    const streamHash = hashString(stream);
    return new PseudoRandom(mix32(low ^ 0x9e3779b9), mix32(high ^ streamHash), mix32(streamHash ^ 0x85ebca6b), mix32(low + streamHash));
  }

  /** A child stream: deterministic in this stream's state and the name, independent of later draws. */
  fork(stream: string): PseudoRandom {
    const streamHash = hashString(stream);
    return new PseudoRandom(this.nextUint32() ^ streamHash, this.nextUint32(), this.nextUint32() ^ mix32(streamHash), this.nextUint32());
  }

  nextUint32(): number {
    const a = this.#a;
    const b = this.#b;
    const c = this.#c;
    const result = (a + b + this.#counter) >>> 0;
    this.#counter = (this.#counter + 1) >>> 0;
    this.#a = (b ^ (b >>> 9)) >>> 0;
    this.#b = (c + (c << 3)) >>> 0;
    this.#c = (((c << 21) | (c >>> 11)) + result) >>> 0;
    return result;
  }

  /** An integer in [0, bound), without modulo bias (rejection sampling). */
  nextInt(bound: number): number {
    assert(Number.isInteger(bound) && bound >= 1 && bound <= 0x1_0000_0000, `bound must be an integer in [1, 2^32], got ${bound}`);
    if (bound === 1) return 0;
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
    for (let attempt = 0; attempt < rejectionAttemptsMax; attempt++) {
      const value = this.nextUint32();
      if (value < limit) return value % bound;
    }
    // Each attempt is rejected with probability < 1/2, so 64 rejections in a row is a broken generator.
    throw new Error('PseudoRandom.nextInt: rejection sampling did not terminate');
  }

  /** A float in [0, 1) with 32 bits of precision. */
  float(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** An integer in [minimum, maximum] (both inclusive). */
  range(minimum: number, maximum: number): number {
    assert(Number.isInteger(minimum) && Number.isInteger(maximum) && minimum <= maximum, `bad range [${minimum}, ${maximum}]`);
    return minimum + this.nextInt(maximum - minimum + 1);
  }

  /** A float in [minimum, maximum). */
  floatRange(minimum: number, maximum: number): number {
    assert(minimum <= maximum, `bad float range [${minimum}, ${maximum})`);
    return minimum + this.float() * (maximum - minimum);
  }

  /** True with probability `probability`. Draws nothing for 0 and 1, so disabled faults cost nothing. */
  chance(probability: number): boolean {
    assert(probability >= 0 && probability <= 1, `probability out of [0, 1]: ${probability}`);
    if (probability === 0) return false;
    if (probability === 1) return true;
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'pick from an empty list');
    return items[this.nextInt(items.length)]!;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const swap = copy[i]!;
      copy[i] = copy[j]!;
      copy[j] = swap;
    }
    return copy;
  }

  /** An exponentially distributed float with the given mean (memoryless waiting times). */
  exponential(mean: number): number {
    assert(mean >= 0, `exponential mean must be non-negative, got ${mean}`);
    // 1 - float() is in (0, 1], so the logarithm is finite.
    return -Math.log(1 - this.float()) * mean;
  }

  /**
   * A latency: usually near `typical`, with a heavy tail (a lognormal-ish shape from the product of a
   * uniform factor and an occasional exponential spike), never above `maximum`.
   */
  latency(typical: number, maximum: number): number {
    assert(typical >= 0 && maximum >= typical, `bad latency parameters ${typical}, ${maximum}`);
    let value = typical * this.floatRange(0.5, 1.5);
    if (this.float() < latencyTailProbability) value += this.exponential(typical * latencyTailFactor);
    return Math.min(value, maximum);
  }
}

const warmUpRoundsCount = 12;
const rejectionAttemptsMax = 64;
/** How often a latency draw lands in the tail, and how far the tail reaches (in multiples of typical). */
const latencyTailProbability = 0.05;
const latencyTailFactor = 4;

/** splitmix32's finalizer: a bijective avalanche of 32 bits. */
function mix32(input: number): number {
  let z = (input + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over UTF-16 code units, then mixed. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return mix32(hash);
}
