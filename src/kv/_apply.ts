/**
 * Key-value writes and transactions with etcd v3.4's apply semantics (etcdserver/apply.go): put with
 * prev_kv / ignore_value / ignore_lease, delete-range, compares, and txns whose compares (nested ones too)
 * are all evaluated against the state before the txn, whose puts and ranges are checked before anything is
 * written, and whose ops then run in order, each seeing the earlier ones.
 */
import { bytesToKey, compareBytes, emptyBytes, keySpanOf } from './_bytes.ts';
import type { RevisionRecord } from './_key-index.ts';
import type { Lessor } from './_lessor.ts';
import type { Mvcc } from './_mvcc.ts';
import { executeRange, toKeyValue } from './_range.ts';
import type { WriteTxn } from './_write-txn.ts';
import { assert, KvError } from './errors.ts';
import {
  CompareResult,
  CompareTarget,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type PutRequest,
  type PutResponse,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from './types.ts';

export function applyPut(txn: WriteTxn, request: PutRequest): PutResponse {
  const key = bytesToKey(request.key);
  const previous = txn.mvcc.recordAt(key, txn.viewRevision);
  const ignoring = request.ignoreValue === true || request.ignoreLease === true;
  // ignore_value and ignore_lease need the key to exist (etcd: "key not found").
  if (ignoring && previous === null) throw new KvError('KV_KEY_NOT_FOUND');
  const value = request.ignoreValue === true ? (previous as RevisionRecord).value : txn.mvcc.keep(request.value);
  const lease = request.ignoreLease === true ? (previous as RevisionRecord).lease : (request.lease ?? 0);
  txn.put(key, request.key, value, lease);
  const response: PutResponse = { header: { revision: txn.writeRevision } };
  if (request.prevKv === true && previous !== null) response.prevKv = toKeyValue(previous);
  return response;
}

export function applyDeleteRange(txn: WriteTxn, request: DeleteRangeRequest): DeleteRangeResponse {
  const doomed: RevisionRecord[] = [];
  txn.mvcc.forEachVisible(keySpanOf(request.key, request.rangeEnd), txn.viewRevision, (record) => {
    doomed.push(record);
    return true;
  });
  const prevKvs = request.prevKv === true ? doomed.map((record) => toKeyValue(record)) : [];
  for (const record of doomed) txn.delete(record.keyIndex);
  const revision = txn.changes.length > 0 ? txn.writeRevision : txn.beginRevision;
  return { header: { revision }, deleted: doomed.length, prevKvs };
}

function compareRecord(compare: Compare, record: RevisionRecord | null): boolean {
  let result: number;
  switch (compare.target) {
    case CompareTarget.Value:
      result = compareBytes(record === null ? emptyBytes : record.value, compare.value ?? emptyBytes);
      break;
    case CompareTarget.Create:
      result = Math.sign((record?.createRevision ?? 0) - (compare.createRevision ?? 0));
      break;
    case CompareTarget.Mod:
      result = Math.sign((record?.mainRevision ?? 0) - (compare.modRevision ?? 0));
      break;
    case CompareTarget.Version:
      result = Math.sign((record?.version ?? 0) - (compare.version ?? 0));
      break;
    case CompareTarget.Lease:
      result = Math.sign((record?.lease ?? 0) - (compare.lease ?? 0));
      break;
    default:
      throw new KvError('KV_INVALID_ARGUMENT', `unknown compare target ${String(compare.target)}`);
  }
  switch (compare.result) {
    case CompareResult.Equal:
      return result === 0;
    case CompareResult.NotEqual:
      return result !== 0;
    case CompareResult.Greater:
      return result > 0;
    case CompareResult.Less:
      return result < 0;
    default:
      throw new KvError('KV_INVALID_ARGUMENT', `unknown compare result ${String(compare.result)}`);
  }
}

/**
 * etcd's applyCompare: every key in the range must satisfy the compare. With no key at all, a VALUE compare
 * fails and the others compare against zero (a missing key has version, revisions and lease 0).
 */
export function applyCompare(mvcc: Mvcc, compare: Compare, revision: number): boolean {
  let found = false;
  let satisfied = true;
  mvcc.forEachVisible(keySpanOf(compare.key, compare.rangeEnd), revision, (record) => {
    found = true;
    satisfied = compareRecord(compare, record);
    return satisfied;
  });
  if (found) return satisfied;
  return compare.target === CompareTarget.Value ? false : compareRecord(compare, null);
}

/** The branch every txn on the taken path takes, depth first, all decided before the txn writes. */
export function compareToPath(mvcc: Mvcc, request: TxnRequest, revision: number, path: boolean[]): void {
  const succeeded = (request.compare ?? []).every((compare) => applyCompare(mvcc, compare, revision));
  path.push(succeeded);
  for (const op of (succeeded ? request.success : request.failure) ?? []) {
    if (op.requestTxn !== undefined) compareToPath(mvcc, op.requestTxn, revision, path);
  }
}

interface PathCursor {
  index: number;
}

function takeBranch(request: TxnRequest, path: readonly boolean[], cursor: PathCursor): { succeeded: boolean; ops: RequestOp[] } {
  const succeeded = path[cursor.index++];
  assert(succeeded !== undefined, 'the path covers every txn on it');
  return { succeeded, ops: (succeeded ? request.success : request.failure) ?? [] };
}

/** Runs `check` on every non-txn op on the path (etcd's checkRequests). */
export function checkPathOps(request: TxnRequest, path: readonly boolean[], cursor: PathCursor, check: (op: RequestOp) => void): void {
  for (const op of takeBranch(request, path, cursor).ops) {
    if (op.requestTxn !== undefined) checkPathOps(op.requestTxn, path, cursor, check);
    else check(op);
  }
}

/** etcd's checkRequestPut: ignore flags need the key, a lease must exist; seen before the txn writes. */
export function checkPutOp(mvcc: Mvcc, lessor: Lessor, revision: number): (op: RequestOp) => void {
  return (op) => {
    const request = op.requestPut;
    if (request === undefined) return;
    if ((request.ignoreValue === true || request.ignoreLease === true) && mvcc.recordAt(bytesToKey(request.key), revision) === null) {
      throw new KvError('KV_KEY_NOT_FOUND');
    }
    const lease = request.lease ?? 0;
    if (lease !== 0 && lessor.lookup(lease) === undefined) throw new KvError('KV_LEASE_NOT_FOUND');
  };
}

/** etcd's checkRange: an explicit revision must be neither future nor compacted (0 always passes). */
export function checkRangeOp(mvcc: Mvcc, revision: number): (op: RequestOp) => void {
  return (op) => {
    const requested = op.requestRange?.revision ?? 0;
    if (requested === 0) return;
    if (requested > revision) throw new KvError('KV_FUTURE_REV');
    if (requested < mvcc.compactRevision) throw new KvError('KV_COMPACTED');
  };
}

/** Runs the ops of every txn on the path. Nested txns answer with header revision 0, as in etcd. */
export function applyTxnOps(txn: WriteTxn, request: TxnRequest, path: readonly boolean[], cursor: PathCursor): TxnResponse {
  const { succeeded, ops } = takeBranch(request, path, cursor);
  const responses: ResponseOp[] = [];
  for (const op of ops) {
    if (op.requestRange !== undefined) {
      responses.push({ responseRange: executeRange(txn.mvcc, op.requestRange, txn.viewRevision) });
    } else if (op.requestPut !== undefined) {
      responses.push({ responsePut: applyPut(txn, op.requestPut) });
    } else if (op.requestDeleteRange !== undefined) {
      responses.push({ responseDeleteRange: applyDeleteRange(txn, op.requestDeleteRange) });
    } else {
      assert(op.requestTxn !== undefined, 'a validated op sets one request');
      responses.push({ responseTxn: applyTxnOps(txn, op.requestTxn, path, cursor) });
    }
  }
  return { header: { revision: 0 }, succeeded, responses };
}
