/**
 * Taking a block range out of the head: as Prometheus does, the head is compactable once it spans more
 * than 1.5 block ranges, and then its oldest range [min time, next boundary) becomes a block. Chunks never
 * cross a boundary, so the range's chunks are copied as they are, without re-encoding.
 */
import type { BlockSeriesInput } from './block/index.ts';
import { assert } from './errors.ts';
import type { Head } from './head.ts';
import { rangeStartMs } from './head-series.ts';
import { Labels } from './labels.ts';
import { StoredChunk } from './series-iterator.ts';

/** The range the head would write next: [minTimeMs, maxTimeMs). */
export interface HeadRange {
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
}

/** Whether the head spans more than 1.5 block ranges (Prometheus's `compactable`). */
export function isHeadCompactable(head: Head): boolean {
  if (head.isEmpty()) return false;
  return head.maxTimeMs - head.minTimeMs > (head.blockRangeMs / 2) * 3;
}

/** The oldest block range of the head. */
export function nextHeadRange(head: Head): HeadRange {
  assert(!head.isEmpty(), 'an empty head has no range to write');
  const minTimeMs = head.minTimeMs;
  return { minTimeMs, maxTimeMs: rangeStartMs(minTimeMs, head.blockRangeMs) + head.blockRangeMs };
}

/**
 * Copies the chunks of `range` out of the head, series sorted by labels. Synchronous, so the snapshot is
 * consistent; the open chunk of a range that ended is copied as it stands (no appender may reach it any
 * more: the head's minimum valid time is raised to the range end first).
 */
export function snapshotHeadRange(head: Head, range: HeadRange): BlockSeriesInput[] {
  head.setMinValidTime(range.maxTimeMs);
  const series: BlockSeriesInput[] = [];
  for (const headSeries of head.allSeries()) {
    const chunks: StoredChunk[] = [];
    for (const chunk of headSeries.closedChunks) {
      if (chunk.maxTimeMs < range.maxTimeMs) chunks.push(chunk);
    }
    const open = headSeries.openChunk;
    if (open !== undefined && open.lastTimestampMs! < range.maxTimeMs) {
      chunks.push(new StoredChunk(open.bytes(), open.firstTimestampMs!, open.lastTimestampMs!, open.sampleCount));
    }
    if (chunks.length === 0) continue;
    assert(chunks[0]!.minTimeMs >= range.minTimeMs, 'the head holds nothing before its minimum time');
    series.push({ labels: headSeries.labels, chunks });
  }
  return series.sort((left, right) => Labels.compare(left.labels, right.labels));
}
