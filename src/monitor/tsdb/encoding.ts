/**
 * Byte encodings shared by the head WAL and the block files: big-endian fixed-width integers, base-128
 * varints (Go's `binary.PutUvarint`/`PutVarint`), and length-prefixed UTF-8 strings. The reader checks every
 * bound and reports a defect through a caller-supplied function, so each file format names its own path and
 * the absolute offset of the bad byte.
 */
import { assert } from './errors.ts';

/** A varint holds at most 2^53 - 1 here (JavaScript's exact integers); that takes at most 8 bytes. */
const uvarintBytesMax = 8;
const initialCapacityBytes = 256;
/** A growing writer never exceeds this; larger outputs are split by their callers. */
export const byteWriterBytesMax = 1 << 30;

/**
 * Appends encoded fields to a growable buffer.
 *
 * @example
 * const writer = new ByteWriter();
 * writer.uvarint(300);
 * writer.string('job');
 * writer.view(); // Uint8Array [0xac, 0x02, 0x03, 0x6a, 0x6f, 0x62]
 */
export class ByteWriter {
  /** Invariant: #length <= #buffer.length. */
  #buffer: Buffer;
  #length = 0;

  constructor(capacityBytes = initialCapacityBytes) {
    assert(Number.isInteger(capacityBytes) && capacityBytes > 0, 'capacity is a positive integer');
    this.#buffer = Buffer.allocUnsafe(capacityBytes);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** Forgets the content, keeping the capacity. */
  reset(): void {
    this.#length = 0;
  }

  u8(value: number): void {
    assert(value >= 0 && value <= 0xff && Number.isInteger(value), 'a byte is 0..255');
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
  }

  /** A big-endian unsigned 32-bit integer. */
  u32(value: number): void {
    assert(value >>> 0 === value, 'u32 is an unsigned 32-bit integer');
    this.#reserve(4);
    this.#buffer.writeUInt32BE(value, this.#length);
    this.#length += 4;
  }

  /** Overwrites a u32 written earlier (a length or checksum known only later). */
  patchU32(offset: number, value: number): void {
    assert(offset >= 0 && offset + 4 <= this.#length, 'patch stays inside written bytes');
    assert(value >>> 0 === value, 'u32 is an unsigned 32-bit integer');
    this.#buffer.writeUInt32BE(value, offset);
  }

  /** An unsigned varint of an exact non-negative integer. */
  uvarint(value: number): void {
    this.#reserve(uvarintBytesMax);
    const buffer = this.#buffer;
    let position = this.#length;
    if (value >>> 0 === value) {
      let remaining = value;
      while (remaining >= 0x80) {
        buffer[position++] = (remaining & 0x7f) | 0x80;
        remaining >>>= 7;
      }
      buffer[position++] = remaining;
    } else {
      assert(Number.isSafeInteger(value) && value >= 0, 'a uvarint holds a non-negative exact integer');
      let remaining = value;
      while (remaining >= 0x80) {
        buffer[position++] = (remaining % 0x80) | 0x80;
        remaining = Math.floor(remaining / 0x80);
      }
      buffer[position++] = remaining;
    }
    this.#length = position;
  }

  /** A zig-zag signed varint of an exact integer in (-2^52, 2^52). */
  varint(value: number): void {
    assert(Number.isSafeInteger(value * 2), 'a varint holds an exact integer below 2^52 in magnitude');
    this.uvarint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  bytes(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** A uvarint byte length, then the UTF-8 bytes. */
  string(text: string): void {
    const byteLength = Buffer.byteLength(text, 'utf8');
    this.uvarint(byteLength);
    this.#reserve(byteLength);
    const written = this.#buffer.write(text, this.#length, 'utf8');
    assert(written === byteLength, 'the whole string was written');
    this.#length += byteLength;
  }

  /** The written bytes as a view: valid until the next write or reset. */
  view(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  /** A copy of the written bytes. */
  copy(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.#buffer, 0, this.#length);
  }

  #reserve(byteCount: number): void {
    const needed = this.#length + byteCount;
    if (needed <= this.#buffer.length) return;
    assert(needed <= byteWriterBytesMax, 'an encoded buffer stays below byteWriterBytesMax');
    const grown = Buffer.allocUnsafe(Math.min(byteWriterBytesMax, Math.max(needed, this.#buffer.length * 2)));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }
}

/** Builds the error for a defect at an absolute offset of the underlying file. */
export type CorruptionReporter = (offset: number, detail: string) => Error;

/**
 * Reads fields from `bytes[start, end)`. Offsets given to the reporter are `fileOffset` plus the position
 * in `bytes`, so an error can name the byte in the file.
 *
 * @example
 * const reader = new ByteReader(bytes, { report: (offset, detail) => new Error(`${offset}: ${detail}`) });
 * const count = reader.uvarint();
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #buffer: Buffer;
  readonly #end: number;
  readonly #fileOffset: number;
  readonly #report: CorruptionReporter;
  /** Invariant: start <= #position <= #end. */
  #position: number;

  constructor(bytes: Uint8Array, options: { start?: number; end?: number; fileOffset?: number; report: CorruptionReporter }) {
    this.#bytes = bytes;
    this.#buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#position = options.start ?? 0;
    this.#end = options.end ?? bytes.length;
    this.#fileOffset = options.fileOffset ?? 0;
    this.#report = options.report;
    assert(this.#position >= 0 && this.#position <= this.#end && this.#end <= bytes.length, 'reader bounds lie inside the bytes');
  }

  /** The position in `bytes`. */
  get position(): number {
    return this.#position;
  }

  /** The position as a file offset. */
  get fileOffset(): number {
    return this.#fileOffset + this.#position;
  }

  get remaining(): number {
    return this.#end - this.#position;
  }

  atEnd(): boolean {
    return this.#position >= this.#end;
  }

  /** Moves to an absolute position inside the bounds. */
  seek(position: number): void {
    if (position < 0 || position > this.#end) throw this.fail(`offset ${position} is outside the section`);
    this.#position = position;
  }

  /** An error for a defect at the current position. */
  fail(detail: string, position = this.#position): Error {
    return this.#report(this.#fileOffset + position, detail);
  }

  u8(): number {
    if (this.#position >= this.#end) throw this.fail('unexpected end of data reading a byte');
    return this.#bytes[this.#position++]!;
  }

  u32(): number {
    if (this.#position + 4 > this.#end) throw this.fail('unexpected end of data reading a 32-bit integer');
    const value = this.#buffer.readUInt32BE(this.#position);
    this.#position += 4;
    return value;
  }

  uvarint(): number {
    const bytes = this.#bytes;
    const start = this.#position;
    let value = 0;
    let scale = 1;
    for (let index = 0; index < uvarintBytesMax; index += 1) {
      if (this.#position >= this.#end) throw this.fail('unexpected end of data inside a varint', start);
      const byte = bytes[this.#position++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) throw this.fail('varint exceeds 2^53 - 1', start);
        return value;
      }
      scale *= 0x80;
    }
    throw this.fail(`varint runs past ${uvarintBytesMax} bytes`, start);
  }

  varint(): number {
    const zigZag = this.uvarint();
    return zigZag % 2 === 0 ? zigZag / 2 : -(zigZag + 1) / 2;
  }

  /** A view of the next `length` bytes (not a copy). */
  bytes(length: number): Uint8Array {
    if (!(length >= 0) || this.#position + length > this.#end) {
      throw this.fail(`${length} bytes wanted, ${this.#end - this.#position} remain`);
    }
    const view = this.#bytes.subarray(this.#position, this.#position + length);
    this.#position += length;
    return view;
  }

  /** A uvarint byte length, then that many UTF-8 bytes. */
  string(): string {
    const start = this.#position;
    const byteLength = this.uvarint();
    if (this.#position + byteLength > this.#end) throw this.fail(`string of ${byteLength} bytes runs past the end`, start);
    const text = this.#buffer.toString('utf8', this.#position, this.#position + byteLength);
    this.#position += byteLength;
    return text;
  }
}
