import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventType, WatchFilterType, watchCatchUpRevisionsMax, type KvStore, type WatchResponse } from '../../src/kv/index.ts';
import { assertKvError, bytes, fromKey, newStore, prefixEnd, put, text } from './_helpers.ts';

/** [type, key, value, modRevision] of every event, in order. */
function eventsOf(responses: readonly WatchResponse[]): Array<[string, string, string, number]> {
  return responses.flatMap((response) => response.events.map((event): [string, string, string, number] => [
    event.type === EventType.Put ? 'put' : 'delete',
    text(event.kv.key),
    text(event.kv.value),
    event.kv.modRevision,
  ]));
}

function drain(store: KvStore, watchId: number): WatchResponse[] {
  const all: WatchResponse[] = [];
  for (let round = 0; round < 10_000; round++) {
    const taken = store.watchHub.take(watchId);
    if (taken.length === 0 && !store.watchHub.readyWatchIds().includes(watchId)) return all;
    all.push(...taken);
  }
  throw new Error('watch never drained');
}

test('a key watcher gets each put and delete of its key, one response per revision', () => {
  const { store } = newStore();
  const { watchId, header } = store.watchHub.watch({ key: bytes('k') });
  assert.equal(header.revision, 1);
  put(store, 'k', '1'); // 2
  put(store, 'other', '1'); // 3
  store.deleteRange({ key: bytes('k') }); // 4
  const responses = store.watchHub.take(watchId);
  assert.deepEqual(responses.map((response) => response.header.revision), [2, 4]);
  assert.deepEqual(eventsOf(responses), [['put', 'k', '1', 2], ['delete', 'k', '', 4]]);
  const deleted = responses[1]?.events[0]?.kv;
  assert.deepEqual([deleted?.createRevision, deleted?.version, deleted?.lease], [0, 0, 0], 'a delete event carries only key and revision');
  assert.deepEqual(store.watchHub.take(watchId), []);
});

test('a prefix or from-key watcher gets every key in its range, a txn\'s events together', () => {
  const { store } = newStore();
  const prefix = store.watchHub.watch({ key: bytes('app/'), rangeEnd: prefixEnd('app/') });
  const fromB = store.watchHub.watch({ key: bytes('b'), rangeEnd: fromKey });
  store.txn({ success: [{ requestPut: { key: bytes('app/x'), value: bytes('1') } }, { requestPut: { key: bytes('apq'), value: bytes('1') } }, { requestPut: { key: bytes('app/y'), value: bytes('1') } }] });
  const prefixResponses = store.watchHub.take(prefix.watchId);
  assert.equal(prefixResponses.length, 1);
  assert.deepEqual(eventsOf(prefixResponses), [['put', 'app/x', '1', 2], ['put', 'app/y', '1', 2]]);
  assert.deepEqual(eventsOf(store.watchHub.take(fromB.watchId)), []);
  put(store, 'zz', '1');
  assert.deepEqual(eventsOf(store.watchHub.take(fromB.watchId)), [['put', 'zz', '1', 3]]);
});

test('a start revision in the past replays history, then continues live without gaps or repeats', () => {
  const { store } = newStore();
  put(store, 'k', '1'); // 2
  put(store, 'k', '2'); // 3
  store.deleteRange({ key: bytes('k') }); // 4
  const { watchId } = store.watchHub.watch({ key: bytes('k'), startRevision: 3 });
  assert.equal(store.watchHub.status(watchId)?.synced, false);
  put(store, 'k', '3'); // 5, while still unsynced
  const first = store.watchHub.take(watchId);
  assert.equal(first[0]?.header.revision, 5, 'a catch-up response carries the current revision');
  assert.deepEqual(eventsOf(first), [['put', 'k', '2', 3], ['delete', 'k', '', 4], ['put', 'k', '3', 5]]);
  assert.equal(store.watchHub.status(watchId)?.synced, true);
  put(store, 'k', '4'); // 6
  assert.deepEqual(eventsOf(store.watchHub.take(watchId)), [['put', 'k', '4', 6]]);
});

test('a start revision in the future skips events before it', () => {
  const { store } = newStore();
  const { watchId } = store.watchHub.watch({ key: bytes('k'), startRevision: 4 });
  put(store, 'k', '1'); // 2
  put(store, 'k', '2'); // 3
  put(store, 'k', '3'); // 4
  assert.deepEqual(eventsOf(store.watchHub.take(watchId)), [['put', 'k', '3', 4]]);
});

test('prev_kv carries the previous value for updates and deletes, not for creates', () => {
  const { store } = newStore();
  put(store, 'k', 'old'); // 2, before the watch: replayed from history
  const { watchId } = store.watchHub.watch({ key: bytes('k'), startRevision: 2, prevKv: true });
  const plain = store.watchHub.watch({ key: bytes('k') });
  put(store, 'k', 'new'); // 3
  store.deleteRange({ key: bytes('k') }); // 4
  const events = store.watchHub.take(watchId).flatMap((response) => response.events);
  assert.deepEqual(events.map((event) => event.prevKv === undefined ? null : [text(event.prevKv.value), event.prevKv.modRevision]), [null, ['old', 2], ['new', 3]]);
  const live = store.watchHub.take(plain.watchId).flatMap((response) => response.events);
  assert.ok(live.every((event) => event.prevKv === undefined), 'only watchers asking for prev_kv get it');
});

test('prev_kv is left out when the previous revision has been compacted', () => {
  const { store } = newStore();
  put(store, 'k', '1'); // 2
  put(store, 'x', '1'); // 3
  put(store, 'k', '2'); // 4
  const { watchId } = store.watchHub.watch({ key: bytes('k'), startRevision: 4, prevKv: true });
  store.compact({ revision: 4 });
  const events = store.watchHub.take(watchId).flatMap((response) => response.events);
  assert.equal(events.length, 1);
  assert.equal(events[0]?.prevKv, undefined, 'etcd reads prev_kv at mod_revision - 1 = 3, below the compact revision 4');
  put(store, 'k', '3'); // 5
  store.compact({ revision: 5 });
  put(store, 'k', '4'); // 6
  const later = store.watchHub.take(watchId).flatMap((response) => response.events);
  assert.deepEqual(later.map((event) => text(event.prevKv?.value)), ['2', '3'], 'revision 4 and 5 are readable');
});

test('NOPUT and NODELETE filters drop events; a revision with nothing left sends nothing', () => {
  const { store } = newStore();
  const noPut = store.watchHub.watch({ key: bytes('k'), filters: [WatchFilterType.NoPut] });
  const noDelete = store.watchHub.watch({ key: bytes('k'), filters: [WatchFilterType.NoDelete] });
  put(store, 'k', '1');
  store.deleteRange({ key: bytes('k') });
  const noPutResponses = store.watchHub.take(noPut.watchId);
  assert.deepEqual(eventsOf(noPutResponses), [['delete', 'k', '', 3]]);
  assert.equal(noPutResponses.length, 1);
  assert.deepEqual(eventsOf(store.watchHub.take(noDelete.watchId)), [['put', 'k', '1', 2]]);
  const replay = store.watchHub.watch({ key: bytes('k'), startRevision: 1, filters: [WatchFilterType.NoPut] });
  assert.deepEqual(eventsOf(drain(store, replay.watchId)), [['delete', 'k', '', 3]], 'filters apply to history too');
});

test('a start revision below the compacted revision cancels the watcher with the compact revision', () => {
  const { store } = newStore();
  for (let index = 0; index < 5; index++) put(store, 'k', String(index)); // 2..6
  store.compact({ revision: 4 });
  const { watchId } = store.watchHub.watch({ key: bytes('k'), startRevision: 3 });
  const responses = store.watchHub.take(watchId);
  assert.deepEqual(responses.map((response) => [response.canceled, response.compactRevision, response.events.length]), [[true, 4, 0]]);
  assert.equal(store.watchHub.status(watchId), undefined, 'the watcher is gone after its final response');
  // Starting exactly at the compacted revision is allowed and replays the put made at it.
  const atCompacted = store.watchHub.watch({ key: bytes('k'), startRevision: 4 });
  assert.deepEqual(eventsOf(store.watchHub.take(atCompacted.watchId)), [['put', 'k', '2', 4], ['put', 'k', '3', 5], ['put', 'k', '4', 6]]);
});

test('a canceled watcher gets nothing more', () => {
  const { store } = newStore();
  const { watchId } = store.watchHub.watch({ key: bytes('k') });
  put(store, 'k', '1');
  assert.equal(store.watchHub.cancel(watchId), true);
  put(store, 'k', '2');
  assert.deepEqual(store.watchHub.take(watchId), []);
  assert.equal(store.watchHub.cancel(watchId), false);
  assert.equal(store.watchHub.size, 0);
});

test('a slow watcher stays within its buffer, falls back to history and loses nothing', () => {
  const { store } = newStore({ watch: { pendingResponsesMax: 4, pendingEventsMax: 10 } });
  const { watchId } = store.watchHub.watch({ key: bytes('k'), rangeEnd: fromKey });
  const expected: Array<[string, string, string, number]> = [];
  for (let index = 0; index < 200; index++) {
    const key = `k${index % 7}`;
    const revision = put(store, key, String(index));
    expected.push(['put', key, String(index), revision]);
    const status = store.watchHub.status(watchId);
    assert.ok(status !== undefined && status.pendingResponses <= 4 && status.pendingEvents <= 10, 'bounded memory');
  }
  assert.equal(store.watchHub.status(watchId)?.synced, false, 'it fell behind');
  assert.deepEqual(eventsOf(drain(store, watchId)), expected);
  assert.equal(store.watchHub.status(watchId)?.synced, true, 'and caught up');
  put(store, 'k1', 'live');
  assert.deepEqual(eventsOf(store.watchHub.take(watchId)), [['put', 'k1', 'live', 202]]);
});

test('catching up reads a bounded number of revisions per step', () => {
  const { store } = newStore();
  const total = watchCatchUpRevisionsMax * 2 + 10;
  for (let index = 0; index < total; index++) put(store, 'k', String(index));
  const { watchId } = store.watchHub.watch({ key: bytes('k'), startRevision: 1 });
  const first = store.watchHub.take(watchId);
  assert.equal(first.length, 1);
  assert.equal(first[0]?.events.length, watchCatchUpRevisionsMax - 1, 'revisions 1..1000, of which 2..1000 hold events');
  assert.equal(store.watchHub.status(watchId)?.nextRevision, watchCatchUpRevisionsMax + 1);
  const rest = drain(store, watchId);
  assert.equal(rest.flatMap((response) => response.events).length, total - first[0].events.length);
});

test('a single revision is never split, even when it holds more events than the buffer', () => {
  const { store } = newStore({ watch: { pendingEventsMax: 3 } });
  const { watchId } = store.watchHub.watch({ key: bytes('a'), rangeEnd: fromKey });
  store.txn({ success: ['a', 'b', 'c', 'd', 'e'].map((key) => ({ requestPut: { key: bytes(key), value: bytes('1') } })) });
  const responses = store.watchHub.take(watchId);
  assert.deepEqual(responses.map((response) => response.events.length), [5]);
  const replay = store.watchHub.watch({ key: bytes('a'), rangeEnd: fromKey, startRevision: 1 });
  assert.deepEqual(store.watchHub.take(replay.watchId).map((response) => response.events.length), [5]);
});

test('a slow watcher whose history is compacted before it catches up is canceled', () => {
  const { store } = newStore({ watch: { pendingResponsesMax: 2 } });
  const { watchId } = store.watchHub.watch({ key: bytes('k') });
  for (let index = 0; index < 10; index++) put(store, 'k', String(index)); // 2..11
  assert.equal(store.watchHub.status(watchId)?.nextRevision, 4, 'it holds revisions 2 and 3, then fell behind');
  store.compact({ revision: 8 });
  const responses = drain(store, watchId);
  assert.deepEqual(eventsOf(responses), [['put', 'k', '0', 2], ['put', 'k', '1', 3]]);
  assert.deepEqual(responses.slice(-1).map((response) => [response.canceled, response.compactRevision]), [[true, 8]]);
});

test('progress reports the current revision for a synced watcher, not for an unsynced one', () => {
  const { store } = newStore();
  put(store, 'x', '1');
  const synced = store.watchHub.watch({ key: bytes('k'), progressNotify: true });
  const behind = store.watchHub.watch({ key: bytes('x'), startRevision: 1 });
  put(store, 'other', '1'); // 3
  assert.equal(store.watchHub.requestProgress(synced.watchId), true);
  assert.equal(store.watchHub.requestProgress(behind.watchId), false);
  assert.deepEqual(store.watchHub.take(synced.watchId).map((response) => [response.header.revision, response.events.length]), [[3, 0]]);
  assert.equal(store.watchHub.status(synced.watchId)?.progressNotify, true);
});

test('ready notifications name watchers with something to take', () => {
  const ready: number[] = [];
  const { store } = newStore({ watch: { onReady: (watchId) => ready.push(watchId) } });
  const quiet = store.watchHub.watch({ key: bytes('q') });
  const busy = store.watchHub.watch({ key: bytes('b') });
  const replaying = store.watchHub.watch({ key: bytes('b'), startRevision: 1 });
  assert.deepEqual(ready, [replaying.watchId], 'a replaying watcher is ready at once');
  put(store, 'b', '1');
  put(store, 'b', '2');
  assert.deepEqual(ready, [replaying.watchId, busy.watchId], 'announced once until taken');
  assert.deepEqual(store.watchHub.readyWatchIds(), [busy.watchId, replaying.watchId]);
  store.watchHub.take(busy.watchId);
  store.watchHub.take(replaying.watchId);
  assert.deepEqual(store.watchHub.readyWatchIds(), []);
  assert.ok(!ready.includes(quiet.watchId));
});

test('many watchers each get exactly their own events', () => {
  const { store } = newStore();
  const perKey = new Map<number, string>();
  for (let index = 0; index < 500; index++) perKey.set(store.watchHub.watch({ key: bytes(`key${index}`) }).watchId, `key${index}`);
  const prefixWatchers = Array.from({ length: 50 }, () => store.watchHub.watch({ key: bytes('key1'), rangeEnd: prefixEnd('key1') }).watchId);
  for (let index = 0; index < 500; index += 3) put(store, `key${index}`, 'v');
  for (const [watchId, key] of perKey) {
    const index = Number(key.slice(3));
    assert.deepEqual(eventsOf(store.watchHub.take(watchId)).map((event) => event[1]), index % 3 === 0 ? [key] : []);
  }
  const expectedPrefix = Array.from({ length: 500 }, (_, index) => index).filter((index) => index % 3 === 0 && `key${index}`.startsWith('key1')).map((index) => `key${index}`);
  for (const watchId of prefixWatchers) assert.deepEqual(eventsOf(drain(store, watchId)).map((event) => event[1]), expectedPrefix);
});

test('the number of watchers is bounded', () => {
  const { store } = newStore({ watch: { watchersMax: 2 } });
  store.watchHub.watch({ key: bytes('a') });
  const second = store.watchHub.watch({ key: bytes('b') });
  assertKvError(() => store.watchHub.watch({ key: bytes('c') }), 'KV_TOO_MANY_WATCHERS');
  store.watchHub.cancel(second.watchId);
  assert.doesNotThrow(() => store.watchHub.watch({ key: bytes('c') }));
  assertKvError(() => store.watchHub.watch({ key: bytes('d'), startRevision: -1 }), 'KV_INVALID_ARGUMENT');
});

test('watchers carry on across a restore, catching up from the restored history', () => {
  const { store: leader } = newStore();
  const { store: follower } = newStore();
  put(leader, 'k', '1'); // 2
  put(follower, 'k', '1'); // 2
  const { watchId } = follower.watchHub.watch({ key: bytes('k') });
  put(leader, 'k', '2'); // 3
  put(leader, 'k', '3'); // 4
  follower.restore(leader.snapshot());
  assert.equal(follower.watchHub.status(watchId)?.synced, false);
  put(follower, 'k', '4'); // 5
  assert.deepEqual(eventsOf(drain(follower, watchId)), [['put', 'k', '2', 3], ['put', 'k', '3', 4], ['put', 'k', '4', 5]]);
});
