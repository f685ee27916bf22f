/**
 * Persistent blocks: immutable directories holding chunk segments, an index and meta.json, with a reader
 * answering the Querier contract, a writer, and leveled compaction. The format is in docs/format/tsdb.md.
 *
 * @example
 * import { Block, writeBlock } from './block/index.ts';
 */
export { Block, BlockQuerier, blockIndexBytesMax, directoryBytes } from './block.ts';
export { chunkCacheBytes, chunkCacheBytesDefault, chunkSegmentBytesMax, ChunkSegmentReader, ChunkSegmentWriter, setChunkCacheBytes } from './chunks.ts';
export { blockRangeMsMax, blockRanges, compactBlocks, hasOverlap, planCompaction } from './compact.ts';
export type { PlannedBlock } from './compact.ts';
export { BlockIndex, encodeIndex } from './index-file.ts';
export type { ChunkMeta, IndexSeriesEntry } from './index-file.ts';
export { blockMetaVersion, newUlid, readBlockMeta, ulidPattern } from './meta.ts';
export type { BlockMeta, BlockParent } from './meta.ts';
export { creationSuffix, deletionSuffix, writeBlock, writeDurably } from './writer.ts';
export type { BlockChunkInput, BlockSeriesInput, BlockWriteOptions } from './writer.ts';
