/**
 * The Snapshot stream, shaped the way etcd clients expect it.
 *
 * etcd sends the database in chunks and then one more message whose blob is the SHA-256 of everything sent
 * before it (v3rpc/maintenance.go). etcdctl `snapshot save` accepts the file only if its size is a multiple
 * of 512 plus 32 (a bolt database is whole pages; clientv3/snapshot's hasChecksum), and `snapshot restore`
 * checks the SHA-256. keel's snapshot is not a bolt file, so it is padded to a 512-byte multiple with a
 * trailer that says how long it really is:
 *
 *   data | zero bytes | "keelpad1" (8 bytes) | data length (8 bytes, big-endian) | sha256(all before) (32 bytes)
 *
 * The trailer is at least 16 bytes, so a reader finds the data length in bytes [-48, -40) of the file.
 *
 * `remaining_bytes`: etcd knows the database size up front; the backend streams without a size, so each
 * message carries the bytes known to follow it (the chunk held back), which is 0 on the last one as in etcd.
 */
import { createHash } from 'node:crypto';
import type { ServerStreamCall } from '../grpc/index.ts';
import type { MemberBackend } from '../member/backend.ts';
import type { SnapshotResponseInit } from '../proto/index.ts';
import { responseHeader } from './_convert.ts';
import { assert } from './options.ts';

export const snapshotPadMagic = new TextEncoder().encode('keelpad1');
/** Bytes of the padding trailer besides its zeros: the magic and the data length. */
export const snapshotTrailerBytesMin = 16;
/** etcdctl wants the file size, less the checksum, to be a multiple of this (a bolt page). */
export const snapshotAlignmentBytes = 512;
export const sha256Bytes = 32;

/**
 * Streams the backend's snapshot, the padding trailer and the checksum.
 *
 * @example
 * await sendSnapshot(backend, call, { chunkBytesMax: 32 * 1024 });
 */
export async function sendSnapshot(backend: MemberBackend, call: ServerStreamCall<SnapshotResponseInit>, options: { chunkBytesMax: number }): Promise<void> {
  const hash = createHash('sha256');
  const header = responseHeader(backend.header());
  let dataBytes = 0;
  let held: Uint8Array | undefined;
  const send = async (blob: Uint8Array, remainingBytes: number): Promise<void> => {
    hash.update(blob);
    await call.send({ header, remainingBytes, blob });
  };
  for await (const chunk of backend.snapshot(call.signal)) {
    for (let offset = 0; offset < chunk.length; offset += options.chunkBytesMax) {
      const piece = Buffer.from(chunk.subarray(offset, offset + options.chunkBytesMax));
      if (held !== undefined) await send(held, piece.length);
      held = piece;
      dataBytes += piece.length;
    }
  }
  const trailer = paddingTrailer(dataBytes);
  if (held !== undefined) await send(held, trailer.length);
  await send(trailer, 0);
  await call.send({ header, remainingBytes: 0, blob: hash.digest() });
}

/** Zeros, the magic and the data length, so that data plus trailer is a whole number of 512-byte pages. */
export function paddingTrailer(dataBytes: number): Uint8Array {
  assert(Number.isSafeInteger(dataBytes) && dataBytes >= 0, 'snapshot size is a byte count');
  const zeros = (snapshotAlignmentBytes - ((dataBytes + snapshotTrailerBytesMin) % snapshotAlignmentBytes)) % snapshotAlignmentBytes;
  const trailer = Buffer.alloc(zeros + snapshotTrailerBytesMin);
  trailer.set(snapshotPadMagic, zeros);
  trailer.writeBigUInt64BE(BigInt(dataBytes), zeros + snapshotPadMagic.length);
  assert((dataBytes + trailer.length) % snapshotAlignmentBytes === 0, 'padded snapshot is page aligned');
  return trailer;
}
