/**
 * One series in the head block: its label set and its chunks. Chunks are cut at `chunkSamplesTarget`
 * samples and at block-range boundaries, so a block range always holds whole chunks and the head can hand
 * them to a block writer byte for byte.
 */
import type { AppendOutcome } from '../storage.ts';
import { chunkSamplesTarget, XorChunk } from './chunkenc/index.ts';
import { assert } from './errors.ts';
import type { Labels } from './labels.ts';
import { StoredChunk } from './series-iterator.ts';

const noClosedChunks: readonly StoredChunk[] = Object.freeze([]);

/** The start of the block range holding `timestampMs`. */
export function rangeStartMs(timestampMs: number, blockRangeMs: number): number {
  return Math.floor(timestampMs / blockRangeMs) * blockRangeMs;
}

/**
 * A head series.
 *
 * @example
 * const series = new HeadSeries(1, labels);
 * series.append(1_000, 0x3ff00000, 0, 7_200_000); // 'ok'
 */
export class HeadSeries {
  readonly id: number;
  /** Interned by the head's index. */
  readonly labels: Labels;
  /**
   * Full chunks. Invariant: time-ordered, non-overlapping, each inside one block range, all before
   * #openChunk. The array is replaced, never changed, so a querier holding it keeps a stable view.
   */
  #closedChunks: readonly StoredChunk[] = noClosedChunks;
  /** The chunk being appended to. Invariant: non-empty when defined. */
  #openChunk: XorChunk | undefined;
  /** The open chunk takes no sample at or after this time (the end of its block range). */
  #openChunkEndMs = 0;
  /** The last appended sample, for the out-of-order and duplicate checks; kept after truncation. */
  lastTimestampMs = -Infinity;
  lastValueHighBits = 0;
  lastValueLowBits = 0;
  /** Open appender batches holding samples for this series; garbage collection skips it while > 0. */
  pendingCommits = 0;
  /** The last appender batch that touched the series, and that batch's last sample for it. */
  batchMark = 0;
  batchTimestampMs = -Infinity;
  batchValueHighBits = 0;
  batchValueLowBits = 0;
  /** The last label set found equal to this series' labels, so a repeat lookup compares identity only. */
  lastQueriedLabels: Labels | undefined;
  /** Whether a WAL series record names this series (it is written with the first committed sample). */
  loggedToWal = false;

  constructor(id: number, labels: Labels) {
    assert(Number.isSafeInteger(id) && id > 0, 'series IDs are positive integers');
    assert(labels.size > 0, 'a series has labels');
    this.id = id;
    this.labels = labels;
  }

  get closedChunks(): readonly StoredChunk[] {
    return this.#closedChunks;
  }

  get openChunk(): XorChunk | undefined {
    return this.#openChunk;
  }

  /** Chunks held, the open one included. */
  get chunkCount(): number {
    return this.#closedChunks.length + (this.#openChunk === undefined ? 0 : 1);
  }

  /** Oldest sample held in a chunk, or undefined when the series holds none. */
  get minTimeMs(): number | undefined {
    return this.#closedChunks[0]?.minTimeMs ?? this.#openChunk?.firstTimestampMs;
  }

  /** What appending this sample would do, judged against the committed samples only. */
  appendable(timestampMs: number, valueHighBits: number, valueLowBits: number): AppendOutcome {
    if (timestampMs > this.lastTimestampMs) return 'ok';
    if (timestampMs < this.lastTimestampMs) return 'out_of_order';
    return valueHighBits === this.lastValueHighBits && valueLowBits === this.lastValueLowBits ? 'ok' : 'duplicate_sample';
  }

  /**
   * Appends a committed sample. Returns 'ok' (an exact repeat of the last sample is accepted and ignored, as
   * Prometheus does), 'out_of_order' or 'duplicate_sample'. `blockRangeMs` decides where chunks end.
   */
  append(timestampMs: number, valueHighBits: number, valueLowBits: number, blockRangeMs: number): AppendOutcome {
    if (timestampMs <= this.lastTimestampMs) return this.appendable(timestampMs, valueHighBits, valueLowBits);
    let chunk = this.#openChunk;
    if (chunk === undefined || chunk.sampleCount >= chunkSamplesTarget || timestampMs >= this.#openChunkEndMs) {
      chunk = this.#cutChunk(timestampMs, blockRangeMs);
    }
    chunk.appendBits(timestampMs, valueHighBits, valueLowBits);
    this.lastTimestampMs = timestampMs;
    this.lastValueHighBits = valueHighBits;
    this.lastValueLowBits = valueLowBits;
    return 'ok';
  }

  /**
   * Drops every chunk that ends before `minTimeMs`; returns how many were dropped. Chunks never straddle a
   * block-range boundary, so truncating at one drops exactly the chunks a block took.
   */
  truncateBefore(minTimeMs: number): number {
    let dropped = 0;
    const closed = this.#closedChunks;
    while (dropped < closed.length && closed[dropped]!.maxTimeMs < minTimeMs) dropped += 1;
    if (dropped > 0) this.#closedChunks = dropped === closed.length ? noClosedChunks : closed.slice(dropped);
    const open = this.#openChunk;
    if (open !== undefined && dropped === closed.length && open.lastTimestampMs! < minTimeMs) {
      this.#openChunk = undefined;
      dropped += 1;
    }
    assert(this.#closedChunks.every((chunk) => chunk.maxTimeMs >= minTimeMs), 'kept chunks end at or after the cut');
    return dropped;
  }

  #cutChunk(timestampMs: number, blockRangeMs: number): XorChunk {
    const previous = this.#openChunk;
    if (previous !== undefined) {
      const closed = new StoredChunk(previous.bytes(), previous.firstTimestampMs!, previous.lastTimestampMs!, previous.sampleCount);
      assert(closed.maxTimeMs < timestampMs, 'a new chunk starts after the previous one');
      this.#closedChunks = this.#closedChunks.length === 0 ? [closed] : [...this.#closedChunks, closed];
    }
    const chunk = new XorChunk();
    this.#openChunk = chunk;
    this.#openChunkEndMs = rangeStartMs(timestampMs, blockRangeMs) + blockRangeMs;
    assert(this.#openChunkEndMs > timestampMs, 'a chunk ends after its first sample');
    return chunk;
  }
}
