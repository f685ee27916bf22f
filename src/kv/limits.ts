/**
 * Named bounds and defaults of the key-value state machine. Bounds end in `Max`; defaults of configurable
 * values end in `Default`. Their relationships are asserted at the bottom of this file.
 */
import { assert } from './errors.ts';

/** Operations per txn level: compares, success ops and failure ops each (etcd's `--max-txn-ops`). */
export const txnOperationsMax = 128;
/**
 * Nesting depth of txns. etcd has no such bound (Go stacks grow); keel recurses per level, and a txn with
 * empty levels is only bounded by the request size, so the depth is capped. It fails as "too many operations".
 */
export const txnDepthMax = 64;

/** The largest lease TTL etcd accepts (lease.MaxLeaseTTL). */
export const leaseTtlSecondsMax = 9_000_000_000;
/** etcd's minimum TTL with its defaults: ceil(1.5 election timeouts) = ceil(1.5 * 1000 ms) = 2 s. */
export const leaseTtlMinSecondsDefault = 2;
/** How often the leader records a lease's remaining TTL (etcd's `--lease-checkpoint-interval`). */
export const leaseCheckpointIntervalMsDefault = 5 * 60 * 1000;
/** An expired lease handed to the leader for revocation is handed out again only after this long. */
export const leaseRevokeRetryMs = 3000;
/** Leases per `expiredLeases()` or `leaseCheckpointsDue()` answer (etcd: maxLeaseCheckpointBatchSize). */
export const leaseBatchMax = 1000;

/** etcd's default backend quota. */
export const quotaBytesDefault = 2 * 1024 * 1024 * 1024;
/** Estimated bytes of a key-value revision besides its key and value (etcd's quota kvOverhead). */
export const kvOverheadBytes = 256;
/** Estimated bytes of a lease (etcd's quota leaseOverhead). */
export const leaseOverheadBytes = 64;

/** Undelivered responses one watcher may hold before it falls back to catching up from history. */
export const watcherPendingResponsesMaxDefault = 128;
/** Undelivered events one watcher may hold (a single revision is never split, so it may exceed this once). */
export const watcherPendingEventsMaxDefault = 4096;
/** Revisions read from history per catch-up step of a slow watcher (etcd: watchBatchMaxRevs). */
export const watchCatchUpRevisionsMax = 1000;
/** Watchers in one store. */
export const watchersMaxDefault = 1 << 20;

assert(txnOperationsMax >= 1 && txnDepthMax >= 1, 'txn bounds are positive');
assert(leaseTtlMinSecondsDefault < leaseTtlSecondsMax, 'the minimum TTL is below the maximum');
assert(leaseTtlSecondsMax * 1000 < Number.MAX_SAFE_INTEGER, 'a TTL in milliseconds is a safe integer');
assert(kvOverheadBytes > 0 && leaseOverheadBytes > 0, 'overheads are positive');
assert(watcherPendingResponsesMaxDefault >= 2, 'a watcher holds at least an event and a progress response');
assert(watchCatchUpRevisionsMax >= 1, 'catch-up makes progress');
