/**
 * Request checks that need no state: etcd's v3rpc checks (key.go: checkRangeRequest, checkPutRequest,
 * checkTxnRequest, checkIntervals) plus keel's number and enum checks. The API may run them before proposing;
 * the store runs them again when applying, so a bad entry fails the same way on every member.
 */
import { keySpanOf, type KeySpan } from './_bytes.ts';
import { KvError } from './errors.ts';
import { kvOverheadBytes, txnDepthMax, txnOperationsMax } from './limits.ts';
import type { Compare, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './types.ts';

export function checkInteger(value: number | undefined): void {
  if (value !== undefined && !Number.isSafeInteger(value)) throw new KvError('KV_UNSAFE_INTEGER', String(value));
}

function checkEnum(value: number | undefined, size: number, name: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0 && value < size)) {
    throw new KvError('KV_INVALID_ARGUMENT', `unknown ${name} ${String(value)}`);
  }
}

function checkKey(key: Uint8Array | undefined): void {
  if (key === undefined || key.length === 0) throw new KvError('KV_EMPTY_KEY');
}

export function validateRangeRequest(request: RangeRequest): void {
  checkKey(request.key);
  checkInteger(request.limit);
  checkInteger(request.revision);
  checkInteger(request.minModRevision);
  checkInteger(request.maxModRevision);
  checkInteger(request.minCreateRevision);
  checkInteger(request.maxCreateRevision);
  checkEnum(request.sortOrder, 3, 'sort order');
  checkEnum(request.sortTarget, 5, 'sort target');
}

export function validatePutRequest(request: PutRequest): void {
  checkKey(request.key);
  checkInteger(request.lease);
  if (request.ignoreValue === true && request.value !== undefined && request.value.length !== 0) {
    throw new KvError('KV_VALUE_PROVIDED');
  }
  if (request.ignoreLease === true && request.lease !== undefined && request.lease !== 0) {
    throw new KvError('KV_LEASE_PROVIDED');
  }
}

export function validateDeleteRangeRequest(request: DeleteRangeRequest): void {
  checkKey(request.key);
}

function validateCompare(compare: Compare): void {
  checkKey(compare.key);
  checkEnum(compare.result, 4, 'compare result');
  checkEnum(compare.target, 5, 'compare target');
  checkInteger(compare.version);
  checkInteger(compare.createRevision);
  checkInteger(compare.modRevision);
  checkInteger(compare.lease);
}

/**
 * etcd's checkTxnRequest: the largest of the compare, success and failure lists may hold at most
 * `operationsMax` entries, and a nested txn gets what its parent leaves (`operationsMax` minus that size).
 */
export function validateTxnRequest(request: TxnRequest, operationsMax = txnOperationsMax, depth = 0): void {
  if (depth >= txnDepthMax) throw new KvError('KV_TOO_MANY_OPS', 'txn nesting too deep');
  const compares = request.compare ?? [];
  const success = request.success ?? [];
  const failure = request.failure ?? [];
  const operations = Math.max(compares.length, success.length, failure.length);
  if (operations > operationsMax) throw new KvError('KV_TOO_MANY_OPS');
  for (const compare of compares) validateCompare(compare);
  for (const op of success) validateRequestOp(op, operationsMax - operations, depth);
  for (const op of failure) validateRequestOp(op, operationsMax - operations, depth);
}

function validateRequestOp(op: RequestOp, operationsMax: number, depth: number): void {
  const setCount = Number(op.requestRange !== undefined) + Number(op.requestPut !== undefined) +
    Number(op.requestDeleteRange !== undefined) + Number(op.requestTxn !== undefined);
  // etcd answers an empty op with "key not found"; more than one is impossible on the wire (a oneof).
  if (setCount === 0) throw new KvError('KV_KEY_NOT_FOUND');
  if (setCount > 1) throw new KvError('KV_INVALID_ARGUMENT', 'a request op sets more than one request');
  if (op.requestRange !== undefined) validateRangeRequest(op.requestRange);
  else if (op.requestPut !== undefined) validatePutRequest(op.requestPut);
  else if (op.requestDeleteRange !== undefined) validateDeleteRangeRequest(op.requestDeleteRange);
  else if (op.requestTxn !== undefined) validateTxnRequest(op.requestTxn, operationsMax, depth + 1);
}

interface WriteSet {
  readonly puts: Set<string>;
  readonly deletes: KeySpan[];
}

function deletesCover(deletes: readonly KeySpan[], key: string): boolean {
  for (const span of deletes) {
    if (span.single ? key === span.start : key >= span.start && (span.end === null || key < span.end)) return true;
  }
  return false;
}

/**
 * etcd's checkIntervals: within one op list no key may be put twice, and no key may be both put and
 * deleted, counting the writes of nested txns; the success and failure branches of one nested txn may put
 * the same key (only one runs). Deletes may overlap each other. As in etcd, a nested txn's put is not
 * checked against deletes of later sibling txns.
 *
 * One deliberate difference: etcd 3.4 turns a delete's range end "\0" into the interval [key, "\0"), which
 * matches nothing, so it misses a put under a delete-to-the-end; with ignore_value that put then fails
 * mid-transaction and etcd panics. keel treats "\0" as unbounded here too and rejects the txn.
 */
export function checkDuplicateKeys(ops: readonly RequestOp[]): WriteSet {
  const deletes: KeySpan[] = [];
  for (const op of ops) {
    const request = op.requestDeleteRange;
    if (request !== undefined) deletes.push(keySpanOf(request.key, request.rangeEnd));
  }
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.requestTxn === undefined) continue;
    const then = checkDuplicateKeys(op.requestTxn.success ?? []);
    const otherwise = checkDuplicateKeys(op.requestTxn.failure ?? []);
    for (const key of then.puts) {
      if (puts.has(key) || deletesCover(deletes, key)) throw new KvError('KV_DUPLICATE_KEY');
      puts.add(key);
    }
    for (const key of otherwise.puts) {
      if (puts.has(key) && !then.puts.has(key)) throw new KvError('KV_DUPLICATE_KEY');
      if (deletesCover(deletes, key)) throw new KvError('KV_DUPLICATE_KEY');
      puts.add(key);
    }
    deletes.push(...then.deletes, ...otherwise.deletes);
  }
  for (const op of ops) {
    if (op.requestPut === undefined) continue;
    const key = keySpanOf(op.requestPut.key, undefined).start;
    if (puts.has(key) || deletesCover(deletes, key)) throw new KvError('KV_DUPLICATE_KEY');
    puts.add(key);
  }
  return { puts, deletes };
}

/**
 * Every check etcd's API makes on a txn before proposing it (exported as `validateTxnRequest`). The store
 * repeats them when applying; running them first keeps bad requests out of the log.
 *
 * @example
 * validateTxnRequest({ success: [putA, putA] }); // throws KV_DUPLICATE_KEY
 */
export function validateWholeTxn(request: TxnRequest): void {
  validateTxnRequest(request);
  checkDuplicateKeys(request.success ?? []);
  checkDuplicateKeys(request.failure ?? []);
}

/** True when no branch at any depth writes (etcd's isTxnReadonly). */
export function isReadOnlyTxn(request: TxnRequest): boolean {
  for (const ops of [request.success ?? [], request.failure ?? []]) {
    for (const op of ops) {
      if (op.requestPut !== undefined || op.requestDeleteRange !== undefined) return false;
      if (op.requestTxn !== undefined && !isReadOnlyTxn(op.requestTxn)) return false;
    }
  }
  return true;
}

export function putCostBytes(request: PutRequest): number {
  return kvOverheadBytes + request.key.length + (request.value?.length ?? 0);
}

/** etcd's quota cost of a txn: the larger of its top-level success and failure puts. */
export function txnCostBytes(request: TxnRequest): number {
  const branchCost = (ops: readonly RequestOp[]): number => {
    let cost = 0;
    for (const op of ops) if (op.requestPut !== undefined) cost += putCostBytes(op.requestPut);
    return cost;
  };
  return Math.max(branchCost(request.success ?? []), branchCost(request.failure ?? []));
}
