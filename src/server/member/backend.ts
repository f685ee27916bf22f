import type { Cancellation } from '../grpc/index.ts';
import type {
  AlarmRequest, AlarmResponse, CompactionRequest, CompactionResponse, DeleteRangeRequest, DeleteRangeResponse,
  KvStore, LeaseGrantRequest, LeaseGrantResponse, LeaseKeepAliveResponse, LeaseRevokeRequest, LeaseRevokeResponse,
  LeaseTimeToLiveRequest, LeaseTimeToLiveResponse, PutRequest, PutResponse, TxnRequest, TxnResponse,
} from '../../kv/index.ts';

/**
 * What the etcd API layer (`src/server/api`) needs from a member: the contract between the two. The member
 * (`src/server/member`) implements it on top of the Raft core, the WAL, the peer transport and the store.
 *
 * Every method that changes replicated state goes through `propose`, which resolves only once the entry is
 * committed and applied on this member. Reads are served from `store`: linearizable reads call
 * `readBarrier` first (ReadIndex), serializable reads do not.
 */
export type ReplicatedRequest =
  | { readonly kind: 'put'; readonly request: PutRequest }
  | { readonly kind: 'deleteRange'; readonly request: DeleteRangeRequest }
  | { readonly kind: 'txn'; readonly request: TxnRequest }
  | { readonly kind: 'compaction'; readonly request: CompactionRequest }
  | { readonly kind: 'leaseGrant'; readonly request: LeaseGrantRequest }
  | { readonly kind: 'leaseRevoke'; readonly request: LeaseRevokeRequest }
  | { readonly kind: 'alarm'; readonly request: AlarmRequest };

/** The store's answer to a replicated request, of the kind asked for. */
export type ReplicatedResponse<K extends ReplicatedRequest['kind']> = {
  put: PutResponse;
  deleteRange: DeleteRangeResponse;
  txn: TxnResponse;
  compaction: CompactionResponse;
  leaseGrant: LeaseGrantResponse;
  leaseRevoke: LeaseRevokeResponse;
  alarm: AlarmResponse;
}[K];

/** The fields of etcd's ResponseHeader. IDs are bigint: they routinely exceed 2^53. */
export interface HeaderInfo {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  readonly revision: number;
  readonly raftTerm: number;
}

export interface MemberInfo {
  readonly id: bigint;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

export interface MemberStatus {
  readonly version: string;
  readonly dbSizeBytes: number;
  readonly dbSizeInUseBytes: number;
  readonly leader: bigint;
  readonly raftIndex: number;
  readonly raftTerm: number;
  readonly raftAppliedIndex: number;
  readonly isLearner: boolean;
  readonly errors: readonly string[];
}

export interface MemberBackend {
  /** This member's replica of the store: serializable reads and the watch hub. */
  readonly store: KvStore;
  header(): HeaderInfo;
  /**
   * Replicates a write and resolves with the store's answer once it is applied here. Rejects with a
   * `GrpcError`-compatible error (etcd's codes and messages: `etcdserver: request timed out`,
   * `etcdserver: leader changed`, `etcdserver: no leader`, `etcdserver: too many requests`, store errors).
   */
  propose<K extends ReplicatedRequest['kind']>(request: ReplicatedRequest & { kind: K }, signal: Cancellation): Promise<ReplicatedResponse<K>>;
  /** Resolves once a linearizable read may be served from `store` (ReadIndex, then wait for apply). */
  readBarrier(signal: Cancellation): Promise<void>;
  /** Renews a lease on the leader (a follower forwards); resolves with the remaining TTL. */
  leaseKeepAlive(id: number, signal: AbortSignal): Promise<LeaseKeepAliveResponse>;
  leaseTimeToLive(request: LeaseTimeToLiveRequest, signal: AbortSignal): Promise<LeaseTimeToLiveResponse>;
  members(): readonly MemberInfo[];
  addMember(peerUrls: readonly string[], isLearner: boolean, signal: AbortSignal): Promise<MemberInfo>;
  removeMember(id: bigint, signal: AbortSignal): Promise<void>;
  updateMember(id: bigint, peerUrls: readonly string[], signal: AbortSignal): Promise<void>;
  promoteMember(id: bigint, signal: AbortSignal): Promise<void>;
  status(): MemberStatus;
  moveLeader(target: bigint, signal: AbortSignal): Promise<void>;
  /** The whole store as a snapshot stream (etcd's Maintenance.Snapshot), in bounded chunks. */
  snapshot(signal: AbortSignal): AsyncIterable<Uint8Array>;
}
