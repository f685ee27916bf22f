/**
 * Byte helpers. Inside the store a key is a "binary string": one UTF-16 code unit per byte (0..255). JS
 * compares strings by code unit, so binary strings sort exactly like Go's bytes.Compare on the bytes, and
 * they are compact, hashable Map keys with native comparisons — much cheaper than Uint8Array keys.
 */
import { assert } from './errors.ts';

export const emptyBytes: Uint8Array = new Uint8Array(0);

/** Chunk of bytes passed to String.fromCharCode at once, well below engines' argument limits. */
const fromCharCodeChunkMax = 8192;

export function bytesToKey(bytes: Uint8Array): string {
  if (bytes.length <= fromCharCodeChunkMax) {
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  const parts: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += fromCharCodeChunkMax) {
    const chunk = bytes.subarray(offset, offset + fromCharCodeChunkMax);
    parts.push(String.fromCharCode.apply(null, chunk as unknown as number[]));
  }
  return parts.join('');
}

export function keyToBytes(key: string): Uint8Array {
  const bytes = new Uint8Array(key.length);
  for (let index = 0; index < key.length; index++) {
    const code = key.charCodeAt(index);
    assert(code <= 0xff, 'a binary string holds bytes only');
    bytes[index] = code;
  }
  return bytes;
}

/** Bytewise comparison with Go's bytes.Compare semantics: -1, 0 or 1. */
export function compareBytes(left: Uint8Array, right: Uint8Array): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index++) {
    const difference = (left[index] as number) - (right[index] as number);
    if (difference !== 0) return difference < 0 ? -1 : 1;
  }
  if (left.length === right.length) return 0;
  return left.length < right.length ? -1 : 1;
}

/**
 * The bytes a store keeps from a write request. A copy, unless the caller handed its arrays over (`adopt`:
 * it never changes them afterwards) and keeping the array pins little more memory than its own bytes: a
 * view into a socket buffer, a WAL read buffer or Node's 8 KiB allocation pool is still copied. The array
 * kept is a plain Uint8Array (a Buffer view becomes one), as reads return it.
 */
export function keepBytes(bytes: Uint8Array | undefined, adopt: boolean): Uint8Array {
  if (bytes === undefined || bytes.length === 0) return emptyBytes;
  // A plain copy (Buffer#slice would return a view, not a copy).
  if (!adopt || bytes.buffer.byteLength > 2 * bytes.length + adoptSlackBytes) return new Uint8Array(bytes);
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** What an adopted array may pin beyond twice its own length: a Raft entry's header and key around a value. */
const adoptSlackBytes = 256;

/**
 * The keys a request names, after etcd's conventions: an empty range end means the single key, a range end
 * of one zero byte means every key from `start` on, anything else the half-open interval [start, end).
 * Invariant: `single` implies `end === start`-only semantics; `end === null` means unbounded.
 */
export interface KeySpan {
  readonly start: string;
  readonly end: string | null;
  readonly single: boolean;
}

export function keySpanOf(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeySpan {
  const start = bytesToKey(key);
  if (rangeEnd === undefined || rangeEnd.length === 0) return { start, end: start, single: true };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: null, single: false };
  return { start, end: bytesToKey(rangeEnd), single: false };
}

export function spanContains(span: KeySpan, key: string): boolean {
  if (span.single) return key === span.start;
  return key >= span.start && (span.end === null || key < span.end);
}
