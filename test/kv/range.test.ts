import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SortOrder, SortTarget, type KvStore } from '../../src/kv/index.ts';
import { assertKvError, bytes, describeKvs, fromKey, keysOf, newStore, prefixEnd, put, text } from './_helpers.ts';

/**
 * a: create 2, put again at 6 (version 2), value "z"
 * b: create 3, value "m", version 1
 * c: create 4, value "a", then versions 2 and 3 at 7 and 8
 * d: create 5, value "m", version 1
 */
function fixture(): KvStore {
  const { store } = newStore();
  put(store, 'a', 'x'); // 2
  put(store, 'b', 'm'); // 3
  put(store, 'c', 'a'); // 4
  put(store, 'd', 'm'); // 5
  put(store, 'a', 'z'); // 6
  put(store, 'c', 'a'); // 7
  put(store, 'c', 'a'); // 8
  return store;
}

const all = { key: bytes('a'), rangeEnd: fromKey };

test('an empty range end reads one key; "\\0" reads every key from it; otherwise [key, end)', () => {
  const store = fixture();
  assert.deepEqual(keysOf(store.range({ key: bytes('b') }).kvs), ['b']);
  assert.deepEqual(keysOf(store.range({ key: bytes('b'), rangeEnd: fromKey }).kvs), ['b', 'c', 'd']);
  assert.deepEqual(keysOf(store.range({ key: bytes('b'), rangeEnd: bytes('d') }).kvs), ['b', 'c']);
  assert.deepEqual(keysOf(store.range({ key: bytes('d'), rangeEnd: bytes('b') }).kvs), [], 'an end before the key is empty');
  assert.deepEqual(keysOf(store.range({ key: new Uint8Array([0]), rangeEnd: fromKey }).kvs), ['a', 'b', 'c', 'd'], 'etcdctl get "" --prefix');
});

test('a prefix range as etcd clients compute it covers exactly the prefix', () => {
  const { store } = newStore();
  for (const key of ['app/', 'app/x', 'app0', 'apq', 'ap']) put(store, key, '1');
  assert.deepEqual(keysOf(store.range({ key: bytes('app/'), rangeEnd: prefixEnd('app/') }).kvs), ['app/', 'app/x']);
});

test('limit truncates, sets more, and count is the total before the limit', () => {
  const store = fixture();
  const limited = store.range({ ...all, limit: 2 });
  assert.deepEqual(keysOf(limited.kvs), ['a', 'b']);
  assert.equal(limited.more, true);
  assert.equal(limited.count, 4);
  const exact = store.range({ ...all, limit: 4 });
  assert.equal(exact.more, false);
  assert.equal(exact.kvs.length, 4);
  const negative = store.range({ ...all, limit: -1 });
  assert.equal(negative.kvs.length, 4, 'a non-positive limit means no limit');
});

test('count_only returns the count and no key-values; keys_only drops values', () => {
  const store = fixture();
  const counted = store.range({ ...all, countOnly: true, limit: 1 });
  assert.deepEqual(counted.kvs, []);
  assert.equal(counted.count, 4);
  assert.equal(counted.more, false);
  const keysOnly = store.range({ ...all, keysOnly: true });
  assert.deepEqual(keysOf(keysOnly.kvs), ['a', 'b', 'c', 'd']);
  assert.ok(keysOnly.kvs.every((kv) => kv.value.length === 0));
  assert.equal(keysOnly.kvs[2]?.version, 3, 'metadata stays');
});

test('sorting by every target in both orders, ties keeping ascending key order', () => {
  const store = fixture();
  const sorted = (sortTarget: SortTarget, sortOrder: SortOrder): string[] => keysOf(store.range({ ...all, sortTarget, sortOrder }).kvs);
  assert.deepEqual(sorted(SortTarget.Key, SortOrder.Descend), ['d', 'c', 'b', 'a']);
  assert.deepEqual(sorted(SortTarget.Key, SortOrder.Ascend), ['a', 'b', 'c', 'd']);
  assert.deepEqual(sorted(SortTarget.Version, SortOrder.Ascend), ['b', 'd', 'a', 'c']);
  assert.deepEqual(sorted(SortTarget.Version, SortOrder.Descend), ['c', 'a', 'b', 'd']);
  assert.deepEqual(sorted(SortTarget.Create, SortOrder.Descend), ['d', 'c', 'b', 'a']);
  assert.deepEqual(sorted(SortTarget.Mod, SortOrder.Ascend), ['b', 'd', 'a', 'c']);
  assert.deepEqual(sorted(SortTarget.Mod, SortOrder.Descend), ['c', 'a', 'd', 'b']);
  assert.deepEqual(sorted(SortTarget.Value, SortOrder.Ascend), ['c', 'b', 'd', 'a']);
  assert.deepEqual(sorted(SortTarget.Value, SortOrder.Descend), ['a', 'b', 'd', 'c']);
});

test('sort order NONE: with target KEY it is key order, with another target etcd sorts ascending', () => {
  const store = fixture();
  assert.deepEqual(keysOf(store.range({ ...all, sortTarget: SortTarget.Key, sortOrder: SortOrder.None }).kvs), ['a', 'b', 'c', 'd']);
  assert.deepEqual(keysOf(store.range({ ...all, sortTarget: SortTarget.Mod, sortOrder: SortOrder.None }).kvs), ['b', 'd', 'a', 'c']);
});

test('sort with a limit sorts everything first, then truncates', () => {
  const store = fixture();
  const response = store.range({ ...all, sortTarget: SortTarget.Mod, sortOrder: SortOrder.Descend, limit: 1 });
  assert.deepEqual(keysOf(response.kvs), ['c']);
  assert.equal(response.more, true);
  assert.equal(response.count, 4);
});

test('quirk: order NONE with a non-key target and a limit sorts only the first limit+1 keys', () => {
  // etcd decides the fetch limit before promoting NONE to ASCEND, so it fetches a, b, c (limit 2 + 1) by key,
  // sorts those by mod revision (b=3, a=6, c=8) and keeps two. d (mod 5) is never seen.
  const store = fixture();
  const response = store.range({ ...all, sortTarget: SortTarget.Mod, limit: 2 });
  assert.deepEqual(keysOf(response.kvs), ['b', 'a']);
  assert.equal(response.more, true);
  const explicit = store.range({ ...all, sortTarget: SortTarget.Mod, sortOrder: SortOrder.Ascend, limit: 2 });
  assert.deepEqual(keysOf(explicit.kvs), ['b', 'd'], 'with ASCEND given explicitly every key is sorted');
});

test('min/max mod and create revision filters apply before limit; count ignores them', () => {
  const store = fixture();
  const byMod = store.range({ ...all, minModRevision: 5, maxModRevision: 7 });
  assert.deepEqual(keysOf(byMod.kvs), ['a', 'd']);
  assert.equal(byMod.count, 4, 'count is before the filters');
  assert.deepEqual(keysOf(store.range({ ...all, minCreateRevision: 3, maxCreateRevision: 4 }).kvs), ['b', 'c']);
  assert.deepEqual(keysOf(store.range({ ...all, maxCreateRevision: 2 }).kvs), ['a']);
  const limited = store.range({ ...all, minModRevision: 5, limit: 1 });
  assert.deepEqual(keysOf(limited.kvs), ['a']);
  assert.equal(limited.more, true, 'two keys pass the filter, one is returned');
});

test('a historical read sees each key as it was at that revision', () => {
  const store = fixture();
  assert.deepEqual(describeKvs(store.range({ ...all, revision: 4 }).kvs), [['a', 'x', 1, 2, 2], ['b', 'm', 1, 3, 3], ['c', 'a', 1, 4, 4]]);
  assert.equal(store.range({ ...all, revision: 1 }).count, 0);
  const historical = store.range({ ...all, revision: 6 });
  assert.equal(historical.header.revision, 8, 'the header carries the current revision');
  assert.deepEqual(describeKvs(historical.kvs)[0], ['a', 'z', 2, 2, 6]);
  assert.equal(store.range({ ...all, revision: 0 }).count, 4);
  assert.equal(store.range({ ...all, revision: -3 }).count, 4, 'a negative revision reads the current one');
});

test('a future revision fails with OutOfRange and etcd\'s message', () => {
  const store = fixture();
  const error = assertKvError(() => store.range({ ...all, revision: 9 }), 'KV_FUTURE_REV', 'etcdserver: mvcc: required revision is a future revision');
  assert.equal(error.grpcCode, 11);
});

test('a compacted revision fails; the compact revision itself is still readable', () => {
  const store = fixture();
  store.compact({ revision: 5 });
  assertKvError(() => store.range({ ...all, revision: 4 }), 'KV_COMPACTED', 'etcdserver: mvcc: required revision has been compacted');
  assert.deepEqual(describeKvs(store.range({ ...all, revision: 5 }).kvs), [['a', 'x', 1, 2, 2], ['b', 'm', 1, 3, 3], ['c', 'a', 1, 4, 4], ['d', 'm', 1, 5, 5]]);
});

test('an empty key is refused with InvalidArgument', () => {
  const store = fixture();
  const error = assertKvError(() => store.range({ key: new Uint8Array(0) }), 'KV_EMPTY_KEY', 'etcdserver: key is not provided');
  assert.equal(error.grpcCode, 3);
});

test('unsafe integers and unknown enum values are refused', () => {
  const store = fixture();
  assertKvError(() => store.range({ ...all, limit: 2 ** 60 }), 'KV_UNSAFE_INTEGER');
  assertKvError(() => store.range({ ...all, revision: 1.5 }), 'KV_UNSAFE_INTEGER');
  assertKvError(() => store.range({ ...all, sortTarget: 9 as SortTarget }), 'KV_INVALID_ARGUMENT');
  assertKvError(() => store.range({ ...all, sortOrder: 3 as SortOrder }), 'KV_INVALID_ARGUMENT');
});

test('a range over many keys with a limit stays correct at the edges of B-tree nodes', () => {
  const { store } = newStore();
  for (let index = 0; index < 5000; index++) put(store, `key/${String(index).padStart(5, '0')}`, String(index));
  const response = store.range({ key: bytes('key/01000'), rangeEnd: bytes('key/03000'), limit: 10 });
  assert.equal(response.count, 2000);
  assert.equal(text(response.kvs[9]?.key), 'key/01009');
  const lastPage = store.range({ key: bytes('key/04995'), rangeEnd: prefixEnd('key/') });
  assert.deepEqual(keysOf(lastPage.kvs), ['key/04995', 'key/04996', 'key/04997', 'key/04998', 'key/04999']);
});
