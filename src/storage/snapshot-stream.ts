/**
 * Streaming a snapshot file to a follower in bounded chunks. The sender reads the file one chunk at a
 * time; the receiver checks every chunk's CRC and offset, writes it to a temporary file, and on the last
 * chunk checks the whole file's own CRC before renaming it into place. The bytes streamed are exactly
 * the snapshot file's bytes, so the receiver ends with an identical, checked file.
 *
 * Chunk frame (little-endian, 32-byte header, see docs/format/snapshot.md):
 *   0 u32 magic "KSCK" · 4 u32 data length · 8 u64 offset · 16 u64 file length
 *   24 u32 CRC-32C of bytes 0..23 and the data · 28 u32 reserved, zero · 32 data
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotMetadata } from '../raft/types.ts';
import { readFully, readUint64, syncDirectory, writeFully, writeUint64 } from './_binary.ts';
import {
  SnapshotFormatError, decodeConfState, decodeSnapshotHeader, snapshotFileBytes, snapshotHeaderBytes, snapshotTrailerBytes,
} from './_snapshot-format.ts';
import { crc32c } from './crc32c.ts';
import { StorageError, assert } from './errors.ts';
import type { StorageLogger } from './logger.ts';
import {
  purgeSnapshotFiles, snapshotCorrupt, snapshotFileBytesMax, snapshotFileName, snapshotFileSuffix, snapshotTemporarySuffix,
} from './snapshot-file.ts';

/** Default bound on one chunk's data. */
export const snapshotChunkBytesMaxDefault = 1024 * 1024;
/** Smallest chunk bound allowed: the first chunk must carry the whole snapshot header. */
export const snapshotChunkBytesMin = 4096;
export const snapshotChunkHeaderBytes = 32;
/** 'KSCK' read as a little-endian u32. */
const chunkMagic = 0x4b43534b;
const snapshotFileBytesMinimum = snapshotHeaderBytes + snapshotTrailerBytes;
assert(snapshotChunkBytesMin >= snapshotHeaderBytes, 'a first chunk must hold the snapshot header');

export interface SnapshotChunk {
  /** Where `data` starts in the snapshot file. */
  readonly offset: number;
  /** The whole snapshot file's length. */
  readonly fileBytes: number;
  readonly data: Uint8Array;
}

export function encodeSnapshotChunk(chunk: SnapshotChunk): Uint8Array {
  const frame = new Uint8Array(snapshotChunkHeaderBytes + chunk.data.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, chunkMagic, true);
  view.setUint32(4, chunk.data.length, true);
  writeUint64(view, 8, chunk.offset);
  writeUint64(view, 16, chunk.fileBytes);
  frame.set(chunk.data, snapshotChunkHeaderBytes);
  view.setUint32(24, crc32c(chunk.data, crc32c(frame.subarray(0, 24))), true);
  view.setUint32(28, 0, true);
  return frame;
}

/** Decodes and checks one chunk frame; fails with SNAPSHOT_CHUNK_CORRUPT. `data` is a view of `frame`. */
export function decodeSnapshotChunk(frame: Uint8Array, chunkBytesMax: number = snapshotChunkBytesMaxDefault): SnapshotChunk {
  if (frame.length < snapshotChunkHeaderBytes) throw chunkCorrupt('shorter than a chunk header');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== chunkMagic) throw chunkCorrupt('bad chunk magic');
  if (view.getUint32(28, true) !== 0) throw chunkCorrupt('reserved chunk bytes are not zero');
  const dataBytes = view.getUint32(4, true);
  if (dataBytes > chunkBytesMax) throw chunkCorrupt(`chunk of ${dataBytes} bytes is over the bound ${chunkBytesMax}`);
  if (frame.length !== snapshotChunkHeaderBytes + dataBytes) throw chunkCorrupt(`frame is ${frame.length} bytes, its header says ${snapshotChunkHeaderBytes + dataBytes}`);
  const data = frame.subarray(snapshotChunkHeaderBytes);
  const storedCrc = view.getUint32(24, true);
  const computedCrc = crc32c(data, crc32c(frame.subarray(0, 24)));
  if (storedCrc !== computedCrc) throw chunkCorrupt(`chunk CRC mismatch (stored ${storedCrc}, computed ${computedCrc})`);
  const offset = readUint64(view, 8);
  const fileBytes = readUint64(view, 16);
  if (offset < 0 || fileBytes < 0) throw chunkCorrupt('a chunk number does not fit a safe integer');
  return { offset, fileBytes, data };
}

function chunkCorrupt(reason: string): StorageError {
  return new StorageError('SNAPSHOT_CHUNK_CORRUPT', `snapshot chunk rejected: ${reason}`);
}

function validateChunkBytesMax(chunkBytesMax: number): number {
  if (!Number.isSafeInteger(chunkBytesMax) || chunkBytesMax < snapshotChunkBytesMin || chunkBytesMax > 0xffffffff) {
    throw new StorageError('SNAPSHOT_INVALID_ARGUMENT', `chunkBytesMax must be between ${snapshotChunkBytesMin} and 2^32 - 1`);
  }
  return chunkBytesMax;
}

/**
 * Reads a snapshot file as encoded chunk frames, one chunk in memory at a time.
 *
 * @example
 * for await (const frame of readSnapshotChunks(path)) await transport.send(peer, frame);
 */
export async function* readSnapshotChunks(path: string, options: { readonly chunkBytesMax?: number } = {}): AsyncGenerator<Uint8Array> {
  const chunkBytesMax = validateChunkBytesMax(options.chunkBytesMax ?? snapshotChunkBytesMaxDefault);
  const handle = await open(path, 'r');
  try {
    const fileBytes = (await handle.stat()).size;
    if (fileBytes < snapshotFileBytesMinimum || fileBytes > snapshotFileBytesMax) throw snapshotCorrupt(path, `${fileBytes} bytes cannot be a snapshot file`);
    for (let offset = 0; offset < fileBytes; offset += chunkBytesMax) {
      const data = new Uint8Array(Math.min(chunkBytesMax, fileBytes - offset));
      const read = await readFully(handle, data, offset);
      if (read !== data.length) throw snapshotCorrupt(path, 'the file shrank while being streamed', offset + read);
      yield encodeSnapshotChunk({ offset, fileBytes, data });
    }
  } finally {
    await handle.close();
  }
}

export interface SnapshotReceiverOptions {
  readonly logger: StorageLogger;
  readonly chunkBytesMax?: number;
  /** How many snapshot files to keep once the received one is in place. */
  readonly retainCount?: number;
}

export type SnapshotReceiveProgress =
  | { readonly complete: false; readonly receivedBytes: number; readonly fileBytes: number }
  | { readonly complete: true; readonly path: string; readonly metadata: SnapshotMetadata };

type ReceiverState = 'receiving' | 'complete' | 'aborted';

/**
 * Receives a streamed snapshot into `directory`. Chunks must arrive in order; a rejected chunk
 * (SNAPSHOT_CHUNK_CORRUPT) leaves the receiver where it was, so the sender may send it again.
 *
 * @example
 * const receiver = await SnapshotChunkWriter.create(snapDir, { logger });
 * for (const frame of frames) { const progress = await receiver.write(frame); if (progress.complete) break; }
 */
export class SnapshotChunkWriter {
  readonly #directory: string;
  readonly #options: SnapshotReceiverOptions;
  readonly #chunkBytesMax: number;
  readonly #temporaryPath: string;
  readonly #handle: FileHandle;
  #state: ReceiverState = 'receiving';
  /** Invariant: the bytes written so far, all checked; the next chunk must start here. */
  #receivedBytes = 0;
  /** Fixed by the first chunk. Invariant: null until then, and #receivedBytes <= #fileBytes after. */
  #fileBytes: number | null = null;
  /** The running CRC-32C of the file's bytes before its trailer. */
  #fileCrc = 0;
  /** The last four bytes of the file: its stored CRC. */
  readonly #trailer = new Uint8Array(snapshotTrailerBytes);
  #busy = false;

  private constructor(directory: string, options: SnapshotReceiverOptions, temporaryPath: string, handle: FileHandle) {
    this.#directory = directory;
    this.#options = options;
    this.#chunkBytesMax = validateChunkBytesMax(options.chunkBytesMax ?? snapshotChunkBytesMaxDefault);
    this.#temporaryPath = temporaryPath;
    this.#handle = handle;
  }

  static async create(directory: string, options: SnapshotReceiverOptions): Promise<SnapshotChunkWriter> {
    validateChunkBytesMax(options.chunkBytesMax ?? snapshotChunkBytesMaxDefault);
    const temporaryPath = join(directory, `incoming-${randomBytes(8).toString('hex')}${snapshotFileSuffix}${snapshotTemporarySuffix}`);
    // Read and write: the header is read back from it once the last chunk is in.
    const handle = await open(temporaryPath, 'wx+');
    return new SnapshotChunkWriter(directory, options, temporaryPath, handle);
  }

  get receivedBytes(): number {
    return this.#receivedBytes;
  }

  /** Checks and writes one chunk frame. On the last chunk, checks the file and moves it into place. */
  async write(frame: Uint8Array): Promise<SnapshotReceiveProgress> {
    if (this.#state !== 'receiving') throw streamInvalid(`the receiver is ${this.#state}`);
    if (this.#busy) throw streamInvalid('write() called again before the previous one finished');
    this.#busy = true;
    try {
      const chunk = decodeSnapshotChunk(frame, this.#chunkBytesMax);
      const fileBytes = this.#checkPlacement(chunk);
      await writeFully(this.#handle, chunk.data, chunk.offset);
      this.#account(chunk, fileBytes);
      if (this.#receivedBytes < fileBytes) return { complete: false, receivedBytes: this.#receivedBytes, fileBytes };
      return await this.#finish(fileBytes);
    } finally {
      this.#busy = false;
    }
  }

  /** Drops a partial transfer and its temporary file. */
  async abort(): Promise<void> {
    if (this.#state !== 'receiving') return;
    this.#state = 'aborted';
    await this.#handle.close();
    await unlink(this.#temporaryPath);
  }

  /** The chunk must continue exactly where the last one ended, within the file length fixed at the start. */
  #checkPlacement(chunk: SnapshotChunk): number {
    const fileBytes = this.#fileBytes ?? chunk.fileBytes;
    if (chunk.fileBytes !== fileBytes) throw streamInvalid(`the file length changed from ${fileBytes} to ${chunk.fileBytes}`);
    if (fileBytes < snapshotFileBytesMinimum || fileBytes > snapshotFileBytesMax) throw streamInvalid(`${fileBytes} bytes cannot be a snapshot file`);
    if (chunk.offset !== this.#receivedBytes) throw streamInvalid(`chunk at offset ${chunk.offset}, expected ${this.#receivedBytes}`);
    if (chunk.data.length === 0 || chunk.offset + chunk.data.length > fileBytes) throw streamInvalid('chunk is empty or runs past the file length');
    if (chunk.offset === 0) this.#checkHeader(chunk.data, fileBytes);
    return fileBytes;
  }

  /** Fail fast on the first chunk: it holds the whole snapshot header. */
  #checkHeader(data: Uint8Array, fileBytes: number): void {
    try {
      const header = decodeSnapshotHeader(data.subarray(0, snapshotHeaderBytes));
      if (snapshotFileBytes(header) !== fileBytes) throw new SnapshotFormatError(`the header describes ${snapshotFileBytes(header)} bytes, the stream ${fileBytes}`);
    } catch (error) {
      if (error instanceof SnapshotFormatError) throw snapshotCorrupt(this.#temporaryPath, error.message, 0);
      throw error;
    }
  }

  #account(chunk: SnapshotChunk, fileBytes: number): void {
    const trailerStart = fileBytes - snapshotTrailerBytes;
    const end = chunk.offset + chunk.data.length;
    const beforeTrailer = Math.max(0, Math.min(end, trailerStart) - chunk.offset);
    this.#fileCrc = crc32c(chunk.data.subarray(0, beforeTrailer), this.#fileCrc);
    for (let position = Math.max(chunk.offset, trailerStart); position < end; position++) {
      this.#trailer[position - trailerStart] = chunk.data[position - chunk.offset]!;
    }
    this.#fileBytes = fileBytes;
    this.#receivedBytes = end;
    assert(this.#receivedBytes <= fileBytes, 'received past the file length');
  }

  /** All bytes are in: check the whole file, make it durable, rename it into place, apply retention. */
  async #finish(fileBytes: number): Promise<SnapshotReceiveProgress> {
    const storedCrc = new DataView(this.#trailer.buffer).getUint32(0, true);
    let metadata: SnapshotMetadata;
    try {
      if (storedCrc !== this.#fileCrc) throw snapshotCorrupt(this.#temporaryPath, `CRC mismatch (stored ${storedCrc}, computed ${this.#fileCrc})`);
      metadata = await this.#readMetadata(fileBytes);
      await this.#handle.datasync();
    } catch (error) {
      await this.abort();
      throw error;
    }
    this.#state = 'complete';
    await this.#handle.close();
    const path = join(this.#directory, snapshotFileName(metadata));
    await rename(this.#temporaryPath, path);
    await syncDirectory(this.#directory);
    this.#options.logger.info('snapshot received', { file: path, index: metadata.index, term: metadata.term, bytes: fileBytes });
    await purgeSnapshotFiles(this.#directory, { logger: this.#options.logger, retainCount: this.#options.retainCount });
    return { complete: true, path, metadata };
  }

  async #readMetadata(fileBytes: number): Promise<SnapshotMetadata> {
    const headerBytes = new Uint8Array(snapshotHeaderBytes);
    await readFully(this.#handle, headerBytes, 0);
    try {
      const header = decodeSnapshotHeader(headerBytes);
      assert(snapshotFileBytes(header) === fileBytes, 'header checked on the first chunk');
      const confStateBytes = new Uint8Array(header.confStateBytes);
      await readFully(this.#handle, confStateBytes, snapshotHeaderBytes);
      return { index: header.index, term: header.term, confState: decodeConfState(confStateBytes) };
    } catch (error) {
      if (error instanceof SnapshotFormatError) throw snapshotCorrupt(this.#temporaryPath, error.message);
      throw error;
    }
  }
}

function streamInvalid(reason: string): StorageError {
  return new StorageError('SNAPSHOT_STREAM_INVALID', `snapshot stream rejected: ${reason}`);
}
