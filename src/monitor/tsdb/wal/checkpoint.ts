/**
 * WAL checkpoints, as in Prometheus: once the head has written a time range to a block, the segments up to
 * some index are condensed into `checkpoint.<index>`, which keeps only the series still in the head and the
 * samples at or after the head's new minimum time. The segments it stands for are then deleted.
 *
 * A checkpoint is written to `checkpoint.<index>.tmp`, fsynced, and renamed, so a crash leaves either the
 * old state or the complete new one; replay ignores (and open removes) `.tmp` directories.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ByteWriter } from '../encoding.ts';
import { assert } from '../errors.ts';
import { scanSegment } from './reader.ts';
import { readSamplesRecord, readSeriesRecord, RecordType, writeSamplesRecords, writeSeriesRecords } from './record.ts';
import type { SeriesEntry } from './record.ts';
import { checkpointName, listCheckpoints, listSegments, segmentHeader, segmentHeaderBytes, segmentName } from './segment.ts';
import type { SegmentFile } from './segment.ts';
import { syncDirectory } from './writer.ts';

/** The encoder's buffer is written out once it passes this size. */
const checkpointFlushBytes = 1024 * 1024;
/** Samples gathered before they are encoded into records. */
const checkpointSampleBatchMax = 65_536;

export interface CheckpointFilter {
  /** Whether the head still holds the series. */
  keepSeries(seriesId: number): boolean;
  /** Samples before this time are dropped (they are in a block now). */
  readonly minTimeMs: number;
}

export interface CheckpointResult {
  readonly index: number;
  readonly path: string;
  readonly seriesKept: number;
  readonly samplesKept: number;
  readonly bytes: number;
}

/**
 * Condenses the previous checkpoint and the segments up to `throughSegment` into `checkpoint.<throughSegment>`,
 * then deletes older checkpoints. The caller deletes the segments afterwards.
 */
export async function writeCheckpoint(walDirectory: string, throughSegment: number, filter: CheckpointFilter, segmentBytesMax: number): Promise<CheckpointResult> {
  const previous = (await listCheckpoints(walDirectory)).filter((checkpoint) => checkpoint.index <= throughSegment).pop();
  const inputs: SegmentFile[] = previous === undefined ? [] : await listSegments(previous.path);
  const firstSegment = previous === undefined ? -1 : previous.index;
  inputs.push(...(await listSegments(walDirectory)).filter((segment) => segment.index > firstSegment && segment.index <= throughSegment));
  const finalPath = join(walDirectory, checkpointName(throughSegment));
  const temporaryPath = `${finalPath}.tmp`;
  await rm(temporaryPath, { recursive: true, force: true });
  await mkdir(temporaryPath);
  const output = new CheckpointOutput(temporaryPath, segmentBytesMax);
  try {
    for (const input of inputs) await condense(input, filter, output);
    await output.finish();
  } catch (error) {
    await output.abandon();
    await rm(temporaryPath, { recursive: true, force: true });
    throw error;
  }
  await syncDirectory(temporaryPath);
  await rm(finalPath, { recursive: true, force: true });
  await rename(temporaryPath, finalPath);
  await syncDirectory(walDirectory);
  for (const old of await listCheckpoints(walDirectory)) {
    if (old.index < throughSegment) await rm(old.path, { recursive: true, force: true });
  }
  return { index: throughSegment, path: finalPath, seriesKept: output.seriesKept, samplesKept: output.samplesKept, bytes: output.bytesWritten };
}

/** Copies the kept records of one input file into the output. Inputs are complete files: no torn tail. */
async function condense(input: SegmentFile, filter: CheckpointFilter, output: CheckpointOutput): Promise<void> {
  const bytes = await readFile(input.path);
  scanSegment(bytes, input.path, false, (type, payload) => {
    if (type === RecordType.Series) {
      output.addSeries(readSeriesRecord(payload).filter((entry) => filter.keepSeries(entry.id)));
      return;
    }
    readSamplesRecord(payload, (seriesId, timestampMs, valueHighBits, valueLowBits) => {
      if (timestampMs >= filter.minTimeMs && filter.keepSeries(seriesId)) output.addSample(seriesId, timestampMs, valueHighBits, valueLowBits);
    });
  });
  await output.flushIfFull();
}

/** Encodes kept records and writes them into the checkpoint's segments. */
class CheckpointOutput {
  readonly #directory: string;
  readonly #segmentBytesMax: number;
  readonly #writer = new ByteWriter(checkpointFlushBytes * 2);
  readonly #seenSeries = new Set<number>();
  readonly #seriesIds: number[] = [];
  readonly #timestampsMs: number[] = [];
  readonly #valueHighBits: number[] = [];
  readonly #valueLowBits: number[] = [];
  #handle: FileHandle | undefined;
  #segmentIndex = -1;
  #segmentBytes = 0;
  seriesKept = 0;
  samplesKept = 0;
  bytesWritten = 0;

  constructor(directory: string, segmentBytesMax: number) {
    this.#directory = directory;
    this.#segmentBytesMax = segmentBytesMax;
  }

  addSeries(entries: readonly SeriesEntry[]): void {
    // Samples gathered so far may name earlier series only; encode them first to keep the order.
    this.#encodeSamples();
    const fresh = entries.filter((entry) => !this.#seenSeries.has(entry.id));
    for (const entry of fresh) this.#seenSeries.add(entry.id);
    if (fresh.length > 0) writeSeriesRecords(this.#writer, fresh);
    this.seriesKept += fresh.length;
  }

  addSample(seriesId: number, timestampMs: number, valueHighBits: number, valueLowBits: number): void {
    this.#seriesIds.push(seriesId);
    this.#timestampsMs.push(timestampMs);
    this.#valueHighBits.push(valueHighBits);
    this.#valueLowBits.push(valueLowBits);
    this.samplesKept += 1;
    if (this.#seriesIds.length >= checkpointSampleBatchMax) this.#encodeSamples();
  }

  async flushIfFull(): Promise<void> {
    this.#encodeSamples();
    if (this.#writer.length >= checkpointFlushBytes) await this.#writeOut();
  }

  async finish(): Promise<void> {
    this.#encodeSamples();
    await this.#writeOut();
    if (this.#handle === undefined) await this.#nextSegment();
    await this.#closeSegment();
  }

  async abandon(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }

  #encodeSamples(): void {
    const count = this.#seriesIds.length;
    if (count === 0) return;
    const columns = { seriesIds: this.#seriesIds, timestampsMs: this.#timestampsMs, valueHighBits: this.#valueHighBits, valueLowBits: this.#valueLowBits };
    writeSamplesRecords(this.#writer, columns, 0, count);
    this.#seriesIds.length = 0;
    this.#timestampsMs.length = 0;
    this.#valueHighBits.length = 0;
    this.#valueLowBits.length = 0;
  }

  async #writeOut(): Promise<void> {
    if (this.#writer.length === 0) return;
    const full = this.#segmentBytes > segmentHeaderBytes && this.#segmentBytes + this.#writer.length > this.#segmentBytesMax;
    if (this.#handle === undefined || full) await this.#nextSegment();
    const bytes = this.#writer.view();
    const { bytesWritten } = await this.#handle!.write(bytes, 0, bytes.length, this.#segmentBytes);
    assert(bytesWritten === bytes.length, 'the whole checkpoint buffer was written');
    this.#segmentBytes += bytes.length;
    this.bytesWritten += bytes.length;
    this.#writer.reset();
  }

  async #nextSegment(): Promise<void> {
    await this.#closeSegment();
    this.#segmentIndex += 1;
    this.#handle = await open(join(this.#directory, segmentName(this.#segmentIndex)), 'wx');
    const header = segmentHeader();
    await this.#handle.write(header, 0, header.length, 0);
    this.#segmentBytes = header.length;
    this.bytesWritten += header.length;
  }

  async #closeSegment(): Promise<void> {
    if (this.#handle === undefined) return;
    await this.#handle.sync();
    await this.#handle.close();
    this.#handle = undefined;
  }
}
