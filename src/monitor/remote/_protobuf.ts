/**
 * The few protobuf wire-format pieces remote write needs: varints (non-negative and int64), fixed64 words
 * and length-delimited fields. Messages are sized first and then written into one exact buffer, so nothing
 * is copied twice. Private to the remote package.
 */
import { assert } from '../tsdb/index.ts';

export const wireTypeVarint = 0;
export const wireTypeFixed64 = 1;
export const wireTypeLengthDelimited = 2;

/** Bytes of a varint holding a non-negative safe integer, or a negative int64 (always 10). */
export function varintBytes(value: number): number {
  if (value < 0) return 10;
  let bytes = 1;
  let remaining = value;
  while (remaining >= 0x80) {
    remaining = Math.floor(remaining / 0x80);
    bytes += 1;
  }
  return bytes;
}

/** Bytes of a length-delimited field (one-byte tag) whose payload is `payloadBytes` long. */
export function lengthDelimitedFieldBytes(payloadBytes: number): number {
  return 1 + varintBytes(payloadBytes) + payloadBytes;
}

/** Writes into a buffer sized in advance; every write checks the bound. */
export class ProtobufWriter {
  readonly bytes: Uint8Array;
  readonly #buffer: Buffer;
  /** Invariant: 0 ≤ position ≤ bytes.length. */
  position = 0;

  constructor(size: number) {
    assert(Number.isSafeInteger(size) && size >= 0, 'a message size is a non-negative integer');
    this.#buffer = Buffer.alloc(size);
    this.bytes = new Uint8Array(this.#buffer.buffer, this.#buffer.byteOffset, size);
  }

  /** A tag for fields 1..15 (one byte). */
  tag(field: number, wireType: number): void {
    assert(field >= 1 && field <= 15, 'single-byte tags only');
    this.#byte((field << 3) | wireType);
  }

  /** A varint: non-negative safe integers directly, negative ones as 64-bit two's complement. */
  varint(value: number): void {
    assert(Number.isSafeInteger(value), 'varints are safe integers');
    if (value < 0) {
      this.#varintBigInt(BigInt.asUintN(64, BigInt(value)));
      return;
    }
    let remaining = value;
    while (remaining >= 0x80) {
      this.#byte((remaining % 0x80) | 0x80);
      remaining = Math.floor(remaining / 0x80);
    }
    this.#byte(remaining);
  }

  /** A little-endian fixed64 from its two 32-bit words. */
  fixed64(high: number, low: number): void {
    assert(this.position + 8 <= this.bytes.length, 'write within the sized buffer');
    this.#buffer.writeUInt32LE(low >>> 0, this.position);
    this.#buffer.writeUInt32LE(high >>> 0, this.position + 4);
    this.position += 8;
  }

  /** A string whose UTF-8 length the caller computed while sizing. */
  string(text: string, byteLength: number): void {
    this.varint(byteLength);
    assert(this.position + byteLength <= this.bytes.length, 'write within the sized buffer');
    const written = this.#buffer.write(text, this.position, 'utf8');
    assert(written === byteLength, 'string length as sized');
    this.position += written;
  }

  raw(bytes: Uint8Array): void {
    assert(this.position + bytes.length <= this.bytes.length, 'write within the sized buffer');
    this.bytes.set(bytes, this.position);
    this.position += bytes.length;
  }

  #varintBigInt(value: bigint): void {
    let remaining = value;
    while (remaining >= 0x80n) {
      this.#byte(Number(remaining & 0x7fn) | 0x80);
      remaining >>= 7n;
    }
    this.#byte(Number(remaining));
  }

  #byte(value: number): void {
    assert(this.position < this.bytes.length, 'write within the sized buffer');
    this.bytes[this.position] = value;
    this.position += 1;
  }
}
