/**
 * Snappy's block format (the one remote write uses, not the framed stream format): a little-endian base-128
 * varint holding the decoded length, then elements. Each element starts with a tag byte whose low two bits
 * give its kind:
 *
 * - `00` literal: the upper six bits hold length-1 when it is below 60; 60..63 say that 1..4 little-endian
 *   bytes holding length-1 follow. The literal bytes come next.
 * - `01` copy with a 1-byte offset: length 4..11 (bits 2..4 hold length-4), offset below 2048 (bits 5..7
 *   are its high three bits, the next byte its low eight).
 * - `10` copy with a 2-byte offset: length 1..64 (upper six bits hold length-1), then the offset as a
 *   little-endian uint16.
 * - `11` copy with a 4-byte offset: as `10` with a little-endian uint32 offset.
 *
 * A copy repeats `length` bytes starting `offset` bytes back in the output; it may overlap what it writes
 * (offset < length repeats a pattern). The encoder here matches within 64 KiB blocks through a hash table of
 * 4-byte prefixes, so it only ever emits literals, 1-byte and 2-byte copies; the decoder reads all four
 * kinds, as any Snappy decoder must.
 *
 * @example
 * const packed = snappyEncode(new TextEncoder().encode('abcabcabcabc'));
 * new TextDecoder().decode(snappyDecode(packed)); // 'abcabcabcabc'
 */
import { assert } from '../tsdb/index.ts';
import { RemoteWriteError } from './errors.ts';

/** The encoder's matching window: offsets inside one block fit a 2-byte copy. */
export const snappyBlockBytesMax = 65_536;
/** The largest input the format can describe: the preamble is a uint32. */
export const snappyEncodeBytesMax = 0xffff_ffff;
/** The decoder's default output limit; remote-write bodies are far smaller. */
export const snappyDecodedBytesMaxDefault = 32 * 1024 * 1024;
/** Hash table sizes: at least 2^8 entries, at most 2^14 (one per 4 bytes of a full block). */
const hashTableBitsMin = 8;
const hashTableBitsMax = 14;
/** The last bytes of a block are never the start of a match, so 4-byte loads cannot run past its end. */
const blockMarginBytes = 15;
/** Shorter blocks are emitted as one literal: there is no room to find a match before the margin. */
const matchableBlockBytesMin = 1 + 1 + blockMarginBytes;
/** Longest varint the preamble may take: five bytes carry 35 bits, enough for a uint32. */
const preambleBytesMax = 5;
/** Copy lengths one element can carry. */
const copyLengthMax = 64;
const copy1LengthMax = 11;
const copy1OffsetMax = 2047;
const literalShortLengthMax = 60;

/**
 * The most bytes {@link snappyEncode} can produce for `inputBytes` bytes of input (Snappy's worst case:
 * incompressible data costs one literal tag per 60 bytes, plus the preamble).
 *
 * @example
 * snappyMaxEncodedBytes(1000); // 1198
 */
export function snappyMaxEncodedBytes(inputBytes: number): number {
  assert(Number.isSafeInteger(inputBytes) && inputBytes >= 0, 'input size is a non-negative integer');
  return 32 + inputBytes + Math.floor(inputBytes / 6);
}

/**
 * Compresses `input` into one Snappy block. Throws a {@link RemoteWriteError} (`REMOTE_SNAPPY_TOO_LARGE`)
 * for input longer than {@link snappyEncodeBytesMax}.
 *
 * @example
 * snappyEncode(new Uint8Array(100)).length; // 9: the preamble, a 1-byte literal and two copies
 */
export function snappyEncode(input: Uint8Array): Uint8Array {
  if (input.length > snappyEncodeBytesMax) {
    throw new RemoteWriteError('REMOTE_SNAPPY_TOO_LARGE', `Snappy input of ${input.length} bytes is larger than ${snappyEncodeBytesMax} bytes (snappyEncodeBytesMax).`);
  }
  const output = new Uint8Array(snappyMaxEncodedBytes(input.length));
  let position = writeUvarint(output, 0, input.length);
  const table = new Int32Array(1 << hashTableBitsMax);
  for (let blockStart = 0; blockStart < input.length; blockStart += snappyBlockBytesMax) {
    const blockEnd = Math.min(input.length, blockStart + snappyBlockBytesMax);
    position = blockEnd - blockStart < matchableBlockBytesMin
      ? emitLiteral(output, position, input, blockStart, blockEnd)
      : encodeBlock(input, blockStart, blockEnd, output, position, table);
  }
  assert(position <= output.length, 'encoded size within the worst case');
  return output.subarray(0, position);
}

/** Table bits for a block: enough entries for one per byte, within [2^8, 2^14]. */
function hashTableBits(blockBytes: number): number {
  let bits = hashTableBitsMin;
  while (bits < hashTableBitsMax && 1 << bits < blockBytes) bits += 1;
  return bits;
}

function load32(bytes: Uint8Array, index: number): number {
  return bytes[index]! | (bytes[index + 1]! << 8) | (bytes[index + 2]! << 16) | (bytes[index + 3]! << 24);
}

function hash32(word: number, shift: number): number {
  return Math.imul(word, 0x1e35_a7bd) >>> shift;
}

/**
 * Encodes input[start, end) as literals and copies. The table maps a 4-byte prefix's hash to its last
 * position (relative to `start`); stale or colliding entries are harmless because every candidate is
 * verified. After a miss the search skips ahead faster and faster (one more byte per 32 misses), so
 * incompressible data costs little time.
 */
function encodeBlock(input: Uint8Array, start: number, end: number, output: Uint8Array, position: number, table: Int32Array): number {
  const shift = 32 - hashTableBits(end - start);
  table.fill(0, 0, 1 << (32 - shift));
  const searchLimit = end - blockMarginBytes;
  let emitFrom = start;
  let cursor = start + 1;
  let nextHash = hash32(load32(input, cursor), shift);
  while (true) {
    let skip = 32;
    let next = cursor;
    let candidate: number;
    do {
      cursor = next;
      const step = skip >>> 5;
      next = cursor + step;
      skip += step;
      if (next > searchLimit) return emitRemainder(output, position, input, emitFrom, end);
      candidate = start + table[nextHash]!;
      table[nextHash] = cursor - start;
      nextHash = hash32(load32(input, next), shift);
    } while (load32(input, cursor) !== load32(input, candidate));
    position = emitLiteral(output, position, input, emitFrom, cursor);
    // Emit copies for as long as the position right after a match starts another one.
    do {
      assert(candidate < cursor && cursor - candidate < snappyBlockBytesMax, 'a match points back inside the block');
      const matchStart = cursor;
      let from = candidate + 4;
      cursor += 4;
      while (cursor < end && input[from] === input[cursor]) {
        from += 1;
        cursor += 1;
      }
      position = emitCopy(output, position, matchStart - candidate, cursor - matchStart);
      emitFrom = cursor;
      if (cursor >= searchLimit) return emitRemainder(output, position, input, emitFrom, end);
      table[hash32(load32(input, cursor - 1), shift)] = cursor - 1 - start;
      const currentHash = hash32(load32(input, cursor), shift);
      candidate = start + table[currentHash]!;
      table[currentHash] = cursor - start;
    } while (load32(input, cursor) === load32(input, candidate));
    cursor += 1;
    nextHash = hash32(load32(input, cursor), shift);
  }
}

function emitRemainder(output: Uint8Array, position: number, input: Uint8Array, from: number, to: number): number {
  return from < to ? emitLiteral(output, position, input, from, to) : position;
}

/** Writes input[from, to) as one literal element. */
function emitLiteral(output: Uint8Array, position: number, input: Uint8Array, from: number, to: number): number {
  const lengthMinusOne = to - from - 1;
  assert(lengthMinusOne >= 0, 'a literal holds at least one byte');
  if (lengthMinusOne < literalShortLengthMax) {
    output[position++] = lengthMinusOne << 2;
  } else {
    const lengthBytes = lengthMinusOne < 1 << 8 ? 1 : lengthMinusOne < 1 << 16 ? 2 : lengthMinusOne < 1 << 24 ? 3 : 4;
    output[position++] = (literalShortLengthMax - 1 + lengthBytes) << 2;
    for (let index = 0; index < lengthBytes; index += 1) output[position++] = (lengthMinusOne >>> (8 * index)) & 0xff;
  }
  output.set(input.subarray(from, to), position);
  return position + (to - from);
}

/**
 * Writes a copy of `length` bytes at `offset` as copy elements of at most 64 bytes each. A remainder of
 * 65..67 is split 60 + 5..7 so that no element is shorter than 4 (a 1-byte-offset copy's minimum).
 */
function emitCopy(output: Uint8Array, position: number, offset: number, length: number): number {
  assert(offset > 0 && offset < snappyBlockBytesMax && length >= 4, 'a copy has a 2-byte offset and at least 4 bytes');
  let remaining = length;
  while (remaining >= copyLengthMax + 4) {
    position = emitCopy2(output, position, offset, copyLengthMax);
    remaining -= copyLengthMax;
  }
  if (remaining > copyLengthMax) {
    position = emitCopy2(output, position, offset, copyLengthMax - 4);
    remaining -= copyLengthMax - 4;
  }
  if (remaining > copy1LengthMax || offset > copy1OffsetMax) return emitCopy2(output, position, offset, remaining);
  output[position] = ((offset >>> 8) << 5) | ((remaining - 4) << 2) | 0b01;
  output[position + 1] = offset & 0xff;
  return position + 2;
}

function emitCopy2(output: Uint8Array, position: number, offset: number, length: number): number {
  assert(length >= 1 && length <= copyLengthMax, 'a 2-byte-offset copy holds 1..64 bytes');
  output[position] = ((length - 1) << 2) | 0b10;
  output[position + 1] = offset & 0xff;
  output[position + 2] = offset >>> 8;
  return position + 3;
}

function writeUvarint(output: Uint8Array, position: number, value: number): number {
  assert(Number.isSafeInteger(value) && value >= 0 && value <= snappyEncodeBytesMax, 'preamble fits a uint32');
  let remaining = value;
  while (remaining >= 0x80) {
    output[position++] = (remaining % 0x80) | 0x80;
    remaining = Math.floor(remaining / 0x80);
  }
  output[position++] = remaining;
  return position;
}

export interface SnappyDecodeOptions {
  /** Refuse blocks that decode to more bytes than this; default {@link snappyDecodedBytesMaxDefault}. */
  readonly decodedBytesMax?: number;
}

/**
 * The decoded length a block's preamble announces, without decoding it. Throws a {@link RemoteWriteError}
 * (`REMOTE_SNAPPY_CORRUPT`) when the preamble is malformed.
 *
 * @example
 * snappyDecodedLength(snappyEncode(new Uint8Array(10))); // 10
 */
export function snappyDecodedLength(input: Uint8Array): number {
  return readPreamble(input).length;
}

function readPreamble(input: Uint8Array): { length: number; headerBytes: number } {
  let length = 0;
  for (let index = 0; index < preambleBytesMax; index += 1) {
    const byte = input[index];
    if (byte === undefined) throw corrupt(index, 'the length preamble is truncated');
    length += (byte & 0x7f) * 2 ** (7 * index);
    if (byte < 0x80) {
      if (length > snappyEncodeBytesMax) throw corrupt(0, `the length preamble holds ${length}, more than a uint32`);
      return { length, headerBytes: index + 1 };
    }
  }
  throw corrupt(0, `the length preamble is longer than ${preambleBytesMax} bytes`);
}

function corrupt(offset: number, detail: string): RemoteWriteError {
  return new RemoteWriteError('REMOTE_SNAPPY_CORRUPT', `Corrupt Snappy block at byte ${offset}: ${detail}.`);
}

/**
 * Decompresses one Snappy block, checking every element. Throws a {@link RemoteWriteError}:
 * `REMOTE_SNAPPY_CORRUPT` (with the byte offset) for malformed input, `REMOTE_SNAPPY_TOO_LARGE` when the
 * announced length exceeds `decodedBytesMax`.
 *
 * @example
 * snappyDecode(Uint8Array.of(3, 8, 0x61, 0x62, 0x63)); // the bytes of 'abc'
 */
export function snappyDecode(input: Uint8Array, options: SnappyDecodeOptions = {}): Uint8Array {
  const decodedBytesMax = options.decodedBytesMax ?? snappyDecodedBytesMaxDefault;
  if (!Number.isSafeInteger(decodedBytesMax) || decodedBytesMax < 0) {
    throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', `decodedBytesMax must be a non-negative integer, got ${decodedBytesMax}.`);
  }
  const { length, headerBytes } = readPreamble(input);
  if (length > decodedBytesMax) {
    throw new RemoteWriteError('REMOTE_SNAPPY_TOO_LARGE', `Snappy block decodes to ${length} bytes, more than the limit of ${decodedBytesMax} bytes.`);
  }
  const output = new Uint8Array(length);
  let written = 0;
  let cursor = headerBytes;
  while (cursor < input.length) {
    const tag = input[cursor]!;
    const kind = tag & 0b11;
    let elementLength: number;
    if (kind === 0) {
      elementLength = literalLength(input, cursor, tag);
      const start = cursor + literalHeaderBytes(tag);
      if (written + elementLength > length) throw corrupt(cursor, `an element writes past the announced length of ${length} bytes`);
      output.set(input.subarray(start, start + elementLength), written);
      cursor = start + elementLength;
    } else {
      const operandBytes = kind === 1 ? 1 : kind === 2 ? 2 : 4;
      if (cursor + 1 + operandBytes > input.length) throw corrupt(cursor, 'a copy element is truncated');
      const offset = copyOffset(input, cursor, tag, kind);
      elementLength = kind === 1 ? 4 + ((tag >>> 2) & 0b111) : (tag >>> 2) + 1;
      if (offset === 0) throw corrupt(cursor, 'a copy has offset 0');
      if (offset > written) throw corrupt(cursor, `a copy reaches ${offset} bytes back with only ${written} bytes written`);
      if (written + elementLength > length) throw corrupt(cursor, `an element writes past the announced length of ${length} bytes`);
      copyBack(output, written, offset, elementLength);
      cursor += 1 + operandBytes;
    }
    written += elementLength;
  }
  if (written !== length) throw corrupt(cursor, `the block decodes to ${written} bytes but announces ${length}`);
  return output;
}

/** Bytes of a literal's header: the tag, then 0..4 length bytes. */
function literalHeaderBytes(tag: number): number {
  const lengthMinusOne = tag >>> 2;
  return lengthMinusOne < literalShortLengthMax ? 1 : 1 + lengthMinusOne - literalShortLengthMax + 1;
}

/** A literal's length, from its tag or the length bytes after it; checks that header and bytes are present. */
function literalLength(input: Uint8Array, cursor: number, tag: number): number {
  const headerBytes = literalHeaderBytes(tag);
  if (cursor + headerBytes > input.length) throw corrupt(cursor, 'a literal length is truncated');
  let lengthMinusOne = tag >>> 2;
  if (headerBytes > 1) {
    lengthMinusOne = 0;
    for (let index = 1; index < headerBytes; index += 1) lengthMinusOne += input[cursor + index]! * 2 ** (8 * (index - 1));
  }
  const length = lengthMinusOne + 1;
  if (cursor + headerBytes + length > input.length) throw corrupt(cursor, `a literal of ${length} bytes runs past the end of the input`);
  return length;
}

function copyOffset(input: Uint8Array, cursor: number, tag: number, kind: number): number {
  if (kind === 1) return ((tag >>> 5) << 8) | input[cursor + 1]!;
  if (kind === 2) return input[cursor + 1]! | (input[cursor + 2]! << 8);
  return (input[cursor + 1]! | (input[cursor + 2]! << 8) | (input[cursor + 3]! << 16)) + input[cursor + 4]! * 2 ** 24;
}

/** Copies `length` bytes from `offset` back; byte by byte when they overlap, so patterns repeat. */
function copyBack(output: Uint8Array, written: number, offset: number, length: number): void {
  const from = written - offset;
  if (offset >= length) {
    output.copyWithin(written, from, from + length);
    return;
  }
  for (let index = 0; index < length; index += 1) output[written + index] = output[from + index]!;
}
