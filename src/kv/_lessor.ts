/**
 * Leases, after etcd's lessor. Two kinds of state, kept apart:
 * - replicated (same on every member, in snapshots and hashes): each lease's ID, granted TTL, checkpointed
 *   remaining TTL and attached keys, and the ID sequence for server-assigned IDs;
 * - leader-local (the "primary" lessor only): expiry times read from the injected clock, the expiry heap
 *   and the checkpoint schedule. Followers keep every lease alive forever until they are promoted.
 * Expiry is driven from outside: the leader asks for expired leases and proposes their revocation.
 */
import { TimedHeap } from './_heap.ts';
import { assert, KvError } from './errors.ts';
import { leaseBatchMax, leaseOverheadBytes, leaseRevokeRetryMs } from './limits.ts';
import type { Clock, LeaseCheckpoint } from './types.ts';

export class Lease {
  readonly id: number;
  /** Granted TTL in seconds (raised to the minimum). */
  readonly ttlSeconds: number;
  /** The last checkpointed remaining TTL in seconds; 0: none, use the granted TTL. */
  remainingTtlSeconds = 0;
  /** Attached keys (binary strings). */
  readonly keys = new Set<string>();
  /** Leader-local: when the lease expires (ms on the clock); Infinity when not primary. */
  expiryMs = Number.POSITIVE_INFINITY;

  constructor(id: number, ttlSeconds: number) {
    this.id = id;
    this.ttlSeconds = ttlSeconds;
  }

  /** The TTL a refresh starts from: the checkpointed remainder if any, else the granted TTL. */
  get refreshTtlSeconds(): number {
    return this.remainingTtlSeconds > 0 ? this.remainingTtlSeconds : this.ttlSeconds;
  }
}

/** Server-assigned IDs: an odd multiplier is a bijection modulo 2^53, so sequence numbers never collide. */
const leaseIdMultiplier = 0x1f3d5b79a1c3e5n;
const leaseIdModulus = 1n << 53n;

export function leaseIdForSequence(sequence: number): number {
  assert(Number.isSafeInteger(sequence) && sequence > 0, 'lease ID sequences are positive');
  return Number((BigInt(sequence) * leaseIdMultiplier) % leaseIdModulus);
}

export interface LessorOptions {
  readonly clock: Clock;
  readonly ttlMinSeconds: number;
  readonly checkpointIntervalMs: number;
}

export class Lessor {
  readonly #options: LessorOptions;
  readonly leases = new Map<number, Lease>();
  /** Replicated: the last sequence number used for a server-assigned ID. */
  idSequence = 0;
  #primary = false;
  readonly #expiries = new TimedHeap();
  readonly #checkpoints = new TimedHeap();

  constructor(options: LessorOptions) {
    this.#options = options;
  }

  get primary(): boolean {
    return this.#primary;
  }

  get sizeBytes(): number {
    return this.leases.size * leaseOverheadBytes;
  }

  lookup(id: number): Lease | undefined {
    return this.leases.get(id);
  }

  /** The next server-assigned ID not in use. */
  assignId(): number {
    for (;;) {
      this.idSequence++;
      const id = leaseIdForSequence(this.idSequence);
      if (id !== 0 && !this.leases.has(id)) return id;
    }
  }

  /** Adds a lease; the caller has checked the ID is free and the TTL is in bounds. */
  grant(id: number, ttlSeconds: number): Lease {
    assert(id !== 0 && !this.leases.has(id), 'a granted lease ID is free');
    const lease = new Lease(id, Math.max(ttlSeconds, this.#options.ttlMinSeconds));
    this.leases.set(id, lease);
    if (this.#primary) {
      this.#refresh(lease, 0);
      this.#scheduleCheckpoint(lease);
    }
    return lease;
  }

  /** Adds a lease from a snapshot exactly as recorded (no minimum applied); timing starts on promotion. */
  restore(id: number, ttlSeconds: number, remainingTtlSeconds: number): void {
    assert(!this.#primary && id !== 0 && !this.leases.has(id), 'a restored lease is new and timing is off');
    const lease = new Lease(id, ttlSeconds);
    lease.remainingTtlSeconds = remainingTtlSeconds;
    this.leases.set(id, lease);
  }

  /** Forgets a lease whose keys the caller has deleted. */
  remove(id: number): void {
    const lease = this.leases.get(id);
    assert(lease !== undefined && lease.keys.size === 0, 'a removed lease exists and has no keys left');
    this.leases.delete(id);
  }

  attach(id: number, key: string): void {
    const lease = this.leases.get(id);
    assert(lease !== undefined, 'keys attach to existing leases');
    lease.keys.add(key);
  }

  detach(id: number, key: string): void {
    const lease = this.leases.get(id);
    // etcd logs and carries on when the lease is gone; a key cannot outlive its lease here, but a snapshot
    // from elsewhere might hold one, so this stays lenient.
    if (lease !== undefined) lease.keys.delete(key);
  }

  /** Replicated: records a remaining TTL (0 clears it). Unknown leases are ignored, as in etcd. */
  checkpoint(id: number, remainingTtlSeconds: number): void {
    const lease = this.leases.get(id);
    if (lease === undefined) return;
    lease.remainingTtlSeconds = Math.max(0, remainingTtlSeconds);
    if (this.#primary) this.#scheduleCheckpoint(lease);
  }

  /** Leader-local keep-alive: restarts the lease's full TTL. */
  renew(id: number): { ttlSeconds: number; checkpointClearRequired: boolean } {
    if (!this.#primary) throw new KvError('KV_NOT_LEADER');
    const lease = this.leases.get(id);
    // An expired lease awaits its revocation; etcd waits for it and then answers "not found".
    if (lease === undefined || lease.expiryMs <= this.#options.clock.now()) throw new KvError('KV_LEASE_NOT_FOUND');
    const checkpointClearRequired = lease.remainingTtlSeconds > 0;
    this.#refreshFull(lease);
    this.#scheduleCheckpoint(lease);
    return { ttlSeconds: lease.ttlSeconds, checkpointClearRequired };
  }

  /** Whole seconds left: from the expiry on the primary, else the checkpointed or granted TTL. */
  remainingSeconds(lease: Lease): number {
    if (!this.#primary) return lease.refreshTtlSeconds;
    return Math.trunc((lease.expiryMs - this.#options.clock.now()) / 1000) + 0;
  }

  /** Becomes the primary: every lease expires after its remaining TTL plus `extendMs`, not a full TTL. */
  promote(extendMs: number): void {
    this.#primary = true;
    this.#expiries.clear();
    this.#checkpoints.clear();
    for (const lease of this.leases.values()) {
      this.#refresh(lease, extendMs);
      this.#scheduleCheckpoint(lease);
    }
  }

  demote(): void {
    this.#primary = false;
    for (const lease of this.leases.values()) lease.expiryMs = Number.POSITIVE_INFINITY;
    this.#expiries.clear();
    this.#checkpoints.clear();
  }

  /**
   * Leader-local: leases expired by now, earliest first, at most `limit`. Each is handed out again only
   * after {@link leaseRevokeRetryMs} in case its revocation was lost.
   */
  expired(limit: number): number[] {
    if (!this.#primary) return [];
    const now = this.#options.clock.now();
    const ids: number[] = [];
    const batchMax = Math.min(limit, leaseBatchMax);
    while (ids.length < batchMax) {
      const top = this.#expiries.peek();
      if (top === undefined || top.dueMs > now) break;
      this.#expiries.pop();
      const lease = this.leases.get(top.id);
      if (lease === undefined || lease.expiryMs !== top.expiryMs) continue;
      ids.push(lease.id);
      this.#expiries.push({ dueMs: now + leaseRevokeRetryMs, id: lease.id, expiryMs: lease.expiryMs });
    }
    return ids;
  }

  /** Leader-local: remaining TTLs due for a checkpoint proposal (etcd's findDueScheduledCheckpoints). */
  checkpointsDue(limit: number): LeaseCheckpoint[] {
    if (!this.#primary) return [];
    const now = this.#options.clock.now();
    const due: LeaseCheckpoint[] = [];
    const seen = new Set<number>();
    const batchMax = Math.min(limit, leaseBatchMax);
    while (due.length < batchMax) {
      const top = this.#checkpoints.peek();
      if (top === undefined || top.dueMs > now) break;
      this.#checkpoints.pop();
      const lease = this.leases.get(top.id);
      if (lease === undefined || seen.has(lease.id) || lease.expiryMs <= now) continue;
      const remainingTtl = Math.ceil((lease.expiryMs - now) / 1000);
      if (remainingTtl >= lease.ttlSeconds) continue;
      seen.add(lease.id);
      due.push({ id: lease.id, remainingTtl });
    }
    return due;
  }

  #refresh(lease: Lease, extendMs: number): void {
    lease.expiryMs = this.#options.clock.now() + extendMs + lease.refreshTtlSeconds * 1000;
    this.#pushExpiry(lease);
  }

  #refreshFull(lease: Lease): void {
    lease.expiryMs = this.#options.clock.now() + lease.ttlSeconds * 1000;
    this.#pushExpiry(lease);
  }

  #pushExpiry(lease: Lease): void {
    this.#expiries.push({ dueMs: lease.expiryMs, id: lease.id, expiryMs: lease.expiryMs });
    // Stale entries (superseded expiries, removed leases) are dropped lazily; bound their number.
    if (this.#expiries.size > 2 * this.leases.size + leaseBatchMax) {
      this.#expiries.retain((entry) => this.leases.get(entry.id)?.expiryMs === entry.expiryMs);
    }
  }

  #scheduleCheckpoint(lease: Lease): void {
    const intervalMs = this.#options.checkpointIntervalMs;
    if (lease.refreshTtlSeconds * 1000 <= intervalMs) return;
    this.#checkpoints.push({ dueMs: this.#options.clock.now() + intervalMs, id: lease.id, expiryMs: lease.expiryMs });
    if (this.#checkpoints.size > 2 * this.leases.size + leaseBatchMax) {
      // One pending checkpoint per lease is enough: whichever comes due first triggers it.
      const kept = new Set<number>();
      this.#checkpoints.retain((entry) => {
        if (!this.leases.has(entry.id) || kept.has(entry.id)) return false;
        kept.add(entry.id);
        return true;
      });
    }
  }
}
