/**
 * Leveled compaction, as Prometheus's LeveledCompactor plans it: block ranges grow by 3× from the head's
 * block range (2h, 6h, 18h, ...) up to the largest allowed (10% of the retention time, at most 31 days).
 * For each range from the second up, blocks are grouped by the aligned window they fall in; the first
 * group with more than one block that either fills its window or lies wholly before the newest block is
 * merged. The newest block is never a candidate, so a freshly cut block stays alone for a while (a window
 * for backups). Merging copies chunk bytes as they are: blocks never overlap, so a series' chunks from
 * consecutive blocks simply follow one another.
 */
import { assert } from '../errors.ts';
import { Labels } from '../labels.ts';
import type { Block } from './block.ts';
import type { BlockChunkInput, BlockSeriesInput } from './writer.ts';
import { writeBlock } from './writer.ts';
import type { BlockMeta } from './meta.ts';
import { compactionLevelMax } from './meta.ts';

/** Prometheus's cap on a block's range. */
export const blockRangeMsMax = 31 * 24 * 3600 * 1000;
/** Ranges beyond the first; Prometheus computes ten steps and then cuts at the maximum. */
const blockRangeStepsMax = 10;

/**
 * The compaction ranges: `blockRangeMs` times powers of 3, each at most `largestRangeMs`.
 *
 * @example
 * blockRanges(7_200_000, 36 * 3_600_000); // [2h, 6h, 18h] in milliseconds
 */
export function blockRanges(blockRangeMs: number, largestRangeMs: number): number[] {
  const ranges = [blockRangeMs];
  for (let step = 1; step < blockRangeStepsMax; step += 1) {
    const next = ranges[step - 1]! * 3;
    if (next > largestRangeMs) break;
    ranges.push(next);
  }
  return ranges;
}

/** The minimal view of a block the planner needs. */
export interface PlannedBlock {
  readonly minTime: number;
  readonly maxTime: number;
}

/**
 * Picks blocks to merge into one, or returns an empty list. `blocks` must be sorted by `minTime`.
 *
 * @example
 * planCompaction(metas, blockRanges(2 * hour, 36 * hour)); // e.g. the three 2h blocks of a 6h window
 */
export function planCompaction<T extends PlannedBlock>(blocks: readonly T[], ranges: readonly number[]): T[] {
  for (let index = 1; index < blocks.length; index += 1) assert(blocks[index - 1]!.minTime <= blocks[index]!.minTime, 'blocks are sorted by start');
  if (ranges.length < 2 || blocks.length < 2 || hasOverlap(blocks)) return [];
  // The newest block is left out: it was just cut from the head.
  const candidates = blocks.slice(0, -1);
  if (candidates.length < 2) return [];
  const highTimeMs = candidates[candidates.length - 1]!.minTime;
  for (const range of ranges.slice(1)) {
    for (const group of splitByRange(candidates, range)) {
      const spanMs = group[group.length - 1]!.maxTime - group[0]!.minTime;
      if (group.length > 1 && (spanMs === range || group[group.length - 1]!.maxTime <= highTimeMs)) return group;
    }
  }
  return [];
}

/** Groups blocks that lie wholly inside the same aligned window of `range`; larger blocks are skipped. */
function splitByRange<T extends PlannedBlock>(blocks: readonly T[], range: number): T[][] {
  const groups: T[][] = [];
  let position = 0;
  while (position < blocks.length) {
    const block = blocks[position]!;
    const windowStart = Math.floor(block.minTime / range) * range;
    const windowEnd = windowStart + range;
    if (block.maxTime > windowEnd) {
      position += 1;
      continue;
    }
    const group: T[] = [];
    while (position < blocks.length && blocks[position]!.minTime >= windowStart && blocks[position]!.maxTime <= windowEnd) {
      group.push(blocks[position]!);
      position += 1;
    }
    if (group.length > 0) groups.push(group);
  }
  return groups;
}

/** Whether any two blocks overlap in time (vertical compaction is not implemented: such blocks stay). */
export function hasOverlap(blocks: readonly PlannedBlock[]): boolean {
  for (let index = 1; index < blocks.length; index += 1) {
    if (blocks[index]!.minTime < blocks[index - 1]!.maxTime) return true;
  }
  return false;
}

/**
 * Merges `blocks` (sorted by time, not overlapping) into one new block under `parentDirectory`.
 *
 * @example
 * const meta = await compactBlocks(dir, [first, second, third]);
 */
export async function compactBlocks(parentDirectory: string, blocks: readonly Block[]): Promise<BlockMeta | undefined> {
  assert(blocks.length > 1, 'a compaction merges several blocks');
  assert(!hasOverlap(blocks.map((block) => block.meta)), 'compacted blocks do not overlap');
  const level = Math.min(compactionLevelMax, Math.max(...blocks.map((block) => block.meta.compaction.level)) + 1);
  const sources = [...new Set(blocks.flatMap((block) => block.meta.compaction.sources))].sort();
  return writeBlock(parentDirectory, mergedSeries(blocks), {
    minTimeMs: blocks[0]!.minTimeMs,
    maxTimeMs: blocks[blocks.length - 1]!.maxTimeMs,
    level,
    sources,
    parents: blocks.map((block) => ({ ulid: block.ulid, minTime: block.minTimeMs, maxTime: block.maxTimeMs })),
  });
}

/** The union of the blocks' series in label order; a series' chunks come from each block in time order. */
function* mergedSeries(blocks: readonly Block[]): Generator<BlockSeriesInput> {
  const positions = blocks.map(() => 0);
  const current = blocks.map((block, index) => (block.index.seriesCount > 0 ? block.index.series(positions[index]!) : undefined));
  while (true) {
    let smallest: Labels | undefined;
    for (const entry of current) {
      if (entry !== undefined && (smallest === undefined || Labels.compare(entry.labels, smallest) < 0)) smallest = entry.labels;
    }
    if (smallest === undefined) return;
    const chunks: BlockChunkInput[] = [];
    for (let index = 0; index < blocks.length; index += 1) {
      const entry = current[index];
      if (entry === undefined || !entry.labels.equals(smallest)) continue;
      const block = blocks[index]!;
      for (const meta of entry.chunks) chunks.push(block.storedChunk(meta));
      positions[index] = positions[index]! + 1;
      current[index] = positions[index]! < block.index.seriesCount ? block.index.series(positions[index]!) : undefined;
    }
    yield { labels: smallest, chunks };
  }
}
