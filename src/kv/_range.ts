/**
 * Range reads with etcd v3.4's semantics (etcdserver/apply.go Range, mvcc rangeKeys), quirks included:
 * - `count` is the number of keys in the range at the read revision, before the min/max filters and limit;
 * - the min/max filters apply before limit;
 * - a sort order of NONE with a target other than KEY sorts ascending, but the fetch limit is decided before
 *   that promotion: such a request with a limit sorts only the first limit + 1 keys by key.
 */
import { compareBytes, emptyBytes, keySpanOf } from './_bytes.ts';
import type { RevisionRecord } from './_key-index.ts';
import type { Mvcc } from './_mvcc.ts';
import { assert, KvError } from './errors.ts';
import { SortOrder, SortTarget, type KeyValue, type RangeRequest, type RangeResponse } from './types.ts';

export function toKeyValue(record: RevisionRecord, keysOnly = false): KeyValue {
  assert(!record.tombstone, 'a tombstone is not a key-value');
  return {
    key: record.keyIndex.keyBytes,
    createRevision: record.createRevision,
    modRevision: record.mainRevision,
    version: record.version,
    value: keysOnly ? emptyBytes : record.value,
    lease: record.lease,
  };
}

/** The revision a read at `requested` sees, given the view's revision; throws future/compacted. */
export function resolveReadRevision(mvcc: Mvcc, requested: number | undefined, viewRevision: number): number {
  const revision = requested ?? 0;
  if (revision > viewRevision) throw new KvError('KV_FUTURE_REV');
  const resolved = revision <= 0 ? viewRevision : revision;
  if (resolved < mvcc.compactRevision) throw new KvError('KV_COMPACTED');
  return resolved;
}

/** Runs a validated range request against a view whose revision is `viewRevision`. */
export function executeRange(mvcc: Mvcc, request: RangeRequest, viewRevision: number): RangeResponse {
  const revision = resolveReadRevision(mvcc, request.revision, viewRevision);
  const limit = request.limit ?? 0;
  const sortOrder = request.sortOrder ?? SortOrder.None;
  const filtered = hasRevisionFilter(request);
  let fetchLimit = sortOrder !== SortOrder.None || filtered ? 0 : limit;
  if (fetchLimit > 0) fetchLimit += 1;

  const span = keySpanOf(request.key, request.rangeEnd);
  const countOnly = request.countOnly === true;
  let records: RevisionRecord[] = [];
  let count = 0;
  if (span.single || revision >= mvcc.headRevision) {
    // The live keys are counted by the index; only the returned ones are visited.
    count = mvcc.countVisible(span, revision);
    if (!countOnly) {
      mvcc.forEachVisible(span, revision, (record) => {
        records.push(record);
        return fetchLimit <= 0 || records.length < fetchLimit;
      });
    }
  } else {
    mvcc.forEachVisible(span, revision, (record) => {
      count++;
      if (!countOnly && (fetchLimit <= 0 || records.length < fetchLimit)) records.push(record);
      return true;
    });
  }
  const header = { revision: viewRevision };
  if (countOnly) return { header, kvs: [], more: false, count };

  if (filtered) records = records.filter((record) => passesRevisionFilters(request, record));
  sortRecords(records, request.sortTarget ?? SortTarget.Key, sortOrder);
  let more = false;
  if (limit > 0 && records.length > limit) {
    records.length = limit;
    more = true;
  }
  const keysOnly = request.keysOnly === true;
  const kvs = new Array<KeyValue>(records.length);
  for (let index = 0; index < records.length; index++) kvs[index] = toKeyValue(records[index] as RevisionRecord, keysOnly);
  return { header, kvs, more, count };
}

function hasRevisionFilter(request: RangeRequest): boolean {
  return (request.minModRevision ?? 0) !== 0 || (request.maxModRevision ?? 0) !== 0 ||
    (request.minCreateRevision ?? 0) !== 0 || (request.maxCreateRevision ?? 0) !== 0;
}

function passesRevisionFilters(request: RangeRequest, record: RevisionRecord): boolean {
  const maxMod = request.maxModRevision ?? 0;
  const minMod = request.minModRevision ?? 0;
  const maxCreate = request.maxCreateRevision ?? 0;
  const minCreate = request.minCreateRevision ?? 0;
  if (maxMod !== 0 && record.mainRevision > maxMod) return false;
  if (minMod !== 0 && record.mainRevision < minMod) return false;
  if (maxCreate !== 0 && record.createRevision > maxCreate) return false;
  if (minCreate !== 0 && record.createRevision < minCreate) return false;
  return true;
}

/**
 * Sorts in place. Records arrive in ascending key order. etcd sorts with Go's unstable sort.Sort; keel sorts
 * stably, so ties keep ascending key order in both directions (what Go's insertion sort does for the up to
 * 12 elements where it is used, and one fixed order beyond).
 */
function sortRecords(records: RevisionRecord[], target: SortTarget, requestedOrder: SortOrder): void {
  const order = target !== SortTarget.Key && requestedOrder === SortOrder.None ? SortOrder.Ascend : requestedOrder;
  if (order === SortOrder.None) return;
  if (target === SortTarget.Key) {
    if (order === SortOrder.Descend) records.reverse();
    return;
  }
  const direction = order === SortOrder.Descend ? -1 : 1;
  const compare = comparatorFor(target);
  records.sort((left, right) => direction * compare(left, right));
}

function comparatorFor(target: SortTarget): (left: RevisionRecord, right: RevisionRecord) => number {
  switch (target) {
    case SortTarget.Version:
      return (left, right) => left.version - right.version;
    case SortTarget.Create:
      return (left, right) => left.createRevision - right.createRevision;
    case SortTarget.Mod:
      return (left, right) => left.mainRevision - right.mainRevision;
    case SortTarget.Value:
      return (left, right) => compareBytes(left.value, right.value);
    default:
      throw new KvError('KV_INVALID_ARGUMENT', `unknown sort target ${String(target)}`);
  }
}
