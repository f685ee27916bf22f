/**
 * The key-value state machine: an MVCC store with etcd v3.4 semantics (range, put, delete, txn, compaction),
 * leases, alarms and quota, a watch hub, snapshots and hashes. Pure: no I/O, time through an injected clock.
 * See store.ts for which methods are replicated (apply), read-only or leader-local.
 *
 * @example
 * import { KvStore } from './kv/index.ts';
 * const store = new KvStore({ clock: { now: () => 0 } });
 * const encoder = new TextEncoder();
 * store.put({ key: encoder.encode('greeting'), value: encoder.encode('hello') });
 * store.range({ key: encoder.encode('greeting') }).kvs[0]?.version; // 1
 */
export { KvStore, leaseTtlMinSecondsFor, storeAlarmMemberId, validateKvStoreOptions } from './store.ts';
export { WatchHub } from './watch-hub.ts';
export { KvError, KvInvariantError, GrpcCode, kvErrorSpecs } from './errors.ts';
export { validateWholeTxn as validateTxnRequest, validateRangeRequest, validatePutRequest, validateDeleteRangeRequest } from './_validate.ts';
export * from './limits.ts';
export {
  AlarmAction,
  AlarmType,
  CompareResult,
  CompareTarget,
  EventType,
  SortOrder,
  SortTarget,
  WatchFilterType,
} from './types.ts';

export type { KvStoreOptions } from './store.ts';
export type { SnapshotEncoding } from './_snapshot.ts';
export type { WatchHubOptions, WatchHubStatistics, WatcherStatus } from './watch-hub.ts';
export type { KvErrorCode } from './errors.ts';
export type {
  AlarmMember,
  AlarmRequest,
  AlarmResponse,
  Clock,
  Compare,
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  Event,
  HashKvRequest,
  HashKvResponse,
  HashResponse,
  KeyValue,
  LeaseCheckpoint,
  LeaseCheckpointRequest,
  LeaseCheckpointResponse,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseStatus,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  TxnRequest,
  TxnResponse,
  WatchCreateRequest,
  WatchCreateResponse,
  WatchResponse,
} from './types.ts';
