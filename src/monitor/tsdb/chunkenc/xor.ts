/**
 * The Gorilla XOR chunk (Pelkonen et al., "Gorilla: A Fast, Scalable, In-Memory Time Series Database",
 * VLDB 2015, §4.1): timestamps as deltas of deltas in variable-width buckets, values XORed with the
 * previous value keeping only the meaningful bits. The byte layout is in docs/format/chunks.md.
 *
 * Timestamps are integer milliseconds held in JS numbers. They are limited to [-2^52, 2^52 - 1] so that,
 * with strictly increasing timestamps, every delta lies in (0, 2^53) and every delta of deltas in
 * (-2^53, 2^53), and the zig-zag form of the first timestamp stays below 2^53: all of them are exact
 * ("safe") integers in a double and no BigInt is needed. Values travel as two 32-bit words (see value.ts).
 */
import { assert, TsdbError } from '../errors.ts';
import { floatFromBits, floatHighBits, floatLowBits, isStaleMarkerBits, staleMarkerHighBits, staleMarkerLowBits } from '../value.ts';
import { BitReader, BitWriter, bitStreamBytesMax } from './bit-stream.ts';
import { ChunkEncoding, timestampMsMax, timestampMsMin } from './chunk.ts';
import { decodeXorSamples } from './xor-decode.ts';
import type { DecodedSamples } from './xor-decode.ts';
import type { Chunk, ChunkAppender, ChunkIterator, Sample } from './chunk.ts';

/** The head cuts a new chunk after this many samples: past it, compression gains flatten out. */
export const chunkSamplesTarget = 120;
/** The header's 16-bit sample count caps a chunk here. */
export const chunkSamplesMax = 0xffff;

const headerBytes = 2;
/** Worst case for one sample: a 10-byte varint delta, then a full value with control bits (2 + 5 + 6 + 64). */
const sampleBitsMax = 80 + 77;
/** The largest well-formed XOR chunk. */
export const chunkBytesMax = headerBytes + Math.ceil((chunkSamplesMax * sampleBitsMax) / 8);
assert(chunkSamplesTarget <= chunkSamplesMax, 'the cut point fits the header');
assert(chunkBytesMax <= bitStreamBytesMax, 'a full chunk fits the bit stream bound');
assert(Number.isSafeInteger(timestampMsMax - timestampMsMin), 'every timestamp delta is exact');
assert(Number.isSafeInteger(-2 * timestampMsMin - 1) && Number.isSafeInteger(2 * timestampMsMax), 'zig-zag forms are exact');

/** Marks "no leading/trailing window yet": the first XOR must always send its window. */
const windowUnset = 0xff;
const twoToThe32 = 2 ** 32;
const varintBytesMax = 10;

/**
 * A Gorilla XOR chunk under construction or re-opened from bytes. It is its own appender.
 *
 * @example
 * const chunk = new XorChunk();
 * chunk.append(1_700_000_000_000, 1);
 * chunk.append(1_700_000_015_000, 2);
 * const reopened = XorChunk.fromBytes(chunk.bytes());
 * reopened.sampleCount; // 2
 */
export class XorChunk implements Chunk, ChunkAppender {
  readonly encoding = ChunkEncoding.Xor;
  /** Invariant: bits 0..15 hold #sampleCount, big-endian, after every append. */
  #writer: BitWriter;
  /** Invariant: 0 <= #sampleCount <= chunkSamplesMax. */
  #sampleCount = 0;
  #firstTimestampMs = 0;
  #lastTimestampMs = 0;
  /** Invariant: > 0 once two samples exist (timestamps strictly increase). */
  #lastDeltaMs = 0;
  #lastValueHighBits = 0;
  #lastValueLowBits = 0;
  #leadingZeros = windowUnset;
  #trailingZeros = 0;

  constructor() {
    this.#writer = new BitWriter();
    this.#writer.writeBits(0, 16);
  }

  /** Re-opens serialised bytes, checking them fully; throws `TSDB_CHUNK_CORRUPT` on any defect. */
  static fromBytes(bytes: Uint8Array): XorChunk {
    const decoder = decodeAll(bytes);
    const chunk = new XorChunk();
    chunk.#writer = new BitWriter(bytes, decoder.reader.bitPosition);
    chunk.#restore(decoder);
    assert(chunk.byteSize === bytes.length, 'a re-opened chunk keeps its size');
    return chunk;
  }

  get sampleCount(): number {
    return this.#sampleCount;
  }

  get byteSize(): number {
    return this.#writer.byteLength;
  }

  /** The first sample's timestamp; undefined while the chunk is empty. */
  get firstTimestampMs(): number | undefined {
    return this.#sampleCount === 0 ? undefined : this.#firstTimestampMs;
  }

  /** The last sample's timestamp; undefined while the chunk is empty. */
  get lastTimestampMs(): number | undefined {
    return this.#sampleCount === 0 ? undefined : this.#lastTimestampMs;
  }

  bytes(): Uint8Array {
    return this.#writer.bytes();
  }

  appender(): ChunkAppender {
    return this;
  }

  /** Decodes the samples present now, up to the first one later than `untilMs`, into `out`. */
  decodeInto(untilMs: number, out: DecodedSamples): void {
    decodeXorSamples(this.#writer.buffer(), this.#writer.bitLength, this.#sampleCount, untilMs, out);
  }

  iterator(reuse?: ChunkIterator): XorIterator {
    const iterator = reuse instanceof XorIterator ? reuse : new XorIterator();
    iterator.reset(this.#writer.buffer(), this.#writer.bitLength, this.#sampleCount);
    return iterator;
  }

  append(timestampMs: number, value: number): void {
    this.appendBits(timestampMs, floatHighBits(value), floatLowBits(value));
  }

  appendStaleMarker(timestampMs: number): void {
    this.appendBits(timestampMs, staleMarkerHighBits, staleMarkerLowBits);
  }

  appendBits(timestampMs: number, valueHighBits: number, valueLowBits: number): void {
    this.#checkAppend(timestampMs, valueHighBits, valueLowBits);
    const writer = this.#writer;
    if (this.#sampleCount === 0) {
      writeSignedVarint(writer, timestampMs);
      writer.writeBits(valueHighBits, 32);
      writer.writeBits(valueLowBits, 32);
      this.#firstTimestampMs = timestampMs;
    } else {
      const deltaMs = timestampMs - this.#lastTimestampMs;
      if (this.#sampleCount === 1) writeUnsignedVarint(writer, deltaMs);
      else writeDeltaOfDelta(writer, deltaMs - this.#lastDeltaMs);
      this.#writeValue(valueHighBits, valueLowBits);
      this.#lastDeltaMs = deltaMs;
    }
    this.#lastTimestampMs = timestampMs;
    this.#lastValueHighBits = valueHighBits;
    this.#lastValueLowBits = valueLowBits;
    this.#sampleCount += 1;
    writer.overwriteByte(0, this.#sampleCount >>> 8);
    writer.overwriteByte(1, this.#sampleCount & 0xff);
  }

  #checkAppend(timestampMs: number, valueHighBits: number, valueLowBits: number): void {
    if (!Number.isInteger(timestampMs) || timestampMs < timestampMsMin || timestampMs > timestampMsMax) {
      throw new TsdbError('TSDB_TIMESTAMP_OUT_OF_RANGE',
        `Timestamp ${timestampMs} is not an integer millisecond in [${timestampMsMin}, ${timestampMsMax}].`);
    }
    if (this.#sampleCount > 0 && timestampMs <= this.#lastTimestampMs) {
      throw new TsdbError('TSDB_OUT_OF_ORDER_SAMPLE',
        `Timestamp ${timestampMs} is not after the chunk's last timestamp ${this.#lastTimestampMs}.`);
    }
    if (this.#sampleCount >= chunkSamplesMax) {
      throw new TsdbError('TSDB_CHUNK_FULL', `Chunk already holds ${chunkSamplesMax} samples.`);
    }
    assert(valueHighBits >>> 0 === valueHighBits && valueLowBits >>> 0 === valueLowBits,
      'value words are unsigned 32-bit integers');
  }

  /** XOR with the previous value; reuse the previous leading/trailing window when the new bits fit it. */
  #writeValue(high: number, low: number): void {
    const writer = this.#writer;
    const xorHigh = (high ^ this.#lastValueHighBits) >>> 0;
    const xorLow = (low ^ this.#lastValueLowBits) >>> 0;
    if (xorHigh === 0 && xorLow === 0) {
      writer.writeBit(0);
      return;
    }
    writer.writeBit(1);
    let leadingZeros = xorHigh !== 0 ? Math.clz32(xorHigh) : 32 + Math.clz32(xorLow);
    const trailingZeros = xorLow !== 0 ? countTrailingZeros(xorLow) : 32 + countTrailingZeros(xorHigh);
    // The window's leading count has 5 bits; clamping only widens the window, which stays correct.
    if (leadingZeros > 31) leadingZeros = 31;
    if (this.#leadingZeros !== windowUnset && leadingZeros >= this.#leadingZeros && trailingZeros >= this.#trailingZeros) {
      writer.writeBit(0);
      writeMeaningfulBits(writer, xorHigh, xorLow, this.#leadingZeros, this.#trailingZeros);
      return;
    }
    this.#leadingZeros = leadingZeros;
    this.#trailingZeros = trailingZeros;
    const meaningfulBitCount = 64 - leadingZeros - trailingZeros;
    assert(meaningfulBitCount >= 1 && meaningfulBitCount <= 64, 'a non-zero XOR has meaningful bits');
    writer.writeBit(1);
    writer.writeBits(leadingZeros, 5);
    // 64 meaningful bits do not fit 6 bits; 0 stands for 64 because a window is never empty.
    writer.writeBits(meaningfulBitCount & 63, 6);
    writeMeaningfulBits(writer, xorHigh, xorLow, leadingZeros, trailingZeros);
  }

  #restore(decoder: XorDecoder): void {
    this.#sampleCount = decoder.sampleCount;
    this.#firstTimestampMs = decoder.firstTimestampMs;
    this.#lastTimestampMs = decoder.timestampMs;
    this.#lastDeltaMs = decoder.deltaMs;
    this.#lastValueHighBits = decoder.valueHighBits;
    this.#lastValueLowBits = decoder.valueLowBits;
    this.#leadingZeros = decoder.leadingZeros;
    this.#trailingZeros = decoder.trailingZeros;
    assert(decoder.samplesRead === decoder.sampleCount, 'the whole chunk was decoded');
  }
}

/**
 * Iterates an {@link XorChunk}. It sees the samples present when it was created or reset, even if the
 * chunk grows meanwhile.
 */
export class XorIterator implements ChunkIterator {
  #decoder = new XorDecoder();
  #sample: Sample = { timestampMs: 0, value: 0 };
  /** Invariant: true exactly when the decoder holds a current sample. */
  #positioned = false;

  /** Points the iterator at a stream; used by {@link XorChunk.iterator}. */
  reset(buffer: Uint8Array, bitLength: number, sampleCount: number): void {
    this.#decoder.reset(buffer, bitLength, sampleCount);
    this.#positioned = false;
  }

  next(): boolean {
    const decoder = this.#decoder;
    if (decoder.samplesRead >= decoder.sampleCount) {
      this.#positioned = false;
      return false;
    }
    decoder.decodeNext();
    this.#positioned = true;
    return true;
  }

  seek(timestampMs: number): boolean {
    if (this.#positioned && this.#decoder.timestampMs >= timestampMs) return true;
    while (this.next()) {
      if (this.#decoder.timestampMs >= timestampMs) return true;
    }
    return false;
  }

  at(): Readonly<Sample> {
    assert(this.#positioned, 'at() needs a current sample');
    this.#sample.timestampMs = this.#decoder.timestampMs;
    this.#sample.value = floatFromBits(this.#decoder.valueHighBits, this.#decoder.valueLowBits);
    return this.#sample;
  }

  get timestampMs(): number {
    assert(this.#positioned, 'timestampMs needs a current sample');
    return this.#decoder.timestampMs;
  }

  get value(): number {
    assert(this.#positioned, 'value needs a current sample');
    return floatFromBits(this.#decoder.valueHighBits, this.#decoder.valueLowBits);
  }

  get valueHighBits(): number {
    assert(this.#positioned, 'valueHighBits needs a current sample');
    return this.#decoder.valueHighBits;
  }

  get valueLowBits(): number {
    assert(this.#positioned, 'valueLowBits needs a current sample');
    return this.#decoder.valueLowBits;
  }

  isStaleMarker(): boolean {
    assert(this.#positioned, 'isStaleMarker() needs a current sample');
    return isStaleMarkerBits(this.#decoder.valueHighBits, this.#decoder.valueLowBits);
  }
}

/** Decoder state shared by the iterator and by {@link XorChunk.fromBytes}, which resumes appending from it. */
class XorDecoder {
  reader = new BitReader(new Uint8Array(headerBytes), 0, headerBytes * 8);
  sampleCount = 0;
  samplesRead = 0;
  firstTimestampMs = 0;
  timestampMs = 0;
  deltaMs = 0;
  valueHighBits = 0;
  valueLowBits = 0;
  leadingZeros = windowUnset;
  trailingZeros = 0;

  reset(buffer: Uint8Array, bitLength: number, sampleCount: number): void {
    assert(sampleCount >= 0 && sampleCount <= chunkSamplesMax, 'the sample count fits the header');
    this.reader.reset(buffer, headerBytes * 8, bitLength);
    this.sampleCount = sampleCount;
    this.samplesRead = 0;
    this.leadingZeros = windowUnset;
    this.trailingZeros = 0;
  }

  decodeNext(): void {
    assert(this.samplesRead < this.sampleCount, 'a sample remains to decode');
    const reader = this.reader;
    if (this.samplesRead === 0) {
      this.timestampMs = readSignedVarint(reader);
      this.firstTimestampMs = this.timestampMs;
      this.valueHighBits = reader.readBits(32);
      this.valueLowBits = reader.readBits(32);
    } else {
      const deltaMs = this.samplesRead === 1 ? readUnsignedVarint(reader) : this.deltaMs + readDeltaOfDelta(reader);
      this.#advanceTimestamp(deltaMs);
      this.#readValue();
    }
    this.samplesRead += 1;
  }

  #advanceTimestamp(deltaMs: number): void {
    const timestampMs = this.timestampMs + deltaMs;
    if (!(deltaMs > 0) || timestampMs > timestampMsMax) {
      throw corrupt(this.reader, `timestamp delta ${deltaMs} after ${this.timestampMs} is not positive and in range`);
    }
    this.deltaMs = deltaMs;
    this.timestampMs = timestampMs;
  }

  #readValue(): void {
    const reader = this.reader;
    if (reader.readBit() === 0) return;
    if (reader.readBit() === 1) {
      const leadingZeros = reader.readBits(5);
      const meaningfulBitCount = reader.readBits(6) || 64;
      if (leadingZeros + meaningfulBitCount > 64) {
        throw corrupt(reader, `XOR window of ${leadingZeros} leading zeros and ${meaningfulBitCount} bits exceeds 64 bits`);
      }
      this.leadingZeros = leadingZeros;
      this.trailingZeros = 64 - leadingZeros - meaningfulBitCount;
    } else if (this.leadingZeros === windowUnset) {
      throw corrupt(reader, 'XOR value reuses a window before any was set');
    }
    this.#xorMeaningfulBits(64 - this.leadingZeros - this.trailingZeros, this.trailingZeros);
  }

  /** Reads the window's bits, shifts them back into place and XORs them into the current value. */
  #xorMeaningfulBits(bitCount: number, trailingZeros: number): void {
    const reader = this.reader;
    const high = bitCount > 32 ? reader.readBits(bitCount - 32) : 0;
    const low = reader.readBits(bitCount > 32 ? 32 : bitCount);
    let shiftedHigh: number;
    let shiftedLow: number;
    if (trailingZeros === 0) {
      shiftedHigh = high;
      shiftedLow = low;
    } else if (trailingZeros < 32) {
      shiftedHigh = (high << trailingZeros) | (low >>> (32 - trailingZeros));
      shiftedLow = low << trailingZeros;
    } else {
      shiftedHigh = low << (trailingZeros - 32);
      shiftedLow = 0;
    }
    this.valueHighBits = (this.valueHighBits ^ shiftedHigh) >>> 0;
    this.valueLowBits = (this.valueLowBits ^ shiftedLow) >>> 0;
  }
}

/** Decodes every sample of serialised bytes and checks that nothing but zero padding follows them. */
function decodeAll(bytes: Uint8Array): XorDecoder {
  if (bytes.length < headerBytes || bytes.length > chunkBytesMax) {
    throw new TsdbError('TSDB_CHUNK_CORRUPT', `XOR chunk of ${bytes.length} bytes is outside [${headerBytes}, ${chunkBytesMax}].`);
  }
  const sampleCount = (bytes[0]! << 8) | bytes[1]!;
  const decoder = new XorDecoder();
  decoder.reset(bytes, bytes.length * 8, sampleCount);
  while (decoder.samplesRead < sampleCount) decoder.decodeNext();
  const endBit = decoder.reader.bitPosition;
  if ((endBit + 7) >>> 3 !== bytes.length) {
    throw corrupt(decoder.reader, `${bytes.length - ((endBit + 7) >>> 3)} bytes follow the last of ${sampleCount} samples`);
  }
  const paddingBits = (8 - (endBit & 7)) & 7;
  if (paddingBits > 0 && (bytes[bytes.length - 1]! & ((1 << paddingBits) - 1)) !== 0) {
    throw corrupt(decoder.reader, 'padding bits after the last sample are not zero');
  }
  return decoder;
}

function corrupt(reader: BitReader, detail: string): TsdbError {
  return new TsdbError('TSDB_CHUNK_CORRUPT', `XOR chunk is corrupt at bit offset ${reader.bitPosition}: ${detail}.`);
}

function countTrailingZeros(word: number): number {
  assert(word !== 0, 'trailing zeros of a non-zero word');
  return 31 - Math.clz32(word & -word);
}

/** Writes bits [trailingZeros, 64 - leadingZeros) of the 64-bit word pair, most significant first. */
function writeMeaningfulBits(writer: BitWriter, high: number, low: number, leadingZeros: number, trailingZeros: number): void {
  const bitCount = 64 - leadingZeros - trailingZeros;
  let shiftedHigh: number;
  let shiftedLow: number;
  if (trailingZeros === 0) {
    shiftedHigh = high;
    shiftedLow = low;
  } else if (trailingZeros < 32) {
    shiftedHigh = high >>> trailingZeros;
    shiftedLow = ((low >>> trailingZeros) | (high << (32 - trailingZeros))) >>> 0;
  } else {
    shiftedHigh = 0;
    shiftedLow = high >>> (trailingZeros - 32);
  }
  if (bitCount > 32) {
    writer.writeBits(shiftedHigh, bitCount - 32);
    writer.writeBits(shiftedLow, 32);
  } else {
    assert(shiftedHigh === 0, 'a narrow window has no high bits');
    writer.writeBits(shiftedLow, bitCount);
  }
}

/**
 * Buckets of 14, 17 and 20 bits hold ranges [-(2^(n-1) - 1), 2^(n-1)]: the one value left out, -2^(n-1),
 * would share its bit pattern with +2^(n-1). The last bucket holds the full 64-bit two's complement.
 */
function writeDeltaOfDelta(writer: BitWriter, deltaOfDeltaMs: number): void {
  assert(Number.isSafeInteger(deltaOfDeltaMs), 'a delta of deltas is an exact integer');
  if (deltaOfDeltaMs === 0) {
    writer.writeBit(0);
  } else if (deltaOfDeltaMs >= -8191 && deltaOfDeltaMs <= 8192) {
    writer.writeBits(0b10, 2);
    writer.writeBits(deltaOfDeltaMs & 0x3fff, 14);
  } else if (deltaOfDeltaMs >= -65535 && deltaOfDeltaMs <= 65536) {
    writer.writeBits(0b110, 3);
    writer.writeBits(deltaOfDeltaMs & 0x1ffff, 17);
  } else if (deltaOfDeltaMs >= -524287 && deltaOfDeltaMs <= 524288) {
    writer.writeBits(0b1110, 4);
    writer.writeBits(deltaOfDeltaMs & 0xfffff, 20);
  } else {
    const high = Math.floor(deltaOfDeltaMs / twoToThe32);
    writer.writeBits(0b1111, 4);
    writer.writeBits(high >>> 0, 32);
    writer.writeBits(deltaOfDeltaMs - high * twoToThe32, 32);
  }
}

function readDeltaOfDelta(reader: BitReader): number {
  if (reader.readBit() === 0) return 0;
  if (reader.readBit() === 0) return readBucket(reader, 14);
  if (reader.readBit() === 0) return readBucket(reader, 17);
  if (reader.readBit() === 0) return readBucket(reader, 20);
  const high = reader.readBits(32) | 0;
  const deltaOfDeltaMs = high * twoToThe32 + reader.readBits(32);
  if (!Number.isSafeInteger(deltaOfDeltaMs)) {
    throw corrupt(reader, `delta of deltas ${deltaOfDeltaMs} is beyond the supported timestamp range`);
  }
  return deltaOfDeltaMs;
}

function readBucket(reader: BitReader, bitCount: number): number {
  const raw = reader.readBits(bitCount);
  // Values above 2^(n-1) are negative: see writeDeltaOfDelta for why 2^(n-1) itself is positive.
  return raw > 2 ** (bitCount - 1) ? raw - 2 ** bitCount : raw;
}

/** Zig-zag, then base-128 varint: the same scheme as Go's binary.PutVarint. */
function writeSignedVarint(writer: BitWriter, value: number): void {
  writeUnsignedVarint(writer, value >= 0 ? value * 2 : -value * 2 - 1);
}

/** Division instead of shifts: shifts truncate to 32 bits and these values reach 2^53. */
function writeUnsignedVarint(writer: BitWriter, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, 'a varint holds a non-negative exact integer');
  let remaining = value;
  let byteCount = 0;
  while (remaining >= 0x80) {
    writer.writeBits((remaining % 0x80) | 0x80, 8);
    remaining = Math.floor(remaining / 0x80);
    byteCount += 1;
  }
  writer.writeBits(remaining, 8);
  assert(byteCount < varintBytesMax, 'a varint takes at most ten bytes');
}

function readSignedVarint(reader: BitReader): number {
  const zigZag = readUnsignedVarint(reader);
  const value = zigZag % 2 === 0 ? zigZag / 2 : -(zigZag + 1) / 2;
  if (value < timestampMsMin || value > timestampMsMax) {
    throw corrupt(reader, `first timestamp ${value} is outside the supported range`);
  }
  return value;
}

function readUnsignedVarint(reader: BitReader): number {
  let value = 0;
  let scale = 1;
  for (let byteCount = 0; byteCount < varintBytesMax; byteCount += 1) {
    const byte = reader.readBits(8);
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      if (!Number.isSafeInteger(value)) throw corrupt(reader, 'varint exceeds 2^53');
      return value;
    }
    scale *= 0x80;
  }
  throw corrupt(reader, 'varint runs past ten bytes');
}
