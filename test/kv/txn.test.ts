import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CompareResult,
  CompareTarget,
  txnOperationsMax,
  validateTxnRequest,
  type Compare,
  type KvStore,
  type RequestOp,
} from '../../src/kv/index.ts';
import { assertKvError, bytes, describeKvs, fromKey, newStore, put, text } from './_helpers.ts';

const putOp = (key: string, value = 'v'): RequestOp => ({ requestPut: { key: bytes(key), value: bytes(value) } });
const deleteOp = (key: string, rangeEnd?: Uint8Array): RequestOp => ({ requestDeleteRange: { key: bytes(key), ...(rangeEnd === undefined ? {} : { rangeEnd }) } });
const rangeOp = (key: string, rangeEnd?: Uint8Array): RequestOp => ({ requestRange: { key: bytes(key), ...(rangeEnd === undefined ? {} : { rangeEnd }) } });

/** k: version 2, create 2, mod 3, value "b", lease 0. */
function fixture(): KvStore {
  const { store } = newStore();
  put(store, 'k', 'a'); // 2
  put(store, 'k', 'b'); // 3
  return store;
}

function holds(store: KvStore, compare: Compare): boolean {
  return store.txn({ compare: [compare] }).succeeded;
}

test('compares on version, create, mod and lease with every result operator', () => {
  const store = fixture();
  const cases: Array<[CompareTarget, Partial<Compare>, number]> = [
    [CompareTarget.Version, { version: 2 }, 0],
    [CompareTarget.Create, { createRevision: 2 }, 0],
    [CompareTarget.Mod, { modRevision: 3 }, 0],
    [CompareTarget.Lease, { lease: 0 }, 0],
  ];
  for (const [target, operand] of cases) {
    const base = { key: bytes('k'), target, ...operand };
    const value = (operand.version ?? operand.createRevision ?? operand.modRevision ?? operand.lease) as number;
    const field = Object.keys(operand)[0] as keyof Compare;
    assert.equal(holds(store, { ...base, result: CompareResult.Equal }), true, `${target} equal`);
    assert.equal(holds(store, { ...base, result: CompareResult.NotEqual }), false, `${target} not equal`);
    assert.equal(holds(store, { ...base, [field]: value - 1, result: CompareResult.Greater }), true, `${target} greater`);
    assert.equal(holds(store, { ...base, result: CompareResult.Greater }), false, `${target} not greater`);
    assert.equal(holds(store, { ...base, [field]: value + 1, result: CompareResult.Less }), true, `${target} less`);
    assert.equal(holds(store, { ...base, result: CompareResult.Less }), false, `${target} not less`);
  }
});

test('value compares are bytewise', () => {
  const store = fixture();
  const compare = (value: string, result: CompareResult): boolean => holds(store, { key: bytes('k'), target: CompareTarget.Value, value: bytes(value), result });
  assert.equal(compare('b', CompareResult.Equal), true);
  assert.equal(compare('a', CompareResult.Greater), true);
  assert.equal(compare('bb', CompareResult.Less), true, 'a prefix is smaller');
  assert.equal(compare('c', CompareResult.NotEqual), true);
  assert.equal(compare('c', CompareResult.Greater), false);
});

test('a missing key compares as version/create/mod/lease 0, and every value compare on it fails', () => {
  const store = fixture();
  assert.equal(holds(store, { key: bytes('none'), target: CompareTarget.Version, version: 0, result: CompareResult.Equal }), true);
  assert.equal(holds(store, { key: bytes('none'), target: CompareTarget.Create, createRevision: 0, result: CompareResult.Equal }), true);
  assert.equal(holds(store, { key: bytes('none'), target: CompareTarget.Mod, modRevision: 1, result: CompareResult.Less }), true);
  assert.equal(holds(store, { key: bytes('none'), target: CompareTarget.Value, value: bytes(''), result: CompareResult.Equal }), false);
  assert.equal(holds(store, { key: bytes('none'), target: CompareTarget.Value, value: bytes('x'), result: CompareResult.NotEqual }), false);
});

test('a compare with a range end must hold for every key in the range', () => {
  const { store } = newStore();
  put(store, 'p/a', '1'); // 2
  put(store, 'p/b', '1'); // 3
  put(store, 'q', '1'); // 4
  const rangeEnd = bytes('p0');
  assert.equal(holds(store, { key: bytes('p/'), rangeEnd, target: CompareTarget.Mod, modRevision: 4, result: CompareResult.Less }), true);
  assert.equal(holds(store, { key: bytes('p/'), rangeEnd, target: CompareTarget.Mod, modRevision: 3, result: CompareResult.Less }), false, 'p/b has mod 3');
  assert.equal(holds(store, { key: bytes('p/'), rangeEnd: fromKey, target: CompareTarget.Mod, modRevision: 4, result: CompareResult.Less }), false, 'q is in "\\0"');
  assert.equal(holds(store, { key: bytes('x'), rangeEnd: bytes('y'), target: CompareTarget.Version, version: 0, result: CompareResult.Equal }), true, 'an empty range compares as zero');
});

test('all compares must hold for success; otherwise the failure branch runs', () => {
  const store = fixture();
  const compare = [
    { key: bytes('k'), target: CompareTarget.Version, version: 2, result: CompareResult.Equal },
    { key: bytes('k'), target: CompareTarget.Value, value: bytes('nope'), result: CompareResult.Equal },
  ];
  const response = store.txn({ compare, success: [putOp('s')], failure: [putOp('f'), rangeOp('k')] });
  assert.equal(response.succeeded, false);
  assert.equal(response.responses.length, 2);
  assert.equal(response.header.revision, 4);
  assert.equal(store.range({ key: bytes('s') }).count, 0);
  assert.equal(store.range({ key: bytes('f') }).count, 1);
});

test('a txn bumps the revision once; its ops share it with increasing sub revisions', () => {
  const store = fixture();
  const response = store.txn({ success: [putOp('x'), putOp('y'), deleteOp('k')] });
  assert.equal(response.header.revision, 4);
  assert.equal(store.revision, 4);
  assert.deepEqual(describeKvs(store.range({ key: bytes('x'), rangeEnd: fromKey }).kvs), [['x', 'v', 1, 4, 4], ['y', 'v', 1, 4, 4]]);
  const watch = store.watchHub.watch({ key: bytes('a'), rangeEnd: fromKey, startRevision: 4 });
  const events = store.watchHub.take(watch.watchId).flatMap((item) => item.events);
  assert.deepEqual(events.map((event) => [event.type, text(event.kv.key)]), [[0, 'x'], [0, 'y'], [1, 'k']], 'events follow the op order');
});

test('reads in a txn see the txn\'s earlier writes; put responses carry the new revision', () => {
  const store = fixture();
  const response = store.txn({ success: [putOp('n', 'c'), rangeOp('n'), deleteOp('k'), rangeOp('k')] });
  const first = response.responses[1]?.responseRange;
  assert.deepEqual(describeKvs(first?.kvs ?? []), [['n', 'c', 1, 4, 4]]);
  assert.equal(first?.header.revision, 4);
  assert.equal(response.responses[0]?.responsePut?.header.revision, 4);
  assert.equal(response.responses[2]?.responseDeleteRange?.deleted, 1);
  assert.equal(response.responses[3]?.responseRange?.count, 0);
  assert.equal(store.revision, 4);
});

test('a read-only txn and a txn whose only delete finds nothing keep the revision', () => {
  const store = fixture();
  assert.equal(store.txn({ success: [rangeOp('k')] }).header.revision, 3);
  assert.equal(store.txn({ success: [deleteOp('missing')] }).header.revision, 3);
  assert.equal(store.revision, 3);
});

test('a txn range at an explicit revision reads history; a future one fails the whole txn', () => {
  const store = fixture();
  const response = store.txn({ success: [{ requestRange: { key: bytes('k'), revision: 2 } }] });
  assert.equal(text(response.responses[0]?.responseRange?.kvs[0]?.value), 'a');
  assertKvError(() => store.txn({ success: [putOp('z'), { requestRange: { key: bytes('k'), revision: 4 } }] }), 'KV_FUTURE_REV');
  assert.equal(store.range({ key: bytes('z') }).count, 0, 'nothing was written');
  store.compact({ revision: 3 });
  assertKvError(() => store.txn({ success: [{ requestRange: { key: bytes('k'), revision: 2 } }] }), 'KV_COMPACTED');
});

test('nested txns decide every branch against the state before the txn', () => {
  const store = fixture();
  const response = store.txn({
    success: [
      putOp('k', 'changed'),
      {
        requestTxn: {
          // Sees k = "b" (before the outer put), so it succeeds.
          compare: [{ key: bytes('k'), target: CompareTarget.Value, value: bytes('b'), result: CompareResult.Equal }],
          success: [putOp('inner-success'), rangeOp('k')],
          failure: [putOp('inner-failure')],
        },
      },
    ],
  });
  const inner = response.responses[1]?.responseTxn;
  assert.equal(inner?.succeeded, true);
  assert.equal(inner?.header.revision, 0, 'nested headers stay 0, as in etcd');
  assert.equal(text(inner?.responses[1]?.responseRange?.kvs[0]?.value), 'changed', 'the inner read sees the outer put');
  assert.equal(store.range({ key: bytes('inner-success') }).count, 1);
  assert.equal(store.range({ key: bytes('inner-failure') }).count, 0);
  assert.equal(response.header.revision, 4);
});

test('duplicate puts of one key are refused, also through nested txns', () => {
  const store = fixture();
  const duplicate = (success: RequestOp[]): void => {
    assertKvError(() => store.txn({ success }), 'KV_DUPLICATE_KEY', 'etcdserver: duplicate key given in txn request');
  };
  duplicate([putOp('a'), putOp('a')]);
  duplicate([putOp('a'), { requestTxn: { success: [putOp('a')] } }]);
  duplicate([{ requestTxn: { success: [putOp('a')] } }, { requestTxn: { failure: [putOp('a')] } }]);
  duplicate([{ requestTxn: { success: [putOp('a'), putOp('a')] } }]);
  assert.equal(store.revision, 3, 'nothing applied');
});

test('a put inside a delete of the same txn is refused, for single keys, ranges and "\\0"', () => {
  const store = fixture();
  const duplicate = (success: RequestOp[]): void => {
    assertKvError(() => store.txn({ success }), 'KV_DUPLICATE_KEY');
  };
  duplicate([deleteOp('a'), putOp('a')]);
  duplicate([putOp('b'), deleteOp('a', bytes('c'))]);
  duplicate([deleteOp('a', bytes('c')), { requestTxn: { success: [putOp('b')] } }]);
  duplicate([{ requestTxn: { failure: [deleteOp('a', bytes('c'))] } }, putOp('b')]);
  duplicate([{ requestTxn: { success: [deleteOp('a')] } }, { requestTxn: { success: [putOp('a')] } }]);
  // keel differs from etcd 3.4 here: etcd misses a put under a delete to the end of the keyspace.
  duplicate([deleteOp('a', fromKey), putOp('z')]);
});

test('allowed overlaps: then/else of one nested txn, overlapping deletes, and a put before a later sibling\'s delete', () => {
  const store = fixture();
  store.txn({ success: [{ requestTxn: { success: [putOp('a')], failure: [putOp('a')] } }] });
  store.txn({ success: [deleteOp('a', bytes('c')), deleteOp('b'), deleteOp('a')] });
  // etcd checks a nested put only against deletes seen before it; this is accepted and runs in order.
  const response = store.txn({ success: [{ requestTxn: { success: [putOp('late')] } }, { requestTxn: { success: [deleteOp('late')] } }] });
  assert.equal(response.succeeded, true);
  assert.equal(store.range({ key: bytes('late') }).count, 0);
  assert.deepEqual(describeKvs(store.range({ key: bytes('a') }).kvs), []);
});

test('at most 128 ops per list; nested txns get what their parent leaves', () => {
  const store = fixture();
  const ops = (count: number): RequestOp[] => Array.from({ length: count }, (_, index) => putOp(`key${index}`));
  assert.equal(store.txn({ success: ops(txnOperationsMax) }).responses.length, txnOperationsMax);
  const error = assertKvError(() => store.txn({ success: ops(txnOperationsMax + 1) }), 'KV_TOO_MANY_OPS', 'etcdserver: too many operations in txn request');
  assert.equal(error.grpcCode, 3);
  const compares = Array.from({ length: txnOperationsMax + 1 }, () => ({ key: bytes('k'), target: CompareTarget.Version, result: CompareResult.Greater }));
  assertKvError(() => store.txn({ compare: compares }), 'KV_TOO_MANY_OPS');
  // The outer list holds 100, so a nested list may hold 28 but not 29.
  const outer = (innerCount: number): RequestOp[] => [...ops(99).map((op, index) => ({ requestRange: { key: bytes(`r${index}`) } }) as RequestOp), { requestTxn: { success: ops(innerCount) } }];
  assert.doesNotThrow(() => validateTxnRequest({ success: outer(28) }));
  assertKvError(() => validateTxnRequest({ success: outer(29) }), 'KV_TOO_MANY_OPS');
});

test('request checks: empty keys, empty ops, ignore flags with values, missing leases', () => {
  const store = fixture();
  assertKvError(() => store.txn({ compare: [{ key: new Uint8Array(0), target: CompareTarget.Version, result: CompareResult.Equal }] }), 'KV_EMPTY_KEY');
  assertKvError(() => store.txn({ success: [{}] }), 'KV_KEY_NOT_FOUND', 'etcdserver: key not found');
  assertKvError(() => store.txn({ success: [{ requestPut: { key: bytes('k'), value: bytes('x'), ignoreValue: true } }] }), 'KV_VALUE_PROVIDED');
  assertKvError(() => store.txn({ success: [{ requestPut: { key: bytes('new'), ignoreValue: true } }] }), 'KV_KEY_NOT_FOUND');
  assertKvError(() => store.txn({ success: [{ requestPut: { key: bytes('k'), lease: 42 } }] }), 'KV_LEASE_NOT_FOUND');
  // Checks only cover the branch that runs.
  assert.equal(store.txn({ failure: [{ requestPut: { key: bytes('k'), lease: 42 } }] }).succeeded, true);
  assertKvError(() => store.txn({ success: [{ requestTxn: { compare: [] } }, { requestTxn: {} }], failure: [{ requestDeleteRange: { key: new Uint8Array(0) } }] }), 'KV_EMPTY_KEY');
  assert.equal(store.revision, 3);
});

test('put with ignore_value and ignore_lease keeps the stored value and lease', () => {
  const { store } = newStore();
  const { id } = store.leaseGrant({ ttl: 60 });
  store.put({ key: bytes('k'), value: bytes('v1'), lease: id });
  store.put({ key: bytes('k'), ignoreValue: true, ignoreLease: true });
  const kv = store.range({ key: bytes('k') }).kvs[0];
  assert.equal(text(kv?.value), 'v1');
  assert.equal(kv?.lease, id);
  assert.equal(kv?.version, 2);
  store.put({ key: bytes('k'), value: bytes('v2'), ignoreLease: true });
  assert.equal(store.range({ key: bytes('k') }).kvs[0]?.lease, id);
  store.put({ key: bytes('k'), ignoreValue: true });
  assert.equal(store.range({ key: bytes('k') }).kvs[0]?.lease, 0, 'a put without ignore_lease detaches');
  assert.equal(text(store.range({ key: bytes('k') }).kvs[0]?.value), 'v2');
  assertKvError(() => store.put({ key: bytes('k'), lease: id, ignoreLease: true }), 'KV_LEASE_PROVIDED', 'etcdserver: lease is provided');
  assertKvError(() => store.put({ key: bytes('absent'), ignoreLease: true }), 'KV_KEY_NOT_FOUND');
  assertKvError(() => store.put({ key: bytes('k'), value: bytes('x'), ignoreValue: true }), 'KV_VALUE_PROVIDED', 'etcdserver: value is provided');
});

test('nested txns may not nest deeper than the bound', () => {
  const store = fixture();
  let request = { success: [putOp('deep')] };
  for (let depth = 0; depth < 70; depth++) request = { success: [{ requestTxn: request }] };
  assertKvError(() => store.txn(request), 'KV_TOO_MANY_OPS');
});
