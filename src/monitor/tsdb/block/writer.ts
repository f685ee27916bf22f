/**
 * Writes a block: chunk segments, then the index, then meta.json, all inside `<ulid>.tmp-for-creation`,
 * fsynced, then renamed to `<ulid>` and the parent directory fsynced. A crash leaves either no block or a
 * complete one; open removes leftover temporary directories.
 */
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../errors.ts';
import type { Labels } from '../labels.ts';
import { syncDirectory } from '../wal/index.ts';
import { ChunkSegmentWriter } from './chunks.ts';
import { encodeIndex } from './index-file.ts';
import type { ChunkMeta, IndexSeriesEntry } from './index-file.ts';
import { blockMetaVersion, formatBlockMeta, newUlid } from './meta.ts';
import type { BlockMeta, BlockParent } from './meta.ts';

/** The suffix of a block directory still being written. */
export const creationSuffix = '.tmp-for-creation';
/** The suffix of a block directory being deleted. */
export const deletionSuffix = '.tmp-for-deletion';

/** A chunk handed to the writer: its XOR bytes and inclusive time bounds. */
export interface BlockChunkInput {
  readonly bytes: Uint8Array;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly sampleCount: number;
}

/** One series for the writer. Series arrive sorted by labels; chunks in time order. */
export interface BlockSeriesInput {
  readonly labels: Labels;
  readonly chunks: readonly BlockChunkInput[];
}

export interface BlockWriteOptions {
  /** The block's time range: [minTimeMs, maxTimeMs), covering every chunk. */
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly level: number;
  /** Level-1 source blocks; a new level-1 block lists itself. */
  readonly sources?: readonly string[];
  readonly parents?: readonly BlockParent[];
}

/**
 * Writes the series as a new block under `parentDirectory`. Returns its meta, or undefined (and writes
 * nothing) when the series hold no samples, as Prometheus skips empty blocks.
 *
 * @example
 * const meta = await writeBlock(dir, sortedSeries, { minTimeMs: 0, maxTimeMs: 7_200_000, level: 1 });
 */
export async function writeBlock(parentDirectory: string, series: Iterable<BlockSeriesInput>, options: BlockWriteOptions): Promise<BlockMeta | undefined> {
  assert(options.maxTimeMs > options.minTimeMs, 'a block covers a non-empty range');
  const ulid = newUlid();
  const temporary = join(parentDirectory, `${ulid}${creationSuffix}`);
  await mkdir(temporary, { recursive: true });
  const chunks = await ChunkSegmentWriter.create(join(temporary, 'chunks'));
  try {
    const entries: IndexSeriesEntry[] = [];
    const stats = { numSamples: 0, numSeries: 0, numChunks: 0 };
    for (const input of series) {
      if (input.chunks.length === 0) continue;
      const metas: ChunkMeta[] = [];
      for (const chunk of input.chunks) {
        assert(chunk.minTimeMs >= options.minTimeMs && chunk.maxTimeMs < options.maxTimeMs, 'a chunk lies inside the block range');
        metas.push({ minTimeMs: chunk.minTimeMs, maxTimeMs: chunk.maxTimeMs, reference: chunks.add(chunk.bytes) });
        stats.numSamples += chunk.sampleCount;
      }
      entries.push({ labels: input.labels, chunks: metas });
      stats.numChunks += metas.length;
      await chunks.flushIfFull();
    }
    await chunks.finish();
    stats.numSeries = entries.length;
    if (stats.numSamples === 0) {
      await rm(temporary, { recursive: true, force: true });
      return undefined;
    }
    await writeDurably(join(temporary, 'index'), encodeIndex(entries));
    const meta: BlockMeta = {
      ulid,
      minTime: options.minTimeMs,
      maxTime: options.maxTimeMs,
      stats,
      compaction: {
        level: options.level,
        sources: options.sources ?? [ulid],
        ...(options.parents === undefined ? {} : { parents: options.parents }),
      },
      version: blockMetaVersion,
    };
    await writeDurably(join(temporary, 'meta.json'), formatBlockMeta(meta));
    await syncDirectory(join(temporary, 'chunks'));
    await syncDirectory(temporary);
    await rename(temporary, join(parentDirectory, ulid));
    await syncDirectory(parentDirectory);
    return meta;
  } catch (error) {
    await chunks.abandon();
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** Writes a file and fsyncs it. */
export async function writeDurably(path: string, content: Uint8Array | string): Promise<void> {
  await writeFile(path, content);
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
