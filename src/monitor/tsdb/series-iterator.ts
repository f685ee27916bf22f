/**
 * Sample iterators for queries: one over a series' chunks clamped to the querier's time range, and one
 * merging the same series from several sources (head and blocks) in time order, keeping one sample per
 * timestamp (the first source's) where their ranges overlap.
 */
import type { SampleIterator, Series } from '../storage.ts';
import { XorIterator } from './chunkenc/index.ts';
import { assert } from './errors.ts';
import type { Labels } from './labels.ts';
import { floatFromBits, isStaleMarkerBits } from './value.ts';

/** A sample iterator that also exposes the value's exact IEEE 754 bits (NaN payloads, the stale marker). */
export interface TsdbSampleIterator extends SampleIterator {
  readonly valueHighBits: number;
  readonly valueLowBits: number;
  /** Whether the current value is exactly Prometheus's staleness marker, judged by its bits. */
  isStaleMarker(): boolean;
}

/** A series whose iterators expose value bits. */
export interface TsdbSeries extends Series {
  iterator(): TsdbSampleIterator;
}

/** A chunk a query may read: time bounds (inclusive) known up front, samples decoded on demand. */
export interface IterableChunk {
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  /** An iterator over the chunk's samples; may reuse `reuse`. Reading may throw a corruption error. */
  open(reuse: XorIterator | undefined): XorIterator;
}

/**
 * Immutable XOR chunk bytes with their bounds: a full head chunk, or one read from a block.
 *
 * @example
 * const chunk = new StoredChunk(bytes, 1_000, 9_000, 120);
 * const iterator = chunk.open(undefined);
 */
export class StoredChunk implements IterableChunk {
  constructor(
    readonly bytes: Uint8Array,
    readonly minTimeMs: number,
    readonly maxTimeMs: number,
    readonly sampleCount: number,
  ) {
    assert(minTimeMs <= maxTimeMs, 'a chunk ends at or after its start');
    assert(sampleCount > 0 && bytes.length >= 2, 'a stored chunk holds samples');
  }

  open(reuse: XorIterator | undefined): XorIterator {
    const iterator = reuse ?? new XorIterator();
    iterator.reset(this.bytes, this.bytes.length * 8, this.sampleCount);
    return iterator;
  }
}

/**
 * Iterates chunks in time order, yielding only samples inside [minTimeMs, maxTimeMs].
 *
 * @example
 * const iterator = new ChunksIterator(chunks, start, end);
 * while (iterator.next()) use(iterator.timestampMs, iterator.value);
 */
export class ChunksIterator implements TsdbSampleIterator {
  readonly #chunks: readonly IterableChunk[];
  readonly #minTimeMs: number;
  readonly #maxTimeMs: number;
  /** Invariant: the chunk #current iterates; -1 before the first. */
  #chunkIndex = -1;
  #current: XorIterator | undefined;
  #reuse: XorIterator | undefined;
  #positioned = false;
  #done = false;
  #timestampMs = 0;
  #high = 0;
  #low = 0;

  constructor(chunks: readonly IterableChunk[], minTimeMs: number, maxTimeMs: number) {
    this.#chunks = chunks;
    this.#minTimeMs = minTimeMs;
    this.#maxTimeMs = maxTimeMs;
  }

  next(): boolean {
    if (this.#done) return false;
    if (this.#current === undefined && !this.#openChunk(this.#minTimeMs)) return this.#finish();
    while (true) {
      const current = this.#current!;
      if (current.next()) {
        const timestampMs = current.timestampMs;
        if (timestampMs < this.#minTimeMs) continue;
        return timestampMs > this.#maxTimeMs ? this.#finish() : this.#take(current);
      }
      if (!this.#openChunk(this.#minTimeMs)) return this.#finish();
    }
  }

  seek(timestampMs: number): boolean {
    if (this.#done) return false;
    if (this.#positioned && this.#timestampMs >= timestampMs) return true;
    const target = Math.max(timestampMs, this.#minTimeMs);
    // Chunks ending before the target are skipped without decoding.
    if (this.#current === undefined || this.#chunks[this.#chunkIndex]!.maxTimeMs < target) {
      if (!this.#openChunk(target)) return this.#finish();
    }
    while (true) {
      const current = this.#current!;
      if (current.seek(target)) return current.timestampMs > this.#maxTimeMs ? this.#finish() : this.#take(current);
      if (!this.#openChunk(target)) return this.#finish();
    }
  }

  get timestampMs(): number {
    assert(this.#positioned, 'timestampMs needs a current sample');
    return this.#timestampMs;
  }

  get value(): number {
    assert(this.#positioned, 'value needs a current sample');
    return floatFromBits(this.#high, this.#low);
  }

  get valueHighBits(): number {
    return this.#high;
  }

  get valueLowBits(): number {
    return this.#low;
  }

  isStaleMarker(): boolean {
    return isStaleMarkerBits(this.#high, this.#low);
  }

  /** Opens the next chunk that ends at or after `fromMs` and starts inside the range; false if none. */
  #openChunk(fromMs: number): boolean {
    let index = this.#chunkIndex + 1;
    while (index < this.#chunks.length && this.#chunks[index]!.maxTimeMs < fromMs) index += 1;
    this.#chunkIndex = index;
    const chunk = this.#chunks[index];
    if (chunk === undefined || chunk.minTimeMs > this.#maxTimeMs) return false;
    this.#current = chunk.open(this.#reuse);
    this.#reuse = this.#current;
    return true;
  }

  #take(current: XorIterator): boolean {
    this.#timestampMs = current.timestampMs;
    this.#high = current.valueHighBits;
    this.#low = current.valueLowBits;
    this.#positioned = true;
    return true;
  }

  #finish(): boolean {
    this.#positioned = false;
    this.#done = true;
    this.#current = undefined;
    return false;
  }
}

/**
 * Merges iterators of one series from several sources by timestamp. Where two hold the same timestamp,
 * the earlier iterator's sample wins and the others are skipped.
 */
export class MergeIterator implements TsdbSampleIterator {
  readonly #iterators: readonly TsdbSampleIterator[];
  /** Invariant: #has[i] is whether iterator i holds an unconsumed current sample. */
  readonly #has: boolean[];
  #started = false;
  /** The iterator holding the current sample, or -1. */
  #currentIndex = -1;
  /** The smallest timestamp held by the other iterators (Infinity when none): while the current one stays below it, no scan is needed. */
  #othersMinMs = Infinity;

  constructor(iterators: readonly TsdbSampleIterator[]) {
    assert(iterators.length > 0, 'a merge has inputs');
    this.#iterators = iterators;
    this.#has = iterators.map(() => false);
  }

  next(): boolean {
    if (!this.#started) {
      this.#started = true;
      for (let index = 0; index < this.#iterators.length; index += 1) this.#has[index] = this.#iterators[index]!.next();
      return this.#pick();
    }
    const currentIndex = this.#currentIndex;
    if (currentIndex < 0) return false;
    const current = this.#iterators[currentIndex]!;
    const consumedMs = current.timestampMs;
    // Fast path: the current source's next sample still comes before every other source's.
    if (consumedMs < this.#othersMinMs) {
      if (!current.next()) {
        this.#has[currentIndex] = false;
        return this.#pick();
      }
      if (current.timestampMs < this.#othersMinMs) return true;
      return this.#pick();
    }
    for (let index = 0; index < this.#iterators.length; index += 1) {
      if (this.#has[index] && this.#iterators[index]!.timestampMs === consumedMs) this.#has[index] = this.#iterators[index]!.next();
    }
    return this.#pick();
  }

  seek(timestampMs: number): boolean {
    if (this.#started && this.#currentIndex < 0) return false;
    if (this.#currentIndex >= 0 && this.#iterators[this.#currentIndex]!.timestampMs >= timestampMs) return true;
    for (let index = 0; index < this.#iterators.length; index += 1) {
      if (!this.#started || this.#has[index]) this.#has[index] = this.#iterators[index]!.seek(timestampMs);
    }
    this.#started = true;
    return this.#pick();
  }

  get timestampMs(): number {
    return this.#current().timestampMs;
  }

  get value(): number {
    return this.#current().value;
  }

  get valueHighBits(): number {
    return this.#current().valueHighBits;
  }

  get valueLowBits(): number {
    return this.#current().valueLowBits;
  }

  isStaleMarker(): boolean {
    return this.#current().isStaleMarker();
  }

  #current(): TsdbSampleIterator {
    assert(this.#currentIndex >= 0, 'the merge has a current sample');
    return this.#iterators[this.#currentIndex]!;
  }

  /** Makes the iterator with the smallest timestamp (the earliest source on a tie) current; notes the others' minimum. */
  #pick(): boolean {
    let best = -1;
    let bestMs = Infinity;
    let secondMs = Infinity;
    for (let index = 0; index < this.#iterators.length; index += 1) {
      if (!this.#has[index]) continue;
      const timestampMs = this.#iterators[index]!.timestampMs;
      if (best < 0 || timestampMs < bestMs) {
        if (best >= 0) secondMs = bestMs;
        best = index;
        bestMs = timestampMs;
      } else if (timestampMs < secondMs) {
        secondMs = timestampMs;
      }
    }
    this.#currentIndex = best;
    this.#othersMinMs = secondMs;
    return best >= 0;
  }
}

/** A series backed by a chunk list. */
export class ChunkSeries implements TsdbSeries {
  constructor(
    readonly labels: Labels,
    readonly chunks: readonly IterableChunk[],
    readonly minTimeMs: number,
    readonly maxTimeMs: number,
  ) {}

  iterator(): TsdbSampleIterator {
    return new ChunksIterator(this.chunks, this.minTimeMs, this.maxTimeMs);
  }
}

/** One series found in several sources; its iterator merges theirs. */
export class MergedSeries implements TsdbSeries {
  constructor(
    readonly labels: Labels,
    readonly parts: readonly TsdbSeries[],
  ) {
    assert(parts.length > 1, 'a merged series has several parts');
  }

  iterator(): TsdbSampleIterator {
    return new MergeIterator(this.parts.map((part) => part.iterator()));
  }
}

/** Whether a chunk with these inclusive bounds overlaps [minTimeMs, maxTimeMs]. */
export function overlaps(chunkMinMs: number, chunkMaxMs: number, minTimeMs: number, maxTimeMs: number): boolean {
  return chunkMinMs <= maxTimeMs && chunkMaxMs >= minTimeMs;
}
