/**
 * Reads a WAL segment's records, telling a torn tail from corruption.
 *
 * A crash can tear only the last write of the last segment: it leaves a partial record, or one whose bytes
 * never reached the disk (zeros or garbage), at the very end. So a record that fails its checks is a torn
 * tail only when it is in the last segment and no complete, valid record starts anywhere after it. Anything
 * else (a bad record followed by good ones, or any defect in an older segment) is corruption: replay stops
 * with `TSDB_WAL_CORRUPT` naming the file and the byte offset, because skipping it would silently lose
 * committed samples.
 */
import { crc32cRange } from '../../../storage/crc32c.ts';
import { ByteReader } from '../encoding.ts';
import { TsdbError } from '../errors.ts';
import { isRecordType, recordFrameBytes, recordHeaderBytes, recordPayloadBytesMax } from './record.ts';
import type { RecordType } from './record.ts';
import { segmentHeaderBytes, segmentHeaderDefect } from './segment.ts';

export interface ScanResult {
  /** Bytes from the start of the file up to the end of the last valid record. */
  readonly validBytes: number;
  /** Set when the file ends in a torn record (only possible when torn tails are allowed). */
  readonly torn: { readonly offset: number; readonly detail: string } | undefined;
}

/** Receives each valid record's payload through a reader that reports defects with path and offset. */
export type RecordVisitor = (type: RecordType, payload: ByteReader) => void;

/**
 * Walks every record of a segment's bytes. `allowTornTail` is true only for the last segment of the WAL.
 *
 * @example
 * const result = scanSegment(bytes, '/data/wal/00000003', true, (type, payload) => { ... });
 * if (result.torn !== undefined) await truncate(path, result.validBytes);
 */
export function scanSegment(bytes: Uint8Array, path: string, allowTornTail: boolean, visit: RecordVisitor): ScanResult {
  const headerDefect = segmentHeaderDefect(bytes);
  if (headerDefect !== undefined) {
    const unwritten = bytes.length < segmentHeaderBytes || bytes.subarray(0, segmentHeaderBytes).every((byte) => byte === 0);
    if (allowTornTail && unwritten) return { validBytes: 0, torn: { offset: 0, detail: headerDefect } };
    throw corruptAt(path, 0, headerDefect);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = segmentHeaderBytes;
  while (offset < bytes.length) {
    const defect = recordDefect(bytes, view, offset);
    if (defect !== undefined) {
      if (allowTornTail && !hasValidRecordAfter(bytes, view, offset)) return { validBytes: offset, torn: { offset, detail: defect } };
      throw corruptAt(path, offset, defect);
    }
    const payloadBytes = view.getUint32(offset + 4);
    const payloadStart = offset + recordHeaderBytes;
    const payload = new ByteReader(bytes, {
      start: payloadStart,
      end: payloadStart + payloadBytes,
      report: (at, detail) => corruptAt(path, at, detail),
    });
    visit(bytes[offset]! as RecordType, payload);
    offset = payloadStart + payloadBytes + recordFrameBytes - recordHeaderBytes;
  }
  return { validBytes: offset, torn: undefined };
}

/** The error for a defect at a file offset. */
export function corruptAt(path: string, offset: number, detail: string): TsdbError {
  return new TsdbError('TSDB_WAL_CORRUPT', `WAL file ${path} is corrupt at offset ${offset}: ${detail}.`);
}

/** Why the record at `offset` is not valid, or undefined when it is. */
function recordDefect(bytes: Uint8Array, view: DataView, offset: number): string | undefined {
  if (offset + recordHeaderBytes > bytes.length) return `a record header needs ${recordHeaderBytes} bytes, ${bytes.length - offset} remain`;
  const type = bytes[offset]!;
  if (!isRecordType(type)) return `unknown record type ${type}`;
  if (bytes[offset + 1] !== 0 || bytes[offset + 2] !== 0 || bytes[offset + 3] !== 0) return 'reserved record header bytes are not zero';
  const payloadBytes = view.getUint32(offset + 4);
  if (payloadBytes > recordPayloadBytesMax) return `record length ${payloadBytes} exceeds ${recordPayloadBytesMax}`;
  const end = offset + recordFrameBytes + payloadBytes;
  if (end > bytes.length) return `record of ${payloadBytes} bytes runs ${end - bytes.length} bytes past the end of the file`;
  const storedCrc = view.getUint32(end - 4);
  const actualCrc = crc32cRange(bytes, offset, end - 4);
  if (storedCrc !== actualCrc) return `record checksum ${hex(storedCrc)} does not match the content's ${hex(actualCrc)}`;
  return undefined;
}

/** Whether any byte position after `offset` starts a complete record whose checksum holds. */
function hasValidRecordAfter(bytes: Uint8Array, view: DataView, offset: number): boolean {
  for (let candidate = offset + 1; candidate + recordFrameBytes <= bytes.length; candidate += 1) {
    // Cheap filters first: only a plausible header is worth a checksum.
    if (!isRecordType(bytes[candidate]!) || bytes[candidate + 1] !== 0 || bytes[candidate + 2] !== 0 || bytes[candidate + 3] !== 0) continue;
    if (recordDefect(bytes, view, candidate) === undefined) return true;
  }
  return false;
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
