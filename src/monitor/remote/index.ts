/**
 * Remote write 1.0: the sender half of Prometheus's storage/remote, for keel's embedded monitor. The
 * fanout from {@link WriteStorage} wraps the TSDB's Appendable, and every committed sample is queued for
 * each `remote_write` endpoint, sent as a snappy-compressed protobuf WriteRequest.
 *
 * @example
 * import { WriteStorage } from './remote/index.ts';
 * const remote = new WriteStorage();
 * await remote.applyConfig(config.remoteWrite, config.global.externalLabels);
 * const appendable = remote.fanout(tsdb);
 */
export { RemoteWriteError } from './errors.ts';
export type { RemoteWriteErrorCode } from './errors.ts';
export {
  snappyBlockBytesMax, snappyDecode, snappyDecodedBytesMaxDefault, snappyDecodedLength, snappyEncode, snappyEncodeBytesMax, snappyMaxEncodedBytes,
} from './snappy.ts';
export type { SnappyDecodeOptions } from './snappy.ts';
export { encodeLabelFields, encodeWriteRequest, isStaleMarkerValue, metricTypes, writeRequestBytesMax } from './write-request.ts';
export type { MetricMetadataInput, MetricType, SampleInput, TimeSeriesInput, WriteRequestInput } from './write-request.ts';
export {
  connectionsPerEndpointMax, errorBodyBytesMax, HttpWriteClient, parseRetryAfterMs, remoteWriteUserAgent, remoteWriteVersion, retryAfterMsMax,
} from './client.ts';
export type { HttpWriteClientOptions, StoreResult, WriteClient } from './client.ts';
export {
  configHash, flushDeadlineMsDefault, QueueManager, queuedSamplesMax, sendAttemptsMax, sendAttemptsMaxDefault, seriesCacheEntriesMax,
} from './queue-manager.ts';
export type { QueueManagerOptions, RemoteDropReason, RemoteWriteCounters } from './queue-manager.ts';
export { fanoutBatchSamplesMax, WriteStorage } from './write-storage.ts';
export type { WriteStorageCounters, WriteStorageOptions } from './write-storage.ts';
export { desiredShards, shardUpdateIntervalMs } from './_resharding.ts';
export type { ShardingInputs } from './_resharding.ts';
