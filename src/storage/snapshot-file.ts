/**
 * Snapshot files: one file per snapshot, written atomically (temporary file, fsync, rename, fsync of the
 * directory), checked end to end with a CRC-32C, and kept to the newest N. Byte format:
 * docs/format/snapshot.md.
 */
import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Snapshot, SnapshotMetadata } from '../raft/types.ts';
import { formatNameNumber, syncDirectory, writeFully } from './_binary.ts';
import {
  SnapshotFormatError, confStateBytesMax, confStateNodesMax, decodeConfState, decodeSnapshotHeader, encodeSnapshotHead, snapshotFileBytes,
  snapshotHeaderBytes, snapshotTrailerBytes,
} from './_snapshot-format.ts';
import { crc32c } from './crc32c.ts';
import { StorageError, assert, isStorageError } from './errors.ts';
import type { StorageLogger } from './logger.ts';

export const snapshotFileSuffix = '.snap';
export const snapshotTemporarySuffix = '.tmp';
export const snapshotBrokenSuffix = '.broken';
/** Default number of snapshot files kept; older ones are deleted after each save. */
export const snapshotRetainCountDefault = 5;
/** Bound on a snapshot file: it is read into one buffer, and a buffer cannot be larger. */
export const snapshotFileBytesMax = 4 * 1024 * 1024 * 1024;
const snapshotFileNamePattern = /^(\d{16})-(\d{16})\.snap$/;

export interface SnapshotFileName {
  readonly index: number;
  readonly term: number;
  readonly fileName: string;
}

export interface SnapshotSaveOptions {
  readonly logger: StorageLogger;
  /** How many snapshot files to keep, newest first. Default snapshotRetainCountDefault. */
  readonly retainCount?: number;
}

export interface SnapshotLoadOptions {
  readonly logger: StorageLogger;
  /** Only consider snapshots at or below this index (for example the WAL's newest marker). */
  readonly indexMax?: number;
}

export interface LoadedSnapshot {
  readonly snapshot: Snapshot;
  readonly path: string;
}

export function snapshotFileName(metadata: Pick<SnapshotMetadata, 'index' | 'term'>): string {
  return `${formatNameNumber(metadata.index)}-${formatNameNumber(metadata.term)}${snapshotFileSuffix}`;
}

export function parseSnapshotFileName(fileName: string): SnapshotFileName | null {
  const match = snapshotFileNamePattern.exec(fileName);
  if (match === null) return null;
  const index = Number(match[1]);
  const term = Number(match[2]);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(term)) return null;
  return { index, term, fileName };
}

/** The snapshot files in `directory`, newest (highest index, then term) first. */
export async function listSnapshotFiles(directory: string): Promise<SnapshotFileName[]> {
  const names: SnapshotFileName[] = [];
  for (const fileName of await readdir(directory)) {
    const parsed = parseSnapshotFileName(fileName);
    if (parsed !== null) names.push(parsed);
  }
  return names.sort((left, right) => right.index - left.index || right.term - left.term);
}

/** The data is checksummed and written this much at a time (about 1 ms of CRC each). */
const snapshotWritePieceBytes = 1024 * 1024;
const snapshotSyncEveryBytes = 4 * snapshotWritePieceBytes;

/**
 * Writes `snapshot` durably into `directory` and then applies retention. Resolves to the file's path.
 *
 * @example
 * await saveSnapshotFile(dir, { metadata: { index: 100, term: 3, confState }, data }, { logger });
 */
export async function saveSnapshotFile(directory: string, snapshot: Snapshot, options: SnapshotSaveOptions): Promise<string> {
  const retainCount = validateRetainCount(options.retainCount);
  const head = encodeHeadChecked(snapshot);
  const path = join(directory, snapshotFileName(snapshot.metadata));
  const temporaryPath = path + snapshotTemporarySuffix;
  const handle = await open(temporaryPath, 'w');
  try {
    await writeFully(handle, head, 0);
    // The data's CRC is taken a piece at a time, each piece just before it is written, so that a big
    // snapshot does not hold the event loop (the member saves snapshots while it serves).
    const data = snapshot.data;
    let checksum = crc32c(head);
    for (let offset = 0; offset < data.length; offset += snapshotWritePieceBytes) {
      const piece = data.subarray(offset, Math.min(data.length, offset + snapshotWritePieceBytes));
      checksum = crc32c(piece, checksum);
      await writeFully(handle, piece, head.length + offset);
      if ((offset + piece.length) % snapshotSyncEveryBytes === 0) await handle.datasync();
    }
    const trailer = new Uint8Array(snapshotTrailerBytes);
    new DataView(trailer.buffer).setUint32(0, checksum, true);
    await writeFully(handle, trailer, head.length + data.length);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temporaryPath, path);
  await syncDirectory(directory);
  options.logger.info('snapshot saved', { file: path, index: snapshot.metadata.index, term: snapshot.metadata.term });
  await purgeSnapshotFiles(directory, { logger: options.logger, retainCount });
  return path;
}

function encodeHeadChecked(snapshot: Snapshot): Uint8Array {
  const { index, term, confState } = snapshot.metadata;
  const lists = [confState.voters, confState.learners, confState.votersOutgoing, confState.learnersNext];
  const numbersValid = [index, term, ...lists.flat()].every((value) => Number.isSafeInteger(value) && value >= 0);
  if (!numbersValid || lists.some((list) => list.length > confStateNodesMax)) {
    throw new StorageError('SNAPSHOT_INVALID_ARGUMENT', `snapshot at index ${index} has bad metadata`);
  }
  const head = encodeSnapshotHead(snapshot.metadata, snapshot.data.length);
  assert(head.length <= snapshotHeaderBytes + confStateBytesMax, 'snapshot head over its bound');
  const fileBytes = head.length + snapshot.data.length + snapshotTrailerBytes;
  if (fileBytes > snapshotFileBytesMax) {
    throw new StorageError('SNAPSHOT_INVALID_ARGUMENT', `snapshot at index ${index} would be ${fileBytes} bytes, over the bound ${snapshotFileBytesMax}`);
  }
  return head;
}

/** Reads and checks one snapshot file. Fails with SNAPSHOT_CORRUPT naming the file. */
export async function loadSnapshotFile(path: string): Promise<Snapshot> {
  const size = (await stat(path)).size;
  if (size > snapshotFileBytesMax) throw snapshotCorrupt(path, `${size} bytes is over the bound ${snapshotFileBytesMax}`);
  const file = await readFile(path);
  const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  try {
    return decodeSnapshotFile(bytes, path);
  } catch (error) {
    if (error instanceof SnapshotFormatError) throw snapshotCorrupt(path, error.message);
    throw error;
  }
}

function decodeSnapshotFile(bytes: Uint8Array, path: string): Snapshot {
  const header = decodeSnapshotHeader(bytes);
  const expectedBytes = snapshotFileBytes(header);
  if (bytes.length !== expectedBytes) throw new SnapshotFormatError(`file is ${bytes.length} bytes, its header says ${expectedBytes}`);
  const crcOffset = expectedBytes - snapshotTrailerBytes;
  const storedCrc = new DataView(bytes.buffer, bytes.byteOffset + crcOffset, snapshotTrailerBytes).getUint32(0, true);
  const computedCrc = crc32c(bytes.subarray(0, crcOffset));
  if (storedCrc !== computedCrc) throw new SnapshotFormatError(`CRC mismatch (stored ${storedCrc}, computed ${computedCrc})`);
  const dataStart = snapshotHeaderBytes + header.confStateBytes;
  const confState = decodeConfState(bytes.subarray(snapshotHeaderBytes, dataStart));
  const named = parseSnapshotFileName(basename(path));
  if (named !== null && (named.index !== header.index || named.term !== header.term)) {
    throw new SnapshotFormatError(`the header (index ${header.index}, term ${header.term}) does not match the file name`);
  }
  return { metadata: { index: header.index, term: header.term, confState }, data: bytes.subarray(dataStart, crcOffset) };
}

/**
 * Loads the newest valid snapshot in `directory`, or null when there is none. A corrupt file is reported
 * through the logger, renamed aside with a `.broken` suffix for inspection, and an older one tried.
 */
export async function loadNewestSnapshotFile(directory: string, options: SnapshotLoadOptions): Promise<LoadedSnapshot | null> {
  await removeTemporarySnapshotFiles(directory, options.logger);
  const indexMax = options.indexMax ?? Number.MAX_SAFE_INTEGER;
  for (const name of await listSnapshotFiles(directory)) {
    if (name.index > indexMax) continue;
    const path = join(directory, name.fileName);
    try {
      return { snapshot: await loadSnapshotFile(path), path };
    } catch (error) {
      if (!isStorageError(error, 'SNAPSHOT_CORRUPT')) throw error;
      await rename(path, path + snapshotBrokenSuffix);
      await syncDirectory(directory);
      options.logger.warn('snapshot file is corrupt; set aside, trying an older one', {
        file: path, movedTo: path + snapshotBrokenSuffix, reason: error.message,
      });
    }
  }
  return null;
}

/** Deletes all but the newest `retainCount` snapshot files. Resolves to the number deleted. */
export async function purgeSnapshotFiles(directory: string, options: SnapshotSaveOptions): Promise<number> {
  const retainCount = validateRetainCount(options.retainCount);
  const victims = (await listSnapshotFiles(directory)).slice(retainCount);
  for (const victim of victims) await unlink(join(directory, victim.fileName));
  if (victims.length > 0) {
    await syncDirectory(directory);
    options.logger.info('old snapshot files deleted', { directory, count: victims.length, retainCount });
  }
  return victims.length;
}

/** Temporary files are left only by a crash during a save or a receive; nothing refers to them. */
async function removeTemporarySnapshotFiles(directory: string, logger: StorageLogger): Promise<void> {
  const leftovers = (await readdir(directory)).filter((fileName) => fileName.endsWith(snapshotFileSuffix + snapshotTemporarySuffix));
  for (const fileName of leftovers) {
    await unlink(join(directory, fileName));
    logger.warn('removed a snapshot file left unfinished by a crash', { file: join(directory, fileName) });
  }
}

function validateRetainCount(retainCount: number | undefined): number {
  const count = retainCount ?? snapshotRetainCountDefault;
  if (!Number.isSafeInteger(count) || count < 1) throw new StorageError('SNAPSHOT_INVALID_ARGUMENT', 'retainCount must be at least 1');
  return count;
}

export function snapshotCorrupt(path: string, reason: string, offset?: number): StorageError {
  const where = offset === undefined ? '' : ` at byte offset ${offset}`;
  return new StorageError('SNAPSHOT_CORRUPT', `snapshot file ${path} is corrupt${where}: ${reason}`, offset === undefined ? { file: path } : { file: path, offset });
}
