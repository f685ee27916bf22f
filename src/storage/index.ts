/**
 * keel's durable storage: the write-ahead log and snapshot files of one member.
 * Byte formats: docs/format/wal.md and docs/format/snapshot.md.
 */
export {
  Wal, entryDataBytesMax, pendingBytesMaxDefault, segmentBytesMaxDefault, segmentBytesMin, segmentHeadBytesMax,
  waitingSavesMaxDefault,
} from './wal.ts';
export type {
  SnapshotMarker, WalCreateOptions, WalOpenOptions, WalOptions, WalRepair, WalReplay, WalStatistics, WalSyncEvent, WalSyncedEvent,
} from './wal.ts';
export { metadataBytesMax, recordPayloadBytesMax } from './_wal-record.ts';

export {
  listSnapshotFiles, loadNewestSnapshotFile, loadSnapshotFile, parseSnapshotFileName, purgeSnapshotFiles, saveSnapshotFile,
  snapshotFileBytesMax, snapshotFileName, snapshotRetainCountDefault,
} from './snapshot-file.ts';
export type { LoadedSnapshot, SnapshotFileName, SnapshotLoadOptions, SnapshotSaveOptions } from './snapshot-file.ts';
export { confStateNodesMax } from './_snapshot-format.ts';

export {
  SnapshotChunkWriter, decodeSnapshotChunk, encodeSnapshotChunk, readSnapshotChunks, snapshotChunkBytesMaxDefault,
  snapshotChunkBytesMin, snapshotChunkHeaderBytes,
} from './snapshot-stream.ts';
export type { SnapshotChunk, SnapshotReceiveProgress, SnapshotReceiverOptions } from './snapshot-stream.ts';

export { crc32c } from './crc32c.ts';
export { StorageError, StorageInvariantError, isStorageError } from './errors.ts';
export type { StorageErrorCode, StorageErrorDetails } from './errors.ts';
export { stderrLogger } from './logger.ts';
export type { StorageLogger } from './logger.ts';
