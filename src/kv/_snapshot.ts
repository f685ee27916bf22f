/**
 * The binary snapshot of the replicated state. Layout (integers are unsigned LEB128 varints unless marked
 * signed: a sign byte, 1 for negative, then the magnitude as a varint; "bytes" is a varint length then the bytes):
 *
 *   magic "KEELKV" | format version byte (1)
 *   currentRevision | signed compactRevision | leaseIdSequence
 *   recordCount, then per record in revision order:
 *     main revision delta from the previous record (the first: absolute) | sub revision | flags (1: tombstone)
 *     key bytes | for a put: createRevision, version, signed lease, value bytes
 *   leaseCount, then per lease in ID order: signed id | ttlSeconds | remainingTtlSeconds
 *   alarmCount, then per alarm in (type, member) order: memberId | alarm type
 *   CRC-32C of everything above, 4 bytes little-endian
 *
 * Leader-local lease timing is not part of it. Attached keys are not either: they follow from the live
 * records' lease fields, as etcd rebuilds them.
 */
import { bytesToKey, emptyBytes } from './_bytes.ts';
import { Crc32c, crc32c } from './_hash.ts';
import type { RevisionRecord } from './_key-index.ts';
import { assert, KvError } from './errors.ts';
import type { AlarmMember, AlarmType } from './types.ts';

const magic = [0x4b, 0x45, 0x45, 0x4c, 0x4b, 0x56]; // "KEELKV"
const formatVersion = 1;
const flagTombstone = 1;

export interface SnapshotLease {
  readonly id: number;
  readonly ttlSeconds: number;
  readonly remainingTtlSeconds: number;
}

export interface SnapshotRecord {
  readonly key: string;
  readonly keyBytes: Uint8Array;
  readonly mainRevision: number;
  readonly subRevision: number;
  /** null for a tombstone. */
  readonly put: { createRevision: number; version: number; lease: number; value: Uint8Array } | null;
}

export interface SnapshotState {
  readonly currentRevision: number;
  readonly compactRevision: number;
  readonly leaseIdSequence: number;
  readonly records: readonly SnapshotRecord[];
  readonly leases: readonly SnapshotLease[];
  readonly alarms: readonly AlarmMember[];
}

class Encoder {
  #buffer: Uint8Array;
  #length = 0;
  readonly #crc = new Crc32c();
  /** The checksum covers #buffer[0, #crcEnd). */
  #crcEnd = 0;

  /**
   * `capacityBytes`: the expected size, allocated at once (a big store's snapshot is tens of MB). `prefix`:
   * bytes of the caller's to place first, outside the checksum, so that a wrapper needs no copy.
   */
  constructor(capacityBytes: number, prefix: Uint8Array) {
    this.#buffer = new Uint8Array(prefix.length + capacityBytes);
    this.#buffer.set(prefix);
    this.#length = prefix.length;
    this.#crcEnd = prefix.length;
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#buffer.length) return;
    let capacity = this.#buffer.length * 2;
    while (capacity < this.#length + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }

  byte(value: number): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
  }

  varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new KvError('KV_UNSAFE_INTEGER', `cannot encode ${value}`);
    this.#reserve(8);
    let remaining = value;
    while (remaining >= 0x80) {
      this.#buffer[this.#length++] = (remaining % 0x80) | 0x80;
      remaining = Math.floor(remaining / 0x80);
    }
    this.#buffer[this.#length++] = remaining;
  }

  /** A sign byte (1: negative) then the magnitude, so every safe integer fits. */
  signed(value: number): void {
    this.byte(value < 0 ? 1 : 0);
    this.varint(Math.abs(value));
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.#reserve(value.length);
    this.#buffer.set(value, this.#length);
    this.#length += value.length;
  }

  /** Folds the bytes written since the last call into the checksum, so that `finish` has little left to do. */
  absorb(): void {
    this.#crc.update(this.#buffer.subarray(this.#crcEnd, this.#length));
    this.#crcEnd = this.#length;
  }

  finish(): Uint8Array {
    this.absorb();
    const checksum = this.#crc.digest();
    this.#reserve(4);
    for (let shift = 0; shift < 32; shift += 8) this.#buffer[this.#length++] = (checksum >>> shift) & 0xff;
    // A view when little is unused: copying a big buffer is one more allocation of its size, and V8 answers
    // large external allocations with a full, stop-the-world collection.
    const unused = this.#buffer.length - this.#length;
    return unused <= Math.max(1 << 16, this.#length >>> 3) ? this.#buffer.subarray(0, this.#length) : this.#buffer.slice(0, this.#length);
  }
}

/** Bytes a record's encoding adds to its key and value, at most: seven varints (one signed) and a flag byte. */
const recordOverheadBytesMax = 52;

/**
 * The encoding of a snapshot captured at one instant, done a slice of records at a time so that a big store
 * never holds the event loop for long. The capture owns a copy of the revision log's record list (records
 * themselves are immutable: compaction only flags them and drops them from the store's list), the leases and
 * the alarms, so writes and compactions made after the capture do not change what it encodes.
 */
export class SnapshotEncoding {
  readonly #encoder: Encoder;
  readonly #log: readonly RevisionRecord[];
  readonly #leases: readonly SnapshotLease[];
  readonly #alarms: readonly AlarmMember[];
  #next = 0;
  #previousMain = 0;
  #result: Uint8Array | null = null;

  constructor(
    head: { currentRevision: number; compactRevision: number; leaseIdSequence: number },
    log: readonly RevisionRecord[],
    leases: readonly SnapshotLease[],
    alarms: readonly AlarmMember[],
    options: { readonly prefix?: Uint8Array; readonly keyAndValueBytes: number },
  ) {
    this.#log = log;
    this.#leases = leases;
    this.#alarms = alarms;
    // One allocation of the size the encoding can reach, instead of doubling towards it. The caller passes the
    // records' key and value bytes, which the store keeps a sum of: walking 100,000 records to add them up
    // took 25-50 ms.
    const capacityBytes = 128 + 32 * leases.length + 24 * alarms.length + recordOverheadBytesMax * log.length + options.keyAndValueBytes;
    const encoder = new Encoder(capacityBytes, options.prefix ?? emptyBytes);
    this.#encoder = encoder;
    for (const byte of magic) encoder.byte(byte);
    encoder.byte(formatVersion);
    encoder.varint(head.currentRevision);
    encoder.signed(head.compactRevision);
    encoder.varint(head.leaseIdSequence);
    encoder.varint(log.length);
  }

  /** The records the capture holds. */
  get recordCount(): number {
    return this.#log.length;
  }

  /** Encodes up to `maxRecords` more records (then the leases and alarms); true once everything is encoded. */
  encodeSome(maxRecords: number): boolean {
    if (this.#result !== null) return true;
    const encoder = this.#encoder;
    const log = this.#log;
    const end = Math.min(log.length, this.#next + Math.max(1, maxRecords));
    let previousMain = this.#previousMain;
    for (let index = this.#next; index < end; index++) {
      const record = log[index] as RevisionRecord;
      encoder.varint(record.mainRevision - previousMain);
      previousMain = record.mainRevision;
      encoder.varint(record.subRevision);
      encoder.byte(record.tombstone ? flagTombstone : 0);
      encoder.bytes(record.keyIndex.keyBytes);
      if (record.tombstone) continue;
      encoder.varint(record.createRevision);
      encoder.varint(record.version);
      encoder.signed(record.lease);
      encoder.bytes(record.value);
    }
    this.#previousMain = previousMain;
    this.#next = end;
    if (end < log.length) {
      encoder.absorb();
      return false;
    }
    encoder.varint(this.#leases.length);
    for (const lease of this.#leases) {
      encoder.signed(lease.id);
      encoder.varint(lease.ttlSeconds);
      encoder.varint(lease.remainingTtlSeconds);
    }
    encoder.varint(this.#alarms.length);
    for (const alarm of this.#alarms) {
      encoder.varint(alarm.memberId);
      encoder.varint(alarm.alarm);
    }
    this.#result = encoder.finish();
    return true;
  }

  /** The snapshot's bytes (after the prefix, if one was given), once {@link encodeSome} has returned true. */
  finish(): Uint8Array {
    assert(this.#result !== null, 'a snapshot is finished only once fully encoded');
    return this.#result;
  }
}

function corrupt(detail: string): KvError {
  return new KvError('KV_SNAPSHOT_CORRUPT', detail);
}

class Decoder {
  readonly #bytes: Uint8Array;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get done(): boolean {
    return this.#offset === this.#bytes.length;
  }

  byte(): number {
    const value = this.#bytes[this.#offset];
    if (value === undefined) throw corrupt(`truncated at offset ${this.#offset}`);
    this.#offset++;
    return value;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let count = 0; ; count++) {
      if (count >= 8) throw corrupt(`varint too long at offset ${this.#offset}`);
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) break;
      scale *= 0x80;
    }
    if (!Number.isSafeInteger(value)) throw corrupt(`integer out of range at offset ${this.#offset}`);
    return value;
  }

  signed(): number {
    const sign = this.byte();
    if (sign > 1) throw corrupt(`bad sign byte at offset ${this.#offset}`);
    const magnitude = this.varint();
    return sign === 1 ? -magnitude : magnitude;
  }

  bytes(): Uint8Array {
    const length = this.varint();
    if (this.#offset + length > this.#bytes.length) throw corrupt(`bytes overrun at offset ${this.#offset}`);
    // Copied so that the state does not pin the whole snapshot buffer.
    const value = this.#bytes.slice(this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  /** A count of items that each take at least `itemBytesMin` bytes, checked against what is left. */
  count(itemBytesMin: number): number {
    const value = this.varint();
    if (value * itemBytesMin > this.#bytes.length - this.#offset) throw corrupt(`count ${value} exceeds the data left`);
    return value;
  }
}

/** Checks the frame (magic, version, checksum) and decodes; structural checks on records are the caller's. */
export function decodeSnapshot(snapshot: Uint8Array): SnapshotState {
  if (snapshot.length < magic.length + 1 + 4) throw corrupt('too short');
  const body = snapshot.subarray(0, snapshot.length - 4);
  const stored = snapshot.subarray(snapshot.length - 4);
  const checksum = ((stored[0] as number) | ((stored[1] as number) << 8) | ((stored[2] as number) << 16) | ((stored[3] as number) << 24)) >>> 0;
  if (crc32c(body) !== checksum) throw corrupt('checksum mismatch');
  const decoder = new Decoder(body);
  for (const byte of magic) if (decoder.byte() !== byte) throw corrupt('bad magic');
  const version = decoder.byte();
  if (version !== formatVersion) throw corrupt(`unknown format version ${version}`);
  const currentRevision = decoder.varint();
  const compactRevision = decoder.signed();
  const leaseIdSequence = decoder.varint();
  const records = decodeRecords(decoder);
  const leases: SnapshotLease[] = [];
  for (let remaining = decoder.count(4); remaining > 0; remaining--) {
    leases.push({ id: decoder.signed(), ttlSeconds: decoder.varint(), remainingTtlSeconds: decoder.varint() });
  }
  const alarms: AlarmMember[] = [];
  for (let remaining = decoder.count(2); remaining > 0; remaining--) {
    alarms.push({ memberId: decoder.varint(), alarm: decoder.varint() as AlarmType });
  }
  if (!decoder.done) throw corrupt('trailing bytes');
  return { currentRevision, compactRevision, leaseIdSequence, records, leases, alarms };
}

function decodeRecords(decoder: Decoder): SnapshotRecord[] {
  const records: SnapshotRecord[] = [];
  let mainRevision = 0;
  for (let remaining = decoder.count(5); remaining > 0; remaining--) {
    mainRevision += decoder.varint();
    const subRevision = decoder.varint();
    const flags = decoder.byte();
    if (flags !== 0 && flags !== flagTombstone) throw corrupt(`unknown record flags ${flags}`);
    const keyBytes = decoder.bytes();
    const key = bytesToKey(keyBytes);
    if (flags === flagTombstone) {
      records.push({ key, keyBytes, mainRevision, subRevision, put: null });
      continue;
    }
    const createRevision = decoder.varint();
    const version = decoder.varint();
    const lease = decoder.signed();
    records.push({ key, keyBytes, mainRevision, subRevision, put: { createRevision, version, lease, value: decoder.bytes() } });
  }
  return records;
}
