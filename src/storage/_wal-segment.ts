/**
 * Segment files: their names, and the scan that checks every record of one segment and decides, for the
 * last segment only, whether a bad tail is a torn write (repairable) or corruption (fatal).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { alignTo8, formatNameNumber, isAllZero } from './_binary.ts';
import {
  RecordFormatError, RecordType, computeRecordCrc, decodeSegmentHeader, isKnownRecordType, recordBytes,
  recordFrameBytes, recordHeaderBytes, recordPayloadBytesMax, segmentHeaderPayloadBytes,
} from './_wal-record.ts';
import type { SegmentHeader } from './_wal-record.ts';
import { StorageError, assert } from './errors.ts';

export const segmentFileSuffix = '.wal';
export const temporaryFileSuffix = '.tmp';
const segmentFileNamePattern = /^(\d{16})-(\d{16})\.wal$/;

export interface SegmentFile {
  readonly sequence: number;
  /** The first index expected in the segment when it was created (an overwrite may write lower ones). */
  readonly firstIndex: number;
  readonly fileName: string;
}

export function segmentFileName(sequence: number, firstIndex: number): string {
  return `${formatNameNumber(sequence)}-${formatNameNumber(firstIndex)}${segmentFileSuffix}`;
}

export function parseSegmentFileName(fileName: string): SegmentFile | null {
  const match = segmentFileNamePattern.exec(fileName);
  if (match === null) return null;
  const sequence = Number(match[1]);
  const firstIndex = Number(match[2]);
  if (!Number.isSafeInteger(sequence) || !Number.isSafeInteger(firstIndex)) return null;
  return { sequence, firstIndex, fileName };
}

export interface SegmentListing {
  /** Sorted by sequence. */
  readonly segments: SegmentFile[];
  /** Left over from a rotation that crashed before its rename. */
  readonly temporaryFileNames: string[];
}

/** Lists a WAL directory. A `.wal` file whose name does not parse is an error, not something to skip. */
export async function listSegments(directory: string): Promise<SegmentListing> {
  const segments: SegmentFile[] = [];
  const temporaryFileNames: string[] = [];
  for (const fileName of await readdir(directory)) {
    if (fileName.endsWith(segmentFileSuffix + temporaryFileSuffix)) {
      temporaryFileNames.push(fileName);
    } else if (fileName.endsWith(segmentFileSuffix)) {
      const segment = parseSegmentFileName(fileName);
      if (segment === null) {
        throw new StorageError('WAL_CORRUPT', `WAL directory ${directory} holds a segment with a malformed name: ${fileName}`, {
          file: join(directory, fileName),
        });
      }
      segments.push(segment);
    }
  }
  segments.sort((left, right) => left.sequence - right.sequence);
  return { segments, temporaryFileNames };
}

export function corruptAt(path: string, offset: number, reason: string): StorageError {
  return new StorageError('WAL_CORRUPT', `WAL segment ${path} is corrupt at byte offset ${offset}: ${reason}`, {
    file: path,
    offset,
  });
}

/** Receives each checked record of a segment, in order. May throw RecordFormatError. */
export type RecordVisitor = (type: RecordType, bytes: Uint8Array, view: DataView, payload: number, payloadBytes: number) => void;

export interface ScanOptions {
  readonly path: string;
  /** Only the last segment may have a torn tail; anywhere else a bad record is corruption. */
  readonly isLast: boolean;
  /** The chain value the previous segment ended with, or null when this is the first segment read. */
  readonly previousCrc: number | null;
}

export interface ScanResult {
  readonly header: SegmentHeader;
  /** Bytes of whole, valid records from the start of the file. */
  readonly validBytes: number;
  /** The CRC of the last valid record: the chain value the next record continues from. */
  readonly chainCrc: number;
  /** Set when the last segment ends in a torn record; the file must be truncated to `validBytes`. */
  readonly tornReason: string | null;
}

/** Checks every record of a segment held in memory and hands each valid one to `visit`. */
export function scanSegment(bytes: Uint8Array, options: ScanOptions, visit: RecordVisitor): ScanResult {
  const scanner = new SegmentScanner(bytes, options);
  return scanner.run(visit);
}

type RecordCheck =
  | { readonly kind: 'valid'; readonly type: RecordType; readonly payloadBytes: number; readonly end: number; readonly crc: number }
  | { readonly kind: 'torn'; readonly reason: string }
  | { readonly kind: 'corrupt'; readonly reason: string };

/** Invariant: #offset is a multiple of 8, and every byte before it belongs to a valid record. */
class SegmentScanner {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #options: ScanOptions;
  #offset = 0;
  #chainCrc = 0;

  constructor(bytes: Uint8Array, options: ScanOptions) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#options = options;
  }

  run(visit: RecordVisitor): ScanResult {
    const header = this.#readSegmentHeader();
    let tornReason: string | null = null;
    while (this.#offset < this.#bytes.length) {
      const check = this.#checkRecord(this.#chainCrc);
      if (check.kind === 'corrupt') throw this.#corrupt(check.reason);
      if (check.kind === 'torn') {
        if (!this.#options.isLast) throw this.#corrupt(`${check.reason} in a segment that is not the last`);
        tornReason = check.reason;
        break;
      }
      if (check.type === RecordType.SegmentHeader) throw this.#corrupt('a segment header in the middle of a segment');
      this.#visit(visit, check.type, check.payloadBytes);
      this.#chainCrc = check.crc;
      this.#offset = check.end;
    }
    assert(this.#offset % 8 === 0 && this.#offset <= this.#bytes.length, 'scan ended off the record grid');
    return { header, validBytes: this.#offset, chainCrc: this.#chainCrc, tornReason };
  }

  /** The first record must be a whole, valid segment header: segments are renamed into place complete. */
  #readSegmentHeader(): SegmentHeader {
    const payload = recordHeaderBytes;
    if (this.#bytes.length < recordBytes(segmentHeaderPayloadBytes) || this.#bytes[0] !== RecordType.SegmentHeader) {
      throw this.#corrupt('the segment does not start with a segment header');
    }
    const seed = this.#view.getUint32(payload + 24, true);
    const check = this.#checkRecord(seed);
    if (check.kind !== 'valid') throw this.#corrupt(`bad segment header: ${check.reason}`);
    let header: SegmentHeader;
    try {
      header = decodeSegmentHeader(this.#view, payload, check.payloadBytes);
    } catch (error) {
      if (error instanceof RecordFormatError) throw this.#corrupt(error.message);
      throw error;
    }
    const expected = this.#options.previousCrc;
    if (expected !== null && header.previousCrc !== expected) {
      throw this.#corrupt(`the CRC chain is broken: the segment continues from ${hex(header.previousCrc)}, the previous segment ended at ${hex(expected)}`);
    }
    this.#chainCrc = check.crc;
    this.#offset = check.end;
    return header;
  }

  #visit(visit: RecordVisitor, type: RecordType, payloadBytes: number): void {
    try {
      visit(type, this.#bytes, this.#view, this.#offset + recordHeaderBytes, payloadBytes);
    } catch (error) {
      if (error instanceof RecordFormatError) throw this.#corrupt(error.message);
      throw error;
    }
  }

  /** Classifies the record at #offset. `seed` is the chain value its CRC must continue from. */
  #checkRecord(seed: number): RecordCheck {
    const offset = this.#offset;
    const size = this.#bytes.length;
    if (size - offset < recordFrameBytes) return { kind: 'torn', reason: 'a short record header' };
    if (isAllZero(this.#bytes, offset, offset + recordFrameBytes)) {
      return isAllZero(this.#bytes, offset, size)
        ? { kind: 'torn', reason: 'a zero-filled tail' }
        : { kind: 'corrupt', reason: 'a zeroed record header followed by data' };
    }
    const frameProblem = this.#frameProblem(offset);
    if (frameProblem !== null) return { kind: 'corrupt', reason: frameProblem };
    const payloadBytes = this.#view.getUint32(offset + 4, true);
    const end = offset + recordBytes(payloadBytes);
    const storedCrc = size - offset >= recordHeaderBytes ? this.#view.getUint32(offset + 8, true) : 0;
    if (end > size) {
      return this.#hasChainedSuccessor(offset + 8, storedCrc)
        ? { kind: 'corrupt', reason: `the record length ${payloadBytes} runs past the end of the file, over later records` }
        : { kind: 'torn', reason: 'a short record' };
    }
    const computedCrc = computeRecordCrc(this.#bytes, offset, payloadBytes, seed);
    const paddingClean = isAllZero(this.#bytes, offset + recordHeaderBytes + payloadBytes, end);
    if (computedCrc === storedCrc && paddingClean) {
      return { kind: 'valid', type: this.#bytes[offset] as RecordType, payloadBytes, end, crc: storedCrc };
    }
    const reason = paddingClean
      ? `CRC mismatch (stored ${hex(storedCrc)}, computed ${hex(computedCrc)})`
      : 'non-zero record padding';
    // Only the final record may be torn: nothing but zeros may follow it.
    return isAllZero(this.#bytes, end, size) ? { kind: 'torn', reason: `${reason} in the final record` } : { kind: 'corrupt', reason };
  }

  /** Why the 8-byte frame at `offset` cannot be a record header, or null if it can. */
  #frameProblem(offset: number): string | null {
    const type = this.#bytes[offset]!;
    if (!isKnownRecordType(type)) return `unknown record type ${type}`;
    if (this.#bytes[offset + 1] !== 0 || this.#bytes[offset + 2] !== 0 || this.#bytes[offset + 3] !== 0) {
      return 'reserved header bytes are not zero';
    }
    const payloadBytes = this.#view.getUint32(offset + 4, true);
    if (payloadBytes > recordPayloadBytesMax) return `record length ${payloadBytes} is over the bound ${recordPayloadBytesMax}`;
    return null;
  }

  /**
   * A record whose length runs past the end of the file looks torn. It is really corruption when a damaged
   * length hides later records: look for a whole record, at any aligned offset after it, whose CRC continues
   * the chain from this record's stored CRC. A best-effort check, run only on the rare repair path.
   */
  #hasChainedSuccessor(from: number, storedCrc: number): boolean {
    const size = this.#bytes.length;
    for (let candidate = alignTo8(from); candidate + recordHeaderBytes <= size; candidate += 8) {
      if (this.#frameProblem(candidate) !== null) continue;
      const payloadBytes = this.#view.getUint32(candidate + 4, true);
      if (candidate + recordBytes(payloadBytes) > size) continue;
      const crc = computeRecordCrc(this.#bytes, candidate, payloadBytes, storedCrc);
      if (crc === this.#view.getUint32(candidate + 8, true)) return true;
    }
    return false;
  }

  #corrupt(reason: string): StorageError {
    return corruptAt(this.#options.path, this.#offset, reason);
  }
}

export function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
