import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c } from '../../src/kv/_hash.ts';
import { SnapshotEncoding } from '../../src/kv/_snapshot.ts';
import { AlarmAction, AlarmType, KvStore } from '../../src/kv/index.ts';
import { assertKvError, bytes, fromKey, ManualClock, newStore, put, text } from './_helpers.ts';

/** A store with history, deletes, a compaction, leases with keys and checkpoints, and an alarm. */
function busyStore(): KvStore {
  const { store } = newStore();
  const lease = store.leaseGrant({ ttl: 60 }).id;
  store.leaseGrant({ id: -5, ttl: 30 });
  for (let index = 0; index < 40; index++) put(store, `key${index % 9}`, `value${index}`);
  store.deleteRange({ key: bytes('key3') });
  store.put({ key: bytes('leased/a'), value: bytes('x'), lease });
  store.put({ key: bytes('leased/b'), value: new Uint8Array([0, 255, 128]), lease: -5 });
  store.compact({ revision: 30 });
  store.txn({ success: [{ requestPut: { key: bytes('t1'), value: bytes('1') } }, { requestDeleteRange: { key: bytes('key4') } }] });
  store.leaseCheckpoint({ checkpoints: [{ id: lease, remainingTtl: 42 }] });
  store.alarm({ action: AlarmAction.Activate, memberId: 7, alarm: AlarmType.Corrupt });
  return store;
}

test('crc32c matches the Castagnoli check value', () => {
  assert.equal(crc32c(bytes('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test('HashKV equals etcd\'s for the same history (etcd\'s TestHashByRevValue vectors)', () => {
  // Inputs and expected hashes are those of etcd's mvcc hash tests: puts of rotating keys, hashing at a
  // revision and then compacting at it, cycle after cycle. Equal hashes mean keel stores the same bytes.
  const cycle = 71;
  const names = ['alice', 'bob', 'celine', 'dominik', 'eve', 'frederica', 'gorge'];
  const keyFor = (index: number): string => index % (2 * cycle) === 30 ? 'zenek' : index % cycle === 30 ? 'xavery' : names[index % 7] as string;
  const run = (hashAt: (base: number, span: number) => number): string[] => {
    const { store } = newStore();
    const hashes: string[] = [];
    const step = (base: number, span: number): void => {
      for (let index = base; index <= base + span; index++) put(store, keyFor(index), String(index));
      const requested = hashAt(base, span);
      const response = store.hashKv({ revision: requested });
      const revision = requested === 0 ? response.header.revision : requested;
      store.compact({ revision });
      hashes.push(`${response.hash}/${response.compactRevision}/${revision}`);
    };
    let base = 0;
    for (; base < 1210; base += cycle) step(base, cycle);
    step(base, 1210);
    return hashes;
  };
  assert.deepEqual(run((base, span) => base + Math.floor(span / 2)), [
    '4082599214/-1/35', '2279933401/35/106', '3284231217/106/177', '126286495/177/248', '900108730/248/319',
    '2475485232/319/390', '1226296507/390/461', '2503661030/461/532', '4155130747/532/603', '106915399/603/674',
    '406914006/674/745', '1882211381/745/816', '806177088/816/887', '664311366/887/958', '1496914449/958/1029',
    '2434525091/1029/1100', '3988652253/1100/1171', '1122462288/1171/1242', '724436716/1242/1883',
  ]);
  assert.deepEqual(run(() => 0), [
    '1913897190/-1/73', '224860069/73/145', '1565167519/145/217', '1566261620/217/289', '2037173024/289/361',
    '691659396/361/433', '2713730748/433/505', '3919322507/505/577', '769967540/577/649', '2909194793/649/721',
    '1576921157/721/793', '4067701532/793/865', '2226384237/865/937', '2923408134/937/1009', '2680329256/1009/1081',
    '1546717673/1081/1153', '2713657846/1153/1225', '1046575299/1225/1297', '2017735779/1297/2508',
  ]);
});

test('snapshot then restore gives identical hashes, reads, leases and alarms', () => {
  const original = busyStore();
  const copy = new KvStore({ clock: new ManualClock() });
  copy.restore(original.snapshot());
  assert.equal(copy.hash().hash, original.hash().hash);
  assert.deepEqual(copy.snapshot(), original.snapshot());
  for (const revision of [0, 31, 35, original.revision]) assert.deepEqual(copy.hashKv({ revision }), original.hashKv({ revision }));
  assert.equal(copy.revision, original.revision);
  assert.equal(copy.compactRevision, 30);
  for (const revision of [30, 33, original.revision]) {
    assert.deepEqual(copy.range({ key: bytes('a'), rangeEnd: fromKey, revision }), original.range({ key: bytes('a'), rangeEnd: fromKey, revision }));
  }
  assert.deepEqual(copy.leaseLeases(), original.leaseLeases());
  const lease = original.leaseLeases().leases.find((item) => item.id !== -5)?.id as number;
  assert.deepEqual(copy.leaseTimeToLive({ id: lease, keys: true }), original.leaseTimeToLive({ id: lease, keys: true }));
  assert.equal(copy.leaseTimeToLive({ id: lease }).ttl, 42, 'the checkpointed remaining TTL survives');
  assert.deepEqual(copy.leaseTimeToLive({ id: -5, keys: true }).keys.map(text), ['leased/b']);
  assert.deepEqual(copy.alarm({ action: AlarmAction.Get }).alarms, [{ memberId: 7, alarm: AlarmType.Corrupt }]);
  assert.equal(copy.sizeBytesEstimate, original.sizeBytesEstimate);
  assertKvError(() => copy.range({ key: bytes('a'), revision: 29 }), 'KV_COMPACTED');
});

test('a captured snapshot, encoded a record at a time while the store changes, holds the state at its capture', () => {
  const store = busyStore();
  const expected = store.snapshot();
  const hashAtCapture = store.hash().hash;
  const encoding = store.captureSnapshot();
  assert.ok(encoding.recordCount > 20);
  // Writes, deletes, a compaction past everything captured, lease and alarm changes, between the slices.
  let slices = 0;
  for (let round = 0; !encoding.encodeSome(1); round++) {
    slices++;
    if (round === 0) store.alarm({ action: AlarmAction.Deactivate, memberId: 7, alarm: AlarmType.Corrupt });
    put(store, `key${round % 5}`, `later${round}`);
    if (round === 3) store.deleteRange({ key: bytes('leased/'), rangeEnd: fromKey });
    if (round === 5) store.compact({ revision: store.revision });
    if (round === 7) store.leaseRevoke({ id: -5 });
    if (round === 9) store.leaseGrant({ ttl: 15 });
  }
  assert.equal(slices + 1, encoding.recordCount, 'one record per slice, the last one finishing');
  assert.deepEqual(encoding.finish(), expected);
  const copy = new KvStore({ clock: new ManualClock() });
  copy.restore(encoding.finish());
  assert.equal(copy.hash().hash, hashAtCapture);
  assert.notEqual(store.hash().hash, hashAtCapture, 'the store itself did change meanwhile');
});

test('a restored store and the original stay identical under the same further operations', () => {
  const original = busyStore();
  const copy = new KvStore({ clock: new ManualClock() });
  copy.restore(original.snapshot());
  for (const store of [original, copy]) {
    store.alarm({ action: AlarmAction.Deactivate, memberId: 7, alarm: AlarmType.Corrupt });
    const id = store.leaseGrant({ ttl: 10 }).id;
    store.put({ key: bytes('new'), value: bytes('v'), lease: id });
    store.leaseRevoke({ id: -5 });
    store.compact({ revision: store.revision - 1 });
  }
  assert.equal(copy.hash().hash, original.hash().hash);
  assert.deepEqual(copy.hashKv(), original.hashKv());
});

test('the hash covers leases and alarms; leader-local timing does not change it', () => {
  const { store, clock } = newStore();
  const before = store.hash().hash;
  store.promote();
  clock.advance(5_000);
  assert.equal(store.hash().hash, before);
  store.leaseGrant({ id: 1, ttl: 10 });
  const withLease = store.hash().hash;
  assert.notEqual(withLease, before);
  store.leaseCheckpoint({ checkpoints: [{ id: 1, remainingTtl: 3 }] });
  assert.notEqual(store.hash().hash, withLease);
  const withCheckpoint = store.hash().hash;
  store.alarm({ action: AlarmAction.Activate, memberId: 1, alarm: AlarmType.NoSpace });
  assert.notEqual(store.hash().hash, withCheckpoint);
});

test('HashKV: revision 0 is the current one; compacted and future revisions fail', () => {
  const { store } = newStore();
  put(store, 'a', '1'); // 2
  put(store, 'a', '2'); // 3
  put(store, 'b', '1'); // 4
  assert.deepEqual(store.hashKv({ revision: 0 }), store.hashKv({ revision: 4 }));
  assert.notEqual(store.hashKv({ revision: 3 }).hash, store.hashKv({ revision: 4 }).hash);
  assertKvError(() => store.hashKv({ revision: 5 }), 'KV_FUTURE_REV');
  store.compact({ revision: 3 });
  assertKvError(() => store.hashKv({ revision: 3 }), 'KV_COMPACTED', 'etcdserver: mvcc: required revision has been compacted');
  assert.equal(store.hashKv({ revision: 4 }).compactRevision, 3);
});

test('HashKV is equal on members with equal history and differs with a different value', () => {
  const left = newStore().store;
  const right = newStore().store;
  const other = newStore().store;
  for (const store of [left, right, other]) {
    put(store, 'a', '1');
    store.deleteRange({ key: bytes('a') });
    put(store, 'b', store === other ? 'different' : 'same');
  }
  assert.equal(left.hashKv().hash, right.hashKv().hash);
  assert.notEqual(left.hashKv().hash, other.hashKv().hash);
});

test('a damaged snapshot is refused and leaves the store unchanged', () => {
  const snapshot = busyStore().snapshot();
  const { store } = newStore();
  put(store, 'mine', '1');
  const before = store.hash().hash;
  const flipped = snapshot.slice();
  flipped[20] = (flipped[20] as number) ^ 0x01;
  assertKvError(() => store.restore(flipped), 'KV_SNAPSHOT_CORRUPT');
  assertKvError(() => store.restore(snapshot.subarray(0, snapshot.length - 1)), 'KV_SNAPSHOT_CORRUPT');
  assertKvError(() => store.restore(new Uint8Array(3)), 'KV_SNAPSHOT_CORRUPT');
  assert.equal(store.hash().hash, before);
});

test('a well-framed snapshot with an impossible history is refused', () => {
  const source = newStore().store;
  put(source, 'a', '1'); // 2
  source.deleteRange({ key: bytes('a') }); // 3
  const good = source.snapshot();
  assert.doesNotThrow(() => newStore().store.restore(good));
  // Well-framed (valid checksum) but impossible heads: revision 0, a compact revision above the current one.
  const encodeHead = (currentRevision: number, compactRevision: number): Uint8Array => {
    const encoding = new SnapshotEncoding({ currentRevision, compactRevision, leaseIdSequence: 0 }, [], [], [], { keyAndValueBytes: 0 });
    assert.equal(encoding.encodeSome(1), true);
    return encoding.finish();
  };
  assert.doesNotThrow(() => newStore().store.restore(encodeHead(5, 4)));
  assertKvError(() => newStore().store.restore(encodeHead(0, -1)), 'KV_SNAPSHOT_CORRUPT');
  assertKvError(() => newStore().store.restore(encodeHead(5, 6)), 'KV_SNAPSHOT_CORRUPT');
  // A tombstone first: flip the first record's flags byte and fix the checksum.
  const tampered = good.slice(0, good.length - 4);
  const flagsOffset = 6 + 1 + 1 + 2 + 1 + 1 + 1 + 1; // magic, version, current, compact (sign + value), sequence, count, main, sub
  assert.equal(tampered[flagsOffset], 0);
  tampered[flagsOffset] = 1;
  const reframed = new Uint8Array(tampered.length + 4);
  reframed.set(tampered);
  new DataView(reframed.buffer).setUint32(tampered.length, crc32c(tampered), true);
  assertKvError(() => newStore().store.restore(reframed), 'KV_SNAPSHOT_CORRUPT');
});

test('the snapshot encoding is compact', () => {
  const { store } = newStore();
  for (let index = 0; index < 1000; index++) put(store, `k${index}`, 'v');
  const snapshot = store.snapshot();
  assert.ok(snapshot.length < 1000 * 16, `${snapshot.length} bytes for 1000 small keys`);
});
