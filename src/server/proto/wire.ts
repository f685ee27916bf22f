/**
 * The protobuf wire format (https://protobuf.dev/programming-guides/encoding/): a bounds-checked
 * {@link Reader} and a {@link Writer} that fills one preallocated buffer. The generated codecs in
 * `_generated/` are thin loops over these primitives.
 *
 * 64-bit varints are handled as two unsigned 32-bit halves, because JS bitwise operators work on 32 bits
 * and a number holds only 53. Decoding never allocates for scalars; `bytes` fields alias the input.
 */
import { Buffer } from 'node:buffer';
import { assert, nestingDepthMax, ProtoError } from './errors.ts';

export const wireTypeVarint = 0;
export const wireTypeFixed64 = 1;
export const wireTypeLengthDelimited = 2;
export const wireTypeStartGroup = 3;
export const wireTypeEndGroup = 4;
export const wireTypeFixed32 = 5;

/** Field numbers are 29 bits; 19000-19999 are reserved by protobuf but legal on the wire. */
export const fieldNumberMax = 2 ** 29 - 1;
/** A varint encodes at most 64 bits in 7-bit groups. */
export const varintBytesMax = 10;

const twoPower32 = 2 ** 32;
/** Largest high half whose value still fits in a safe integer: (2^53 - 1) >>> 32. */
const safeHighMax = 0x1fffff;
const emptyBytes = new Uint8Array(0);
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Strings up to this length are decoded by hand when ASCII; TextDecoder's call cost dominates below it. */
const asciiFastPathBytesMax = 32;

const scratch = new ArrayBuffer(8);
const scratchBytes = new Uint8Array(scratch);
const scratchFloat32 = new Float32Array(scratch);
const scratchFloat64 = new Float64Array(scratch);

/**
 * Reads protobuf values from `bytes`, never past `end`. Generated readers set `end` to a nested message's
 * end while reading it and restore it afterwards.
 *
 * @example
 * const reader = new Reader(bytes);
 * while (reader.position < reader.end) { const tag = reader.tag(); reader.skip(tag); }
 */
export class Reader {
  readonly bytes: Uint8Array;
  /** Invariant: 0 <= position <= end <= bytes.length. */
  position: number;
  end: number;
  /** Current message nesting; bounded by {@link nestingDepthMax}. */
  depth: number;
  /** The low and high unsigned halves of the last value read by {@link Reader.varint64}. */
  low: number;
  high: number;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.position = 0;
    this.end = bytes.length;
    this.depth = 0;
    this.low = 0;
    this.high = 0;
  }

  /** Reads a tag and checks its field number and wire type. Returns `fieldNumber << 3 | wireType`. */
  tag(): number {
    const position = this.position;
    if (position < this.end) {
      const byte = this.bytes[position]!;
      // One-byte tags (fields 1-15) are the common case.
      if (byte < 0x80) {
        this.position = position + 1;
        if (byte >>> 3 === 0) throw this.error('PROTO_INVALID_FIELD_NUMBER', 'field number 0');
        return checkWireType(this, byte);
      }
    }
    this.varint64();
    const fieldNumber = this.high === 0 ? this.low >>> 3 : -1;
    if (fieldNumber <= 0 || fieldNumber > fieldNumberMax) {
      throw this.error('PROTO_INVALID_FIELD_NUMBER', 'field number out of range');
    }
    // (low >>> 0) keeps the tag unsigned; field numbers above 2^28 set the sign bit.
    return checkWireType(this, this.low >>> 0);
  }

  /** Reads a varint and keeps its low 32 bits, unsigned (uint32, lengths, enums before sign fix-up). */
  varint32(): number {
    const position = this.position;
    if (position < this.end) {
      const byte = this.bytes[position]!;
      if (byte < 0x80) {
        this.position = position + 1;
        return byte;
      }
    }
    this.varint64();
    return this.low;
  }

  /** Reads a varint of up to 10 bytes into {@link Reader.low} and {@link Reader.high}. */
  varint64(): void {
    const bytes = this.bytes;
    const end = this.end;
    let position = this.position;
    let low = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (position >= end) throw this.error('PROTO_TRUNCATED', 'input ends inside a varint');
      const byte = bytes[position++]!;
      low |= (byte & 0x7f) << shift;
      if (byte < 0x80) return this.finishVarint(position, low, 0);
    }
    // The fifth byte straddles the halves: 4 bits go low, 3 bits go high.
    if (position >= end) throw this.error('PROTO_TRUNCATED', 'input ends inside a varint');
    let byte = bytes[position++]!;
    low |= (byte & 0x0f) << 28;
    let high = (byte & 0x7f) >>> 4;
    if (byte < 0x80) return this.finishVarint(position, low, high);
    for (let shift = 3; shift < 32; shift += 7) {
      if (position >= end) throw this.error('PROTO_TRUNCATED', 'input ends inside a varint');
      byte = bytes[position++]!;
      // In the tenth byte only bit 0 lands inside 64 bits; the shift drops the rest, as protobuf does.
      high |= (byte & 0x7f) << shift;
      if (byte < 0x80) return this.finishVarint(position, low, high);
    }
    throw this.error('PROTO_VARINT_TOO_LONG', 'varint longer than 10 bytes');
  }

  private finishVarint(position: number, low: number, high: number): void {
    this.position = position;
    this.low = low >>> 0;
    this.high = high >>> 0;
  }

  bool(): boolean {
    const position = this.position;
    if (position < this.end) {
      const byte = this.bytes[position]!;
      if (byte < 0x80) {
        this.position = position + 1;
        return byte !== 0;
      }
    }
    this.varint64();
    return this.low !== 0 || this.high !== 0;
  }

  /** int32 and enums: a negative value arrives as a sign-extended 10-byte varint; keep 32 bits, signed. */
  int32(): number {
    return this.varint32() | 0;
  }

  uint32(): number {
    return this.varint32() >>> 0;
  }

  sint32(): number {
    const value = this.varint32();
    return (value >>> 1) ^ -(value & 1);
  }

  /** uint64 as a number; rejects values above 2^53 - 1. */
  uint64Number(): number {
    this.varint64();
    return this.unsignedHalvesToNumber();
  }

  /** int64 as a number; rejects values outside ±(2^53 - 1). */
  int64Number(): number {
    this.varint64();
    return this.signedHalvesToNumber();
  }

  sint64Number(): number {
    this.varint64();
    this.unzigzagHalves();
    return this.signedHalvesToNumber();
  }

  uint64BigInt(): bigint {
    this.varint64();
    return halvesToBigInt(this.low, this.high);
  }

  int64BigInt(): bigint {
    this.varint64();
    return BigInt.asIntN(64, halvesToBigInt(this.low, this.high));
  }

  sint64BigInt(): bigint {
    this.varint64();
    this.unzigzagHalves();
    return BigInt.asIntN(64, halvesToBigInt(this.low, this.high));
  }

  fixed32(): number {
    const position = this.need(4);
    const bytes = this.bytes;
    return (bytes[position]! | (bytes[position + 1]! << 8) | (bytes[position + 2]! << 16) | (bytes[position + 3]! << 24)) >>> 0;
  }

  sfixed32(): number {
    return this.fixed32() | 0;
  }

  float(): number {
    const position = this.need(4);
    for (let index = 0; index < 4; index++) scratchBytes[index] = this.bytes[position + index]!;
    return scratchFloat32[0]!;
  }

  double(): number {
    const position = this.need(8);
    for (let index = 0; index < 8; index++) scratchBytes[index] = this.bytes[position + index]!;
    return scratchFloat64[0]!;
  }

  fixed64Number(): number {
    this.fixed64Halves();
    return this.unsignedHalvesToNumber();
  }

  sfixed64Number(): number {
    this.fixed64Halves();
    return this.signedHalvesToNumber();
  }

  fixed64BigInt(): bigint {
    this.fixed64Halves();
    return halvesToBigInt(this.low, this.high);
  }

  sfixed64BigInt(): bigint {
    this.fixed64Halves();
    return BigInt.asIntN(64, halvesToBigInt(this.low, this.high));
  }

  /** A length prefix, checked against the bytes left in the current message. */
  length(): number {
    const position = this.position;
    let length: number;
    if (position < this.end && this.bytes[position]! < 0x80) {
      length = this.bytes[position]!;
      this.position = position + 1;
    } else {
      this.varint64();
      if (this.high !== 0) throw this.error('PROTO_TRUNCATED', 'length exceeds the input');
      length = this.low;
    }
    if (length > this.end - this.position) throw this.error('PROTO_TRUNCATED', 'length exceeds the input');
    return length;
  }

  /** A bytes field, as a view into the input (no copy). Copy it before keeping it beyond the request. */
  bytesField(): Uint8Array {
    const length = this.length();
    if (length === 0) return emptyBytes;
    const start = this.position;
    this.position = start + length;
    return this.bytes.subarray(start, start + length);
  }

  string(): string {
    const length = this.length();
    const start = this.position;
    const end = start + length;
    this.position = end;
    if (length <= asciiFastPathBytesMax) {
      const ascii = asciiString(this.bytes, start, end);
      if (ascii !== undefined) return ascii;
    }
    try {
      return utf8Decoder.decode(this.bytes.subarray(start, end));
    } catch {
      throw this.error('PROTO_INVALID_UTF8', 'string field is not valid UTF-8', start);
    }
  }

  /** Enters a nested message of `length` bytes; returns the end to restore with {@link Reader.leave}. */
  enter(length: number): number {
    if (this.depth >= nestingDepthMax) throw this.error('PROTO_NESTING_TOO_DEEP', 'messages nest too deeply');
    const outerEnd = this.end;
    this.depth++;
    this.end = this.position + length;
    assert(this.end <= outerEnd, 'nested message stays inside its parent');
    return outerEnd;
  }

  leave(outerEnd: number): void {
    assert(this.position === this.end, 'nested message read to its end');
    this.depth--;
    this.end = outerEnd;
  }

  /** Skips the value of a field this decoder does not know (or a group), by wire type. */
  skip(tag: number): void {
    switch (tag & 7) {
      case wireTypeVarint:
        this.varint64();
        return;
      case wireTypeFixed64:
        this.need(8);
        return;
      case wireTypeLengthDelimited: {
        // Read the length first: `this.position += this.length()` would add to the position from before
        // the length prefix was consumed.
        const length = this.length();
        this.position += length;
        return;
      }
      case wireTypeStartGroup:
        this.skipGroup(tag >>> 3);
        return;
      case wireTypeFixed32:
        this.need(4);
        return;
      default:
        throw this.error('PROTO_INVALID_WIRE_TYPE', 'end-group without a start-group');
    }
  }

  /** Skips an unknown (deprecated) group up to its matching end-group tag. */
  private skipGroup(fieldNumber: number): void {
    if (this.depth >= nestingDepthMax) throw this.error('PROTO_NESTING_TOO_DEEP', 'groups nest too deeply');
    this.depth++;
    while (true) {
      if (this.position >= this.end) throw this.error('PROTO_TRUNCATED', 'input ends inside a group');
      const tag = this.tag();
      if ((tag & 7) === wireTypeEndGroup) {
        if (tag >>> 3 !== fieldNumber) throw this.error('PROTO_INVALID_WIRE_TYPE', 'end-group does not match its start-group');
        break;
      }
      this.skip(tag);
    }
    this.depth--;
  }

  /** The error for a known field that arrived with an impossible wire type. */
  wireTypeMismatch(tag: number): ProtoError {
    return this.error('PROTO_WIRE_TYPE_MISMATCH', `field ${tag >>> 3} has wire type ${tag & 7}`);
  }

  error(code: ProtoError['code'], message: string, offset = this.position): ProtoError {
    return new ProtoError(code, `${message} at byte ${offset}`, offset);
  }

  /** Advances over `count` fixed bytes and returns where they start. */
  private need(count: number): number {
    const position = this.position;
    if (count > this.end - position) throw this.error('PROTO_TRUNCATED', 'input ends inside a fixed-width value');
    this.position = position + count;
    return position;
  }

  private fixed64Halves(): void {
    const position = this.need(8);
    const bytes = this.bytes;
    this.low = (bytes[position]! | (bytes[position + 1]! << 8) | (bytes[position + 2]! << 16) | (bytes[position + 3]! << 24)) >>> 0;
    this.high = (bytes[position + 4]! | (bytes[position + 5]! << 8) | (bytes[position + 6]! << 16) | (bytes[position + 7]! << 24)) >>> 0;
  }

  private unzigzagHalves(): void {
    const sign = -(this.low & 1);
    this.low = (((this.low >>> 1) | (this.high << 31)) ^ sign) >>> 0;
    this.high = ((this.high >>> 1) ^ sign) >>> 0;
  }

  private unsignedHalvesToNumber(): number {
    if (this.high > safeHighMax) throw this.error('PROTO_INTEGER_UNSAFE', 'unsigned 64-bit value above 2^53 - 1');
    return this.high * twoPower32 + this.low;
  }

  private signedHalvesToNumber(): number {
    if (this.high < 0x80000000) return this.unsignedHalvesToNumber();
    // Negative: negate the two's complement halves to get the magnitude.
    const low = (~this.low + 1) >>> 0;
    const high = (~this.high + (low === 0 ? 1 : 0)) >>> 0;
    if (high > safeHighMax) throw this.error('PROTO_INTEGER_UNSAFE', 'signed 64-bit value below -(2^53 - 1)');
    return -(high * twoPower32 + low);
  }
}

function checkWireType(reader: Reader, tag: number): number {
  const wireType = tag & 7;
  if (wireType > wireTypeFixed32) throw reader.error('PROTO_INVALID_WIRE_TYPE', `wire type ${wireType} is not defined`);
  return tag;
}

function halvesToBigInt(low: number, high: number): bigint {
  if (high === 0) return BigInt(low);
  return (BigInt(high) << 32n) | BigInt(low);
}

function asciiString(bytes: Uint8Array, start: number, end: number): string | undefined {
  let text = '';
  for (let index = start; index < end; index++) {
    const byte = bytes[index]!;
    if (byte >= 0x80) return undefined;
    text += String.fromCharCode(byte);
  }
  return text;
}

// ---------------------------------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------------------------------

/** Bytes a varint takes for an unsigned 32-bit value. */
export function varintSize32(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Bytes for int32 and enums: negative values are sign-extended to 64 bits, so they take 10. */
export function varintSizeInt32(value: number): number {
  return value < 0 ? varintBytesMax : varintSize32(value);
}

/** Bytes for a 64-bit value held in a safe-integer number. */
export function varintSizeNumber(value: number): number {
  if (value < 0) return varintBytesMax;
  if (value < 0x10000000) return varintSize32(value);
  if (value < 2 ** 35) return 5;
  if (value < 2 ** 42) return 6;
  if (value < 2 ** 49) return 7;
  return 8;
}

/**
 * A 64-bit bigint as two 32-bit halves, left in `splitLow` and `splitHigh`. Splitting allocates three
 * bigints; every response header carries the same two (cluster and member ID), sized and then written,
 * so the last two values split are remembered.
 */
let splitLow = 0;
let splitHigh = 0;
let memoA: bigint | null = null;
let memoALow = 0;
let memoAHigh = 0;
let memoB: bigint | null = null;
let memoBLow = 0;
let memoBHigh = 0;

function splitBigInt(value: bigint): void {
  if (value === memoA) {
    splitLow = memoALow;
    splitHigh = memoAHigh;
    return;
  }
  if (value === memoB) {
    splitLow = memoBLow;
    splitHigh = memoBHigh;
    return;
  }
  const unsigned = BigInt.asUintN(64, value);
  splitLow = Number(unsigned & 0xffffffffn);
  splitHigh = Number(unsigned >> 32n);
  memoB = memoA;
  memoBLow = memoALow;
  memoBHigh = memoAHigh;
  memoA = value;
  memoALow = splitLow;
  memoAHigh = splitHigh;
}

/** Bytes for a 64-bit value held in a bigint (already checked to fit 64 bits). */
export function varintSizeBigInt(value: bigint): number {
  if (value >= 0n && value < 0x80000000n) return varintSize32(Number(value));
  splitBigInt(value);
  return varintSizeHalves(splitLow, splitHigh);
}

/** Bytes of a length-delimited field's payload plus its length prefix (tag not included). */
export function lengthDelimitedSize(length: number): number {
  return varintSize32(length) + length;
}

export function stringByteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** Zigzag mapping for sint32, so small negative numbers stay short. */
export function zigzag32(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

/** Bytes for a sint64 held in a number; zigzag runs on the halves since 2 * |value| may not be exact. */
export function varintSizeSint64Number(value: number): number {
  const low = value >>> 0;
  const high = Math.floor(value / twoPower32) >>> 0;
  const sign = high >> 31;
  return varintSizeHalves(((low << 1) ^ sign) >>> 0, (((high << 1) | (low >>> 31)) ^ sign) >>> 0);
}

/** Zigzag mapping for sint64 bigints. */
export function zigzagBigInt(value: bigint): bigint {
  return BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
}

function varintSizeHalves(low: number, high: number): number {
  if (high === 0) return varintSize32(low);
  let size = 5;
  for (let rest = high >>> 3; rest !== 0; rest >>>= 7) size++;
  return size;
}

// ---------------------------------------------------------------------------------------------------
// Value checks for encoders (encoding refuses values the field cannot carry rather than wrapping them)
// ---------------------------------------------------------------------------------------------------

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;
const uint64Max = 2n ** 64n - 1n;

export function checkInt32(value: number, field: string): number {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw invalidValue(field, 'int32');
  return value;
}

export function checkUint32(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw invalidValue(field, 'uint32');
  return value;
}

export function checkInt64Number(value: number, field: string): number {
  if (!Number.isSafeInteger(value)) throw invalidValue(field, 'safe integer');
  return value;
}

export function checkUint64Number(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalidValue(field, 'non-negative safe integer');
  return value;
}

export function checkInt64BigInt(value: bigint, field: string): bigint {
  if (value < int64Min || value > int64Max) throw invalidValue(field, 'int64');
  return value;
}

export function checkUint64BigInt(value: bigint, field: string): bigint {
  if (value < 0n || value > uint64Max) throw invalidValue(field, 'uint64');
  return value;
}

function invalidValue(field: string, expected: string): ProtoError {
  return new ProtoError('PROTO_INVALID_VALUE', `field ${field} needs a ${expected}`, -1);
}

// ---------------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------------

/**
 * Sizes of nested messages, recorded by the size pass in the order the write pass needs them, so that no
 * nested size is computed twice. A size pass reserves a slot before descending (pre-order) and fills it
 * after; the write pass consumes slots in the same pre-order.
 */
export class SizeCache {
  values: number[] = [];
  /** Slots reserved by the size pass. */
  count = 0;
  /** Slots consumed by the write pass. Invariant: cursor <= count. */
  cursor = 0;

  reset(): void {
    this.count = 0;
    this.cursor = 0;
  }

  reserve(): number {
    const slot = this.count++;
    if (slot === this.values.length) this.values.push(0);
    return slot;
  }

  fill(slot: number, size: number): void {
    this.values[slot] = size;
  }

  next(): number {
    assert(this.cursor < this.count, 'write pass consumes only sizes the size pass recorded');
    return this.values[this.cursor++]!;
  }
}

/**
 * Writes into one buffer whose size the size pass computed. `bytes` is a Buffer so that strings are
 * written without an intermediate copy.
 */
export class Writer {
  readonly bytes: Buffer;
  /** Invariant: position <= bytes.length. */
  position: number;
  readonly sizes: SizeCache;

  constructor(bytes: Buffer, position: number, sizes: SizeCache) {
    this.bytes = bytes;
    this.position = position;
    this.sizes = sizes;
  }

  /** An unsigned value below 2^32 (tags, lengths, uint32, non-negative enums). */
  varint32(value: number): void {
    const bytes = this.bytes;
    let position = this.position;
    while (value > 0x7f) {
      bytes[position++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    bytes[position++] = value;
    this.position = position;
  }

  /** int32 and enums: negative values are sign-extended to 64 bits. */
  int32(value: number): void {
    if (value >= 0) this.varint32(value);
    else this.varintHalves(value >>> 0, 0xffffffff);
  }

  /** A 64-bit integer held in a safe-integer number (int64 or uint64). */
  varintNumber(value: number): void {
    if (value >= 0 && value <= 0x7fffffff) this.varint32(value);
    else this.varintHalves(value >>> 0, Math.floor(value / twoPower32) >>> 0);
  }

  varintBigInt(value: bigint): void {
    splitBigInt(value);
    this.varintHalves(splitLow, splitHigh);
  }

  sint64Number(value: number): void {
    const low = value >>> 0;
    const high = Math.floor(value / twoPower32) >>> 0;
    const sign = high >> 31;
    this.varintHalves(((low << 1) ^ sign) >>> 0, (((high << 1) | (low >>> 31)) ^ sign) >>> 0);
  }

  varintHalves(low: number, high: number): void {
    const bytes = this.bytes;
    let position = this.position;
    while (high !== 0 || low > 0x7f) {
      bytes[position++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    bytes[position++] = low;
    this.position = position;
  }

  bool(value: boolean): void {
    this.bytes[this.position++] = value ? 1 : 0;
  }

  fixed32(value: number): void {
    const bytes = this.bytes;
    const position = this.position;
    bytes[position] = value & 0xff;
    bytes[position + 1] = (value >>> 8) & 0xff;
    bytes[position + 2] = (value >>> 16) & 0xff;
    bytes[position + 3] = (value >>> 24) & 0xff;
    this.position = position + 4;
  }

  fixed64Number(value: number): void {
    this.fixed32(value >>> 0);
    this.fixed32(Math.floor(value / twoPower32) >>> 0);
  }

  fixed64BigInt(value: bigint): void {
    const unsigned = BigInt.asUintN(64, value);
    this.fixed32(Number(unsigned & 0xffffffffn));
    this.fixed32(Number(unsigned >> 32n));
  }

  float(value: number): void {
    scratchFloat32[0] = value;
    for (let index = 0; index < 4; index++) this.bytes[this.position++] = scratchBytes[index]!;
  }

  double(value: number): void {
    scratchFloat64[0] = value;
    for (let index = 0; index < 8; index++) this.bytes[this.position++] = scratchBytes[index]!;
  }

  /** A length-prefixed byte string. */
  bytesField(value: Uint8Array): void {
    this.varint32(value.length);
    this.bytes.set(value, this.position);
    this.position += value.length;
  }

  /** A length-prefixed UTF-8 string whose byte length the caller already knows. */
  string(value: string, byteLength: number): void {
    this.varint32(byteLength);
    const written = this.bytes.write(value, this.position, byteLength, 'utf8');
    assert(written === byteLength, 'string byte length matches the size pass');
    this.position += written;
  }
}

/**
 * Shared state for top-level encodes. Encoding is synchronous and never re-entered, so one size cache
 * serves every call and the hot path allocates only the output buffer.
 */
const sharedSizes = new SizeCache();

/**
 * Runs a generated size pass and write pass into one buffer of `reservedBytes + size` bytes. The first
 * `reservedBytes` bytes are left for the caller (the gRPC layer puts its 5-byte frame header there).
 */
export function encodeWith<T>(
  message: T,
  reservedBytes: number,
  size: (message: T, sizes: SizeCache) => number,
  write: (message: T, writer: Writer) => void,
): Buffer {
  assert(Number.isInteger(reservedBytes) && reservedBytes >= 0, 'reserved bytes is a non-negative integer');
  sharedSizes.reset();
  const messageBytes = size(message, sharedSizes);
  const bytes = Buffer.allocUnsafe(reservedBytes + messageBytes);
  const writer = new Writer(bytes, reservedBytes, sharedSizes);
  write(message, writer);
  assert(writer.position === bytes.length, 'encoder filled the buffer exactly');
  assert(sharedSizes.cursor === sharedSizes.count, 'encoder consumed every recorded size');
  return bytes;
}

/** Runs a generated reader over a whole buffer and checks that it stopped exactly at the end. */
export function decodeWith<T>(bytes: Uint8Array, read: (reader: Reader, target: T | undefined) => T): T {
  const reader = new Reader(bytes);
  const message = read(reader, undefined);
  assert(reader.position === bytes.length && reader.depth === 0, 'decoder consumed the whole input');
  return message;
}

export { emptyBytes };
