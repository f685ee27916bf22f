/**
 * Sample iterators for queries: one over a series' chunks clamped to the querier's time range, and one
 * merging the same series from several sources (head and blocks) in time order, keeping one sample per
 * timestamp (the first source's) where their ranges overlap.
 */
import type { SampleIterator, Series } from '../storage.ts';
import { acquireDecodedSamples, decodeXorSamples, releaseDecodedSamples } from './chunkenc/index.ts';
import type { DecodedSamples } from './chunkenc/index.ts';
import { assert } from './errors.ts';
import type { Labels } from './labels.ts';
import { isStaleMarkerBits } from './value.ts';

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
  /**
   * Decodes the chunk's samples in order into `out`, stopping before the first one later than `untilMs`.
   * Reading may throw a corruption error.
   */
  decodeInto(untilMs: number, out: DecodedSamples): void;
}

/**
 * Immutable XOR chunk bytes with their bounds: a full head chunk, or one read from a block.
 *
 * @example
 * const chunk = new StoredChunk(bytes, 1_000, 9_000, 120);
 * chunk.decodeInto(Infinity, samples);
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

  decodeInto(untilMs: number, out: DecodedSamples): void {
    decodeXorSamples(this.bytes, this.bytes.length * 8, this.sampleCount, untilMs, out);
  }
}

/**
 * Iterates chunks in time order, yielding only samples inside [minTimeMs, maxTimeMs]. Each chunk is
 * decoded in one go (up to maxTimeMs) into a pooled buffer, which goes back to the pool when the iterator
 * is exhausted or closed.
 *
 * @example
 * const iterator = new ChunksIterator(chunks, start, end);
 * while (iterator.next()) use(iterator.timestampMs, iterator.value);
 */
export class ChunksIterator implements TsdbSampleIterator {
  readonly #chunks: readonly IterableChunk[];
  readonly #minTimeMs: number;
  readonly #maxTimeMs: number;
  /** Invariant: the chunk whose samples #samples holds; -1 before the first. */
  #chunkIndex = -1;
  #samples: DecodedSamples | undefined;
  /** Invariant: the current sample's index in #samples while positioned; one before the next otherwise. */
  #index = -1;
  #positioned = false;
  #done = false;

  constructor(chunks: readonly IterableChunk[], minTimeMs: number, maxTimeMs: number) {
    this.#chunks = chunks;
    this.#minTimeMs = minTimeMs;
    this.#maxTimeMs = maxTimeMs;
  }

  next(): boolean {
    if (this.#done) return false;
    let samples = this.#samples;
    if (samples === undefined) {
      if (!this.#openChunk(this.#minTimeMs)) return this.#finish();
      samples = this.#samples!;
    }
    while (true) {
      const index = this.#index + 1;
      if (index < samples.count) {
        this.#index = index;
        this.#positioned = true;
        return true;
      }
      if (!this.#openChunk(this.#minTimeMs)) return this.#finish();
    }
  }

  seek(timestampMs: number): boolean {
    if (this.#done) return false;
    const samples = this.#samples;
    if (this.#positioned && samples!.timestamps[this.#index]! >= timestampMs) return true;
    const target = Math.max(timestampMs, this.#minTimeMs);
    // Chunks ending before the target are skipped without decoding.
    if (samples === undefined || this.#chunks[this.#chunkIndex]!.maxTimeMs < target) {
      if (!this.#openChunk(target)) return this.#finish();
    }
    while (true) {
      const current = this.#samples!;
      const timestamps = current.timestamps;
      const count = current.count;
      let index = this.#index + 1;
      while (index < count && timestamps[index]! < target) index += 1;
      if (index < count) {
        this.#index = index;
        this.#positioned = true;
        return true;
      }
      if (!this.#openChunk(target)) return this.#finish();
    }
  }

  /** Releases the decode buffer early (a reader that stops before the end); the iterator is then exhausted. */
  close(): void {
    if (!this.#done) this.#finish();
  }

  get timestampMs(): number {
    assert(this.#positioned, 'timestampMs needs a current sample');
    return this.#samples!.timestamps[this.#index]!;
  }

  get value(): number {
    assert(this.#positioned, 'value needs a current sample');
    return this.#samples!.values[this.#index]!;
  }

  get valueHighBits(): number {
    assert(this.#positioned, 'valueHighBits needs a current sample');
    return this.#samples!.highBits(this.#index);
  }

  get valueLowBits(): number {
    assert(this.#positioned, 'valueLowBits needs a current sample');
    return this.#samples!.lowBits(this.#index);
  }

  isStaleMarker(): boolean {
    assert(this.#positioned, 'isStaleMarker() needs a current sample');
    const samples = this.#samples!;
    return isStaleMarkerBits(samples.highBits(this.#index), samples.lowBits(this.#index));
  }

  /**
   * Decodes the next chunk that ends at or after `fromMs` and starts inside the range, positioned before its
   * first sample at or after the range's start; false if there is none.
   */
  #openChunk(fromMs: number): boolean {
    let index = this.#chunkIndex + 1;
    while (index < this.#chunks.length && this.#chunks[index]!.maxTimeMs < fromMs) index += 1;
    this.#chunkIndex = index;
    const chunk = this.#chunks[index];
    this.#positioned = false;
    if (chunk === undefined || chunk.minTimeMs > this.#maxTimeMs) return false;
    const samples = this.#samples ?? acquireDecodedSamples();
    this.#samples = samples;
    chunk.decodeInto(this.#maxTimeMs, samples);
    let first = 0;
    if (chunk.minTimeMs < this.#minTimeMs) {
      const timestamps = samples.timestamps;
      while (first < samples.count && timestamps[first]! < this.#minTimeMs) first += 1;
    }
    this.#index = first - 1;
    return true;
  }

  #finish(): boolean {
    this.#positioned = false;
    this.#done = true;
    if (this.#samples !== undefined) releaseDecodedSamples(this.#samples);
    this.#samples = undefined;
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

  close(): void {
    for (const iterator of this.#iterators) iterator.close?.();
    this.#currentIndex = -1;
    this.#started = true;
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
