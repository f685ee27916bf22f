/**
 * An open, immutable block: its meta, its index (held in memory, decoded lazily) and its chunk segments
 * (read on demand). Queriers hold a reference; a block deleted by compaction or retention closes its files
 * once the last querier is closed.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Querier } from '../../storage.ts';
import { decodeXorSamples } from '../chunkenc/index.ts';
import type { DecodedSamples } from '../chunkenc/index.ts';
import { assert, TsdbError } from '../errors.ts';
import { checkSelectMatchers } from '../head-read.ts';
import type { Matcher } from '../index/index.ts';
import { compareStrings } from '../labels.ts';
import { ChunkSeries, overlaps, StoredChunk } from '../series-iterator.ts';
import type { IterableChunk, TsdbSeries } from '../series-iterator.ts';
import { ChunkSegmentReader } from './chunks.ts';
import type { ChunkMeta } from './index-file.ts';
import { BlockIndex } from './index-file.ts';
import { readBlockMeta } from './meta.ts';
import type { BlockMeta } from './meta.ts';

/** Index files larger than this are refused: the reader holds the whole file in memory. */
export const blockIndexBytesMax = 1024 * 1024 * 1024;

/**
 * A block opened for reading.
 *
 * @example
 * const block = await Block.open(join(dir, ulid), ulid);
 * const querier = block.querier(start, end);
 */
export class Block {
  readonly directory: string;
  readonly meta: BlockMeta;
  readonly index: BlockIndex;
  /** Bytes of the block's files on disk. */
  readonly sizeBytes: number;
  readonly #chunks: ChunkSegmentReader;
  /** Open queriers. Invariant: >= 0. */
  #readers = 0;
  #deleted = false;
  #closed = false;

  private constructor(directory: string, meta: BlockMeta, index: BlockIndex, chunks: ChunkSegmentReader, sizeBytes: number) {
    this.directory = directory;
    this.meta = meta;
    this.index = index;
    this.#chunks = chunks;
    this.sizeBytes = sizeBytes;
  }

  /** Opens and checks a block directory; `TSDB_BLOCK_CORRUPT` names the bad file and offset. */
  static async open(directory: string, ulid: string): Promise<Block> {
    const meta = await readBlockMeta(directory, ulid);
    const indexPath = join(directory, 'index');
    const indexSize = (await stat(indexPath)).size;
    if (indexSize > blockIndexBytesMax) throw new TsdbError('TSDB_BLOCK_CORRUPT', `Block file ${indexPath} has ${indexSize} bytes, more than ${blockIndexBytesMax}.`);
    const index = BlockIndex.fromBytes(await readFile(indexPath), indexPath);
    if (index.seriesCount !== meta.stats.numSeries) {
      throw new TsdbError('TSDB_BLOCK_CORRUPT', `Block file ${indexPath} holds ${index.seriesCount} series but meta.json says ${meta.stats.numSeries}.`);
    }
    const chunks = await ChunkSegmentReader.open(join(directory, 'chunks'));
    return new Block(directory, meta, index, chunks, await directoryBytes(directory));
  }

  get ulid(): string {
    return this.meta.ulid;
  }

  /** First sample time (inclusive). */
  get minTimeMs(): number {
    return this.meta.minTime;
  }

  /** End of the range (exclusive). */
  get maxTimeMs(): number {
    return this.meta.maxTime;
  }

  /** meta.json's `minTime`, for the planner and retention, which work on metas and blocks alike. */
  get minTime(): number {
    return this.meta.minTime;
  }

  /** meta.json's `maxTime` (exclusive). */
  get maxTime(): number {
    return this.meta.maxTime;
  }

  /** Whether the block holds time in [minTimeMs, maxTimeMs] (both inclusive). */
  overlapsRange(minTimeMs: number, maxTimeMs: number): boolean {
    return this.meta.minTime <= maxTimeMs && this.meta.maxTime > minTimeMs;
  }

  /** A querier over the block; close it to release the block. */
  querier(minTimeMs: number, maxTimeMs: number): BlockQuerier {
    assert(!this.#closed, 'a closed block makes no queriers');
    this.#readers += 1;
    return new BlockQuerier(this, minTimeMs, maxTimeMs, () => this.#release());
  }

  /** The XOR bytes of a chunk, checked against its CRC. */
  readChunk(reference: number): Uint8Array {
    return this.#chunks.read(reference);
  }

  /** Series `ordinal`'s chunks overlapping [minTimeMs, maxTimeMs], as iterable chunks reading from this block. */
  chunksOf(ordinal: number, minTimeMs: number, maxTimeMs: number): IterableChunk[] {
    const index = this.index;
    const chunks: IterableChunk[] = [];
    for (let chunk = index.chunksStart(ordinal); chunk < index.chunksEnd(ordinal); chunk += 1) {
      const chunkMinMs = index.chunkMinTimeMs(chunk);
      const chunkMaxMs = index.chunkMaxTimeMs(chunk);
      if (overlaps(chunkMinMs, chunkMaxMs, minTimeMs, maxTimeMs)) chunks.push(new BlockChunk(this, chunk));
    }
    return chunks;
  }

  /** The chunk at `meta` with its samples, checking its header against the index. */
  storedChunk(meta: ChunkMeta): StoredChunk {
    const bytes = this.readChunk(meta.reference);
    return new StoredChunk(bytes, meta.minTimeMs, meta.maxTimeMs, this.#sampleCount(bytes, meta.reference));
  }

  /** Decodes the chunk at `reference` (see IterableChunk.decodeInto). */
  decodeChunk(reference: number, untilMs: number, out: DecodedSamples): void {
    const bytes = this.readChunk(reference);
    decodeXorSamples(bytes, bytes.length * 8, this.#sampleCount(bytes, reference), untilMs, out);
  }

  /** The sample count in a chunk's header; an empty chunk is corrupt. */
  #sampleCount(bytes: Uint8Array, reference: number): number {
    const sampleCount = (bytes[0]! << 8) | bytes[1]!;
    if (sampleCount === 0) throw new TsdbError('TSDB_BLOCK_CORRUPT', `Block ${this.directory} has an empty chunk at reference ${reference}.`);
    return sampleCount;
  }

  /** Marks the block deleted (its directory is gone or going): files close when no querier uses them. */
  markDeleted(): void {
    this.#deleted = true;
    if (this.#readers === 0) this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chunks.close();
  }

  #release(): void {
    this.#readers -= 1;
    assert(this.#readers >= 0, 'a block querier is closed once');
    if (this.#readers === 0 && this.#deleted) this.close();
  }
}

/**
 * A chunk in a block, read when a query first iterates it. It holds only the block and the chunk's position
 * in the index's flat arrays (a small integer): a query over a day of thousands of series makes one per
 * chunk, and numbers such as timestamps would each be a boxed double for the collector to copy.
 */
class BlockChunk implements IterableChunk {
  readonly #block: Block;
  readonly #index: number;

  constructor(block: Block, index: number) {
    this.#block = block;
    this.#index = index;
  }

  get minTimeMs(): number {
    return this.#block.index.chunkMinTimeMs(this.#index);
  }

  get maxTimeMs(): number {
    return this.#block.index.chunkMaxTimeMs(this.#index);
  }

  decodeInto(untilMs: number, out: DecodedSamples): void {
    this.#block.decodeChunk(this.#block.index.chunkReference(this.#index), untilMs, out);
  }
}

/** A querier over one block. */
export class BlockQuerier implements Querier {
  readonly #block: Block;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly #release: () => void;
  #closed = false;

  constructor(block: Block, minTimeMs: number, maxTimeMs: number, release: () => void) {
    this.#block = block;
    this.minTimeMs = minTimeMs;
    this.maxTimeMs = maxTimeMs;
    this.#release = release;
  }

  /** Series with chunks in range, in label order (the index stores them sorted). */
  select(matchers: readonly Matcher[]): TsdbSeries[] {
    this.#checkOpen();
    checkSelectMatchers(matchers);
    const index = this.#block.index;
    const result: TsdbSeries[] = [];
    for (const ordinal of index.select(matchers)) {
      const chunks = this.#block.chunksOf(ordinal, this.minTimeMs, this.maxTimeMs);
      if (chunks.length > 0) result.push(new ChunkSeries(index.labels(ordinal), chunks, this.minTimeMs, this.maxTimeMs));
    }
    return result;
  }

  labelNames(matchers?: readonly Matcher[]): string[] {
    this.#checkOpen();
    const index = this.#block.index;
    if (matchers === undefined || matchers.length === 0) return index.labelNames();
    const names = new Set<string>();
    for (const ordinal of index.select(matchers)) {
      for (const label of index.labels(ordinal)) names.add(label.name);
    }
    return [...names].sort(compareStrings);
  }

  labelValues(name: string, matchers?: readonly Matcher[]): string[] {
    this.#checkOpen();
    const index = this.#block.index;
    if (matchers === undefined || matchers.length === 0) return index.labelValues(name);
    const values = new Set<string>();
    for (const ordinal of index.select(matchers)) {
      const value = index.labels(ordinal).get(name);
      if (value !== '') values.add(value);
    }
    return [...values].sort(compareStrings);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
  }

  #checkOpen(): void {
    if (this.#closed) throw new TsdbError('TSDB_CLOSED', 'This querier was closed.');
  }
}

/** Total bytes of the files under a directory. */
export async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}
