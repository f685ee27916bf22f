/**
 * Rebuilding the head from its WAL at start-up: the newest checkpoint, then every later segment in order.
 * The last segment's torn tail (a write cut short by a crash) is truncated away and reported; any other
 * defect stops start-up with `TSDB_WAL_CORRUPT` naming the file and offset.
 */
import { mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from './errors.ts';
import type { Head } from './head.ts';
import type { HeadSeries } from './head-series.ts';
import type { TsdbLogger } from './logger.ts';
import { checkContiguous, listCheckpoints, listSegments, readSamplesRecord, readSeriesRecord, RecordType, scanSegment } from './wal/index.ts';
import type { SegmentFile, SeriesEntry } from './wal/index.ts';
import { segmentHeader, segmentHeaderBytes } from './wal/segment.ts';

/** A torn tail cut off at start-up. */
export interface WalRepair {
  readonly path: string;
  readonly offset: number;
  readonly bytesDropped: number;
  readonly detail: string;
}

export interface ReplayResult {
  /** The index the writer's first segment takes. */
  readonly nextSegmentIndex: number;
  /** Sizes of the segments left on disk, by index. */
  readonly segmentBytes: Map<number, number>;
  readonly checkpointIndex: number | undefined;
  readonly seriesReplayed: number;
  readonly samplesReplayed: number;
  /** Samples before the head's minimum valid time (already in a block) or out of order. */
  readonly samplesSkipped: number;
  /** Samples naming a series no record defined (Prometheus counts these too). */
  readonly unknownSeriesReferences: number;
  readonly repairs: readonly WalRepair[];
}

/** Mutable counters shared by the record handlers. */
class ReplayState {
  readonly head: Head;
  /** Series records whose labels already existed under another ID map that ID here. */
  readonly aliases = new Map<number, HeadSeries>();
  seriesReplayed = 0;
  samplesReplayed = 0;
  samplesSkipped = 0;
  unknownSeriesReferences = 0;
  #lastId = 0;
  #lastSeries: HeadSeries | undefined;

  constructor(head: Head) {
    this.head = head;
  }

  series(id: number): HeadSeries | undefined {
    if (id === this.#lastId) return this.#lastSeries;
    const series = this.head.getById(id) ?? this.aliases.get(id);
    this.#lastId = id;
    this.#lastSeries = series;
    return series;
  }

  forgetCache(): void {
    this.#lastId = 0;
    this.#lastSeries = undefined;
  }
}

/**
 * Replays `walDirectory` into `head` (whose minimum valid time is already set from the blocks).
 *
 * @example
 * const result = await replayWal(head, join(dir, 'wal'), logger);
 * const writer = await WalWriter.create(join(dir, 'wal'), result.nextSegmentIndex, options, result.segmentBytes);
 */
export async function replayWal(head: Head, walDirectory: string, logger: TsdbLogger): Promise<ReplayResult> {
  await mkdir(walDirectory, { recursive: true });
  const checkpoint = await newestCheckpoint(walDirectory);
  const state = new ReplayState(head);
  if (checkpoint !== undefined) {
    const inner = await listSegments(checkpoint.path);
    checkContiguous(inner, checkpoint.path);
    for (const segment of inner) await replaySegment(segment, false, state);
  }
  const segments = await segmentsAfter(walDirectory, checkpoint?.index);
  const repairs: WalRepair[] = [];
  const segmentBytes = new Map<number, number>();
  for (let position = 0; position < segments.length; position += 1) {
    const segment = segments[position]!;
    const isLast = position === segments.length - 1;
    const { validBytes, repair } = await replaySegment(segment, isLast, state);
    if (repair !== undefined) {
      repairs.push(repair);
      logger.warn('repaired a torn tail of the TSDB WAL', { path: repair.path, offset: repair.offset, bytesDropped: repair.bytesDropped, detail: repair.detail });
    }
    segmentBytes.set(segment.index, validBytes);
  }
  const lastIndex = segments.at(-1)?.index ?? checkpoint?.index ?? 0;
  return {
    nextSegmentIndex: lastIndex + 1,
    segmentBytes,
    checkpointIndex: checkpoint?.index,
    seriesReplayed: state.seriesReplayed,
    samplesReplayed: state.samplesReplayed,
    samplesSkipped: state.samplesSkipped,
    unknownSeriesReferences: state.unknownSeriesReferences,
    repairs,
  };
}

/** The newest complete checkpoint; older ones and unfinished `.tmp` ones are removed. */
async function newestCheckpoint(walDirectory: string): Promise<SegmentFile | undefined> {
  for (const name of await readdir(walDirectory)) {
    if (name.startsWith('checkpoint.') && name.endsWith('.tmp')) await rm(join(walDirectory, name), { recursive: true, force: true });
  }
  const checkpoints = await listCheckpoints(walDirectory);
  const newest = checkpoints.pop();
  for (const old of checkpoints) await rm(old.path, { recursive: true, force: true });
  return newest;
}

/** Segments after the checkpoint, checked for gaps; segments the checkpoint covers are removed. */
async function segmentsAfter(walDirectory: string, checkpointIndex: number | undefined): Promise<SegmentFile[]> {
  const all = await listSegments(walDirectory);
  const covered = checkpointIndex === undefined ? [] : all.filter((segment) => segment.index <= checkpointIndex);
  for (const segment of covered) await rm(segment.path, { force: true });
  const segments = all.filter((segment) => checkpointIndex === undefined || segment.index > checkpointIndex);
  if (checkpointIndex !== undefined && segments.length > 0 && segments[0]!.index !== checkpointIndex + 1) {
    checkContiguous([{ index: checkpointIndex, path: '' }, ...segments], walDirectory);
  }
  checkContiguous(segments, walDirectory);
  return segments;
}

async function replaySegment(segment: SegmentFile, isLast: boolean, state: ReplayState): Promise<{ validBytes: number; repair: WalRepair | undefined }> {
  const bytes = await readFile(segment.path);
  const result = scanSegment(bytes, segment.path, isLast, (type, payload) => {
    if (type === RecordType.Series) replaySeries(readSeriesRecord(payload), state);
    else readSamplesRecord(payload, (seriesId, timestampMs, valueHighBits, valueLowBits) => replaySample(state, seriesId, timestampMs, valueHighBits, valueLowBits));
  });
  if (result.torn === undefined) return { validBytes: result.validBytes, repair: undefined };
  assert(isLast, 'only the last segment may have a torn tail');
  if (result.validBytes < segmentHeaderBytes) {
    await writeFile(segment.path, segmentHeader());
  } else {
    await truncate(segment.path, result.validBytes);
  }
  const validBytes = Math.max(result.validBytes, segmentHeaderBytes);
  const repair = { path: segment.path, offset: result.torn.offset, bytesDropped: bytes.length - result.validBytes, detail: result.torn.detail };
  return { validBytes, repair };
}

function replaySeries(entries: readonly SeriesEntry[], state: ReplayState): void {
  for (const entry of entries) {
    const series = state.head.createWithId(entry.id, entry.labels);
    series.loggedToWal = true;
    if (series.id !== entry.id) state.aliases.set(entry.id, series);
    state.seriesReplayed += 1;
  }
  state.forgetCache();
}

function replaySample(state: ReplayState, seriesId: number, timestampMs: number, valueHighBits: number, valueLowBits: number): void {
  const series = state.series(seriesId);
  if (series === undefined) {
    state.unknownSeriesReferences += 1;
    return;
  }
  if (timestampMs < state.head.minValidTimeMs || state.head.appendUncounted(series, timestampMs, valueHighBits, valueLowBits) !== 'ok') {
    state.samplesSkipped += 1;
    return;
  }
  state.samplesReplayed += 1;
}

