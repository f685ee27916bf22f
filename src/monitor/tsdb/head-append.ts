/**
 * The head's appender: it checks each sample as it arrives (so a scrape learns at once why a sample was
 * refused), holds the batch in pooled typed arrays, and on commit writes the batch's new series and its
 * samples to the WAL in one write, then applies them to the head. Nothing is visible before that.
 */
import type { Appender, AppendOutcome } from '../storage.ts';
import { ByteWriter } from './encoding.ts';
import { assert, TsdbError } from './errors.ts';
import type { Head } from './head.ts';
import type { HeadSeries } from './head-series.ts';
import type { Labels } from './labels.ts';
import { floatHighBits, floatLowBits, staleMarkerHighBits, staleMarkerLowBits } from './value.ts';
import { writeSamplesRecords, writeSeriesRecords } from './wal/index.ts';
import type { SeriesEntry } from './wal/index.ts';

/** Where committed batches are logged before they are applied (the WAL writer, or nothing for imports). */
export interface HeadLog {
  write(bytes: Uint8Array): Promise<void>;
}

/** Batch buffers kept for reuse, so a steady scrape loop allocates no sample arrays. */
const pooledBatchesMax = 8;
/** Larger batch buffers are dropped after use rather than pooled. */
const pooledBatchSamplesMax = 1 << 18;
const initialBatchSamples = 256;
/** V8 loads Prometheus's signalling-NaN stale marker as this quiet NaN when it passes through some containers. */
const quietedStaleMarkerHighBits = 0x7ff8_0000;

/** Column buffers of one batch. */
class BatchBuffers {
  series: (HeadSeries | undefined)[];
  /** The series' IDs, for the WAL record. */
  seriesIds: Float64Array;
  timestampsMs: Float64Array;
  valueHighBits: Uint32Array;
  valueLowBits: Uint32Array;

  constructor(capacity: number) {
    this.series = new Array<HeadSeries | undefined>(capacity).fill(undefined);
    this.seriesIds = new Float64Array(capacity);
    this.timestampsMs = new Float64Array(capacity);
    this.valueHighBits = new Uint32Array(capacity);
    this.valueLowBits = new Uint32Array(capacity);
  }

  get capacity(): number {
    return this.timestampsMs.length;
  }

  grow(capacity: number, used: number): void {
    assert(capacity > this.capacity, 'a batch grows');
    const series = new Array<HeadSeries | undefined>(capacity).fill(undefined);
    for (let index = 0; index < used; index += 1) series[index] = this.series[index];
    this.series = series;
    this.seriesIds = copyInto(new Float64Array(capacity), this.seriesIds, used);
    this.timestampsMs = copyInto(new Float64Array(capacity), this.timestampsMs, used);
    this.valueHighBits = copyInto(new Uint32Array(capacity), this.valueHighBits, used);
    this.valueLowBits = copyInto(new Uint32Array(capacity), this.valueLowBits, used);
  }
}

const batchPool: BatchBuffers[] = [];
/** WAL encoders kept for reuse (each is free again once its commit's write resolved). */
const encoderPool: ByteWriter[] = [];
const pooledEncodersMax = 8;
/** Larger encoders are dropped after use rather than pooled. */
const pooledEncoderBytesMax = 16 * 1024 * 1024;
/** Marks batches so a series knows whether the current batch already touched it. */
let nextBatchMark = 1;

/**
 * An appender over the head. Single use: after `commit` or `rollback` it accepts nothing more.
 *
 * @example
 * const appender = db.appender();
 * const ref = appender.seriesRef(labels); // cache it across scrapes
 * appender.appendRef(ref, Date.now(), 1);
 * await appender.commit();
 */
export class HeadAppender implements Appender {
  readonly #head: Head;
  readonly #log: HeadLog | undefined;
  readonly #samplesMax: number;
  readonly #mark: number;
  #buffers: BatchBuffers | undefined;
  /** Invariant: samples [0, #count) of #buffers are the batch. */
  #count = 0;
  /** Series whose `pendingCommits` this batch raised. */
  readonly #touched: HeadSeries[] = [];
  #finished = false;

  constructor(head: Head, log: HeadLog | undefined, samplesMax: number) {
    assert(Number.isSafeInteger(samplesMax) && samplesMax > 0, 'the batch bound is a positive integer');
    this.#head = head;
    this.#log = log;
    this.#samplesMax = samplesMax;
    this.#mark = nextBatchMark;
    nextBatchMark = nextBatchMark >= 0x3fff_ffff ? 1 : nextBatchMark + 1;
  }

  /** Samples in the batch. */
  get sampleCount(): number {
    return this.#count;
  }

  append(labels: Labels, timestampMs: number, value: number): AppendOutcome {
    this.#checkOpen();
    if (labels.size === 0) throw new TsdbError('TSDB_INVALID_ARGUMENT', 'A sample needs a non-empty label set.');
    const outcome = this.#head.checkTimestamp(timestampMs);
    if (outcome !== 'ok') {
      this.#head.countRejected(outcome);
      return outcome;
    }
    return this.#add(this.#head.getOrCreate(labels), timestampMs, value);
  }

  /**
   * The head's reference for a label set, creating the series if needed. A reference stays valid while the
   * series holds samples in the head; a series that receives none is dropped at the next head compaction.
   */
  seriesRef(labels: Labels): number {
    this.#checkOpen();
    return this.#head.getOrCreate(labels).id;
  }

  /** Appends by reference (from {@link seriesRef}), skipping the label lookup. */
  appendRef(seriesRef: number, timestampMs: number, value: number): AppendOutcome {
    this.#checkOpen();
    const series = this.#head.getById(seriesRef);
    if (series === undefined) throw new TsdbError('TSDB_INVALID_ARGUMENT', `Series reference ${seriesRef} is unknown (the series was garbage-collected, or never existed).`);
    const outcome = this.#head.checkTimestamp(timestampMs);
    if (outcome !== 'ok') {
      this.#head.countRejected(outcome);
      return outcome;
    }
    return this.#add(series, timestampMs, value);
  }

  async commit(): Promise<void> {
    this.#checkOpen();
    this.#finished = true;
    try {
      if (this.#count > 0 && this.#log !== undefined) {
        const encoder = this.#encode();
        try {
          await this.#log.write(encoder.view());
        } finally {
          if (encoderPool.length < pooledEncodersMax && encoder.length <= pooledEncoderBytesMax) encoderPool.push(encoder);
        }
      }
      this.#apply();
    } finally {
      this.#release();
    }
  }

  rollback(): void {
    this.#checkOpen();
    this.#finished = true;
    this.#release();
  }

  #add(series: HeadSeries, timestampMs: number, value: number): AppendOutcome {
    let high = floatHighBits(value);
    const low = floatLowBits(value);
    if (high === quietedStaleMarkerHighBits && low === staleMarkerLowBits) high = staleMarkerHighBits;
    if (series.batchMark !== this.#mark) {
      if (timestampMs <= series.lastTimestampMs) return this.#refuseOrIgnore(series.appendable(timestampMs, high, low));
      series.batchMark = this.#mark;
      series.pendingCommits += 1;
      this.#touched.push(series);
    } else if (timestampMs <= series.batchTimestampMs) {
      if (timestampMs < series.batchTimestampMs) return this.#refuseOrIgnore('out_of_order');
      const same = high === series.batchValueHighBits && low === series.batchValueLowBits;
      return this.#refuseOrIgnore(same ? 'ok' : 'duplicate_sample');
    }
    series.batchTimestampMs = timestampMs;
    series.batchValueHighBits = high;
    series.batchValueLowBits = low;
    this.#push(series, timestampMs, high, low);
    return 'ok';
  }

  /** An exact repeat of the last sample is accepted and dropped; anything else is counted and refused. */
  #refuseOrIgnore(outcome: AppendOutcome): AppendOutcome {
    if (outcome !== 'ok') this.#head.countRejected(outcome);
    return outcome;
  }

  #push(series: HeadSeries, timestampMs: number, high: number, low: number): void {
    if (this.#count >= this.#samplesMax) {
      throw new TsdbError('TSDB_BATCH_TOO_LARGE', `An appender batch holds at most ${this.#samplesMax} samples (appenderSamplesMax); commit and start another.`);
    }
    let buffers = this.#buffers;
    if (buffers === undefined) buffers = this.#buffers = batchPool.pop() ?? new BatchBuffers(initialBatchSamples);
    if (this.#count === buffers.capacity) buffers.grow(Math.min(this.#samplesMax, buffers.capacity * 2), this.#count);
    const index = this.#count;
    buffers.series[index] = series;
    buffers.seriesIds[index] = series.id;
    buffers.timestampsMs[index] = timestampMs;
    buffers.valueHighBits[index] = high;
    buffers.valueLowBits[index] = low;
    this.#count = index + 1;
  }

  /** The batch's WAL records (series not yet logged, then the samples) in a pooled encoder. */
  #encode(): ByteWriter {
    const buffers = this.#buffers!;
    const fresh: SeriesEntry[] = [];
    for (const series of this.#touched) {
      if (series.loggedToWal) continue;
      series.loggedToWal = true;
      fresh.push(series);
    }
    const writer = encoderPool.pop() ?? new ByteWriter(64 + this.#count * 18 + fresh.length * 64);
    writer.reset();
    writeSeriesRecords(writer, fresh);
    writeSamplesRecords(writer, buffers, 0, this.#count);
    return writer;
  }

  #apply(): void {
    const buffers = this.#buffers;
    if (buffers === undefined) return;
    const head = this.#head;
    for (let index = 0; index < this.#count; index += 1) {
      head.appendCommitted(buffers.series[index]!, buffers.timestampsMs[index]!, buffers.valueHighBits[index]!, buffers.valueLowBits[index]!);
    }
  }

  #release(): void {
    for (const series of this.#touched) {
      series.pendingCommits -= 1;
      assert(series.pendingCommits >= 0, 'pending commits never go negative');
      if (series.batchMark === this.#mark) series.batchMark = 0;
    }
    this.#touched.length = 0;
    const buffers = this.#buffers;
    if (buffers !== undefined) {
      buffers.series.fill(undefined, 0, this.#count);
      if (batchPool.length < pooledBatchesMax && buffers.capacity <= pooledBatchSamplesMax) batchPool.push(buffers);
    }
    this.#buffers = undefined;
    this.#count = 0;
  }

  #checkOpen(): void {
    if (this.#finished) throw new TsdbError('TSDB_CLOSED', 'This appender was already committed or rolled back; take a new one.');
  }
}

function copyInto<T extends Float64Array | Uint32Array>(target: T, source: T, count: number): T {
  target.set(source.subarray(0, count));
  return target;
}
