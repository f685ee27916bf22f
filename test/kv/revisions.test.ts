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

test('a store that adopts request bytes keeps arrays that pin little, and copies views into big buffers and the Buffer pool', () => {
  const store = new KvStore({ clock: { now: () => 0 }, adoptsRequestBytes: true });
  // Like a Raft entry's data: the key and value are views into one small exact-size buffer.
  const entry = new Uint8Array(300);
  entry.set(bytes('own'), 10);
  entry.fill(7, 20, 276);
  store.put({ key: entry.subarray(10, 13), value: entry.subarray(20, 276) });
  const own = store.range({ key: bytes('own') }).kvs[0]!;
  assert.equal(own.value.buffer, entry.buffer, 'the value is kept, not copied');
  assert.deepEqual([own.value.byteOffset, own.value.length, own.value.every((byte) => byte === 7)], [20, 256, true], 'the same range of it');
  assert.notEqual(own.key.buffer, entry.buffer, 'a 3-byte key is copied: it would pin the 300-byte entry for the key\'s whole life');
  assert.equal(Object.getPrototypeOf(own.value), Uint8Array.prototype);
  // A view into a 64 KiB buffer (a socket or WAL read buffer) is copied: keeping it would pin 64 KiB.
  const big = new Uint8Array(65_536).fill(9);
  store.put({ key: bytes('big'), value: big.subarray(0, 100) });
  const copied = store.range({ key: bytes('big') }).kvs[0]!;
  assert.notEqual(copied.value.buffer, big.buffer);
  assert.deepEqual(copied.value, new Uint8Array(100).fill(9));
  // A small Buffer comes from Node's shared pool: copied too, and stored as a plain Uint8Array.
  const pooled = Buffer.from('pooled value');
  assert.ok(pooled.buffer.byteLength > 1024, 'Node pools small Buffers');
  store.put({ key: bytes('pool'), value: pooled });
  const fromPool = store.range({ key: bytes('pool') }).kvs[0]!;
  assert.notEqual(fromPool.value.buffer, pooled.buffer);
  assert.equal(Object.getPrototypeOf(fromPool.value), Uint8Array.prototype);
  assert.equal(text(fromPool.value), 'pooled value');
  // A Buffer with a buffer of its own is kept, as a plain Uint8Array view of the same memory.
  const alone = Buffer.allocUnsafeSlow(64).fill(3);
  store.put({ key: bytes('alone'), value: alone });
  const kept = store.range({ key: bytes('alone') }).kvs[0]!;
  assert.equal(kept.value.buffer, alone.buffer);
  assert.equal(Object.getPrototypeOf(kept.value), Uint8Array.prototype);
  // The default store copies even an exact-size array (the test above: mutating the request changes nothing).
  const copying = newStore().store;
  const value = new Uint8Array(300);
  copying.put({ key: bytes('k'), value });
  assert.notEqual(copying.range({ key: bytes('k') }).kvs[0]!.value.buffer, value.buffer);
  // And a Buffer too: Buffer#slice is a view, the store's copy is not.
  const request = Buffer.from('from a request');
  copying.put({ key: bytes('b'), value: request });
  request.fill(0);
  assert.equal(text(copying.range({ key: bytes('b') }).kvs[0]!.value), 'from a request');
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
