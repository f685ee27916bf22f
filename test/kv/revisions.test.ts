import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvError, KvStore, type KvStoreOptions } from '../../src/kv/index.ts';
import { bytes, describeKvs, fromKey, newStore, put, text } from './_helpers.ts';

test('a new store is at revision 1 and the first write gets revision 2, as in etcd', () => {
  const { store } = newStore();
  assert.equal(store.revision, 1);
  assert.equal(store.range({ key: bytes('a') }).header.revision, 1);
  assert.equal(put(store, 'a', '1'), 2);
  assert.equal(store.revision, 2);
});

test('each put gets the next revision; version counts puts and create revision stays', () => {
  const { store } = newStore();
  put(store, 'a', '1');
  put(store, 'b', '1');
  put(store, 'a', '2');
  put(store, 'a', '3');
  assert.deepEqual(describeKvs(store.range({ key: bytes('a') }).kvs), [['a', '3', 3, 2, 5]]);
  assert.deepEqual(describeKvs(store.range({ key: bytes('b') }).kvs), [['b', '1', 1, 3, 3]]);
});

test('a delete ends a generation: recreating the key restarts version and create revision', () => {
  const { store } = newStore();
  put(store, 'k', 'v1'); // 2
  put(store, 'k', 'v2'); // 3
  const deleted = store.deleteRange({ key: bytes('k') });
  assert.equal(deleted.deleted, 1);
  assert.equal(deleted.header.revision, 4);
  assert.equal(store.range({ key: bytes('k') }).count, 0);
  put(store, 'k', 'v3'); // 5
  assert.deepEqual(describeKvs(store.range({ key: bytes('k') }).kvs), [['k', 'v3', 1, 5, 5]]);
  // History: the old generation is still readable where it was live.
  assert.deepEqual(describeKvs(store.range({ key: bytes('k'), revision: 3 }).kvs), [['k', 'v2', 2, 2, 3]]);
  assert.deepEqual(store.range({ key: bytes('k'), revision: 4 }).kvs, []);
});

test('a delete that deletes nothing does not bump the revision', () => {
  const { store } = newStore();
  put(store, 'a', '1');
  const response = store.deleteRange({ key: bytes('missing') });
  assert.equal(response.deleted, 0);
  assert.equal(response.header.revision, 2);
  assert.equal(store.revision, 2);
  const ranged = store.deleteRange({ key: bytes('x'), rangeEnd: bytes('z') });
  assert.equal(ranged.deleted, 0);
  assert.equal(store.revision, 2);
});

test('a range delete removes every key in the range in one revision', () => {
  const { store } = newStore();
  for (const key of ['a', 'b', 'c', 'd']) put(store, key, key);
  const response = store.deleteRange({ key: bytes('b'), rangeEnd: bytes('d'), prevKv: true });
  assert.equal(response.deleted, 2);
  assert.equal(response.header.revision, 6);
  assert.deepEqual(describeKvs(response.prevKvs), [['b', 'b', 1, 3, 3], ['c', 'c', 1, 4, 4]]);
  assert.deepEqual(store.range({ key: bytes('a'), rangeEnd: fromKey }).kvs.map((kv) => text(kv.key)), ['a', 'd']);
});

test('delete with range end "\\0" deletes every key from the start key on', () => {
  const { store } = newStore();
  for (const key of ['a', 'b', 'c']) put(store, key, key);
  assert.equal(store.deleteRange({ key: bytes('b'), rangeEnd: fromKey }).deleted, 2);
  assert.equal(store.range({ key: bytes('a'), rangeEnd: fromKey }).count, 1);
});

test('put returns the previous key-value only when asked and only if the key existed', () => {
  const { store } = newStore();
  const first = store.put({ key: bytes('a'), value: bytes('1'), prevKv: true });
  assert.equal(first.prevKv, undefined);
  const second = store.put({ key: bytes('a'), value: bytes('2'), prevKv: true });
  assert.deepEqual(describeKvs(second.prevKv === undefined ? [] : [second.prevKv]), [['a', '1', 1, 2, 2]]);
  const third = store.put({ key: bytes('a'), value: bytes('3') });
  assert.equal(third.prevKv, undefined);
});

test('stored bytes are copies: mutating the request afterwards changes nothing', () => {
  const { store } = newStore();
  const key = bytes('key');
  const value = bytes('value');
  store.put({ key, value });
  key[0] = 0x7a;
  value[0] = 0x7a;
  assert.equal(text(store.range({ key: bytes('key') }).kvs[0]?.value), 'value');
  assert.equal(store.range({ key: bytes('zey') }).count, 0);
});

test('keys compare bytewise, including bytes above 0x7f and the empty-suffix order', () => {
  const { store } = newStore();
  const keys = [new Uint8Array([0x61]), new Uint8Array([0x61, 0x00]), new Uint8Array([0xff]), new Uint8Array([0x80, 0x01]), new Uint8Array([0x7f])];
  for (const key of keys) store.put({ key, value: bytes('v') });
  const all = store.range({ key: new Uint8Array([0]), rangeEnd: fromKey }).kvs.map((kv) => [...kv.key]);
  assert.deepEqual(all, [[0x61], [0x61, 0x00], [0x7f], [0x80, 0x01], [0xff]]);
});

test('invalid store options are refused with KV_INVALID_CONFIG', () => {
  for (const options of [{ leaseTtlMinSeconds: 0 }, { leaseCheckpointIntervalMs: -1 }, { quotaBytes: 1.5 }, { watch: { pendingResponsesMax: 1 } }]) {
    assert.throws(() => newStore(options), (error: unknown) => error instanceof KvError && error.code === 'KV_INVALID_CONFIG', JSON.stringify(options));
  }
  assert.throws(() => new KvStore({} as KvStoreOptions), (error: unknown) => error instanceof KvError && error.code === 'KV_INVALID_CONFIG');
});
