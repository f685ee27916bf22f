/**
 * WAL records: the frame (type, length, CRC-32C) and the two payloads, series and samples. The layout is
 * in docs/format/tsdb.md.
 */
import { crc32cRange } from '../../../storage/crc32c.ts';
import type { ByteReader, ByteWriter } from '../encoding.ts';
import { assert, TsdbError } from '../errors.ts';
import { Labels } from '../labels.ts';

export const RecordType = {
  /** Series IDs and their label sets. */
  Series: 1,
  /** Samples: series ID, timestamp, value bits. */
  Samples: 2,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Type (1), three zero bytes, payload length (4). */
export const recordHeaderBytes = 8;
/** The CRC-32C of header and payload follows the payload. */
export const recordTrailerBytes = 4;
export const recordFrameBytes = recordHeaderBytes + recordTrailerBytes;
/** No record payload is larger; a reader treats a larger length as corruption. */
export const recordPayloadBytesMax = 64 * 1024 * 1024;
/** Samples per samples record: about 1.5 MiB at most. */
export const recordSamplesMax = 65_536;
/** A series record is closed once its payload passes this size. */
export const recordSeriesPayloadBytesTarget = 1024 * 1024;
/** Sample timestamps in one record stay within this distance of its base, so deltas are exact varints. */
const timestampDeltaMax = 2 ** 51;

assert(recordSamplesMax * 24 < recordPayloadBytesMax, 'a full samples record fits the payload bound');

export function isRecordType(type: number): type is RecordType {
  return type === RecordType.Series || type === RecordType.Samples;
}

/** Starts a record in `writer`; returns its start offset for {@link endRecord}. */
export function beginRecord(writer: ByteWriter, type: RecordType): number {
  const start = writer.length;
  writer.u8(type);
  writer.u8(0);
  writer.u8(0);
  writer.u8(0);
  writer.u32(0);
  return start;
}

/** Patches the record's length and appends its CRC. */
export function endRecord(writer: ByteWriter, start: number): void {
  const payloadBytes = writer.length - start - recordHeaderBytes;
  assert(payloadBytes >= 0 && payloadBytes <= recordPayloadBytesMax, 'record payload within bounds');
  writer.patchU32(start + 4, payloadBytes);
  writer.u32(crc32cRange(writer.view(), start, writer.length));
}

/** One series as logged. */
export interface SeriesEntry {
  readonly id: number;
  readonly labels: Labels;
}

/** Appends series records (split by size) for `entries`. */
export function writeSeriesRecords(writer: ByteWriter, entries: readonly SeriesEntry[]): void {
  let position = 0;
  while (position < entries.length) {
    const start = beginRecord(writer, RecordType.Series);
    const countOffset = writer.length;
    writer.u32(0); // Count, patched below: a fixed width keeps the patch simple.
    let count = 0;
    while (position < entries.length && writer.length - start < recordSeriesPayloadBytesTarget) {
      const entry = entries[position]!;
      writer.uvarint(entry.id);
      writer.uvarint(entry.labels.size);
      for (let index = 0; index < entry.labels.size; index += 1) {
        writer.string(entry.labels.nameAt(index));
        writer.string(entry.labels.valueAt(index));
      }
      count += 1;
      position += 1;
    }
    writer.patchU32(countOffset, count);
    endRecord(writer, start);
  }
}

/** Decodes a series record's payload. Label defects are reported as corruption. */
export function readSeriesRecord(reader: ByteReader): SeriesEntry[] {
  const count = reader.u32();
  const entries: SeriesEntry[] = [];
  for (let entry = 0; entry < count; entry += 1) {
    const entryOffset = reader.position;
    const id = reader.uvarint();
    if (id === 0) throw reader.fail('series ID 0 is not valid', entryOffset);
    const labelCount = reader.uvarint();
    if (labelCount === 0 || labelCount > reader.remaining) throw reader.fail(`series ${id} has ${labelCount} labels`, entryOffset);
    const pairs: [string, string][] = [];
    for (let index = 0; index < labelCount; index += 1) pairs.push([reader.string(), reader.string()]);
    entries.push({ id, labels: labelsOrCorrupt(reader, pairs, entryOffset) });
  }
  if (!reader.atEnd()) throw reader.fail(`${reader.remaining} bytes follow the last series`);
  return entries;
}

/** Sample columns: a batch hands its arrays over without copying. */
export interface SampleColumns {
  readonly seriesIds: ArrayLike<number>;
  readonly timestampsMs: ArrayLike<number>;
  readonly valueHighBits: ArrayLike<number>;
  readonly valueLowBits: ArrayLike<number>;
}

/** Appends samples records for samples `[from, to)` of `columns`, at most {@link recordSamplesMax} each. */
export function writeSamplesRecords(writer: ByteWriter, columns: SampleColumns, from: number, to: number): void {
  let position = from;
  while (position < to) {
    const start = beginRecord(writer, RecordType.Samples);
    const baseId = columns.seriesIds[position]!;
    const baseTimestampMs = columns.timestampsMs[position]!;
    let end = position;
    while (end < to && end - position < recordSamplesMax && Math.abs(columns.timestampsMs[end]! - baseTimestampMs) < timestampDeltaMax) end += 1;
    writer.uvarint(end - position);
    writer.uvarint(baseId);
    writer.varint(baseTimestampMs);
    for (let index = position; index < end; index += 1) {
      writer.varint(columns.seriesIds[index]! - baseId);
      writer.varint(columns.timestampsMs[index]! - baseTimestampMs);
      writer.u32(columns.valueHighBits[index]!);
      writer.u32(columns.valueLowBits[index]!);
    }
    endRecord(writer, start);
    position = end;
  }
}

/** Receives one decoded sample. */
export type SampleVisitor = (seriesId: number, timestampMs: number, valueHighBits: number, valueLowBits: number) => void;

/** Decodes a samples record's payload, calling `visit` per sample. */
export function readSamplesRecord(reader: ByteReader, visit: SampleVisitor): number {
  const count = reader.uvarint();
  if (count === 0 || count > recordSamplesMax) throw reader.fail(`samples record holds ${count} samples`);
  const baseId = reader.uvarint();
  const baseTimestampMs = reader.varint();
  for (let index = 0; index < count; index += 1) {
    const sampleOffset = reader.position;
    const seriesId = baseId + reader.varint();
    const timestampMs = baseTimestampMs + reader.varint();
    if (seriesId <= 0 || !Number.isSafeInteger(timestampMs)) throw reader.fail(`sample ${index} has series ${seriesId} and time ${timestampMs}`, sampleOffset);
    visit(seriesId, timestampMs, reader.u32(), reader.u32());
  }
  if (!reader.atEnd()) throw reader.fail(`${reader.remaining} bytes follow the last sample`);
  return count;
}

function labelsOrCorrupt(reader: ByteReader, pairs: [string, string][], offset: number): Labels {
  try {
    const labels = Labels.fromPairs(pairs);
    if (labels.size === 0) throw reader.fail('a series has only empty label values', offset);
    return labels;
  } catch (error) {
    if (error instanceof TsdbError && error.code !== 'TSDB_WAL_CORRUPT' && error.code !== 'TSDB_BLOCK_CORRUPT') {
      throw reader.fail(`series labels are invalid: ${error.message}`, offset);
    }
    throw error;
  }
}
