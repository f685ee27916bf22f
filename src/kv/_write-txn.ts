/**
 * One write transaction: every change it makes gets main revision begin + 1 and the next sub revision, and
 * reads through it see its own earlier changes (etcd's storeTxnWrite). Keys attach to and detach from
 * leases as they are written, as etcd's put and delete do.
 */
import type { KeyIndex, RevisionRecord } from './_key-index.ts';
import type { Lessor } from './_lessor.ts';
import type { Mvcc } from './_mvcc.ts';
import { assert } from './errors.ts';

export class WriteTxn {
  readonly mvcc: Mvcc;
  readonly lessor: Lessor;
  readonly beginRevision: number;
  /** Invariant: changes[i] has revision (beginRevision + 1, i). */
  readonly changes: RevisionRecord[] = [];
  #committed = false;

  constructor(mvcc: Mvcc, lessor: Lessor) {
    this.mvcc = mvcc;
    this.lessor = lessor;
    this.beginRevision = mvcc.currentRevision;
  }

  /** The revision reads inside the transaction see: including its own changes once there are some. */
  get viewRevision(): number {
    return this.changes.length > 0 ? this.beginRevision + 1 : this.beginRevision;
  }

  get writeRevision(): number {
    return this.beginRevision + 1;
  }

  /** Puts `value` under `key`: a new version of the live key, or version 1 of a new generation. */
  put(key: string, keyBytes: Uint8Array, value: Uint8Array, lease: number): RevisionRecord {
    assert(!this.#committed, 'no write after commit');
    const previous = this.mvcc.recordAt(key, this.writeRevision);
    const record = this.mvcc.appendPut(key, keyBytes, [this.writeRevision, this.changes.length], {
      createRevision: previous === null ? this.writeRevision : previous.createRevision,
      version: previous === null ? 1 : previous.version + 1,
      value,
      lease,
    });
    this.changes.push(record);
    if (previous !== null && previous.lease !== 0) this.lessor.detach(previous.lease, key);
    if (lease !== 0) this.lessor.attach(lease, key);
    return record;
  }

  delete(keyIndex: KeyIndex): RevisionRecord {
    assert(!this.#committed, 'no write after commit');
    const live = keyIndex.live;
    assert(live !== null, 'only a live key is deleted');
    const record = this.mvcc.appendTombstone(keyIndex, [this.writeRevision, this.changes.length]);
    this.changes.push(record);
    if (live.lease !== 0) this.lessor.detach(live.lease, keyIndex.key);
    return record;
  }

  /** Ends the transaction; the store's revision moves on only if something changed. Returns it. */
  commit(): number {
    assert(!this.#committed, 'a transaction commits once');
    assert(this.mvcc.currentRevision === this.beginRevision, 'write transactions do not interleave');
    this.#committed = true;
    if (this.changes.length > 0) this.mvcc.currentRevision = this.writeRevision;
    return this.mvcc.currentRevision;
  }
}
