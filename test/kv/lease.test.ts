import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvStore, leaseOverheadBytes, leaseTtlMinSecondsFor, leaseTtlSecondsMax } from '../../src/kv/index.ts';
import { assertKvError, bytes, fromKey, keysOf, newStore, put, text } from './_helpers.ts';

test('grant assigns distinct non-zero safe IDs, or takes the client\'s; an existing ID is refused', () => {
  const { store } = newStore();
  const first = store.leaseGrant({ ttl: 60 });
  const second = store.leaseGrant({ ttl: 60 });
  assert.notEqual(first.id, 0);
  assert.notEqual(first.id, second.id);
  assert.ok(Number.isSafeInteger(first.id) && first.id > 0);
  assert.equal(first.ttl, 60);
  assert.equal(store.leaseGrant({ id: 7, ttl: 60 }).id, 7);
  const error = assertKvError(() => store.leaseGrant({ id: 7, ttl: 60 }), 'KV_LEASE_EXISTS', 'etcdserver: lease already exists');
  assert.equal(error.grpcCode, 9);
  assert.deepEqual(store.leaseLeases().leases.map((lease) => lease.id), [7, first.id, second.id].sort((a, b) => a - b));
  assert.equal(store.revision, 1, 'granting does not bump the revision');
});

test('a TTL below the minimum is raised to it; one above the maximum is refused', () => {
  const { store } = newStore({ leaseTtlMinSeconds: 5 });
  assert.equal(store.leaseGrant({ ttl: 1 }).ttl, 5);
  assert.equal(store.leaseGrant({ ttl: 0 }).ttl, 5);
  assert.equal(store.leaseGrant({ ttl: 6 }).ttl, 6);
  const error = assertKvError(() => store.leaseGrant({ ttl: leaseTtlSecondsMax + 1 }), 'KV_LEASE_TTL_TOO_LARGE', 'etcdserver: too large lease TTL');
  assert.equal(error.grpcCode, 11);
  assert.equal(leaseTtlMinSecondsFor(1000), 2, 'etcd\'s defaults give a 2 s minimum');
  assert.equal(leaseTtlMinSecondsFor(5000), 8);
});

test('server-assigned IDs are the same on every member that applies the same grants', () => {
  const left = newStore().store;
  const right = newStore().store;
  left.leaseGrant({ id: 99, ttl: 10 });
  right.leaseGrant({ id: 99, ttl: 10 });
  for (let index = 0; index < 5; index++) assert.equal(left.leaseGrant({ ttl: 10 }).id, right.leaseGrant({ ttl: 10 }).id);
});

test('a put with an unknown lease fails with NotFound; attaching to a new lease detaches from the old', () => {
  const { store } = newStore();
  const error = assertKvError(() => store.put({ key: bytes('k'), value: bytes('v'), lease: 123 }), 'KV_LEASE_NOT_FOUND', 'etcdserver: requested lease not found');
  assert.equal(error.grpcCode, 5);
  const first = store.leaseGrant({ ttl: 60 }).id;
  const second = store.leaseGrant({ ttl: 60 }).id;
  put(store, 'k', 'v', { lease: first });
  assert.deepEqual(store.leaseTimeToLive({ id: first, keys: true }).keys.map(text), ['k']);
  put(store, 'k', 'v', { lease: second });
  assert.deepEqual(store.leaseTimeToLive({ id: first, keys: true }).keys, []);
  assert.deepEqual(store.leaseTimeToLive({ id: second, keys: true }).keys.map(text), ['k']);
  store.deleteRange({ key: bytes('k') });
  assert.deepEqual(store.leaseTimeToLive({ id: second, keys: true }).keys, [], 'a delete detaches');
});

test('revoking deletes the attached keys in one revision, in key order, and forgets the lease', () => {
  const { store } = newStore();
  const id = store.leaseGrant({ ttl: 60 }).id;
  put(store, 'c', '1', { lease: id }); // 2
  put(store, 'a', '1', { lease: id }); // 3
  put(store, 'b', '1'); // 4
  const watch = store.watchHub.watch({ key: bytes('a'), rangeEnd: fromKey });
  const response = store.leaseRevoke({ id });
  assert.equal(response.header.revision, 5);
  assert.deepEqual(keysOf(store.range({ key: bytes('a'), rangeEnd: fromKey }).kvs), ['b']);
  const events = store.watchHub.take(watch.watchId).flatMap((item) => item.events);
  assert.deepEqual(events.map((event) => [event.type, text(event.kv.key), event.kv.modRevision]), [[1, 'a', 5], [1, 'c', 5]]);
  assert.equal(store.leaseTimeToLive({ id }).ttl, -1);
  assertKvError(() => store.leaseRevoke({ id }), 'KV_LEASE_NOT_FOUND');
  const empty = store.leaseGrant({ ttl: 60 }).id;
  assert.equal(store.leaseRevoke({ id: empty }).header.revision, 5, 'revoking a lease without keys does not bump the revision');
});

test('followers never expire leases; the primary expires them from the injected clock', () => {
  const { store, clock } = newStore();
  const id = store.leaseGrant({ ttl: 10 }).id;
  clock.advance(60_000);
  assert.deepEqual(store.expiredLeases(), [], 'not primary');
  assert.equal(store.leaseTimeToLive({ id }).ttl, 10, 'a follower reports the granted TTL');
  store.promote();
  assert.equal(store.leaseTimeToLive({ id }).ttl, 10);
  clock.advance(9_500);
  assert.equal(store.leaseTimeToLive({ id }).ttl, 0, 'whole seconds, truncated');
  assert.deepEqual(store.expiredLeases(), []);
  clock.advance(500);
  assert.deepEqual(store.expiredLeases(), [id]);
  assert.deepEqual(store.expiredLeases(), [], 'handed out once, then again only after a retry interval');
  clock.advance(3_000);
  assert.deepEqual(store.expiredLeases(), [id]);
  store.leaseRevoke({ id });
  clock.advance(10_000);
  assert.deepEqual(store.expiredLeases(), []);
});

test('expired leases come earliest first and in bounded batches', () => {
  const { store, clock } = newStore();
  store.promote();
  const late = store.leaseGrant({ id: 1, ttl: 20 }).id;
  const early = store.leaseGrant({ id: 2, ttl: 10 }).id;
  const middle = store.leaseGrant({ id: 3, ttl: 15 }).id;
  clock.advance(30_000);
  assert.deepEqual(store.expiredLeases(2), [early, middle]);
  assert.deepEqual(store.expiredLeases(), [late]);
});

test('keep-alive restarts the full TTL on the primary only, and not for an expired lease', () => {
  const { store, clock } = newStore();
  const id = store.leaseGrant({ ttl: 10 }).id;
  assertKvError(() => store.leaseKeepAlive({ id }), 'KV_NOT_LEADER');
  store.promote();
  clock.advance(8_000);
  const response = store.leaseKeepAlive({ id });
  assert.equal(response.ttl, 10);
  assert.equal(response.checkpointClearRequired, false);
  clock.advance(8_000);
  assert.deepEqual(store.expiredLeases(), []);
  assert.equal(store.leaseTimeToLive({ id }).ttl, 2);
  clock.advance(2_000);
  assertKvError(() => store.leaseKeepAlive({ id }), 'KV_LEASE_NOT_FOUND');
  assertKvError(() => store.leaseKeepAlive({ id: 404 }), 'KV_LEASE_NOT_FOUND');
});

test('time-to-live reports granted TTL, sorted keys on request, and -1 for an unknown lease', () => {
  const { store } = newStore();
  const id = store.leaseGrant({ ttl: 30 }).id;
  put(store, 'z', '1', { lease: id });
  put(store, 'm', '1', { lease: id });
  const withKeys = store.leaseTimeToLive({ id, keys: true });
  assert.equal(withKeys.grantedTtl, 30);
  assert.deepEqual(withKeys.keys.map(text), ['m', 'z']);
  assert.deepEqual(store.leaseTimeToLive({ id }).keys, []);
  assert.deepEqual(store.leaseTimeToLive({ id: 5 }), { header: { revision: 3 }, id: 5, ttl: -1, grantedTtl: 0, keys: [] });
});

test('checkpoints record remaining TTLs; a new leader resumes from them instead of a full TTL', () => {
  const { store: leader, clock } = newStore({ leaseCheckpointIntervalMs: 10_000 });
  const { store: follower } = newStore({ leaseCheckpointIntervalMs: 10_000 });
  leader.promote();
  const id = leader.leaseGrant({ ttl: 100 }).id;
  assert.equal(follower.leaseGrant({ ttl: 100 }).id, id, 'the same grant gives the same ID everywhere');
  clock.advance(9_999);
  assert.deepEqual(leader.leaseCheckpointsDue(), []);
  clock.advance(31_001); // 41 s since the grant: 59 s remain
  const due = leader.leaseCheckpointsDue();
  assert.deepEqual(due, [{ id, remainingTtl: 59 }]);
  assert.deepEqual(leader.leaseCheckpointsDue(), [], 'each schedule fires once');
  // The leader proposes them; every member applies them.
  leader.leaseCheckpoint({ checkpoints: due });
  follower.leaseCheckpoint({ checkpoints: due });
  assert.equal(follower.leaseTimeToLive({ id }).ttl, 59, 'followers report the checkpointed TTL');
  // The follower becomes leader: the lease gets its remaining 59 s plus the extension, not 100 s.
  follower.promote({ extendMs: 1_000 });
  assert.equal(follower.leaseTimeToLive({ id }).ttl, 60);
  assert.equal(leader.hash().hash, follower.hash().hash, 'checkpoints are replicated state');
});

test('keep-alive after a checkpoint asks the leader to clear it, and the cleared lease gets its full TTL on promotion', () => {
  const { store, clock } = newStore({ leaseCheckpointIntervalMs: 1_000 });
  store.promote();
  const id = store.leaseGrant({ ttl: 100 }).id;
  clock.advance(30_000);
  store.leaseCheckpoint({ checkpoints: store.leaseCheckpointsDue() });
  const kept = store.leaseKeepAlive({ id });
  assert.equal(kept.checkpointClearRequired, true);
  assert.equal(store.leaseTimeToLive({ id }).ttl, 100, 'keep-alive restarts the full TTL at once');
  store.leaseCheckpoint({ checkpoints: [{ id, remainingTtl: 0 }] });
  store.demote();
  store.promote();
  assert.equal(store.leaseTimeToLive({ id }).ttl, 100);
});

test('demotion stops expiry; promotion without checkpoints gives each lease its TTL from now plus the extension', () => {
  const { store, clock } = newStore();
  store.promote();
  const id = store.leaseGrant({ ttl: 10 }).id;
  clock.advance(5_000);
  store.demote();
  clock.advance(60_000);
  assert.deepEqual(store.expiredLeases(), []);
  store.promote({ extendMs: 2_000 });
  clock.advance(11_999);
  assert.deepEqual(store.expiredLeases(), []);
  clock.advance(1);
  assert.deepEqual(store.expiredLeases(), [id]);
});

test('unknown checkpoints are ignored and lease timing never changes replicated state', () => {
  const { store, clock } = newStore();
  const reference = new KvStore({ clock });
  for (const member of [store, reference]) {
    member.leaseGrant({ id: 1, ttl: 30 });
    member.leaseCheckpoint({ checkpoints: [{ id: 999, remainingTtl: 5 }] });
  }
  store.promote();
  clock.advance(10_000);
  store.leaseKeepAlive({ id: 1 });
  assert.equal(store.hash().hash, reference.hash().hash);
});

test('leases count toward the size estimate', () => {
  const { store } = newStore();
  const before = store.sizeBytesEstimate;
  const { id } = store.leaseGrant({ ttl: 10 });
  assert.equal(store.sizeBytesEstimate - before, leaseOverheadBytes);
  store.leaseRevoke({ id });
  assert.equal(store.sizeBytesEstimate, before);
});

test('a primary that restores a snapshot times leases from their restored remaining TTL', () => {
  const { store: source } = newStore();
  const id = source.leaseGrant({ ttl: 100 }).id;
  source.leaseCheckpoint({ checkpoints: [{ id, remainingTtl: 20 }] });
  const { store, clock } = newStore();
  store.promote();
  store.restore(source.snapshot());
  assert.equal(store.leaseTimeToLive({ id }).ttl, 20);
  clock.advance(20_000);
  assert.deepEqual(store.expiredLeases(), [id]);
});
