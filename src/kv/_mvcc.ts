/**
 * The multi-version store: a B+ tree of key indexes, the revision log (every stored revision in order,
 * etcd's "key" bucket), the current and compacted revisions, and a size estimate. Leases, alarms, quota
 * and request semantics live above it.
 */
import { BTreeMap } from './_b-tree.ts';
import { keepBytes, keyToBytes, type KeySpan } from './_bytes.ts';
import { KeyIndex, RevisionRecord } from './_key-index.ts';
import { assert } from './errors.ts';
import { kvOverheadBytes } from './limits.ts';

/** A store starts at revision 1 with nothing compacted, as etcd's does. */
export const initialRevision = 1;
export const initialCompactRevision = -1;

export function recordSizeBytes(record: RevisionRecord): number {
  return kvOverheadBytes + record.keyIndex.key.length + record.valueLength;
}

export class Mvcc {
  readonly index = new BTreeMap<KeyIndex>();
  /** Invariant: records ascend strictly by (main, sub); none is compacted. */
  readonly log: RevisionRecord[] = [];
  /** Invariant: >= every record's main revision; grows by one per write transaction with changes. */
  currentRevision = initialRevision;
  /** Invariant: < currentRevision + 1; reads below it fail. */
  compactRevision = initialCompactRevision;
  /** Estimated bytes of all records in the log. */
  sizeBytes = 0;
  /**
   * Whether request byte arrays are handed over (see KvStoreOptions.adoptsRequestBytes): kept rather than
   * copied when they pin little else. Otherwise every key and value stored is a copy.
   */
  adoptsBytes = false;
  /** Keys whose history compaction may shorten (see KeyIndex.isCompactionStable). */
  readonly #compactable = new Set<KeyIndex>();

  /**
   * The newest revision with state: the current one, or the one a write transaction is filling. Reads at or
   * above it see exactly the live keys, which the index marks and counts.
   */
  get headRevision(): number {
    const last = this.log[this.log.length - 1];
    return last === undefined ? this.currentRevision : Math.max(this.currentRevision, last.mainRevision);
  }

  /** Keys in the span visible at `revision`: O(log n) at the head revision, a scan for history. */
  countVisible(span: KeySpan, revision: number): number {
    if (span.single) return this.recordAt(span.start, revision) === null ? 0 : 1;
    if (revision >= this.headRevision) return this.index.countMarked(span.start, span.end);
    let count = 0;
    this.forEachVisible(span, revision, () => {
      count++;
      return true;
    });
    return count;
  }

  recordAt(key: string, revision: number): RevisionRecord | null {
    const keyIndex = this.index.get(key);
    return keyIndex === undefined ? null : keyIndex.at(revision);
  }

  /** Visits the puts visible at `revision` in the span, in key order, until `visit` returns false. */
  forEachVisible(span: KeySpan, revision: number, visit: (record: RevisionRecord) => boolean): void {
    if (span.single) {
      const record = this.recordAt(span.start, revision);
      if (record !== null) visit(record);
      return;
    }
    const atHead = revision >= this.headRevision;
    this.index.forEachInRange(span.start, span.end, (_key, keyIndex) => {
      const record = atHead ? keyIndex.live : keyIndex.at(revision);
      return record === null ? true : visit(record);
    }, atHead);
  }

  /** The bytes to store for a request's key or value: see {@link keepBytes}. */
  keep(bytes: Uint8Array | undefined): Uint8Array {
    return keepBytes(bytes, this.adoptsBytes);
  }

  /** Appends a put of `key` at (main, sub); the caller has computed version and create revision. */
  appendPut(key: string, keyBytes: Uint8Array | null, revision: readonly [number, number], fields: PutFields): RevisionRecord {
    let keyIndex = this.index.get(key);
    if (keyIndex === undefined) {
      keyIndex = new KeyIndex(key, keyBytes === null ? keyToBytes(key) : this.keep(keyBytes));
      this.index.set(key, keyIndex);
    }
    const record = new RevisionRecord(keyIndex, revision[0], revision[1], fields);
    const wasLive = keyIndex.live !== null;
    keyIndex.appendPut(record);
    if (!wasLive) this.index.setMarked(key, true);
    this.#appendToLog(record);
    if (!keyIndex.isCompactionStable()) this.#compactable.add(keyIndex);
    return record;
  }

  appendTombstone(keyIndex: KeyIndex, revision: readonly [number, number]): RevisionRecord {
    const record = new RevisionRecord(keyIndex, revision[0], revision[1], null);
    keyIndex.appendTombstone(record);
    this.index.setMarked(keyIndex.key, false);
    this.#appendToLog(record);
    this.#compactable.add(keyIndex);
    return record;
  }

  #appendToLog(record: RevisionRecord): void {
    const last = this.log[this.log.length - 1];
    assert(last === undefined || last.isBefore(record), 'the revision log ascends');
    assert(record.mainRevision > this.compactRevision, 'no write below the compacted revision');
    this.log.push(record);
    this.sizeBytes += recordSizeBytes(record);
  }

  /** Index of the first log record whose main revision is >= `revision`. */
  logIndexFrom(revision: number): number {
    let low = 0;
    let high = this.log.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.log[middle] as RevisionRecord).mainRevision < revision) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * Removes the history before `revision` (keeping what is visible at it) from every key index and from the
   * log. The caller has validated `revision`.
   */
  compact(revision: number): void {
    assert(revision > this.compactRevision && revision <= this.currentRevision, 'compaction moves forward');
    const dropRecord = (record: RevisionRecord): void => {
      record.compacted = true;
      this.sizeBytes -= recordSizeBytes(record);
    };
    for (const keyIndex of this.#compactable) {
      keyIndex.compact(revision, dropRecord);
      if (keyIndex.isEmpty()) {
        this.index.delete(keyIndex.key);
        this.#compactable.delete(keyIndex);
      } else if (keyIndex.isCompactionStable()) {
        this.#compactable.delete(keyIndex);
      }
    }
    this.#removeCompactedFromLog(this.logIndexFrom(revision + 1));
    this.compactRevision = revision;
    assert(this.sizeBytes >= 0, 'the size estimate stays non-negative');
  }

  #removeCompactedFromLog(end: number): void {
    const log = this.log;
    let kept = 0;
    for (let index = 0; index < log.length; index++) {
      const record = log[index] as RevisionRecord;
      if (record.compacted) {
        assert(index < end, 'only records at or below the compacted revision are dropped');
        continue;
      }
      log[kept++] = record;
    }
    log.length = kept;
  }
}

export interface PutFields {
  readonly createRevision: number;
  readonly version: number;
  readonly value: Uint8Array;
  readonly lease: number;
}
