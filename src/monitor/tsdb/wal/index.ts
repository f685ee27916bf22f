/**
 * The head's write-ahead log: segment files of CRC-framed series and samples records, a group-committing
 * writer, a reader that repairs a torn tail and reports corruption with file and offset, and checkpoints.
 * The format is in docs/format/tsdb.md.
 *
 * @example
 * import { WalWriter, scanSegment } from './wal/index.ts';
 */
export { writeCheckpoint } from './checkpoint.ts';
export type { CheckpointFilter, CheckpointResult } from './checkpoint.ts';
export { corruptAt, scanSegment } from './reader.ts';
export type { RecordVisitor, ScanResult } from './reader.ts';
export {
  readSamplesRecord,
  readSeriesRecord,
  recordPayloadBytesMax,
  recordSamplesMax,
  RecordType,
  writeSamplesRecords,
  writeSeriesRecords,
} from './record.ts';
export type { SampleColumns, SampleVisitor, SeriesEntry } from './record.ts';
export { checkContiguous, checkpointName, listCheckpoints, listSegments, segmentHeaderBytes, segmentName } from './segment.ts';
export type { SegmentFile } from './segment.ts';
export { syncDirectory, WalWriter } from './writer.ts';
export type { WalWriterOptions } from './writer.ts';
