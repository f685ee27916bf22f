/**
 * A block's chunk segments, `chunks/000001`, `chunks/000002`, ...: an 8-byte header, then chunks one after
 * another, each framed as `uvarint length | encoding byte | data | CRC-32C(encoding, data)`. A chunk's
 * reference is `segment × 2^32 + offset`. Reads are synchronous (queries are) through a read-ahead window,
 * since a query walks series, and so chunks, in file order.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32cRange } from '../../../storage/crc32c.ts';
import { chunkBytesMax, ChunkEncoding } from '../chunkenc/index.ts';
import { ByteWriter } from '../encoding.ts';
import { assert, TsdbError } from '../errors.ts';

/** "KTSC": keel time-series chunks. */
const chunksMagic = 0x4b54_5343;
const chunksFormatVersion = 1;
export const chunksHeaderBytes = 8;
/** A segment is closed before a chunk would take it past this size (Prometheus uses 512 MiB too). */
export const chunkSegmentBytesMax = 512 * 1024 * 1024;
/** Segment numbers have six digits. */
const chunkSegmentCountMax = 999_999;
/** Buffered chunk bytes are written out past this size. */
const chunkWriteBufferBytes = 1024 * 1024;
/** Bytes read at once around a requested chunk. */
const chunkReadWindowBytes = 256 * 1024;
/** A frame's header: a length varint of at most 3 bytes (chunks stay below 2^21 bytes) plus the encoding. */
const frameHeaderBytesMax = 4;
const twoToThe32 = 2 ** 32;

assert(chunkBytesMax < 1 << 21, 'a chunk length fits a 3-byte varint');
assert(chunkSegmentBytesMax < twoToThe32, 'an offset fits 32 bits');

export function chunkSegmentName(index: number): string {
  assert(Number.isInteger(index) && index >= 1 && index <= chunkSegmentCountMax, 'chunk segment index fits six digits');
  return String(index).padStart(6, '0');
}

function chunksHeader(): Uint8Array {
  const header = new Uint8Array(chunksHeaderBytes);
  new DataView(header.buffer).setUint32(0, chunksMagic);
  header[4] = chunksFormatVersion;
  return header;
}

/**
 * Writes chunks into a block's `chunks/` directory.
 *
 * @example
 * const writer = await ChunkSegmentWriter.create(join(temporaryDirectory, 'chunks'));
 * const ref = writer.add(chunkBytes);
 * await writer.flushIfFull();
 * await writer.finish();
 */
export class ChunkSegmentWriter {
  readonly #directory: string;
  readonly #buffer = new ByteWriter(chunkWriteBufferBytes + chunkBytesMax + 16);
  #handle: FileHandle | undefined;
  #segmentIndex = 0;
  /** Bytes of the current segment, including those still buffered. */
  #segmentBytes = 0;
  /** Where the buffer starts in the current segment. */
  #bufferOffset = 0;
  bytesWritten = 0;

  private constructor(directory: string) {
    this.#directory = directory;
  }

  static async create(directory: string): Promise<ChunkSegmentWriter> {
    await mkdir(directory, { recursive: true });
    const writer = new ChunkSegmentWriter(directory);
    await writer.#nextSegment();
    return writer;
  }

  /** Buffers one XOR chunk and returns its reference. Call {@link flushIfFull} between series. */
  add(bytes: Uint8Array): number {
    assert(bytes.length >= 2 && bytes.length <= chunkBytesMax, 'chunk bytes within bounds');
    const frameBytes = frameHeaderBytesMax + bytes.length + 4;
    assert(this.#segmentBytes + frameBytes <= chunkSegmentBytesMax, 'the caller made room in the segment');
    const reference = this.#segmentIndex * twoToThe32 + this.#segmentBytes;
    const start = this.#buffer.length;
    this.#buffer.uvarint(bytes.length);
    const encodingOffset = this.#buffer.length;
    this.#buffer.u8(ChunkEncoding.Xor);
    this.#buffer.bytes(bytes);
    this.#buffer.u32(crc32cRange(this.#buffer.view(), encodingOffset, this.#buffer.length));
    this.#segmentBytes += this.#buffer.length - start;
    return reference;
  }

  /** Writes buffered bytes out when the buffer is full, and starts a new segment when this one is. */
  async flushIfFull(): Promise<void> {
    if (this.#buffer.length >= chunkWriteBufferBytes) await this.#flush();
    if (this.#segmentBytes + frameHeaderBytesMax + chunkBytesMax + 4 > chunkSegmentBytesMax) await this.#nextSegment();
  }

  /** Writes everything out, fsyncs and closes. */
  async finish(): Promise<void> {
    await this.#flush();
    await this.#closeSegment();
  }

  /** Closes without finishing (after a failure). */
  async abandon(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }

  async #flush(): Promise<void> {
    if (this.#buffer.length === 0) return;
    const bytes = this.#buffer.view();
    const { bytesWritten } = await this.#handle!.write(bytes, 0, bytes.length, this.#bufferOffset);
    assert(bytesWritten === bytes.length, 'the whole chunk buffer was written');
    this.#bufferOffset += bytes.length;
    this.bytesWritten += bytes.length;
    this.#buffer.reset();
  }

  async #nextSegment(): Promise<void> {
    await this.#flush();
    await this.#closeSegment();
    this.#segmentIndex += 1;
    this.#handle = await open(join(this.#directory, chunkSegmentName(this.#segmentIndex)), 'wx');
    const header = chunksHeader();
    await this.#handle.write(header, 0, header.length, 0);
    this.#segmentBytes = chunksHeaderBytes;
    this.#bufferOffset = chunksHeaderBytes;
    this.bytesWritten += chunksHeaderBytes;
  }

  async #closeSegment(): Promise<void> {
    if (this.#handle === undefined) return;
    await this.#handle.sync();
    await this.#handle.close();
    this.#handle = undefined;
  }
}

/** Bytes of chunk segment windows kept in memory across queries; every block of the process shares them. */
export const chunkCacheBytesDefault = 64 * 1024 * 1024;
/** A window reaches this far past its aligned end, so that a chunk starting near the end still fits it. */
const windowOverlapBytes = 16 * 1024;
/** Aligned windows per segment: 512 MiB / 256 KiB. */
const windowsPerSegment = chunkSegmentBytesMax / chunkReadWindowBytes;

interface ReadWindow {
  readonly key: number;
  /** Where `bytes` starts in the segment. */
  readonly offset: number;
  readonly bytes: Buffer;
  /** Offsets of the chunks in `bytes` whose CRC has been checked (each is checked once per read from disk). */
  readonly verified: Set<number>;
  /** Set when the cache lets go of the window (or never took it): its reader then reads the bytes again. */
  evicted: boolean;
}

/**
 * A least-recently-used set of segment windows, bounded in bytes: what the page cache under Prometheus's
 * mmap gives it, so a dashboard's repeated queries do not read and check the same chunks again.
 */
class WindowCache {
  #maxBytes: number;
  #bytes = 0;
  /** In use order, oldest first (a Map keeps insertion order; a hit re-inserts). */
  readonly #windows = new Map<number, ReadWindow>();

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Whether caching is on; when it is off, each reader keeps just its last window, as a read-ahead. */
  get enabled(): boolean {
    return this.#maxBytes > 0;
  }

  resize(maxBytes: number): void {
    assert(Number.isSafeInteger(maxBytes) && maxBytes >= 0, 'the chunk cache size is a non-negative integer');
    this.#maxBytes = maxBytes;
    this.#evict();
  }

  get(key: number): ReadWindow | undefined {
    const window = this.#windows.get(key);
    if (window !== undefined) {
      this.#windows.delete(key);
      this.#windows.set(key, window);
    }
    return window;
  }

  put(window: ReadWindow): void {
    if (window.bytes.length > this.#maxBytes) {
      window.evicted = true;
      return;
    }
    this.#windows.set(window.key, window);
    this.#bytes += window.bytes.length;
    this.#evict();
  }

  /** Drops every window of keys in [fromKey, toKey). */
  dropRange(fromKey: number, toKey: number): void {
    for (const [key, window] of this.#windows) {
      if (key < fromKey || key >= toKey) continue;
      this.#windows.delete(key);
      this.#bytes -= window.bytes.length;
      window.evicted = true;
    }
  }

  #evict(): void {
    for (const [key, window] of this.#windows) {
      if (this.#bytes <= this.#maxBytes) return;
      this.#windows.delete(key);
      this.#bytes -= window.bytes.length;
      window.evicted = true;
    }
  }
}

const windowCache = new WindowCache(chunkCacheBytesDefault);
let nextReaderId = 0;

/** Sets how many bytes of chunk segments the process keeps cached (0 turns the cache off). */
export function setChunkCacheBytes(maxBytes: number): void {
  windowCache.resize(maxBytes);
}

/** Bytes the chunk cache holds now. */
export function chunkCacheBytes(): number {
  return windowCache.bytes;
}

/**
 * Reads chunks of one block by reference, checking each frame's CRC. Defects are `TSDB_BLOCK_CORRUPT`
 * naming the segment file and offset.
 */
export class ChunkSegmentReader {
  readonly #paths: string[];
  readonly #descriptors: number[];
  readonly #sizes: number[];
  /** Cache keys of this reader's windows are [#keyBase, #keyBase + (segments + 1) × windowsPerSegment). */
  readonly #keyBase: number;
  #window: ReadWindow | undefined;
  #closed = false;

  private constructor(paths: string[], descriptors: number[], sizes: number[]) {
    this.#paths = paths;
    this.#descriptors = descriptors;
    this.#sizes = sizes;
    this.#keyBase = nextReaderId * 1_000_000 * windowsPerSegment;
    nextReaderId += 1;
    assert(Number.isSafeInteger(this.#keyBase + 1_000_000 * windowsPerSegment), 'chunk cache keys are exact');
  }

  /** Opens every segment in `directory`, checking names (consecutive from 000001) and headers. */
  static async open(directory: string): Promise<ChunkSegmentReader> {
    const names = (await readdir(directory)).filter((name) => /^\d{6}$/.test(name)).sort();
    const paths: string[] = [];
    const descriptors: number[] = [];
    const sizes: number[] = [];
    try {
      for (let position = 0; position < names.length; position += 1) {
        const path = join(directory, names[position]!);
        if (Number(names[position]) !== position + 1) throw chunkCorrupt(path, 0, `expected segment ${chunkSegmentName(position + 1)} here (segments are numbered from 000001 without gaps)`);
        const descriptor = openSync(path, 'r');
        descriptors.push(descriptor);
        paths.push(path);
        sizes.push(checkHeader(descriptor, path));
      }
    } catch (error) {
      for (const descriptor of descriptors) closeSync(descriptor);
      throw error;
    }
    return new ChunkSegmentReader(paths, descriptors, sizes);
  }

  get segmentCount(): number {
    return this.#paths.length;
  }

  /** The XOR bytes of the chunk at `reference` (a view into a read buffer; do not modify it). */
  read(reference: number): Uint8Array {
    assert(!this.#closed, 'the chunk reader is open');
    const segmentIndex = Math.floor(reference / twoToThe32);
    const offset = reference - segmentIndex * twoToThe32;
    const position = segmentIndex - 1;
    const path = this.#paths[position];
    if (path === undefined) throw new TsdbError('TSDB_BLOCK_CORRUPT', `Chunk reference ${reference} names segment ${segmentIndex}, but the block has ${this.#paths.length} (${this.#paths[0] ?? 'none'}).`);
    const size = this.#sizes[position]!;
    if (offset < chunksHeaderBytes || offset >= size) throw chunkCorrupt(path, offset, `chunk offset is outside the file of ${size} bytes`);
    let window = this.#windowAt(position, segmentIndex, offset);
    // The window reaches windowOverlapBytes past its aligned end (or to the file's end): the header is in it.
    assert(offset + Math.min(frameHeaderBytesMax, size - offset) <= window.offset + window.bytes.length, 'a frame header lies inside its window');
    let at = offset - window.offset;
    let dataLength = 0;
    let shift = 0;
    while (true) {
      if (at >= window.bytes.length || shift > 14) throw chunkCorrupt(path, offset, 'chunk length varint is malformed');
      const byte = window.bytes[at++]!;
      dataLength |= (byte & 0x7f) << shift;
      shift += 7;
      if (byte < 0x80) break;
    }
    if (dataLength < 2 || dataLength > chunkBytesMax) throw chunkCorrupt(path, offset, `chunk length ${dataLength} is outside [2, ${chunkBytesMax}]`);
    const headerBytes = at - (offset - window.offset);
    const frameBytes = headerBytes + 1 + dataLength + 4;
    if (offset + frameBytes > size) throw chunkCorrupt(path, offset, `chunk of ${dataLength} bytes runs past the end of the file`);
    // A frame that runs past its window (a large chunk near the window's end) is read on its own, uncached.
    if (offset + frameBytes > window.offset + window.bytes.length) window = this.#exactWindow(position, offset, frameBytes);
    const encodingAt = offset - window.offset + headerBytes;
    const encoding = window.bytes[encodingAt]!;
    if (encoding !== ChunkEncoding.Xor) throw chunkCorrupt(path, offset, `unknown chunk encoding ${encoding}`);
    const dataEnd = encodingAt + 1 + dataLength;
    if (!window.verified.has(offset)) {
      const storedCrc = window.bytes.readUInt32BE(dataEnd);
      if (storedCrc !== crc32cRange(window.bytes, encodingAt, dataEnd)) throw chunkCorrupt(path, offset, 'chunk checksum does not match its content');
      window.verified.add(offset);
    }
    return window.bytes.subarray(encodingAt + 1, dataEnd);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const descriptor of this.#descriptors) closeSync(descriptor);
    this.#window = undefined;
    windowCache.dropRange(this.#keyBase, this.#keyBase + (this.#paths.length + 1) * windowsPerSegment);
  }

  /** The aligned window holding `offset`: the last one used, a cached one, or one read now (and cached). */
  #windowAt(position: number, segmentIndex: number, offset: number): ReadWindow {
    const windowNumber = Math.floor(offset / chunkReadWindowBytes);
    const key = this.#keyBase + segmentIndex * windowsPerSegment + windowNumber;
    const last = this.#window;
    if (last !== undefined && last.key === key && (!last.evicted || !windowCache.enabled)) return last;
    let window = windowCache.get(key);
    if (window === undefined) {
      const start = windowNumber * chunkReadWindowBytes;
      const end = Math.min(this.#sizes[position]!, start + chunkReadWindowBytes + windowOverlapBytes);
      window = { key, offset: start, bytes: this.#readBytes(position, start, end - start), verified: new Set(), evicted: false };
      windowCache.put(window);
    }
    this.#window = window;
    return window;
  }

  /** Exactly [offset, offset + length) of a segment, outside the cache. */
  #exactWindow(position: number, offset: number, length: number): ReadWindow {
    return { key: -1, offset, bytes: this.#readBytes(position, offset, length), verified: new Set(), evicted: true };
  }

  #readBytes(position: number, offset: number, length: number): Buffer {
    // A fresh buffer each time: chunks handed out earlier keep viewing the old one.
    const bytes = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const read = readSync(this.#descriptors[position]!, bytes, filled, length - filled, offset + filled);
      if (read === 0) throw chunkCorrupt(this.#paths[position]!, offset + filled, 'file ended early');
      filled += read;
    }
    return bytes;
  }
}

function checkHeader(descriptor: number, path: string): number {
  const header = Buffer.alloc(chunksHeaderBytes);
  const read = readSync(descriptor, header, 0, chunksHeaderBytes, 0);
  if (read < chunksHeaderBytes) throw chunkCorrupt(path, 0, `file has ${read} bytes, fewer than the ${chunksHeaderBytes}-byte header`);
  if (header.readUInt32BE(0) !== chunksMagic) throw chunkCorrupt(path, 0, 'bad magic number (not a keel chunk segment)');
  if (header[4] !== chunksFormatVersion) throw chunkCorrupt(path, 4, `unsupported chunk format version ${header[4]}`);
  if (header[5] !== 0 || header[6] !== 0 || header[7] !== 0) throw chunkCorrupt(path, 5, 'reserved header bytes are not zero');
  return fstatSync(descriptor).size;
}

function chunkCorrupt(path: string, offset: number, detail: string): TsdbError {
  return new TsdbError('TSDB_BLOCK_CORRUPT', `Block file ${path} is corrupt at offset ${offset}: ${detail}.`);
}
