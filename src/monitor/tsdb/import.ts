/**
 * Backfilling from an OpenMetrics file, like `promtool tsdb create-blocks-from openmetrics`: samples are
 * written straight into blocks aligned to the block range (2h by default), never through the WAL.
 *
 * The file is streamed, never held whole. A first pass checks the whole file (syntax, `# EOF`, a
 * timestamp on every sample), counts samples per block range and, while they fit `samplesPerPassMax`,
 * builds them in memory (compressed, in chunks), so a file of up to that many samples is read once. A
 * larger file is read again, once per group of block ranges that fits the bound, so memory stays bounded
 * however large the file is (promtool likewise re-reads the file per block).
 *
 * Rules: every sample needs a timestamp (OpenMetrics timestamps are seconds); a series' samples must come
 * in increasing time order within what one pass builds (an exact repeat is ignored); new blocks may not overlap blocks already in the
 * directory, nor reach the time range of the head's WAL (the database would drop those WAL samples when it
 * next opens) — keel refuses overlap rather than merging it, since it does not implement vertical compaction.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { LineCursor } from '../scrape/parse-cursor.ts';
import { ParseError } from '../scrape/parse-errors.ts';
import { OpenMetricsLineParser } from '../scrape/parse-openmetrics.ts';
import { SampleCollector } from '../scrape/parse-sample.ts';
import type { ParsedSample } from '../scrape/parse-sample.ts';
import { lineLengthCharactersMax } from '../scrape/parse.ts';
import { readBlockMeta, ulidPattern, writeBlock } from './block/index.ts';
import type { BlockMeta, BlockSeriesInput } from './block/index.ts';
import { defaultTsdbOptions } from './db-options.ts';
import { assert, TsdbError } from './errors.ts';
import { Head } from './head.ts';
import { rangeStartMs } from './head-series.ts';
import { replayWal } from './head-wal.ts';
import { Labels } from './labels.ts';
import { acquireDirectoryLock } from './lock.ts';
import type { TsdbLogger } from './logger.ts';
import { stderrLogger } from './logger.ts';
import { StoredChunk } from './series-iterator.ts';
import { floatHighBits, floatLowBits } from './value.ts';

/**
 * Samples held in memory during one pass, by default. They are held compressed, about 2 bytes each with
 * their chunk objects: a day of 10k series (57.6M samples) imports in one pass in well under 1 GiB.
 */
export const importSamplesPerPassMax = 60_000_000;
/** Bytes read from the file at a time. */
const readChunkBytes = 1024 * 1024;

export interface ImportOptions {
  /** Block range the blocks are aligned to. Default 2h. */
  readonly blockRangeMs?: number;
  /** Bound on samples built in memory per pass (default {@link importSamplesPerPassMax}). */
  readonly samplesPerPassMax?: number;
  /** Longest accepted line, in UTF-16 code units. */
  readonly lineLengthCharactersMax?: number;
  readonly logger?: TsdbLogger;
}

export interface ImportResult {
  /** The blocks written, oldest first. */
  readonly blocks: readonly BlockMeta[];
  readonly samples: number;
  readonly series: number;
  /** Undefined when the file holds no samples. */
  readonly minTimeMs: number | undefined;
  readonly maxTimeMs: number | undefined;
  /** Times the file was read. */
  readonly passes: number;
}

/** One block range's samples, from the first pass. */
interface RangeCount {
  readonly startMs: number;
  samples: number;
  minTimeMs: number;
  maxTimeMs: number;
}

/**
 * Imports an OpenMetrics file into blocks under `directory` (a TSDB directory, which must not be open).
 * Errors are `TsdbError`s: `TSDB_IMPORT_INVALID` with the line and column for a bad file,
 * `TSDB_IMPORT_OVERLAP` naming the block or WAL range in the way, `TSDB_LOCKED` if a database holds it.
 *
 * @example
 * const result = await importOpenMetrics('backfill.om', '/var/lib/keel/monitor');
 * console.log(`${result.samples} samples in ${result.blocks.length} blocks`);
 */
export async function importOpenMetrics(filePath: string, directory: string, options: ImportOptions = {}): Promise<ImportResult> {
  const blockRangeMs = options.blockRangeMs ?? defaultTsdbOptions.blockRangeMs;
  const samplesPerPassMax = options.samplesPerPassMax ?? importSamplesPerPassMax;
  if (!Number.isSafeInteger(blockRangeMs) || blockRangeMs < 1) throw new TsdbError('TSDB_INVALID_OPTIONS', `Import block range ${blockRangeMs} is not a positive integer.`);
  if (!Number.isSafeInteger(samplesPerPassMax) || samplesPerPassMax < 1) throw new TsdbError('TSDB_INVALID_OPTIONS', `Import samplesPerPassMax ${samplesPerPassMax} is not a positive integer.`);
  const logger = options.logger ?? stderrLogger;
  const lineMax = options.lineLengthCharactersMax ?? lineLengthCharactersMax;
  await mkdir(directory, { recursive: true });
  const lock = await acquireDirectoryLock(directory, logger);
  try {
    const { ranges, head } = await firstPass(filePath, blockRangeMs, lineMax, samplesPerPassMax);
    if (ranges.length === 0) return { blocks: [], samples: 0, series: 0, minTimeMs: undefined, maxTimeMs: undefined, passes: 1 };
    await checkNoOverlap(directory, ranges, blockRangeMs, logger);
    const blocks: BlockMeta[] = [];
    const seriesSeen = new Set<string>();
    let passes = 1;
    if (head !== undefined) {
      blocks.push(...(await writeRanges(head, directory, ranges, seriesSeen)));
    } else {
      for (const group of groupRanges(ranges, samplesPerPassMax)) {
        passes += 1;
        blocks.push(...(await buildRanges(filePath, directory, group, blockRangeMs, lineMax, seriesSeen)));
      }
    }
    const samples = ranges.reduce((total, range) => total + range.samples, 0);
    return { blocks, samples, series: seriesSeen.size, minTimeMs: ranges[0]!.minTimeMs, maxTimeMs: ranges.at(-1)!.maxTimeMs, passes };
  } finally {
    await lock.release();
  }
}

/**
 * First pass: checks the file and counts samples per block range. While the samples fit one pass it also
 * builds them in a head, so a file within `samplesPerPassMax` is read once; past the bound the head is
 * dropped and later passes rebuild the ranges group by group.
 */
async function firstPass(filePath: string, blockRangeMs: number, lineMax: number, samplesPerPassMax: number): Promise<{ ranges: RangeCount[]; head: Head | undefined }> {
  const byStart = new Map<number, RangeCount>();
  let head: Head | undefined = new Head({ blockRangeMs, appendWindow: false });
  let samples = 0;
  await parseFile(filePath, lineMax, (sample, timestampMs, lineNumber) => {
    const startMs = rangeStartMs(timestampMs, blockRangeMs);
    let range = byStart.get(startMs);
    if (range === undefined) byStart.set(startMs, (range = { startMs, samples: 0, minTimeMs: timestampMs, maxTimeMs: timestampMs }));
    range.samples += 1;
    if (timestampMs < range.minTimeMs) range.minTimeMs = timestampMs;
    if (timestampMs > range.maxTimeMs) range.maxTimeMs = timestampMs;
    samples += 1;
    if (samples > samplesPerPassMax) head = undefined;
    if (head !== undefined) appendImported(head, filePath, sample, timestampMs, lineNumber);
  });
  return { ranges: [...byStart.values()].sort((left, right) => left.startMs - right.startMs), head };
}

/** Consecutive ranges whose samples fit one pass (a range larger than the bound gets a pass of its own). */
function groupRanges(ranges: readonly RangeCount[], samplesPerPassMax: number): RangeCount[][] {
  const groups: RangeCount[][] = [];
  let group: RangeCount[] = [];
  let samples = 0;
  for (const range of ranges) {
    if (group.length > 0 && samples + range.samples > samplesPerPassMax) {
      groups.push(group);
      group = [];
      samples = 0;
    }
    group.push(range);
    samples += range.samples;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** Refuses ranges overlapping existing blocks, or reaching the time range of the head's WAL. */
async function checkNoOverlap(directory: string, ranges: readonly RangeCount[], blockRangeMs: number, logger: TsdbLogger): Promise<void> {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (!entry.isDirectory() || !ulidPattern.test(entry.name)) continue;
    const meta = await readBlockMeta(join(directory, entry.name), entry.name);
    for (const range of ranges) {
      if (range.minTimeMs < meta.maxTime && range.maxTimeMs + 1 > meta.minTime) {
        throw new TsdbError('TSDB_IMPORT_OVERLAP',
          `Imported samples in [${range.minTimeMs}, ${range.maxTimeMs}] overlap block ${entry.name} [${meta.minTime}, ${meta.maxTime}); keel does not merge overlapping blocks.`);
      }
    }
  }
  const head = new Head({ blockRangeMs, appendWindow: false });
  await replayWal(head, join(directory, 'wal'), logger);
  const newest = ranges.at(-1)!;
  if (!head.isEmpty() && newest.maxTimeMs >= head.minTimeMs) {
    throw new TsdbError('TSDB_IMPORT_OVERLAP',
      `Imported samples reach ${newest.maxTimeMs}, inside the time range of the head's WAL (from ${head.minTimeMs}); the database would drop those WAL samples. Import only older data.`);
  }
}

/** One later pass: builds the samples of `ranges` in a head and writes one block per range. */
async function buildRanges(filePath: string, directory: string, ranges: readonly RangeCount[], blockRangeMs: number, lineMax: number, seriesSeen: Set<string>): Promise<BlockMeta[]> {
  const wanted = new Set(ranges.map((range) => range.startMs));
  const head = new Head({ blockRangeMs, appendWindow: false });
  await parseFile(filePath, lineMax, (sample, timestampMs, lineNumber) => {
    if (wanted.has(rangeStartMs(timestampMs, blockRangeMs))) appendImported(head, filePath, sample, timestampMs, lineNumber);
  });
  return writeRanges(head, directory, ranges, seriesSeen);
}

/** Appends one parsed sample, refusing one older than (or at the time of, with another value) its series' last. */
function appendImported(head: Head, filePath: string, sample: ParsedSample, timestampMs: number, lineNumber: number): void {
  const series = head.getOrCreate(sample.labels, false);
  const outcome = head.appendUncounted(series, timestampMs, floatHighBits(sample.value), floatLowBits(sample.value));
  if (outcome === 'ok') return;
  const problem = outcome === 'out_of_order' ? `is older than the series' previous sample at ${series.lastTimestampMs}` : `repeats the timestamp of the series' previous sample with another value`;
  throw new TsdbError('TSDB_IMPORT_INVALID', `Import of ${filePath} failed: line ${lineNumber}: the sample of ${sample.labels.toString()} at ${timestampMs} ${problem}.`);
}

/** Writes one block per range from the head. */
async function writeRanges(head: Head, directory: string, ranges: readonly RangeCount[], seriesSeen: Set<string>): Promise<BlockMeta[]> {
  const blocks: BlockMeta[] = [];
  for (const range of ranges) {
    assert(range.minTimeMs >= range.startMs && range.maxTimeMs < range.startMs + head.blockRangeMs, 'a range lies inside one block range');
    const series = seriesInRange(head, range.startMs, range.startMs + head.blockRangeMs);
    for (const entry of series) seriesSeen.add(entry.labels.toString());
    const meta = await writeBlock(directory, series, { minTimeMs: range.minTimeMs, maxTimeMs: range.maxTimeMs + 1, level: 1 });
    if (meta !== undefined) blocks.push(meta);
  }
  return blocks;
}

/** The head's chunks inside [startMs, endMs), series sorted by labels. */
function seriesInRange(head: Head, startMs: number, endMs: number): BlockSeriesInput[] {
  const result: BlockSeriesInput[] = [];
  for (const series of head.allSeries()) {
    const chunks: StoredChunk[] = series.closedChunks.filter((chunk) => chunk.minTimeMs >= startMs && chunk.maxTimeMs < endMs);
    const open = series.openChunk;
    if (open !== undefined && open.firstTimestampMs! >= startMs && open.lastTimestampMs! < endMs) {
      chunks.push(new StoredChunk(open.bytes(), open.firstTimestampMs!, open.lastTimestampMs!, open.sampleCount));
    }
    if (chunks.length > 0) result.push({ labels: series.labels, chunks });
  }
  return result.sort((left, right) => Labels.compare(left.labels, right.labels));
}

type ImportedSampleVisitor = (sample: ParsedSample, timestampMs: number, lineNumber: number) => void;

/**
 * Streams the file through the OpenMetrics line parser, calling `visit` per sample with its line number.
 * Parse errors become `TSDB_IMPORT_INVALID` with line and column.
 */
async function parseFile(filePath: string, lineMax: number, visit: ImportedSampleVisitor): Promise<void> {
  const parser = new OpenMetricsLineParser();
  const collector = new SampleCollector('openmetrics', Number.MAX_SAFE_INTEGER, false);
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let lineNumber = 0;
  const parseLines = (text: string, final: boolean): string => {
    const cursor = new LineCursor(text);
    let lineStart = 0;
    while (lineStart < text.length) {
      const newline = text.indexOf('\n', lineStart);
      if (newline < 0 && !final) break;
      const lineEnd = newline < 0 ? text.length : newline;
      lineNumber += 1;
      if (lineEnd - lineStart > lineMax) throw new ParseError('SCRAPE_LINE_TOO_LONG', `line is longer than ${lineMax} characters`, lineNumber, lineMax + 1);
      if (newline < 0 && parser.eofLineNumber === undefined && !text.startsWith('# EOF', lineStart)) {
        throw new ParseError('SCRAPE_MISSING_EOF', 'OpenMetrics lines end with a line feed, and the exposition with # EOF', lineNumber, lineEnd - lineStart + 1);
      }
      cursor.reset(lineStart, lineEnd, lineNumber);
      parser.parseLine(cursor, collector);
      if (collector.samples.length > 0) deliver(filePath, collector.samples, lineNumber, visit);
      lineStart = lineEnd + 1;
    }
    const rest = text.slice(lineStart);
    if (rest.length > lineMax) throw new ParseError('SCRAPE_LINE_TOO_LONG', `line is longer than ${lineMax} characters`, lineNumber + 1, lineMax + 1);
    return rest;
  };
  try {
    for await (const chunk of createReadStream(filePath, { highWaterMark: readChunkBytes })) {
      carry = parseLines(carry + decoder.write(chunk as Buffer), false);
    }
    parseLines(carry + decoder.end(), true);
    if (parser.eofLineNumber === undefined) throw new ParseError('SCRAPE_MISSING_EOF', 'OpenMetrics exposition does not end with # EOF', lineNumber + 1, 1);
  } catch (error) {
    if (error instanceof ParseError) throw new TsdbError('TSDB_IMPORT_INVALID', `Import of ${filePath} failed: ${error.message}.`, { cause: error });
    throw error;
  }
}

function deliver(filePath: string, samples: ParsedSample[], lineNumber: number, visit: ImportedSampleVisitor): void {
  for (const sample of samples) {
    if (sample.timestampMs === undefined) {
      throw new TsdbError('TSDB_IMPORT_INVALID', `Import of ${filePath} failed: line ${lineNumber}: the sample of ${sample.labels.toString()} has no timestamp; an import needs one on every sample.`);
    }
    visit(sample, sample.timestampMs, lineNumber);
  }
  samples.length = 0;
}
