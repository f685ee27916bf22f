/**
 * WAL record framing and payload codecs (the byte layout is specified in docs/format/wal.md).
 *
 *   offset 0  u8   record type
 *   offset 1  u8×3 reserved, zero
 *   offset 4  u32  payload length in bytes (little-endian)
 *   offset 8  u32  CRC-32C, chained: seeded with the previous record's CRC, over bytes 0..7 and the payload
 *   offset 12 payload, then zero padding up to the next multiple of 8
 *
 * Every record starts 8-byte aligned, so its 8-byte type-and-length word never straddles a 512-byte sector:
 * a torn write leaves that word either wholly old (zero) or wholly new, never a half-written length.
 */
import type { Entry, HardState } from '../raft/types.ts';
import { EntryType } from '../raft/types.ts';
import { alignTo8, readUint64, writeUint64 } from './_binary.ts';
import { crc32cRange } from './crc32c.ts';
import { assert } from './errors.ts';

export enum RecordType {
  /** First record of every segment: magic, version, sequence, first index, the CRC chain's seed. */
  SegmentHeader = 1,
  /** Opaque identity bytes (cluster and member IDs); repeated at the head of every segment. */
  Metadata = 2,
  HardState = 3,
  Entry = 4,
  /** A snapshot exists at (index, term); the log before it may be compacted. */
  SnapshotMarker = 5,
}

const recordTypeLast = RecordType.SnapshotMarker;

export const recordHeaderBytes = 12;
/** The type-and-length word, the part a torn write must never split. */
export const recordFrameBytes = 8;
/** Bound on one record's payload, so a damaged length cannot ask for a huge read. */
export const recordPayloadBytesMax = 32 * 1024 * 1024;
/** Bound on the identity bytes of a Metadata record. */
export const metadataBytesMax = 1024;

export const entryPayloadFixedBytes = 17;
export const hardStatePayloadBytes = 24;
export const snapshotMarkerPayloadBytes = 16;
export const segmentHeaderPayloadBytes = 32;
/** 'KWAL' read as a little-endian u32. */
export const segmentMagic = 0x4c41574b;
export const walFormatVersion = 1;

/** The (index, term) a snapshot marker records; the snapshot's contents live in a snapshot file. */
export interface SnapshotMarker {
  readonly index: number;
  readonly term: number;
}

export interface SegmentHeader {
  readonly sequence: number;
  readonly firstIndex: number;
  /** The CRC chain value at the end of the previous segment (0 for the first segment ever). */
  readonly previousCrc: number;
}

/** A record payload that passed its checksum but not its own checks (a writer bug or a newer format). */
export class RecordFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordFormatError';
  }
}

export function recordBytes(payloadBytes: number): number {
  return alignTo8(recordHeaderBytes + payloadBytes);
}

export function entryRecordBytes(entry: Entry): number {
  return recordBytes(entryPayloadFixedBytes + entry.data.length);
}

export function isKnownRecordType(type: number): type is RecordType {
  return type >= RecordType.SegmentHeader && type <= recordTypeLast;
}

/** The CRC a record at `offset` must carry, continuing the chain from `previousCrc`. */
export function computeRecordCrc(bytes: Uint8Array, offset: number, payloadBytes: number, previousCrc: number): number {
  const frameCrc = crc32cRange(bytes, offset, offset + recordFrameBytes, previousCrc);
  const payloadStart = offset + recordHeaderBytes;
  return crc32cRange(bytes, payloadStart, payloadStart + payloadBytes, frameCrc);
}

/**
 * Writes records one after another into a buffer sized in advance, carrying the CRC chain along.
 * Invariant: #offset is a multiple of 8 and never passes the buffer's end.
 */
export class RecordEncoder {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;
  #chainCrc: number;
  /** The payload length of the record between #begin and #finish. */
  #pendingPayloadBytes = 0;

  constructor(bytes: Uint8Array, chainCrc: number) {
    assert(bytes.length % 8 === 0, 'record buffer length must be a multiple of 8');
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#chainCrc = chainCrc;
  }

  get offset(): number {
    return this.#offset;
  }

  get chainCrc(): number {
    return this.#chainCrc;
  }

  appendEntry(entry: Entry): void {
    assert(entry.type === EntryType.Normal || entry.type === EntryType.ConfChange, () => `unknown entry type ${entry.type}`);
    const payload = this.#begin(RecordType.Entry, entryPayloadFixedBytes + entry.data.length);
    writeUint64(this.#view, payload, entry.index);
    writeUint64(this.#view, payload + 8, entry.term);
    this.#bytes[payload + 16] = entry.type;
    this.#bytes.set(entry.data, payload + entryPayloadFixedBytes);
    this.#finish();
  }

  appendHardState(hardState: HardState): void {
    const payload = this.#begin(RecordType.HardState, hardStatePayloadBytes);
    writeUint64(this.#view, payload, hardState.term);
    writeUint64(this.#view, payload + 8, hardState.vote);
    writeUint64(this.#view, payload + 16, hardState.commit);
    this.#finish();
  }

  appendSnapshotMarker(marker: SnapshotMarker): void {
    const payload = this.#begin(RecordType.SnapshotMarker, snapshotMarkerPayloadBytes);
    writeUint64(this.#view, payload, marker.index);
    writeUint64(this.#view, payload + 8, marker.term);
    this.#finish();
  }

  appendMetadata(metadata: Uint8Array): void {
    assert(metadata.length <= metadataBytesMax, 'metadata too large');
    const payload = this.#begin(RecordType.Metadata, metadata.length);
    this.#bytes.set(metadata, payload);
    this.#finish();
  }

  /** The segment header starts a new link of the chain: its CRC is seeded with the CRC it records. */
  appendSegmentHeader(header: SegmentHeader): void {
    assert(this.#offset === 0, 'a segment header must be the first record of its buffer');
    this.#chainCrc = header.previousCrc;
    const payload = this.#begin(RecordType.SegmentHeader, segmentHeaderPayloadBytes);
    this.#view.setUint32(payload, segmentMagic, true);
    this.#view.setUint16(payload + 4, walFormatVersion, true);
    this.#view.setUint16(payload + 6, 0, true);
    writeUint64(this.#view, payload + 8, header.sequence);
    writeUint64(this.#view, payload + 16, header.firstIndex);
    this.#view.setUint32(payload + 24, header.previousCrc, true);
    this.#view.setUint32(payload + 28, 0, true);
    this.#finish();
  }

  /** Writes the 8-byte frame and returns where the payload starts. */
  #begin(type: RecordType, payloadBytes: number): number {
    assert(payloadBytes <= recordPayloadBytesMax, () => `record payload of ${payloadBytes} bytes is over the bound`);
    assert(this.#offset + recordBytes(payloadBytes) <= this.#bytes.length, 'record buffer overflow');
    this.#bytes[this.#offset] = type;
    this.#bytes[this.#offset + 1] = 0;
    this.#bytes[this.#offset + 2] = 0;
    this.#bytes[this.#offset + 3] = 0;
    this.#view.setUint32(this.#offset + 4, payloadBytes, true);
    this.#pendingPayloadBytes = payloadBytes;
    return this.#offset + recordHeaderBytes;
  }

  /** Zeroes the padding, stores the chained CRC and moves past the record. */
  #finish(): void {
    const payloadBytes = this.#pendingPayloadBytes;
    const end = this.#offset + recordBytes(payloadBytes);
    this.#bytes.fill(0, this.#offset + recordHeaderBytes + payloadBytes, end);
    const crc = computeRecordCrc(this.#bytes, this.#offset, payloadBytes, this.#chainCrc);
    this.#view.setUint32(this.#offset + 8, crc, true);
    this.#chainCrc = crc;
    this.#offset = end;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Payload decoders. They receive a record whose checksum already passed, so a failure here means a writer
// bug or an unknown format, reported as a RecordFormatError that the caller turns into WAL_CORRUPT.

function readIndexField(view: DataView, offset: number, name: string): number {
  const value = readUint64(view, offset);
  if (value < 0) throw new RecordFormatError(`${name} does not fit a safe integer`);
  return value;
}

function expectPayloadBytes(payloadBytes: number, expected: number, name: string): void {
  if (payloadBytes !== expected) {
    throw new RecordFormatError(`${name} payload is ${payloadBytes} bytes, expected ${expected}`);
  }
}

/** Size of the blocks the arena copies small entry data into. */
export const entryDataArenaBlockBytes = 1024 * 1024;
/** Entry data larger than this gets a copy of its own instead of a place in an arena block. */
export const entryDataArenaCopyBytesMax = 64 * 1024;
assert(entryDataArenaCopyBytesMax <= entryDataArenaBlockBytes, 'an arena copy must fit a block');

/**
 * Copies replayed entry data into shared blocks. A copy per entry would cost one ArrayBuffer each (a
 * million small entries spent most of replay in the garbage collector); a view of the segment buffer would
 * keep a whole segment (up to 64 MiB) alive for one surviving entry. Here one surviving entry keeps at most
 * a 1 MiB block alive.
 * Invariant: #used <= #block.length.
 */
export class EntryDataArena {
  #block = new Uint8Array(0);
  #used = 0;

  copy(bytes: Uint8Array, start: number, end: number): Uint8Array {
    const length = end - start;
    assert(length >= 0 && end <= bytes.length, 'arena copy out of range');
    if (length > entryDataArenaCopyBytesMax) return bytes.slice(start, end);
    if (this.#used + length > this.#block.length) {
      this.#block = new Uint8Array(entryDataArenaBlockBytes);
      this.#used = 0;
    }
    const offset = this.#used;
    if (length <= 64) {
      for (let position = 0; position < length; position++) this.#block[offset + position] = bytes[start + position]!;
    } else {
      this.#block.set(bytes.subarray(start, end), offset);
    }
    this.#used += length;
    return this.#block.subarray(offset, offset + length);
  }
}

export function decodeEntry(bytes: Uint8Array, view: DataView, payload: number, payloadBytes: number, arena: EntryDataArena): Entry {
  if (payloadBytes < entryPayloadFixedBytes) throw new RecordFormatError(`entry payload is only ${payloadBytes} bytes`);
  const index = readIndexField(view, payload, 'entry index');
  const term = readIndexField(view, payload + 8, 'entry term');
  const type = bytes[payload + 16]!;
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) throw new RecordFormatError(`unknown entry type ${type}`);
  if (index === 0) throw new RecordFormatError('entry index 0');
  const data = arena.copy(bytes, payload + entryPayloadFixedBytes, payload + payloadBytes);
  return { term, index, type, data };
}

export function decodeHardState(view: DataView, payload: number, payloadBytes: number): HardState {
  expectPayloadBytes(payloadBytes, hardStatePayloadBytes, 'hard state');
  return {
    term: readIndexField(view, payload, 'hard state term'),
    vote: readIndexField(view, payload + 8, 'hard state vote'),
    commit: readIndexField(view, payload + 16, 'hard state commit'),
  };
}

export function decodeSnapshotMarker(view: DataView, payload: number, payloadBytes: number): SnapshotMarker {
  expectPayloadBytes(payloadBytes, snapshotMarkerPayloadBytes, 'snapshot marker');
  return { index: readIndexField(view, payload, 'marker index'), term: readIndexField(view, payload + 8, 'marker term') };
}

export function decodeSegmentHeader(view: DataView, payload: number, payloadBytes: number): SegmentHeader {
  expectPayloadBytes(payloadBytes, segmentHeaderPayloadBytes, 'segment header');
  if (view.getUint32(payload, true) !== segmentMagic) throw new RecordFormatError('bad segment magic');
  const version = view.getUint16(payload + 4, true);
  if (version !== walFormatVersion) throw new RecordFormatError(`unsupported WAL format version ${version}`);
  if (view.getUint16(payload + 6, true) !== 0 || view.getUint32(payload + 28, true) !== 0) {
    throw new RecordFormatError('segment header reserved fields are not zero');
  }
  return {
    sequence: readIndexField(view, payload + 8, 'segment sequence'),
    firstIndex: readIndexField(view, payload + 16, 'segment first index'),
    previousCrc: view.getUint32(payload + 24, true),
  };
}
