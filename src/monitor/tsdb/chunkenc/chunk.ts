/**
 * The encoding-neutral chunk interfaces. The head and the query path talk to these, so a later encoding
 * (native histograms) slots in beside the XOR chunk without changing callers.
 */

/** Chunk encodings, as stored next to the chunk bytes. Values are part of the on-disk format. */
export const ChunkEncoding = {
  /** Gorilla XOR floats: docs/format/chunks.md. */
  Xor: 1,
} as const;
export type ChunkEncoding = (typeof ChunkEncoding)[keyof typeof ChunkEncoding];

/** Earliest supported timestamp (about 140,000 years before 1970). */
export const timestampMsMin = -(2 ** 52);
/** Latest supported timestamp (about 140,000 years after 1970). */
export const timestampMsMax = 2 ** 52 - 1;

/** One sample as a mutable record. Iterators hand out one reused instance instead of allocating. */
export interface Sample {
  timestampMs: number;
  value: number;
}

/** Adds samples to the end of a chunk. */
export interface ChunkAppender {
  /** Appends a sample. Timestamps must strictly increase. */
  append(timestampMs: number, value: number): void;
  /** Appends a sample given as IEEE 754 words, so that every bit pattern (NaN payloads) survives. */
  appendBits(timestampMs: number, valueHighBits: number, valueLowBits: number): void;
  /** Appends Prometheus's staleness marker (bits 0x7ff0000000000002). */
  appendStaleMarker(timestampMs: number): void;
}

/**
 * Walks a chunk's samples in timestamp order without allocating per sample.
 *
 * @example
 * const iterator = chunk.iterator();
 * while (iterator.next()) {
 *   const sample = iterator.at(); // reused; copy the fields you keep
 * }
 */
export interface ChunkIterator {
  /** Moves to the next sample; false when there is none. */
  next(): boolean;
  /** Moves forward to the first sample at or after `timestampMs`; false when there is none. Never moves back. */
  seek(timestampMs: number): boolean;
  /** The current sample. The object is reused: it changes on the next call to `next()` or `seek()`. */
  at(): Readonly<Sample>;
  /** The current sample's timestamp. */
  readonly timestampMs: number;
  /** The current sample's value as a number (a NaN's payload may not survive; use the bit getters). */
  readonly value: number;
  readonly valueHighBits: number;
  readonly valueLowBits: number;
  /** Whether the current value is exactly the staleness marker, judged by its bits. */
  isStaleMarker(): boolean;
}

/** A chunk of samples for one series. */
export interface Chunk {
  readonly encoding: ChunkEncoding;
  readonly sampleCount: number;
  /** The size of {@link Chunk.bytes}'s result. */
  readonly byteSize: number;
  /** A copy of the serialised chunk; re-open it with the encoding's `fromBytes`. */
  bytes(): Uint8Array;
  appender(): ChunkAppender;
  /** An iterator over the samples present now; passing an old iterator of the same kind reuses it. */
  iterator(reuse?: ChunkIterator): ChunkIterator;
}
