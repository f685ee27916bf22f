/**
 * keel's time-series store (groundwork): Gorilla XOR chunks, label sets, and the in-memory series index.
 * The head block, WAL and persistent blocks build on these.
 *
 * @example
 * import { Labels, Matcher, MemoryIndex, XorChunk } from './tsdb/index.ts';
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
