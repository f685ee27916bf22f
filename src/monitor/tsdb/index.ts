/**
 * keel's time-series store: Gorilla XOR chunks, label sets, the in-memory series index, the head block
 * with its WAL, persistent blocks with compaction and retention, and OpenMetrics backfill. `Tsdb` (db.ts)
 * implements the monitor's Appendable and Queryable contracts (../storage.ts).
 *
 * @example
 * import { Labels, Matcher, Tsdb } from './tsdb/index.ts';
 * const db = await Tsdb.open(dir);
 */
export * from './chunkenc/index.ts';
export * from './index/index.ts';
export { AssertionError, assert, TsdbError } from './errors.ts';
export type { TsdbErrorCode } from './errors.ts';
export {
  compareStrings,
  isValidLabelName,
  isValidMetricName,
  isWellFormedLabelValue,
  Labels,
  metricNameLabel,
  quoteLabelValue,
} from './labels.ts';
export type { Label } from './labels.ts';
export {
  floatFromBits,
  floatHighBits,
  floatLowBits,
  isStaleMarkerBits,
  staleMarkerHighBits,
  staleMarkerLowBits,
} from './value.ts';
export { Tsdb } from './db.ts';
export type { BlockStats, CompactionReport, TsdbStats } from './db.ts';
export { defaultTsdbOptions, resolveTsdbOptions } from './db-options.ts';
export type { TsdbOptions } from './db-options.ts';
export { HeadAppender } from './head-append.ts';
export type { RejectedSampleCounts } from './head.ts';
export type { WalRepair } from './head-wal.ts';
export { importOpenMetrics, importSamplesPerPassMax } from './import.ts';
export type { ImportOptions, ImportResult } from './import.ts';
export { lockFileName } from './lock.ts';
export { silentLogger } from './logger.ts';
export type { TsdbLogger } from './logger.ts';
export type { TsdbQuerier } from './querier.ts';
export type { TsdbSampleIterator, TsdbSeries } from './series-iterator.ts';
export type { CardinalityStats, NameCount } from './stats.ts';
