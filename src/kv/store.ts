/**
 * The key-value state machine with etcd v3.4 semantics: MVCC keys with revisions, range/put/delete/txn,
 * compaction, leases, alarms with a space quota, watches, snapshots and hashes. It does no I/O and reads no
 * clock except the injected one, and only for leader-local lease timing.
 *
 * Three kinds of methods:
 * - apply (replicated; call in log order on every member, same inputs give the same state and answers):
 *   put, deleteRange, txn, compact, leaseGrant, leaseRevoke, leaseCheckpoint, alarm (activate/deactivate),
 *   restore;
 * - read-only: range, leaseTimeToLive, leaseLeases, alarm (get), hash, hashKv, snapshot;
 * - leader-local (the primary lessor; never changes replicated state): promote, demote, leaseKeepAlive,
 *   expiredLeases, leaseCheckpointsDue.
 *
 * A request that fails throws a {@link KvError} and changes nothing, except that a write refused for lack
 * of space raises the NOSPACE alarm (deterministically, from the size estimate). A {@link KvInvariantError}
 * is a keel bug that may leave the state half-changed: stop the member (etcd panics in the same places).
 */
import { AlarmStore } from './_alarms.ts';
import { applyDeleteRange, applyPut, applyTxnOps, checkPathOps, checkPutOp, checkRangeOp, compareToPath } from './_apply.ts';
import { keyToBytes } from './_bytes.ts';
import { Crc32c, crc32c, updateWithRecord } from './_hash.ts';
import { Lessor } from './_lessor.ts';
import { Mvcc } from './_mvcc.ts';
import { executeRange } from './_range.ts';
import { decodeSnapshot, SnapshotEncoding } from './_snapshot.ts';
import { restoreState } from './_restore.ts';
import {
  checkInteger,
  isReadOnlyTxn,
  putCostBytes,
  validateDeleteRangeRequest,
  validatePutRequest,
  validateRangeRequest,
  validateWholeTxn,
  txnCostBytes,
} from './_validate.ts';
import { WriteTxn } from './_write-txn.ts';
import { KvError, KvInvariantError } from './errors.ts';
import { kvOverheadBytes, leaseCheckpointIntervalMsDefault, leaseOverheadBytes, leaseTtlMinSecondsDefault, leaseTtlSecondsMax, quotaBytesDefault } from './limits.ts';
import {
  AlarmAction,
  AlarmType,
  type AlarmRequest,
  type AlarmResponse,
  type Clock,
  type CompactionRequest,
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type HashKvRequest,
  type HashKvResponse,
  type HashResponse,
  type LeaseCheckpoint,
  type LeaseCheckpointRequest,
  type LeaseCheckpointResponse,
  type LeaseGrantRequest,
  type LeaseGrantResponse,
  type LeaseKeepAliveRequest,
  type LeaseKeepAliveResponse,
  type LeaseLeasesResponse,
  type LeaseRevokeRequest,
  type LeaseRevokeResponse,
  type LeaseTimeToLiveRequest,
  type LeaseTimeToLiveResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type TxnRequest,
  type TxnResponse,
} from './types.ts';
import { WatchHub, type WatchHubOptions } from './watch-hub.ts';

export interface KvStoreOptions {
  readonly clock: Clock;
  /** Space quota in bytes of the size estimate; 0: the 2 GiB default; negative: no quota (as etcd). */
  readonly quotaBytes?: number;
  /** Minimum lease TTL; etcd derives it as ceil(1.5 election timeouts), see {@link leaseTtlMinSecondsFor}. */
  readonly leaseTtlMinSeconds?: number;
  readonly leaseCheckpointIntervalMs?: number;
  readonly watch?: WatchHubOptions;
  /**
   * The caller never changes the byte arrays of a write request (keys, values) once it has made the
   * request, so the store may keep them instead of copying them. A member sets it: its requests are decoded
   * from Raft entries, which nothing changes. An array that is a view into a buffer much larger than itself
   * is copied all the same, so that it does not pin that buffer. Default false: everything stored is a copy.
   */
  readonly adoptsRequestBytes?: boolean;
}

/** The member ID recorded on a NOSPACE alarm the store raises itself: every member raises the same one. */
export const storeAlarmMemberId = 0;

/**
 * etcd's minimum lease TTL for an election timeout: ceil(1.5 * electionTimeout) in seconds.
 *
 * @example
 * new KvStore({ clock, leaseTtlMinSeconds: leaseTtlMinSecondsFor(1000) }); // 2 s, etcd's default
 */
export function leaseTtlMinSecondsFor(electionTimeoutMs: number): number {
  return Math.ceil((1.5 * electionTimeoutMs) / 1000);
}

/**
 * Checks the options (the constructor calls it); throws KV_INVALID_CONFIG naming the bad field.
 *
 * @example
 * validateKvStoreOptions({ clock, watch: { pendingResponsesMax: 1 } }); // throws: must be >= 2
 */
export function validateKvStoreOptions(options: KvStoreOptions): void {
  const fail = (detail: string): never => {
    throw new KvError('KV_INVALID_CONFIG', detail);
  };
  if (typeof options.clock?.now !== 'function') fail('clock.now is required');
  if (options.quotaBytes !== undefined && !Number.isSafeInteger(options.quotaBytes)) fail('quotaBytes must be an integer');
  const ttlMin = options.leaseTtlMinSeconds;
  if (ttlMin !== undefined && !(Number.isSafeInteger(ttlMin) && ttlMin >= 1 && ttlMin < leaseTtlSecondsMax)) fail('leaseTtlMinSeconds out of range');
  const interval = options.leaseCheckpointIntervalMs;
  if (interval !== undefined && !(Number.isSafeInteger(interval) && interval >= 1)) fail('leaseCheckpointIntervalMs must be positive');
  const watch = options.watch ?? {};
  if (watch.pendingResponsesMax !== undefined && !(Number.isSafeInteger(watch.pendingResponsesMax) && watch.pendingResponsesMax >= 2)) fail('watch.pendingResponsesMax must be >= 2');
  if (watch.pendingEventsMax !== undefined && !(Number.isSafeInteger(watch.pendingEventsMax) && watch.pendingEventsMax >= 1)) fail('watch.pendingEventsMax must be >= 1');
  if (watch.watchersMax !== undefined && !(Number.isSafeInteger(watch.watchersMax) && watch.watchersMax >= 1)) fail('watch.watchersMax must be >= 1');
}

export class KvStore {
  /** The watch hub over this store's history. */
  readonly watchHub: WatchHub;
  readonly #options: KvStoreOptions;
  readonly #quotaBytes: number;
  #mvcc = new Mvcc();
  #lessor: Lessor;
  readonly #alarms = new AlarmStore();

  /**
   * @example
   * const store = new KvStore({ clock: { now: () => simulatedMs } });
   * store.put({ key: bytes('a'), value: bytes('1') }); // header.revision === 2
   */
  constructor(options: KvStoreOptions) {
    validateKvStoreOptions(options);
    this.#options = options;
    const quota = options.quotaBytes ?? 0;
    this.#quotaBytes = quota === 0 ? quotaBytesDefault : quota;
    this.#lessor = this.#newLessor();
    this.#mvcc.adoptsBytes = options.adoptsRequestBytes === true;
    this.watchHub = new WatchHub(() => this.#mvcc, options.watch);
  }

  get revision(): number {
    return this.#mvcc.currentRevision;
  }

  get compactRevision(): number {
    return this.#mvcc.compactRevision;
  }

  /** Estimated bytes of the state: each stored revision (key, value, overhead) and each lease. */
  get sizeBytesEstimate(): number {
    return this.#mvcc.sizeBytes + this.#lessor.sizeBytes;
  }

  /** Keys live at the current revision (counted in the index: O(log n)). */
  get keyCount(): number {
    return this.#mvcc.index.countMarked('', null);
  }

  /** Leases granted and not yet revoked. */
  get leaseCount(): number {
    return this.#lessor.leases.size;
  }

  /** The space quota in bytes; negative when disabled. */
  get quotaBytes(): number {
    return this.#quotaBytes;
  }

  get isPrimary(): boolean {
    return this.#lessor.primary;
  }

  range(request: RangeRequest): RangeResponse {
    validateRangeRequest(request);
    return executeRange(this.#mvcc, request, this.#mvcc.currentRevision);
  }

  put(request: PutRequest): PutResponse {
    validatePutRequest(request);
    this.#checkWritable(putCostBytes(request));
    const lease = request.lease ?? 0;
    if (lease !== 0 && this.#lessor.lookup(lease) === undefined) throw new KvError('KV_LEASE_NOT_FOUND');
    const txn = new WriteTxn(this.#mvcc, this.#lessor);
    const response = applyPut(txn, request);
    response.header.revision = this.#commit(txn);
    return response;
  }

  deleteRange(request: DeleteRangeRequest): DeleteRangeResponse {
    validateDeleteRangeRequest(request);
    this.#checkNotCorrupt();
    const txn = new WriteTxn(this.#mvcc, this.#lessor);
    const response = applyDeleteRange(txn, request);
    response.header.revision = this.#commit(txn);
    return response;
  }

  txn(request: TxnRequest): TxnResponse {
    validateWholeTxn(request);
    const readOnly = isReadOnlyTxn(request);
    const cost = txnCostBytes(request);
    if (cost > 0) this.#checkWritable(cost);
    else if (!readOnly) this.#checkNotCorrupt();
    const mvcc = this.#mvcc;
    const path: boolean[] = [];
    compareToPath(mvcc, request, mvcc.currentRevision, path);
    if (!readOnly) checkPathOps(request, path, { index: 0 }, checkPutOp(mvcc, this.#lessor, mvcc.currentRevision));
    checkPathOps(request, path, { index: 0 }, checkRangeOp(mvcc, mvcc.currentRevision));
    const txn = new WriteTxn(mvcc, this.#lessor);
    let response: TxnResponse;
    try {
      response = applyTxnOps(txn, request, path, { index: 0 });
    } catch (error) {
      // Everything that can fail was checked above; failing now would leave a half-applied txn.
      throw new KvInvariantError(`txn failed after its checks: ${String(error)}`);
    }
    response.header.revision = this.#commit(txn);
    return response;
  }

  compact(request: CompactionRequest): CompactionResponse {
    checkInteger(request.revision);
    this.#checkNotCorrupt();
    if (request.revision <= this.#mvcc.compactRevision) throw new KvError('KV_COMPACTED');
    if (request.revision > this.#mvcc.currentRevision) throw new KvError('KV_FUTURE_REV');
    this.#mvcc.compact(request.revision);
    return { header: { revision: this.#mvcc.currentRevision } };
  }

  leaseGrant(request: LeaseGrantRequest): LeaseGrantResponse {
    checkInteger(request.ttl);
    checkInteger(request.id);
    this.#checkWritable(leaseOverheadBytes);
    if (request.ttl > leaseTtlSecondsMax) throw new KvError('KV_LEASE_TTL_TOO_LARGE');
    const requestedId = request.id ?? 0;
    if (requestedId !== 0 && this.#lessor.lookup(requestedId) !== undefined) throw new KvError('KV_LEASE_EXISTS');
    const id = requestedId !== 0 ? requestedId : this.#lessor.assignId();
    const lease = this.#lessor.grant(id, request.ttl);
    return { header: { revision: this.#mvcc.currentRevision }, id, ttl: lease.ttlSeconds, error: '' };
  }

  /** Deletes the lease's keys in one revision, in key order (as etcd does, for equal hashes everywhere). */
  leaseRevoke(request: LeaseRevokeRequest): LeaseRevokeResponse {
    checkInteger(request.id);
    this.#checkNotCorrupt();
    const lease = this.#lessor.lookup(request.id);
    if (lease === undefined) throw new KvError('KV_LEASE_NOT_FOUND');
    const keys = [...lease.keys].sort();
    const txn = new WriteTxn(this.#mvcc, this.#lessor);
    for (const key of keys) {
      const keyIndex = this.#mvcc.index.get(key);
      if (keyIndex !== undefined && keyIndex.live !== null) txn.delete(keyIndex);
    }
    this.#lessor.remove(request.id);
    return { header: { revision: this.#commit(txn) } };
  }

  leaseCheckpoint(request: LeaseCheckpointRequest): LeaseCheckpointResponse {
    for (const checkpoint of request.checkpoints) {
      checkInteger(checkpoint.id);
      checkInteger(checkpoint.remainingTtl);
    }
    for (const checkpoint of request.checkpoints) this.#lessor.checkpoint(checkpoint.id, checkpoint.remainingTtl);
    return { header: { revision: this.#mvcc.currentRevision } };
  }

  /** Leader-local keep-alive; see {@link LeaseKeepAliveResponse.checkpointClearRequired}. */
  leaseKeepAlive(request: LeaseKeepAliveRequest): LeaseKeepAliveResponse {
    checkInteger(request.id);
    const renewed = this.#lessor.renew(request.id);
    return { header: { revision: this.#mvcc.currentRevision }, id: request.id, ttl: renewed.ttlSeconds, checkpointClearRequired: renewed.checkpointClearRequired };
  }

  /** Remaining TTL (exact on the primary; the checkpointed or granted TTL elsewhere); -1 for no such lease. */
  leaseTimeToLive(request: LeaseTimeToLiveRequest): LeaseTimeToLiveResponse {
    checkInteger(request.id);
    const header = { revision: this.#mvcc.currentRevision };
    const lease = this.#lessor.lookup(request.id);
    if (lease === undefined) return { header, id: request.id, ttl: -1, grantedTtl: 0, keys: [] };
    const keys = request.keys === true ? [...lease.keys].sort().map((key) => this.#mvcc.index.get(key)?.keyBytes ?? keyToBytes(key)) : [];
    return { header, id: request.id, ttl: this.#lessor.remainingSeconds(lease), grantedTtl: lease.ttlSeconds, keys };
  }

  leaseLeases(): LeaseLeasesResponse {
    const ids = [...this.#lessor.leases.keys()].sort((left, right) => left - right);
    return { header: { revision: this.#mvcc.currentRevision }, leases: ids.map((id) => ({ id })) };
  }

  /** Leader-local: become the primary lessor; leases run out after their remaining TTL plus `extendMs`. */
  promote(options: { extendMs?: number } = {}): void {
    const extendMs = options.extendMs ?? 0;
    checkInteger(extendMs);
    this.#lessor.promote(extendMs);
  }

  demote(): void {
    this.#lessor.demote();
  }

  /** Leader-local: expired lease IDs to propose revoking, earliest first. */
  expiredLeases(limit = Number.MAX_SAFE_INTEGER): number[] {
    return this.#lessor.expired(limit);
  }

  /** Leader-local: remaining TTLs to propose as a {@link LeaseCheckpointRequest}. */
  leaseCheckpointsDue(limit = Number.MAX_SAFE_INTEGER): LeaseCheckpoint[] {
    return this.#lessor.checkpointsDue(limit);
  }

  alarm(request: AlarmRequest): AlarmResponse {
    const type = request.alarm ?? AlarmType.None;
    const memberId = request.memberId ?? 0;
    checkInteger(memberId);
    if (!(Number.isInteger(type) && type >= 0 && type <= 2)) throw new KvError('KV_INVALID_ARGUMENT', `unknown alarm type ${String(type)}`);
    const header = { revision: this.#mvcc.currentRevision };
    switch (request.action) {
      case AlarmAction.Get:
        return { header, alarms: this.#alarms.get(type) };
      case AlarmAction.Activate: {
        const activated = this.#alarms.activate(memberId, type);
        return { header, alarms: activated === null ? [] : [activated] };
      }
      case AlarmAction.Deactivate: {
        const deactivated = this.#alarms.deactivate(memberId, type);
        return { header, alarms: deactivated === null ? [] : [deactivated] };
      }
      default:
        throw new KvError('KV_INVALID_ARGUMENT', `unknown alarm action ${String(request.action)}`);
    }
  }

  /** CRC-32C of the snapshot encoding without its checksum trailer: every replicated byte of state. */
  hash(): HashResponse {
    const snapshot = this.snapshot();
    // Not over the trailer: a CRC over data followed by its own CRC is the same for all data.
    return { header: { revision: this.#mvcc.currentRevision }, hash: crc32c(snapshot.subarray(0, snapshot.length - 4)) };
  }

  /**
   * etcd's HashKV: a CRC-32C over the stored revisions up to `revision`, skipping compacted-away history the
   * way etcd does (revisions at or below the compact revision count only if still visible at `revision`).
   */
  hashKv(request: HashKvRequest = {}): HashKvResponse {
    const mvcc = this.#mvcc;
    const requested = request.revision ?? 0;
    checkInteger(requested);
    if (requested > 0 && requested <= mvcc.compactRevision) throw new KvError('KV_COMPACTED');
    if (requested > 0 && requested > mvcc.currentRevision) throw new KvError('KV_FUTURE_REV');
    const revision = requested > 0 ? requested : mvcc.currentRevision;
    const anyVisible = this.#anyKeyVisibleAt(revision);
    const crc = new Crc32c().update(new Uint8Array([0x6b, 0x65, 0x79])); // etcd's bucket name "key"
    for (const record of mvcc.log) {
      if (record.mainRevision > revision) break;
      if (record.mainRevision <= mvcc.compactRevision && anyVisible && record.keyIndex.at(revision) !== record) continue;
      updateWithRecord(crc, record);
    }
    return { header: { revision: mvcc.currentRevision }, hash: crc.digest(), compactRevision: mvcc.compactRevision };
  }

  /** The replicated state as bytes (see _snapshot.ts for the layout). */
  snapshot(): Uint8Array {
    const encoding = this.captureSnapshot();
    encoding.encodeSome(Number.MAX_SAFE_INTEGER);
    return encoding.finish();
  }

  /**
   * The replicated state as it is now, to be encoded a slice at a time (`encodeSome`) while the store goes
   * on changing: the capture copies the list of revision records (the records never change), the leases and
   * the alarms, which costs one pointer per stored revision; encoding then reads only the copies. The
   * result starts with `prefix`, if given (a wrapper's own header, kept out of the snapshot's checksum).
   */
  captureSnapshot(prefix?: Uint8Array): SnapshotEncoding {
    const leases = [...this.#lessor.leases.values()]
      .sort((left, right) => left.id - right.id)
      .map((lease) => ({ id: lease.id, ttlSeconds: lease.ttlSeconds, remainingTtlSeconds: lease.remainingTtlSeconds }));
    const head = { currentRevision: this.#mvcc.currentRevision, compactRevision: this.#mvcc.compactRevision, leaseIdSequence: this.#lessor.idSequence };
    const log = this.#mvcc.log.slice();
    // The size estimate counts kvOverheadBytes plus the key and the value per record (a key's string has one
    // character per byte).
    const keyAndValueBytes = this.#mvcc.sizeBytes - kvOverheadBytes * log.length;
    return new SnapshotEncoding(head, log, leases, this.#alarms.get(AlarmType.None), { prefix, keyAndValueBytes });
  }

  /**
   * Replaces the whole replicated state with a snapshot's. Throws KV_SNAPSHOT_CORRUPT (changing nothing) if
   * it does not decode. Watchers carry on from the new history; leader-local lease timing restarts.
   */
  restore(snapshot: Uint8Array): void {
    const state = decodeSnapshot(snapshot);
    const lessor = this.#newLessor();
    const mvcc = restoreState(state, lessor);
    const previousRevision = this.#mvcc.currentRevision;
    const wasPrimary = this.#lessor.primary;
    mvcc.adoptsBytes = this.#mvcc.adoptsBytes;
    this.#mvcc = mvcc;
    this.#lessor = lessor;
    this.#alarms.replaceAll(state.alarms);
    if (wasPrimary) lessor.promote(0);
    this.watchHub.restored(previousRevision);
  }

  #newLessor(): Lessor {
    return new Lessor({
      clock: this.#options.clock,
      ttlMinSeconds: this.#options.leaseTtlMinSeconds ?? leaseTtlMinSecondsDefault,
      checkpointIntervalMs: this.#options.leaseCheckpointIntervalMs ?? leaseCheckpointIntervalMsDefault,
    });
  }

  #commit(txn: WriteTxn): number {
    const revision = txn.commit();
    if (txn.changes.length > 0) this.watchHub.notify(revision, txn.changes);
    return revision;
  }

  #anyKeyVisibleAt(revision: number): boolean {
    if (revision >= this.#mvcc.headRevision) return this.#mvcc.index.countMarked('', null) > 0;
    let found = false;
    this.#mvcc.index.forEachInRange('', null, (_key, keyIndex) => {
      found = keyIndex.at(revision) !== null;
      return !found;
    });
    return found;
  }

  #checkNotCorrupt(): void {
    if (this.#alarms.has(AlarmType.Corrupt)) throw new KvError('KV_CORRUPT');
  }

  /**
   * A write that adds `costBytes`: refused under a NOSPACE alarm (checked first, as etcd's capped applier
   * wraps the corrupt one) or a CORRUPT alarm, and refused with a new NOSPACE alarm if it would pass the quota.
   */
  #checkWritable(costBytes: number): void {
    if (this.#alarms.has(AlarmType.NoSpace)) throw new KvError('KV_NO_SPACE');
    this.#checkNotCorrupt();
    if (this.#quotaBytes >= 0 && this.sizeBytesEstimate + costBytes >= this.#quotaBytes) {
      this.#alarms.activate(storeAlarmMemberId, AlarmType.NoSpace);
      throw new KvError('KV_NO_SPACE');
    }
  }
}
