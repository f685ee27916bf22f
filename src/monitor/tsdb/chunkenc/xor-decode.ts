/**
 * The query path's XOR decoder: a whole chunk (or its samples up to a time) in one tight loop into typed
 * arrays, instead of one sample per call through iterator, decoder and bit-reader objects. Queries read
 * chunks front to back anyway (XOR cannot seek), and a decoded chunk lets an iterator step and seek by
 * index.
 *
 * It reads the same format as `XorIterator` (docs/format/chunks.md) and refuses the same defects with
 * `TSDB_CHUNK_CORRUPT`: a stream that ends early, a malformed varint, a timestamp that does not increase or
 * leaves the supported range, an XOR window wider than 64 bits or reused before one was set. Values are kept
 * as their two 32-bit words, so NaN payloads (the staleness marker) survive bit for bit.
 */
import { assert, TsdbError } from '../errors.ts';
import { timestampMsMax, timestampMsMin } from './chunk.ts';

const headerBits = 16;
const windowUnset = 0xff;
const twoToThe32 = 2 ** 32;
const varintBytesMax = 10;
const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Where a sample's high and low words sit in `DecodedSamples.words` (the order of a float64 in memory). */
const highWordOffset = isLittleEndian ? 1 : 0;
const lowWordOffset = isLittleEndian ? 0 : 1;
/** Buffers kept for reuse; more in use at once are allocated and left to the collector. */
const pooledBuffersMax = 64;
const initialCapacity = 128;

/**
 * Decoded samples of one chunk. `values[i]` is sample i's value as a number; its exact bits are
 * `words[2i..2i+1]` (read them through `highBits`/`lowBits`), since a NaN read as a number may change.
 */
export class DecodedSamples {
  /** Invariant: 0 ≤ count ≤ capacity; entries past `count` are stale. */
  count = 0;
  timestamps: Float64Array;
  values: Float64Array;
  /** The same memory as `values`, as 32-bit words. */
  words: Uint32Array;

  constructor(capacity = initialCapacity) {
    this.timestamps = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.words = new Uint32Array(this.values.buffer);
  }

  get capacity(): number {
    return this.timestamps.length;
  }

  highBits(index: number): number {
    return this.words[2 * index + highWordOffset]!;
  }

  lowBits(index: number): number {
    return this.words[2 * index + lowWordOffset]!;
  }

  /** Grows (dropping the contents) so that `capacity` samples fit. */
  reserve(capacity: number): void {
    if (capacity <= this.timestamps.length) return;
    const size = Math.max(capacity, this.timestamps.length * 2);
    this.timestamps = new Float64Array(size);
    this.values = new Float64Array(size);
    this.words = new Uint32Array(this.values.buffer);
  }
}

const pool: DecodedSamples[] = [];

/** A buffer from the pool (or a new one); hand it back with {@link releaseDecodedSamples}. */
export function acquireDecodedSamples(): DecodedSamples {
  return pool.pop() ?? new DecodedSamples();
}

/** Returns a buffer to the pool; the caller must not touch it afterwards. */
export function releaseDecodedSamples(samples: DecodedSamples): void {
  samples.count = 0;
  if (pool.length < pooledBuffersMax) pool.push(samples);
}

/**
 * Decodes the chunk's samples in order into `out`, stopping before the first sample later than `untilMs`
 * (pass Infinity for all). `bitLength` bounds the stream (bits, header included); `sampleCount` is the
 * number of samples it holds.
 *
 * @example
 * const out = new DecodedSamples();
 * decodeXorSamples(chunk.bytes(), chunk.bytes().length * 8, chunk.sampleCount, Infinity, out);
 * for (let i = 0; i < out.count; i++) use(out.timestamps[i], out.values[i]);
 */
export function decodeXorSamples(bytes: Uint8Array, bitLength: number, sampleCount: number, untilMs: number, out: DecodedSamples): void {
  assert(bitLength <= bytes.length * 8, 'the bit length fits the buffer');
  out.reserve(sampleCount);
  const timestamps = out.timestamps;
  const words = out.words;
  const cursor = varintCursor;
  const bits = wordsFor(bytes);
  const wordCount = (bytes.length + 3) >>> 2;
  // Words are converted as decoding reaches them: a query often stops partway (untilMs).
  let ready = convertWords(bytes, bits, 0, Math.min(wordCount, wordsPerSampleMax + wordsAhead));
  let position = headerBits;
  let count = 0;
  let timestampMs = 0;
  let deltaMs = 0;
  let high = 0;
  let low = 0;
  let leadingZeros = windowUnset;
  let trailingZeros = 0;
  for (let sample = 0; sample < sampleCount; sample += 1) {
    if (ready < wordCount && (position >>> 5) + wordsPerSampleMax > ready) {
      ready = convertWords(bytes, bits, ready, Math.min(wordCount, (position >>> 5) + wordsPerSampleMax + wordsAhead));
    }
    if (sample === 0) {
      cursor.position = position;
      timestampMs = readSignedVarint(bits, bitLength, cursor);
      position = cursor.position;
      if (position + 64 > bitLength) throw truncated(position, 64, bitLength);
      high = bitsAt(bits, position, 32) >>> 0;
      low = bitsAt(bits, position + 32, 32) >>> 0;
      position += 64;
    } else {
      let nextDeltaMs: number;
      let peek32 = 0;
      /** The value's first 13 bits when the delta's read already holds them, else -1. */
      let valuePeek = -1;
      if (sample === 1) {
        cursor.position = position;
        nextDeltaMs = readUnsignedVarint(bits, bitLength, cursor);
        position = cursor.position;
      } else {
        // Delta of deltas: 0, or a 2-, 3-, 4-bit prefix and a 14-, 17-, 20-bit value, or 1111 and 64 bits.
        if (position + 32 <= bitLength && (peek32 = bitsAt(bits, position, 32)) >= 0) {
          // The common cases from one 32-bit read: an unchanged delta (leading 0), whose value bits follow in
          // the same read, or the 14-, 17- and 20-bit buckets.
          position += 1;
          nextDeltaMs = deltaMs;
          valuePeek = (peek32 << 1) >>> 19;
        } else if (position + 32 <= bitLength && (peek32 & 0x4000_0000) === 0) {
          position += 16;
          const raw = (peek32 >>> 16) & 0x3fff;
          nextDeltaMs = deltaMs + (raw > 0x2000 ? raw - 0x4000 : raw);
          valuePeek = (peek32 << 16) >>> 19;
        } else if (position + 32 <= bitLength && (peek32 & 0x2000_0000) === 0) {
          position += 20;
          const raw = (peek32 >>> 12) & 0x1ffff;
          nextDeltaMs = deltaMs + (raw > 0x1_0000 ? raw - 0x2_0000 : raw);
        } else if (position + 32 <= bitLength && (peek32 & 0x1000_0000) === 0) {
          position += 24;
          const raw = (peek32 >>> 8) & 0xfffff;
          nextDeltaMs = deltaMs + (raw > 0x8_0000 ? raw - 0x10_0000 : raw);
        } else if (position + 4 > bitLength) {
          cursor.position = position;
          nextDeltaMs = deltaMs + readDeltaOfDeltaSlowly(bits, bitLength, cursor);
          position = cursor.position;
        } else {
          const prefix = bitsAt(bits, position, 4);
          if (prefix < 0b1000) {
            position += 1;
            nextDeltaMs = deltaMs;
          } else {
            let width: number;
            if (prefix < 0b1100) {
              position += 2;
              width = 14;
            } else if (prefix < 0b1110) {
              position += 3;
              width = 17;
            } else if (prefix === 0b1110) {
              position += 4;
              width = 20;
            } else {
              position += 4;
              width = 64;
            }
            if (position + width > bitLength) throw truncated(position, width, bitLength);
            if (width === 64) {
              const highPart = bitsAt(bits, position, 32) | 0;
              const deltaOfDeltaMs = highPart * twoToThe32 + (bitsAt(bits, position + 32, 32) >>> 0);
              position += 64;
              if (!Number.isSafeInteger(deltaOfDeltaMs)) throw corrupt(position, `delta of deltas ${deltaOfDeltaMs} is beyond the supported timestamp range`);
              nextDeltaMs = deltaMs + deltaOfDeltaMs;
            } else {
              const raw = bitsAt(bits, position, width);
              position += width;
              const half = 1 << (width - 1);
              nextDeltaMs = deltaMs + (raw > half ? raw - 2 * half : raw);
            }
          }
        }
      }
      if (!(nextDeltaMs > 0) || timestampMs + nextDeltaMs > timestampMsMax) {
        throw corrupt(position, `timestamp delta ${nextDeltaMs} after ${timestampMs} is not positive and in range`);
      }
      deltaMs = nextDeltaMs;
      timestampMs += nextDeltaMs;
      // The value: 0 (unchanged), 10 (XOR in the previous window), 11 + window (XOR in a new window).
      let changed: boolean;
      if (position + 13 <= bitLength) {
        // The control bits and a window header at once.
        const peek = valuePeek >= 0 ? valuePeek : bitsAt(bits, position, 13);
        if (peek < 0x1000) {
          position += 1;
          changed = false;
        } else if (peek < 0x1800) {
          position += 2;
          changed = true;
          if (leadingZeros === windowUnset) throw corrupt(position, 'XOR value reuses a window before any was set');
        } else {
          position += 13;
          changed = true;
          const leading = (peek >>> 6) & 31;
          const meaningful = (peek & 63) || 64;
          if (leading + meaningful > 64) throw corrupt(position, `XOR window of ${leading} leading zeros and ${meaningful} bits exceeds 64 bits`);
          leadingZeros = leading;
          trailingZeros = 64 - leading - meaningful;
        }
      } else {
        if (position >= bitLength) throw truncated(position, 1, bitLength);
        changed = ((bits[position >>> 5]! >>> (31 - (position & 31))) & 1) === 1;
        position += 1;
        if (changed) {
          if (position >= bitLength) throw truncated(position, 1, bitLength);
          const newWindow = ((bits[position >>> 5]! >>> (31 - (position & 31))) & 1) === 1;
          position += 1;
          if (newWindow) {
            if (position + 11 > bitLength) throw truncated(position, 11, bitLength);
            const header = bitsAt(bits, position, 11);
            position += 11;
            const leading = header >>> 6;
            const meaningful = (header & 63) || 64;
            if (leading + meaningful > 64) throw corrupt(position, `XOR window of ${leading} leading zeros and ${meaningful} bits exceeds 64 bits`);
            leadingZeros = leading;
            trailingZeros = 64 - leading - meaningful;
          } else if (leadingZeros === windowUnset) {
            throw corrupt(position, 'XOR value reuses a window before any was set');
          }
        }
      }
      if (changed) {
        const bitCount = 64 - leadingZeros - trailingZeros;
        if (position + bitCount > bitLength) throw truncated(position, bitCount, bitLength);
        let xorHigh: number;
        let xorLow: number;
        if (bitCount > 32) {
          xorHigh = bitsAt(bits, position, bitCount - 32);
          xorLow = bitsAt(bits, position + bitCount - 32, 32);
        } else {
          xorHigh = 0;
          xorLow = bitsAt(bits, position, bitCount);
        }
        position += bitCount;
        if (trailingZeros !== 0) {
          if (trailingZeros < 32) {
            xorHigh = (xorHigh << trailingZeros) | (xorLow >>> (32 - trailingZeros));
            xorLow <<= trailingZeros;
          } else {
            xorHigh = xorLow << (trailingZeros - 32);
            xorLow = 0;
          }
        }
        high = (high ^ xorHigh) >>> 0;
        low = (low ^ xorLow) >>> 0;
      }
    }
    if (timestampMs > untilMs) break;
    timestamps[count] = timestampMs;
    words[2 * count + highWordOffset] = high;
    words[2 * count + lowWordOffset] = low;
    count += 1;
  }
  out.count = count;
}

/** Scratch for the chunk as big-endian 32-bit words (decoding is synchronous, so one serves every call). */
let scratchWords = new Uint32Array(1024);
/** A sample spans at most 157 bits: from any position, six words hold it (a read touches the next word). */
const wordsPerSampleMax = 7;
/** Words converted at once beyond what the next sample needs. */
const wordsAhead = 16;

/** The scratch words, grown to hold `bytes` plus the zero words that reads past the stream's end touch. */
function wordsFor(bytes: Uint8Array): Uint32Array {
  const needed = ((bytes.length + 3) >>> 2) + 2;
  if (scratchWords.length < needed) scratchWords = new Uint32Array(Math.max(needed, scratchWords.length * 2));
  return scratchWords;
}

/**
 * Converts words [from, to) of `bytes` to big-endian 32-bit words (the last one zero-padded), and zeroes the
 * two words after the last, so any read of up to 32 bits is two loads and a shift. Returns `to`.
 */
function convertWords(bytes: Uint8Array, words: Uint32Array, from: number, to: number): number {
  const fullWords = bytes.length >>> 2;
  let index = from;
  for (let at = index * 4; index < to && index < fullWords; index += 1, at += 4) {
    words[index] = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
  }
  if (index < to) {
    let tail = 0;
    for (let at = index * 4, shift = 24; shift >= 0; shift -= 8, at += 1) if (at < bytes.length) tail |= bytes[at]! << shift;
    words[index] = tail;
  }
  if (to === (bytes.length + 3) >>> 2) {
    words[to] = 0;
    words[to + 1] = 0;
  }
  return to;
}

/** The `count` (1..32) bits at bit `position`, as the low bits of a 32-bit integer (signed for 32). */
function bitsAt(words: Uint32Array, position: number, count: number): number {
  const index = position >>> 5;
  const shift = position & 31;
  const word = shift === 0 ? words[index]! | 0 : (words[index]! << shift) | (words[index + 1]! >>> (32 - shift));
  return count === 32 ? word : word >>> (32 - count);
}

/** The bit position shared with the rarely used readers below (one sample in a chunk uses each). */
const varintCursor = { position: 0 };

function readByte(bits: Uint32Array, bitLength: number, cursor: { position: number }): number {
  if (cursor.position + 8 > bitLength) throw truncated(cursor.position, 8, bitLength);
  const byte = bitsAt(bits, cursor.position, 8);
  cursor.position += 8;
  return byte;
}

function readUnsignedVarint(bits: Uint32Array, bitLength: number, cursor: { position: number }): number {
  let value = 0;
  let scale = 1;
  for (let byteCount = 0; byteCount < varintBytesMax; byteCount += 1) {
    const byte = readByte(bits, bitLength, cursor);
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      if (!Number.isSafeInteger(value)) throw corrupt(cursor.position, 'varint exceeds 2^53');
      return value;
    }
    scale *= 0x80;
  }
  throw corrupt(cursor.position, 'varint runs past ten bytes');
}

function readSignedVarint(bits: Uint32Array, bitLength: number, cursor: { position: number }): number {
  const zigZag = readUnsignedVarint(bits, bitLength, cursor);
  const value = zigZag % 2 === 0 ? zigZag / 2 : -(zigZag + 1) / 2;
  if (value < timestampMsMin || value > timestampMsMax) throw corrupt(cursor.position, `first timestamp ${value} is outside the supported range`);
  return value;
}

/** A delta of deltas near the end of the stream, one bit at a time, so truncation is reported exactly. */
function readDeltaOfDeltaSlowly(bits: Uint32Array, bitLength: number, cursor: { position: number }): number {
  const bit = (): number => {
    if (cursor.position >= bitLength) throw truncated(cursor.position, 1, bitLength);
    const position = cursor.position;
    cursor.position += 1;
    return (bits[position >>> 5]! >>> (31 - (position & 31))) & 1;
  };
  const bucket = (width: number): number => {
    if (cursor.position + width > bitLength) throw truncated(cursor.position, width, bitLength);
    const raw = bitsAt(bits, cursor.position, width);
    cursor.position += width;
    return raw > 2 ** (width - 1) ? raw - 2 ** width : raw;
  };
  if (bit() === 0) return 0;
  if (bit() === 0) return bucket(14);
  if (bit() === 0) return bucket(17);
  if (bit() === 0) return bucket(20);
  if (cursor.position + 64 > bitLength) throw truncated(cursor.position, 64, bitLength);
  const deltaOfDeltaMs = (bitsAt(bits, cursor.position, 32) | 0) * twoToThe32 + (bitsAt(bits, cursor.position + 32, 32) >>> 0);
  cursor.position += 64;
  if (!Number.isSafeInteger(deltaOfDeltaMs)) throw corrupt(cursor.position, `delta of deltas ${deltaOfDeltaMs} is beyond the supported timestamp range`);
  return deltaOfDeltaMs;
}

function truncated(position: number, bitCount: number, bitLength: number): TsdbError {
  return new TsdbError('TSDB_CHUNK_CORRUPT',
    `Chunk stream is truncated: ${bitCount} bits wanted at bit offset ${position}, stream holds ${bitLength} bits.`);
}

function corrupt(position: number, detail: string): TsdbError {
  return new TsdbError('TSDB_CHUNK_CORRUPT', `XOR chunk is corrupt at bit offset ${position}: ${detail}.`);
}
