/**
 * CRC-32C (Castagnoli), and etcd's HashKV input: for each kept revision, the revision bytes (8-byte
 * big-endian main, '_', 8-byte big-endian sub, and 't' for a tombstone) followed by the protobuf encoding of
 * mvccpb.KeyValue (a tombstone stores only its key). keel produces the same bytes etcd's key bucket holds,
 * so equal histories hash equally here and in etcd.
 */
import { crc32c, crc32cRange, crc32cRegisterByte } from '../storage/crc32c.ts';
import type { RevisionRecord } from './_key-index.ts';
import { assert } from './errors.ts';

/** An incremental CRC-32C. */
export class Crc32c {
  #state = 0xffffffff;

  /** The storage layer's CRC-32C (pure functions, slicing-by-8 for whole arrays) over a running state. */
  update(bytes: Uint8Array): this {
    this.#state = ~crc32cRange(bytes, 0, bytes.length, (this.#state ^ 0xffffffff) >>> 0);
    return this;
  }

  updateByte(byte: number): this {
    this.#state = crc32cRegisterByte(this.#state, byte);
    return this;
  }

  digest(): number {
    return (this.#state ^ 0xffffffff) >>> 0;
  }
}

export { crc32c };

const twoTo32 = 2 ** 32;

function updateUint64BigEndian(crc: Crc32c, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, 'revision parts are non-negative safe integers');
  const high = Math.floor(value / twoTo32);
  const low = value % twoTo32;
  for (const word of [high, low]) {
    crc.updateByte((word >>> 24) & 0xff).updateByte((word >>> 16) & 0xff).updateByte((word >>> 8) & 0xff).updateByte(word & 0xff);
  }
}

/** Protobuf varint of an int64; negative values take ten bytes (two's complement), as in Go. */
function updateVarint(crc: Crc32c, value: number): void {
  assert(Number.isSafeInteger(value), 'varints encode safe integers');
  if (value < 0) {
    let remaining = BigInt.asUintN(64, BigInt(value));
    while (remaining >= 0x80n) {
      crc.updateByte(Number(remaining & 0x7fn) | 0x80);
      remaining >>= 7n;
    }
    crc.updateByte(Number(remaining));
    return;
  }
  let remaining = value;
  while (remaining >= 0x80) {
    crc.updateByte((remaining % 0x80) | 0x80);
    remaining = Math.floor(remaining / 0x80);
  }
  crc.updateByte(remaining);
}

function updateBytesField(crc: Crc32c, tag: number, bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  crc.updateByte(tag);
  updateVarint(crc, bytes.length);
  crc.update(bytes);
}

function updateVarintField(crc: Crc32c, tag: number, value: number): void {
  if (value === 0) return;
  crc.updateByte(tag);
  updateVarint(crc, value);
}

/** Feeds one revision of etcd's key bucket, key then value, into `crc`. */
export function updateWithRecord(crc: Crc32c, record: RevisionRecord): void {
  updateUint64BigEndian(crc, record.mainRevision);
  crc.updateByte(0x5f); // '_'
  updateUint64BigEndian(crc, record.subRevision);
  if (record.tombstone) crc.updateByte(0x74); // 't'
  // mvccpb.KeyValue fields: 1 key, 2 create_revision, 3 mod_revision, 4 version, 5 value, 6 lease.
  updateBytesField(crc, 0x0a, record.keyIndex.keyBytes);
  if (record.tombstone) return;
  updateVarintField(crc, 0x10, record.createRevision);
  updateVarintField(crc, 0x18, record.mainRevision);
  updateVarintField(crc, 0x20, record.version);
  updateBytesField(crc, 0x2a, record.value);
  updateVarintField(crc, 0x30, record.lease);
}
