/**
 * The database's options, their defaults (Prometheus's where it has one) and their checks.
 */
import { blockRangeMsMax } from './block/index.ts';
import { TsdbError } from './errors.ts';
import { stderrLogger } from './logger.ts';
import type { TsdbLogger } from './logger.ts';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

export interface TsdbOptions {
  /** The head's block range: chunks never cross its multiples; head compaction writes blocks this long. Default 2h. */
  readonly blockRangeMs: number;
  /** Blocks ending this long before the newest block's end are deleted; 0 turns time retention off. Default 15d. */
  readonly retentionTimeMs: number;
  /** Oldest blocks are deleted while blocks plus WAL exceed this many bytes; 0 turns size retention off. */
  readonly retentionBytes: number;
  /** The largest compacted block; 0 derives it as Prometheus does: 10% of the retention time, at most 31 days. */
  readonly largestBlockRangeMs: number;
  /** A WAL segment is completed past this size. Default 128 MiB. */
  readonly walSegmentBytesMax: number;
  /** Fsync the WAL before each (group) commit resolves. Default false, as in Prometheus (see wal/writer.ts). */
  readonly walFsyncEveryCommit: boolean;
  /** Bytes of commits waiting behind an in-flight WAL write before further commits wait. Default 64 MiB. */
  readonly walQueuedBytesMax: number;
  /** Samples one appender batch may hold. Default 1,000,000. */
  readonly appenderSamplesMax: number;
  /** How often the background tick compacts and applies retention; 0 = never (call `compact()`). Default 1 min. */
  readonly compactionIntervalMs: number;
  /** Where repairs and maintenance failures are reported. Default: JSON lines on stderr. */
  readonly logger: TsdbLogger;
}

export const defaultTsdbOptions: TsdbOptions = {
  blockRangeMs: 2 * hourMs,
  retentionTimeMs: 15 * dayMs,
  retentionBytes: 0,
  largestBlockRangeMs: 0,
  walSegmentBytesMax: 128 * 1024 * 1024,
  walFsyncEveryCommit: false,
  walQueuedBytesMax: 64 * 1024 * 1024,
  appenderSamplesMax: 1_000_000,
  compactionIntervalMs: 60_000,
  logger: stderrLogger,
};

/** Bounds on the options. */
export const appenderSamplesMaxLimit = 16 * 1024 * 1024;
export const walSegmentBytesMin = 64 * 1024;
export const walSegmentBytesMaxLimit = 1024 * 1024 * 1024;

/** Fills defaults and checks every option; throws `TSDB_INVALID_OPTIONS` naming the bad one. */
export function resolveTsdbOptions(partial: Partial<TsdbOptions> = {}): TsdbOptions {
  const options: TsdbOptions = { ...defaultTsdbOptions, ...stripUndefined(partial) };
  checkInteger('blockRangeMs', options.blockRangeMs, 1, blockRangeMsMax);
  checkInteger('retentionTimeMs', options.retentionTimeMs, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('retentionBytes', options.retentionBytes, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('largestBlockRangeMs', options.largestBlockRangeMs, 0, blockRangeMsMax);
  checkInteger('walSegmentBytesMax', options.walSegmentBytesMax, walSegmentBytesMin, walSegmentBytesMaxLimit);
  checkInteger('walQueuedBytesMax', options.walQueuedBytesMax, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('appenderSamplesMax', options.appenderSamplesMax, 1, appenderSamplesMaxLimit);
  checkInteger('compactionIntervalMs', options.compactionIntervalMs, 0, dayMs);
  if (typeof options.walFsyncEveryCommit !== 'boolean') invalid('walFsyncEveryCommit', 'is not a boolean');
  if (typeof options.logger?.warn !== 'function' || typeof options.logger.info !== 'function') invalid('logger', 'lacks info() and warn()');
  if (options.largestBlockRangeMs !== 0 && options.largestBlockRangeMs < options.blockRangeMs) {
    invalid('largestBlockRangeMs', `(${options.largestBlockRangeMs}) is below blockRangeMs (${options.blockRangeMs})`);
  }
  return options;
}

/** The largest compacted block range: the option, or 10% of retention capped at 31 days (at least one block range). */
export function largestBlockRange(options: TsdbOptions): number {
  if (options.largestBlockRangeMs !== 0) return options.largestBlockRangeMs;
  const fromRetention = options.retentionTimeMs === 0 ? blockRangeMsMax : Math.floor(options.retentionTimeMs / 10);
  return Math.max(options.blockRangeMs, Math.min(blockRangeMsMax, fromRetention));
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) invalid(name, `(${value}) is not an integer in [${min}, ${max}]`);
}

function invalid(name: string, problem: string): never {
  throw new TsdbError('TSDB_INVALID_OPTIONS', `TSDB option ${name} ${problem}.`);
}

function stripUndefined<T extends object>(partial: T): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined)) as Partial<T>;
}
