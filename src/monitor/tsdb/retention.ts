/**
 * Which blocks retention deletes, as Prometheus decides: whole blocks, oldest first. By time, a block
 * goes when it ends more than the retention time before the newest block ends (the newest block always
 * stays). By size, blocks are counted from the newest, starting from the WAL's size; the first block that
 * takes the total past the limit goes, with every older one.
 */
import { assert } from './errors.ts';

export interface RetainedBlock {
  readonly minTime: number;
  readonly maxTime: number;
  readonly sizeBytes: number;
}

/**
 * The blocks to delete. `blocks` are sorted by `minTime`, oldest first.
 *
 * @example
 * blocksBeyondRetention(blocks, { retentionTimeMs: 15 * day, retentionBytes: 0, walBytes: 0 });
 */
export function blocksBeyondRetention<T extends RetainedBlock>(
  blocks: readonly T[],
  limits: { readonly retentionTimeMs: number; readonly retentionBytes: number; readonly walBytes: number },
): T[] {
  for (let index = 1; index < blocks.length; index += 1) assert(blocks[index - 1]!.minTime <= blocks[index]!.minTime, 'blocks are sorted by start');
  const doomed = new Set<T>();
  const newestFirst = [...blocks].reverse();
  if (limits.retentionTimeMs > 0 && newestFirst.length > 0) {
    const newestEnd = newestFirst[0]!.maxTime;
    newestFirst.forEach((block, index) => {
      if (index > 0 && newestEnd - block.maxTime > limits.retentionTimeMs) doomed.add(block);
    });
  }
  if (limits.retentionBytes > 0) {
    let total = limits.walBytes;
    let exceeded = false;
    for (const block of newestFirst) {
      total += block.sizeBytes;
      if (total > limits.retentionBytes) exceeded = true;
      if (exceeded) doomed.add(block);
    }
  }
  // Retention deletes from the old end only: anything older than a doomed block goes too.
  const oldestKept = blocks.findLastIndex((block) => doomed.has(block));
  return blocks.slice(0, oldestKept + 1);
}
