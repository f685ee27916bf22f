/**
 * The per-key history, after etcd's keyIndex: a key lives through generations. A generation starts with
 * the put that creates the key and ends with the tombstone that deletes it. Each revision of a key is one
 * {@link RevisionRecord}, shared with the store's revision log.
 */
import { emptyBytes } from './_bytes.ts';
import { assert } from './errors.ts';

/** V8 keeps a typed array of at most this many bytes on its heap (V8_TYPED_ARRAY_MAX_SIZE_IN_HEAP). */
const viewBytesMax = 64;

export class RevisionRecord {
  readonly keyIndex: KeyIndex;
  readonly mainRevision: number;
  readonly subRevision: number;
  /** 0 for a tombstone. */
  readonly createRevision: number;
  /** 0 for a tombstone. */
  readonly version: number;
  readonly lease: number;
  /** Set when compaction drops the record; the store then removes it from the revision log. */
  compacted = false;
  /**
   * A value longer than {@link viewBytesMax} is kept as its buffer and a range of it, not as a view: the
   * buffer is the Raft entry's the value arrived in (or the value's own copy), which lives anyway, while a
   * view is one more object of 96 bytes per revision for every scavenge and full collection to copy and
   * mark. `value` makes a view when asked (a read, a hash, a snapshot). A shorter value keeps its view
   * (`#valueView`): V8 holds small typed arrays on its heap, and asking one for its buffer would move its
   * bytes off the heap into a new allocation.
   */
  readonly #valueView: Uint8Array | null;
  readonly #valueBuffer: ArrayBufferLike | null;
  readonly #valueOffset: number;
  readonly valueLength: number;

  constructor(keyIndex: KeyIndex, mainRevision: number, subRevision: number, fields: RecordFields | null) {
    this.keyIndex = keyIndex;
    this.mainRevision = mainRevision;
    this.subRevision = subRevision;
    this.createRevision = fields === null ? 0 : fields.createRevision;
    this.version = fields === null ? 0 : fields.version;
    this.lease = fields === null ? 0 : fields.lease;
    const value = fields === null ? emptyBytes : fields.value;
    const small = value.byteLength <= viewBytesMax;
    this.#valueView = small ? value : null;
    this.#valueBuffer = small ? null : value.buffer;
    this.#valueOffset = small ? 0 : value.byteOffset;
    this.valueLength = value.byteLength;
  }

  get tombstone(): boolean {
    return this.version === 0;
  }

  /** The value (empty for a tombstone), to read, never to write. */
  get value(): Uint8Array {
    return this.#valueView ?? new Uint8Array(this.#valueBuffer!, this.#valueOffset, this.valueLength);
  }

  /** Orders records by (main, sub) revision. */
  isBefore(other: RevisionRecord): boolean {
    if (this.mainRevision !== other.mainRevision) return this.mainRevision < other.mainRevision;
    return this.subRevision < other.subRevision;
  }
}

export interface RecordFields {
  readonly createRevision: number;
  readonly version: number;
  readonly value: Uint8Array;
  readonly lease: number;
}

/** Binary search: the last index in `records` whose main revision is <= revision, or -1. */
function lastAtOrBefore(records: readonly RevisionRecord[], revision: number): number {
  let low = 0;
  let high = records.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((records[middle] as RevisionRecord).mainRevision <= revision) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}

/**
 * `records` with `record` added. Most keys keep a short history, and an empty array's first push reserves 16
 * slots (144 bytes a key, which every scavenge copies): histories of up to four records get exact-size
 * arrays, longer ones grow in place.
 */
function appended(records: RevisionRecord[], record: RevisionRecord): RevisionRecord[] {
  switch (records.length) {
    case 0: return [record];
    case 1: return [records[0] as RevisionRecord, record];
    case 2: return [records[0] as RevisionRecord, records[1] as RevisionRecord, record];
    case 3: return [records[0] as RevisionRecord, records[1] as RevisionRecord, records[2] as RevisionRecord, record];
    default:
      records.push(record);
      return records;
  }
}

export class KeyIndex {
  readonly key: string;
  readonly keyBytes: Uint8Array;
  /**
   * Every stored revision of the key, ascending. Generations are implicit: a tombstone ends one. Invariant:
   * a tombstone is never first and never follows another tombstone.
   */
  records: RevisionRecord[] = [];
  /**
   * The record live now, or null while the key is deleted. Invariant: the last record unless that is a
   * tombstone. Cached because reads at the current revision need only this, and on big scans every pointer
   * hop costs a cache miss.
   */
  live: RevisionRecord | null = null;

  constructor(key: string, keyBytes: Uint8Array) {
    this.key = key;
    this.keyBytes = keyBytes;
  }

  /**
   * The put visible at `revision`, or null if the key did not exist then: the newest record at or before
   * `revision`, unless that is a tombstone (what etcd's keyIndex.get finds through its generations).
   */
  at(revision: number): RevisionRecord | null {
    const live = this.live;
    if (live !== null && live.mainRevision <= revision) return live;
    const index = lastAtOrBefore(this.records, revision);
    if (index < 0) return null;
    const record = this.records[index] as RevisionRecord;
    return record.tombstone ? null : record;
  }

  appendPut(record: RevisionRecord): void {
    assert(!record.tombstone && record.keyIndex === this, 'a put of this key');
    const latest = this.records[this.records.length - 1];
    assert(latest === undefined || latest.isBefore(record), 'revisions of a key ascend');
    const live = this.live;
    assert(live === null ? latest === undefined || record.version === 1 : record.version === live.version + 1, 'versions count up within a generation');
    this.records = appended(this.records, record);
    this.live = record;
  }

  appendTombstone(record: RevisionRecord): void {
    assert(record.tombstone && record.keyIndex === this, 'a tombstone of this key');
    const live = this.live;
    assert(live !== null, 'only a live key is deleted');
    assert(live.isBefore(record), 'revisions of a key ascend');
    this.records = appended(this.records, record);
    this.live = null;
  }

  /** No record left: compaction removed the whole history of a deleted key. */
  isEmpty(): boolean {
    return this.records.length === 0;
  }

  /** A single put and nothing else: compaction at any revision leaves it unchanged. */
  isCompactionStable(): boolean {
    return this.records.length === 1 && !(this.records[0] as RevisionRecord).tombstone;
  }

  /**
   * Drops the history before `revision`, keeping the record visible at `revision` (etcd's keyIndex.compact):
   * everything older than the newest record at or before `revision` goes, and that record too if it is a
   * tombstone (a generation deleted at or before `revision` goes entirely). Calls `dropped` for each.
   */
  compact(revision: number, dropped: (record: RevisionRecord) => void): void {
    const newest = lastAtOrBefore(this.records, revision);
    if (newest < 0) return;
    const cut = (this.records[newest] as RevisionRecord).tombstone ? newest + 1 : newest;
    for (let index = 0; index < cut; index++) dropped(this.records[index] as RevisionRecord);
    if (cut > 0) this.records.splice(0, cut);
    assert(this.records.length === 0 || !(this.records[0] as RevisionRecord).tombstone, 'history never starts with a tombstone');
    assert(this.live === null || this.records[this.records.length - 1] === this.live, 'compaction keeps the live record');
  }
}
