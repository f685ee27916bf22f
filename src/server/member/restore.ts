/**
 * `keel snapshot restore`: a new member data directory from a file written by `snapshot save` (keel's or
 * etcdctl's, from keel's Maintenance.Snapshot stream), as `etcdctl snapshot restore` does for etcd:
 *
 * - the file's SHA-256 trailer is checked (unless skipHashCheck), then the padding trailer gives the store's
 *   bytes (see api/_snapshot-stream.ts for the file layout);
 * - the store is restored and checked by loading it, keeping its revisions, keys and leases;
 * - the membership is replaced by `--initial-cluster`: member and cluster IDs are derived from the names,
 *   peer URLs and token exactly as a founding member derives them, so every member restored from the same
 *   file with the same flags starts from the identical bootstrap snapshot (index 1, term 1) and the cluster
 *   forms as a new one holding the old data.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KvStore } from '../../kv/index.ts';
import { type StorageLogger, Wal } from '../../storage/index.ts';
import { sha256Bytes, snapshotAlignmentBytes, snapshotPadMagic, snapshotTrailerBytesMin } from '../api/_snapshot-stream.ts';
import { type InitialMember, clusterIdOf } from './member.ts';
import { MemberRegistry, StoreMachine, memberIdOf } from './store-machine.ts';
import { walMetadataOf, writeBootstrap } from './raft-driver.ts';

/** A snapshot file is read whole; past this, restoring needs a streaming reader (Node's Buffer limit is 2 GiB). */
export const restoreFileBytesMax = 2 ** 31 - 1;

export class RestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreError';
  }
}

export interface RestoreOptions {
  readonly file: string;
  readonly dataDirectory: string;
  readonly name: string;
  readonly initialCluster: readonly InitialMember[];
  readonly initialClusterToken: string;
  readonly skipHashCheck?: boolean;
  readonly logger: StorageLogger;
}

export interface RestoreResult {
  readonly memberId: number;
  readonly clusterId: bigint;
  readonly revision: number;
  readonly keys: number;
}

export async function restoreSnapshot(options: RestoreOptions): Promise<RestoreResult> {
  const self = options.initialCluster.find((member) => member.name === options.name);
  if (self === undefined) throw new RestoreError(`--initial-cluster has no member named ${options.name}`);
  await refuseExistingDirectory(options.dataDirectory);
  const storeBytes = storeBytesOf(await readSnapshotFile(options.file), options.file, options.skipHashCheck === true);
  const store = new KvStore({ clock: { now: () => performance.now() }, quotaBytes: -1 });
  try {
    store.restore(storeBytes);
  } catch (error) {
    throw new RestoreError(`${options.file} does not hold a keel store: ${(error as Error).message}`);
  }
  const members = new MemberRegistry();
  const ids = options.initialCluster.map((member) => {
    const id = memberIdOf(member.name, member.peerUrls, options.initialClusterToken);
    members.seed(id, { name: member.name, peerUrls: member.peerUrls, clientUrls: [] });
    return id;
  });
  const memberId = memberIdOf(self.name, self.peerUrls, options.initialClusterToken);
  await writeDataDirectory(options, memberId, ids, new StoreMachine(store, members).snapshot());
  return { memberId, clusterId: clusterIdOf(options.initialCluster, options.initialClusterToken), revision: store.revision, keys: store.keyCount };
}

async function refuseExistingDirectory(directory: string): Promise<void> {
  const entries = await readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  // etcdctl's words: restoring over a member's data would silently fork it.
  if (entries !== null && entries.length > 0) throw new RestoreError(`data-dir "${directory}" exists`);
}

async function readSnapshotFile(file: string): Promise<Uint8Array> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new RestoreError(error.code === 'ENOENT' ? `snapshot file ${file} does not exist` : `cannot read ${file}: ${error.message}`);
  });
  if (info.size > restoreFileBytesMax) throw new RestoreError(`${file} is ${info.size} bytes; at most ${restoreFileBytesMax} can be restored`);
  return readFile(file);
}

/** The store's bytes inside a saved snapshot file, after checking its hash and padding trailer. */
export function storeBytesOf(file: Uint8Array, name: string, skipHashCheck: boolean): Uint8Array {
  const trailerEnd = file.length - sha256Bytes;
  if (trailerEnd < snapshotTrailerBytesMin || trailerEnd % snapshotAlignmentBytes !== 0) {
    throw new RestoreError(`${name} is not a snapshot file (size ${file.length} is not a multiple of ${snapshotAlignmentBytes} plus a ${sha256Bytes}-byte hash)`);
  }
  if (!skipHashCheck) {
    const expected = createHash('sha256').update(file.subarray(0, trailerEnd)).digest();
    if (!expected.equals(file.subarray(trailerEnd))) throw new RestoreError(`${name}: snapshot file integrity check failed (SHA-256 mismatch)`);
  }
  const magicAt = trailerEnd - snapshotTrailerBytesMin;
  const magic = file.subarray(magicAt, magicAt + snapshotPadMagic.length);
  if (!Buffer.from(magic).equals(Buffer.from(snapshotPadMagic))) {
    throw new RestoreError(`${name} was not saved from keel (no keel padding trailer; an etcd bolt database cannot be restored into keel)`);
  }
  const length = Number(Buffer.from(file.buffer, file.byteOffset, file.byteLength).readBigUInt64BE(magicAt + snapshotPadMagic.length));
  if (length > magicAt) throw new RestoreError(`${name}: padding trailer claims ${length} bytes of data, more than the file holds`);
  return file.subarray(0, length);
}

/** The layout a founding member creates (RaftDriver's writeBootstrap), with the restored state in the snapshot. */
async function writeDataDirectory(options: RestoreOptions, memberId: number, voters: readonly number[], data: Uint8Array): Promise<void> {
  const walDirectory = join(options.dataDirectory, 'wal');
  const snapshotDirectory = join(options.dataDirectory, 'snap');
  try {
    await mkdir(snapshotDirectory, { recursive: true });
    const wal = await Wal.create(walDirectory, { logger: options.logger, metadata: walMetadataOf(memberId) });
    await writeBootstrap(wal, snapshotDirectory, voters, data, options.logger);
    await wal.close();
  } catch (error) {
    // Nothing half-made is left for a member to start from.
    await rm(options.dataDirectory, { recursive: true, force: true });
    throw error;
  }
}
