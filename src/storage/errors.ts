/**
 * Errors raised by the storage layer. Every error carries a stable `code` that callers may branch on;
 * messages are for people and may change.
 */

export type StorageErrorCode =
  /** A WAL record failed its checks somewhere other than the repairable torn tail. */
  | 'WAL_CORRUPT'
  /** The WAL was closed; no further writes are accepted. */
  | 'WAL_CLOSED'
  /** A write or sync failed earlier; what reached the disk is unknown, so the WAL refuses all writes. */
  | 'WAL_FAILED'
  /** Too many saves are already waiting for room in the group-commit buffer. */
  | 'WAL_OVERLOADED'
  /** One save is larger than the whole group-commit buffer, so it could never be admitted. */
  | 'WAL_BATCH_TOO_LARGE'
  /** `Wal.create` found segments already present in the directory. */
  | 'WAL_EXISTS'
  /** `Wal.open` found no segment in the directory. */
  | 'WAL_NOT_FOUND'
  /** The log left after replay does not reach back to the snapshot chosen to start from. */
  | 'WAL_SNAPSHOT_MISMATCH'
  /** The caller broke the WAL's contract (for example a gap between batches); nothing was written. */
  | 'WAL_INVALID_ARGUMENT'
  /** A snapshot file failed its checks. */
  | 'SNAPSHOT_CORRUPT'
  /** A streamed snapshot chunk failed its checksum or framing checks; the chunk may be sent again. */
  | 'SNAPSHOT_CHUNK_CORRUPT'
  /** A snapshot stream broke its protocol (out-of-order offsets, changed size, too large). */
  | 'SNAPSHOT_STREAM_INVALID'
  /** A snapshot argument was invalid (too large, bad metadata); nothing was written. */
  | 'SNAPSHOT_INVALID_ARGUMENT';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  /** The file concerned, when there is one. */
  readonly file: string | null;
  /** The byte offset in `file` where the problem was found, when there is one. */
  readonly offset: number | null;

  constructor(code: StorageErrorCode, message: string, details: StorageErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'StorageError';
    this.code = code;
    this.file = details.file ?? null;
    this.offset = details.offset ?? null;
  }
}

export interface StorageErrorDetails {
  readonly file?: string;
  readonly offset?: number;
  readonly cause?: unknown;
}

/** A broken internal invariant: a bug in keel, never a property of the data on disk. */
export class StorageInvariantError extends Error {
  readonly code = 'STORAGE_INVARIANT';
  constructor(message: string) {
    super(message);
    this.name = 'StorageInvariantError';
  }
}

/** An always-on assertion (TigerBeetle style: kept in production, because a WAL bug loses data). */
export function assert(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new StorageInvariantError(typeof message === 'string' ? message : message());
}

/** True when `error` is a StorageError with the given code. */
export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  return error instanceof StorageError && (code === undefined || error.code === code);
}
