import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kvOverheadBytes } from '../../src/kv/index.ts';
import { assertKvError, bytes, describeKvs, fromKey, newStore, put } from './_helpers.ts';

test('compaction keeps the value visible at the compact revision and drops older history', () => {
  const { store } = newStore();
  put(store, 'a', '1'); // 2
  put(store, 'a', '2'); // 3
  put(store, 'a', '3'); // 4
  const response = store.compact({ revision: 3 });
  assert.equal(response.header.revision, 4);
  assert.equal(store.compactRevision, 3);
  assert.equal(store.revision, 4, 'compaction does not bump the revision');
  assert.deepEqual(describeKvs(store.range({ key: bytes('a'), revision: 3 }).kvs), [['a', '2', 2, 2, 3]]);
  assert.deepEqual(describeKvs(store.range({ key: bytes('a') }).kvs), [['a', '3', 3, 2, 4]]);
  assertKvError(() => store.range({ key: bytes('a'), revision: 2 }), 'KV_COMPACTED');
});

test('compacting at or below the compacted revision fails as compacted; above the current as future', () => {
  const { store } = newStore();
  put(store, 'a', '1');
  put(store, 'a', '2');
  store.compact({ revision: 2 });
  const compacted = assertKvError(() => store.compact({ revision: 2 }), 'KV_COMPACTED', 'etcdserver: mvcc: required revision has been compacted');
  assert.equal(compacted.grpcCode, 11);
  assertKvError(() => store.compact({ revision: 1 }), 'KV_COMPACTED');
  assertKvError(() => store.compact({ revision: 4 }), 'KV_FUTURE_REV', 'etcdserver: mvcc: required revision is a future revision');
  store.compact({ revision: 3 });
  assert.equal(store.compactRevision, 3, 'compacting at the current revision is allowed');
});

test('on a fresh store compaction at 0 succeeds once, as in etcd (its compacted revision starts at -1)', () => {
  const { store } = newStore();
  assert.equal(store.compactRevision, -1);
  store.compact({ revision: 0 });
  assert.equal(store.compactRevision, 0);
  assertKvError(() => store.compact({ revision: 0 }), 'KV_COMPACTED');
});

test('a key deleted at or before the compact revision disappears from history entirely', () => {
  const { store } = newStore();
  put(store, 'gone', '1'); // 2
  store.deleteRange({ key: bytes('gone') }); // 3
  put(store, 'kept', '1'); // 4
  store.deleteRange({ key: bytes('kept') }); // 5
  store.compact({ revision: 4 });
  assert.equal(store.range({ key: bytes('gone'), revision: 4 }).count, 0);
  assert.deepEqual(describeKvs(store.range({ key: bytes('kept'), revision: 4 }).kvs), [['kept', '1', 1, 4, 4]]);
  assert.equal(store.range({ key: bytes('kept') }).count, 0);
  // A recreated key starts a fresh generation after compaction too.
  put(store, 'gone', '2'); // 6
  assert.deepEqual(describeKvs(store.range({ key: bytes('gone') }).kvs), [['gone', '2', 1, 6, 6]]);
});

test('compaction shrinks the size estimate by the dropped revisions', () => {
  const { store } = newStore();
  const before = store.sizeBytesEstimate;
  put(store, 'k', 'aaaa'); // 2
  put(store, 'k', 'bbbb'); // 3
  store.deleteRange({ key: bytes('k') }); // 4
  const perPut = kvOverheadBytes + 1 + 4;
  const perTombstone = kvOverheadBytes + 1;
  assert.equal(store.sizeBytesEstimate - before, 2 * perPut + perTombstone);
  store.compact({ revision: 3 });
  assert.equal(store.sizeBytesEstimate - before, perPut + perTombstone);
  store.compact({ revision: 4 });
  assert.equal(store.sizeBytesEstimate, before, 'a deleted key compacted past its delete costs nothing');
});

test('repeated compactions over a long history keep every current value', () => {
  const { store } = newStore();
  for (let round = 0; round < 50; round++) {
    for (let key = 0; key < 20; key++) put(store, `k${key}`, `${round}`);
    if (round % 3 === 0) store.deleteRange({ key: bytes('k5') });
    store.compact({ revision: store.revision - 10 });
  }
  const current = store.range({ key: bytes('k'), rangeEnd: fromKey });
  assert.equal(current.count, 20);
  assert.ok(current.kvs.every((kv) => new TextDecoder().decode(kv.value) === '49'));
  const atCompacted = store.range({ key: bytes('k'), rangeEnd: fromKey, revision: store.compactRevision });
  assert.equal(atCompacted.count, 20);
});

test('compaction inside a deleted-and-recreated history keeps each generation readable where it was live', () => {
  const { store } = newStore();
  put(store, 'k', 'first'); // 2
  put(store, 'x', '1'); // 3
  store.deleteRange({ key: bytes('k') }); // 4
  put(store, 'x', '2'); // 5
  put(store, 'k', 'second'); // 6
  store.compact({ revision: 3 });
  assert.deepEqual(describeKvs(store.range({ key: bytes('k'), revision: 3 }).kvs), [['k', 'first', 1, 2, 2]]);
  assert.equal(store.range({ key: bytes('k'), revision: 5 }).count, 0);
  store.compact({ revision: 5 });
  assert.equal(store.range({ key: bytes('k'), revision: 5 }).count, 0);
  assert.deepEqual(describeKvs(store.range({ key: bytes('k') }).kvs), [['k', 'second', 1, 6, 6]]);
});

test('as in etcd, a delete made exactly at the compact revision is not replayed from it', () => {
  // etcd's compaction drops tombstones at or below the compact revision, so a watcher starting at that
  // revision sees the puts made in it but not the deletes.
  const { store } = newStore();
  put(store, 'gone', '1'); // 2
  store.txn({ success: [{ requestDeleteRange: { key: bytes('gone') } }, { requestPut: { key: bytes('kept'), value: bytes('1') } }] }); // 3
  store.compact({ revision: 3 });
  const { watchId } = store.watchHub.watch({ key: bytes('a'), rangeEnd: fromKey, startRevision: 3 });
  const events = store.watchHub.take(watchId).flatMap((response) => response.events);
  assert.deepEqual(events.map((event) => [event.type, new TextDecoder().decode(event.kv.key)]), [[0, 'kept']]);
});
