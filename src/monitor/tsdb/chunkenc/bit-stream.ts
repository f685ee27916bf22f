/**
 * A big-endian bit stream: bits fill each byte from its most significant bit down. Values are at most 32
 * bits per call so that all arithmetic stays in V8's fast 32-bit integer paths; 64-bit fields are written
 * as two words by the caller.
 */
import { assert, TsdbError } from '../errors.ts';

/** Largest stream a writer may grow to. Bounds memory; a full XOR chunk needs far less (chunkBytesMax). */
export const bitStreamBytesMax = 1 << 24;

const initialCapacityBytes = 32;

/**
 * Appends bits to a growable buffer.
 *
 * @example
 * const writer = new BitWriter();
 * writer.writeBits(0b101, 3);
 * writer.bytes(); // Uint8Array [0b1010_0000]
 */
export class BitWriter {
  /** Invariant: every bit at or after `#bitLength` is zero, so writes can OR into place. */
  #buffer: Uint8Array;
  /** Invariant: 0 <= #bitLength <= #buffer.length * 8. */
  #bitLength: number;

  /** Starts empty, or continues after the first `bitLength` bits of `initial` (whose tail must be zero). */
  constructor(initial?: Uint8Array, bitLength?: number) {
    if (initial === undefined) {
      this.#buffer = new Uint8Array(initialCapacityBytes);
      this.#bitLength = 0;
      return;
    }
    assert(bitLength !== undefined && bitLength >= 0, 'a continued stream needs its bit length');
    assert(bitLength <= initial.length * 8, 'the bit length fits the initial bytes');
    assert(initial.length <= bitStreamBytesMax, 'the initial bytes fit the stream bound');
    this.#buffer = new Uint8Array(Math.max(initialCapacityBytes, initial.length * 2));
    this.#buffer.set(initial);
    this.#bitLength = bitLength;
    assert(this.#tailIsClear(), 'bits after the stream end are zero');
  }

  /** Bits written so far. */
  get bitLength(): number {
    return this.#bitLength;
  }

  /** Bytes the written bits occupy (the last one may be partly used). */
  get byteLength(): number {
    return (this.#bitLength + 7) >>> 3;
  }

  /** Appends one bit (0 or 1). */
  writeBit(bit: number): void {
    assert(bit === 0 || bit === 1, 'a bit is 0 or 1');
    const byteIndex = this.#bitLength >>> 3;
    this.#ensureCapacity(byteIndex + 1);
    if (bit === 1) this.#buffer[byteIndex]! |= 0x80 >>> (this.#bitLength & 7);
    this.#bitLength += 1;
  }

  /** Appends the low `bitCount` bits of the unsigned integer `value`, most significant first. */
  writeBits(value: number, bitCount: number): void {
    assert(bitCount >= 0 && bitCount <= 32, 'bit count is between 0 and 32');
    assert(bitCount === 32 ? value >>> 0 === value : value >>> 0 === value && value >>> bitCount === 0,
      'value fits in bit count');
    this.#ensureCapacity((this.#bitLength + bitCount + 7) >>> 3);
    let remaining = bitCount;
    while (remaining > 0) {
      const freeBits = 8 - (this.#bitLength & 7);
      const takenBits = freeBits < remaining ? freeBits : remaining;
      const piece = (value >>> (remaining - takenBits)) & ((1 << takenBits) - 1);
      this.#buffer[this.#bitLength >>> 3]! |= piece << (freeBits - takenBits);
      this.#bitLength += takenBits;
      remaining -= takenBits;
    }
  }

  /** A copy of the written bytes; the unused bits of the last byte are zero. */
  bytes(): Uint8Array {
    return this.#buffer.slice(0, this.byteLength);
  }

  /**
   * The live buffer, for readers that snapshot a prefix. Bytes before `byteLength` only ever gain bits
   * after the current end, so a reader bounded by an earlier bit length never sees a change.
   */
  buffer(): Uint8Array {
    return this.#buffer;
  }

  /** Overwrites one whole byte that was already written (used for a header kept at the front). */
  overwriteByte(byteIndex: number, value: number): void {
    assert(byteIndex >= 0 && byteIndex + 1 <= this.byteLength, 'overwrite stays inside written bytes');
    assert(value >= 0 && value <= 0xff && Number.isInteger(value), 'a byte is 0..255');
    assert(byteIndex + 1 <= this.#bitLength >>> 3, 'only whole bytes are overwritten');
    this.#buffer[byteIndex] = value;
  }

  #ensureCapacity(bytesNeeded: number): void {
    if (bytesNeeded <= this.#buffer.length) return;
    if (bytesNeeded > bitStreamBytesMax) {
      throw new TsdbError('TSDB_CHUNK_FULL', `Bit stream would exceed ${bitStreamBytesMax} bytes.`);
    }
    const grown = new Uint8Array(Math.min(bitStreamBytesMax, Math.max(bytesNeeded, this.#buffer.length * 2)));
    grown.set(this.#buffer);
    this.#buffer = grown;
  }

  #tailIsClear(): boolean {
    const lastByteIndex = this.#bitLength >>> 3;
    const usedBits = this.#bitLength & 7;
    if (usedBits !== 0 && (this.#buffer[lastByteIndex]! & (0xff >>> usedBits)) !== 0) return false;
    const firstClearIndex = usedBits === 0 ? lastByteIndex : lastByteIndex + 1;
    for (let index = firstClearIndex; index < this.#buffer.length; index += 1) {
      if (this.#buffer[index] !== 0) return false;
    }
    return true;
  }
}

/**
 * Reads bits written by {@link BitWriter}. Reading past `bitLength` throws `TSDB_CHUNK_CORRUPT`, since a
 * well-formed stream never asks for more bits than it holds.
 *
 * @example
 * const reader = new BitReader(new Uint8Array([0b1010_0000]), 0, 3);
 * reader.readBits(3); // 0b101
 */
export class BitReader {
  #buffer: Uint8Array;
  /** Invariant: #bitPosition <= #bitLength <= #buffer.length * 8. */
  #bitPosition: number;
  #bitLength: number;

  constructor(buffer: Uint8Array, bitPosition: number, bitLength: number) {
    this.#buffer = buffer;
    this.#bitPosition = bitPosition;
    this.#bitLength = bitLength;
    this.#check();
  }

  /** Restarts on another stream without allocating (iterators reuse their reader). */
  reset(buffer: Uint8Array, bitPosition: number, bitLength: number): void {
    this.#buffer = buffer;
    this.#bitPosition = bitPosition;
    this.#bitLength = bitLength;
    this.#check();
  }

  /** The next bit to read, counted from the start of the buffer. */
  get bitPosition(): number {
    return this.#bitPosition;
  }

  get bitLength(): number {
    return this.#bitLength;
  }

  readBit(): number {
    const position = this.#bitPosition;
    if (position >= this.#bitLength) this.#throwTruncated(1);
    this.#bitPosition = position + 1;
    return (this.#buffer[position >>> 3]! >>> (7 - (position & 7))) & 1;
  }

  /** Reads `bitCount` (0..32) bits as an unsigned integer. */
  readBits(bitCount: number): number {
    assert(bitCount >= 0 && bitCount <= 32, 'bit count is between 0 and 32');
    const position = this.#bitPosition;
    if (position + bitCount > this.#bitLength) this.#throwTruncated(bitCount);
    if (bitCount === 0) return 0;
    const shift = position & 7;
    if (shift + bitCount > 32) {
      // Spans five bytes: the leading bits, then the last byte's worth.
      const high = this.readBits(bitCount - 8);
      return high * 256 + this.readBits(8);
    }
    // The four bytes from the current one, big-endian. Bytes past the buffer's end read as 0: the stream
    // bound checked above keeps them out of the result.
    const buffer = this.#buffer;
    const index = position >>> 3;
    const word = (buffer[index]! << 24) | (buffer[index + 1]! << 16) | (buffer[index + 2]! << 8) | buffer[index + 3]!;
    this.#bitPosition = position + bitCount;
    return (word << shift) >>> (32 - bitCount);
  }

  #check(): void {
    assert(this.#bitLength <= this.#buffer.length * 8, 'the bit length fits the buffer');
    assert(this.#bitPosition >= 0 && this.#bitPosition <= this.#bitLength, 'the position is inside the stream');
  }

  #throwTruncated(bitCount: number): never {
    throw new TsdbError('TSDB_CHUNK_CORRUPT',
      `Chunk stream is truncated: ${bitCount} bits wanted at bit offset ${this.#bitPosition}, ` +
      `stream holds ${this.#bitLength} bits.`);
  }
}
