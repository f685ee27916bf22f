/**
 * Requests and responses of the state machine, mirroring etcd v3's protobuf messages (etcdserverpb/rpc.proto
 * and mvccpb/kv.proto) with camelCase field names, so that the gRPC layer maps them field by field.
 *
 * Numbers: etcd's int64 fields (revisions, versions, counts, lease IDs, TTLs, member IDs) are JS numbers
 * here and must be safe integers (|n| <= 2^53 - 1). At one write per microsecond a revision needs 285
 * years to pass 2^53; server-assigned lease IDs are drawn below 2^53. The gRPC layer must reject wire
 * values outside that range; the store rejects non-safe numbers with `KV_UNSAFE_INTEGER`.
 *
 * Bytes: keys and values are `Uint8Array`, compared bytewise (Go's bytes.Compare). Request bytes are copied
 * on write; response bytes are shared with the store and must be treated as read-only.
 *
 * Optional request fields take protobuf's defaults (0, false, empty bytes) when absent.
 */

export const SortOrder = { None: 0, Ascend: 1, Descend: 2 } as const;
export type SortOrder = (typeof SortOrder)[keyof typeof SortOrder];

export const SortTarget = { Key: 0, Version: 1, Create: 2, Mod: 3, Value: 4 } as const;
export type SortTarget = (typeof SortTarget)[keyof typeof SortTarget];

export const CompareResult = { Equal: 0, Greater: 1, Less: 2, NotEqual: 3 } as const;
export type CompareResult = (typeof CompareResult)[keyof typeof CompareResult];

export const CompareTarget = { Version: 0, Create: 1, Mod: 2, Value: 3, Lease: 4 } as const;
export type CompareTarget = (typeof CompareTarget)[keyof typeof CompareTarget];

export const EventType = { Put: 0, Delete: 1 } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export const WatchFilterType = { NoPut: 0, NoDelete: 1 } as const;
export type WatchFilterType = (typeof WatchFilterType)[keyof typeof WatchFilterType];

export const AlarmType = { None: 0, NoSpace: 1, Corrupt: 2 } as const;
export type AlarmType = (typeof AlarmType)[keyof typeof AlarmType];

export const AlarmAction = { Get: 0, Activate: 1, Deactivate: 2 } as const;
export type AlarmAction = (typeof AlarmAction)[keyof typeof AlarmAction];

/** The injected clock. Only leader-local lease timing reads it; replicated state never depends on it. */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
}

/** The state machine's part of etcd's ResponseHeader; the API adds cluster_id, member_id and raft_term. */
export interface ResponseHeader {
  revision: number;
}

export interface KeyValue {
  key: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Uint8Array;
  lease: number;
}

export interface RangeRequest {
  key: Uint8Array;
  /** Empty: the single key. `[0]`: every key >= key. Otherwise the half-open range [key, rangeEnd). */
  rangeEnd?: Uint8Array;
  limit?: number;
  /** 0 or negative: the current revision. */
  revision?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  /** The API's business (local read instead of ReadIndex); ignored here. */
  serializable?: boolean;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  /** Keys in the range at the read revision, before limit and before the min/max revision filters. */
  count: number;
}

export interface PutRequest {
  key: Uint8Array;
  value?: Uint8Array;
  lease?: number;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

export interface PutResponse {
  header: ResponseHeader;
  prevKv?: KeyValue;
}

export interface DeleteRangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  prevKv?: boolean;
}

export interface DeleteRangeResponse {
  header: ResponseHeader;
  deleted: number;
  prevKvs: KeyValue[];
}

/** Exactly one field is set (protobuf's oneof `request`). */
export interface RequestOp {
  requestRange?: RangeRequest;
  requestPut?: PutRequest;
  requestDeleteRange?: DeleteRangeRequest;
  requestTxn?: TxnRequest;
}

/** Exactly one field is set (protobuf's oneof `response`). */
export interface ResponseOp {
  responseRange?: RangeResponse;
  responsePut?: PutResponse;
  responseDeleteRange?: DeleteRangeResponse;
  responseTxn?: TxnResponse;
}

/**
 * A txn guard. The field matching `target` is the operand (protobuf's oneof `target_union`); an absent
 * operand is 0 or empty bytes, as in etcd.
 */
export interface Compare {
  result: CompareResult;
  target: CompareTarget;
  key: Uint8Array;
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: Uint8Array;
  lease?: number;
  /** With a range end every key in the range must satisfy the compare. */
  rangeEnd?: Uint8Array;
}

export interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}

export interface TxnResponse {
  /** For a nested txn this is 0, as in etcd. */
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision: number;
  /** No disk here, so compaction is always complete when it returns. */
  physical?: boolean;
}

export interface CompactionResponse {
  header: ResponseHeader;
}

export interface HashResponse {
  header: ResponseHeader;
  hash: number;
}

export interface HashKvRequest {
  /** 0: the current revision. */
  revision?: number;
}

export interface HashKvResponse {
  header: ResponseHeader;
  hash: number;
  compactRevision: number;
}

export interface LeaseGrantRequest {
  /** Seconds. Raised to the minimum TTL when below it. */
  ttl: number;
  /** 0: the store assigns an ID. */
  id?: number;
}

export interface LeaseGrantResponse {
  header: ResponseHeader;
  id: number;
  ttl: number;
  error: string;
}

export interface LeaseRevokeRequest {
  id: number;
}

export interface LeaseRevokeResponse {
  header: ResponseHeader;
}

export interface LeaseCheckpoint {
  id: number;
  remainingTtl: number;
}

export interface LeaseCheckpointRequest {
  checkpoints: LeaseCheckpoint[];
}

export interface LeaseCheckpointResponse {
  header: ResponseHeader;
}

export interface LeaseKeepAliveRequest {
  id: number;
}

export interface LeaseKeepAliveResponse {
  header: ResponseHeader;
  id: number;
  ttl: number;
  /**
   * keel's addition: the lease had a checkpointed remaining TTL, so the leader must propose a checkpoint
   * with remaining TTL 0 (as etcd's Renew does) lest a new leader restore the stale remainder.
   */
  checkpointClearRequired: boolean;
}

export interface LeaseTimeToLiveRequest {
  id: number;
  keys?: boolean;
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeader;
  id: number;
  /** Remaining seconds; -1 when the lease does not exist (what etcd's API answers). */
  ttl: number;
  grantedTtl: number;
  keys: Uint8Array[];
}

export interface LeaseStatus {
  id: number;
}

export interface LeaseLeasesResponse {
  header: ResponseHeader;
  leases: LeaseStatus[];
}

export interface AlarmMember {
  memberId: number;
  alarm: AlarmType;
}

export interface AlarmRequest {
  action: AlarmAction;
  memberId?: number;
  alarm?: AlarmType;
}

export interface AlarmResponse {
  header: ResponseHeader;
  alarms: AlarmMember[];
}

export interface Event {
  type: EventType;
  /** For a delete: only the key and the deleting revision as modRevision. */
  kv: KeyValue;
  prevKv?: KeyValue;
}

export interface WatchCreateRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  /** 0: from the next revision. At or below the current revision: replay history from it first. */
  startRevision?: number;
  progressNotify?: boolean;
  filters?: WatchFilterType[];
  prevKv?: boolean;
}

export interface WatchCreateResponse {
  watchId: number;
  header: ResponseHeader;
}

/** What the hub hands the API for one watcher; `created`, fragmenting and stream IDs are the API's business. */
export interface WatchResponse {
  header: ResponseHeader;
  watchId: number;
  events: Event[];
  /** Non-zero on the final response of a watcher whose next revision was compacted away. */
  compactRevision: number;
  canceled: boolean;
}
