import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlarmAction, AlarmType, CompareResult, CompareTarget, kvOverheadBytes, storeAlarmMemberId } from '../../src/kv/index.ts';
import { assertKvError, bytes, fromKey, newStore, put } from './_helpers.ts';

/** Room for about ten small puts. */
const quotaBytes = 10 * (kvOverheadBytes + 10);

function fill(store: ReturnType<typeof newStore>['store']): number {
  let written = 0;
  for (;;) {
    try {
      put(store, `key${written}`, 'value');
      written++;
    } catch {
      return written;
    }
  }
}

test('a write past the quota fails with NOSPACE and raises the alarm; reads still work', () => {
  const { store } = newStore({ quotaBytes });
  const written = fill(store);
  assert.ok(written >= 8 && written <= 10, `wrote ${written}`);
  const revision = store.revision;
  const error = assertKvError(() => put(store, 'more', 'x'), 'KV_NO_SPACE', 'etcdserver: mvcc: database space exceeded');
  assert.equal(error.grpcCode, 8);
  assert.equal(store.revision, revision, 'the refused write changed nothing');
  assert.deepEqual(store.alarm({ action: AlarmAction.Get }).alarms, [{ memberId: storeAlarmMemberId, alarm: AlarmType.NoSpace }]);
  assert.equal(store.range({ key: bytes('key'), rangeEnd: fromKey }).count, written);
});

test('under NOSPACE, puts, txns with puts and lease grants fail; deletes, read-only txns and compaction work', () => {
  const { store } = newStore({ quotaBytes });
  fill(store);
  store.deleteRange({ key: bytes('key0') });
  assertKvError(() => put(store, 'key0', 'tiny'), 'KV_NO_SPACE', undefined);
  assertKvError(() => store.txn({ success: [{ requestPut: { key: bytes('t'), value: bytes('v') } }] }), 'KV_NO_SPACE');
  // etcd costs a txn by its puts on either branch, whichever runs.
  const compare = [{ key: bytes('key1'), target: CompareTarget.Version, version: 0, result: CompareResult.Greater }];
  assertKvError(() => store.txn({ compare, success: [], failure: [{ requestPut: { key: bytes('t'), value: bytes('v') } }] }), 'KV_NO_SPACE');
  assertKvError(() => store.leaseGrant({ ttl: 60 }), 'KV_NO_SPACE');
  assert.equal(store.txn({ success: [{ requestDeleteRange: { key: bytes('key1') } }, { requestRange: { key: bytes('key2') } }] }).succeeded, true);
  store.compact({ revision: store.revision });
});

test('after compaction frees space, disarming the alarm lets writes through again', () => {
  const { store } = newStore({ quotaBytes });
  fill(store);
  store.deleteRange({ key: bytes('key'), rangeEnd: fromKey });
  store.compact({ revision: store.revision });
  assertKvError(() => put(store, 'again', 'v'), 'KV_NO_SPACE', undefined);
  // etcdctl alarm disarm: list the alarms, deactivate each.
  for (const alarm of store.alarm({ action: AlarmAction.Get }).alarms) {
    const response = store.alarm({ action: AlarmAction.Deactivate, memberId: alarm.memberId, alarm: alarm.alarm });
    assert.deepEqual(response.alarms, [alarm]);
  }
  assert.deepEqual(store.alarm({ action: AlarmAction.Get }).alarms, []);
  assert.equal(put(store, 'again', 'v'), store.revision);
});

test('disarming without freeing space trips the alarm again on the next write', () => {
  const { store } = newStore({ quotaBytes });
  fill(store);
  store.alarm({ action: AlarmAction.Deactivate, memberId: storeAlarmMemberId, alarm: AlarmType.NoSpace });
  assertKvError(() => put(store, 'more', 'x'), 'KV_NO_SPACE', undefined);
  assert.equal(store.alarm({ action: AlarmAction.Get, alarm: AlarmType.NoSpace }).alarms.length, 1);
});

test('a negative quota disables it; the default is 2 GiB', () => {
  const { store } = newStore({ quotaBytes: -1 });
  for (let index = 0; index < 50; index++) put(store, `k${index}`, 'x'.repeat(100));
  assert.deepEqual(store.alarm({ action: AlarmAction.Get }).alarms, []);
  assert.equal(newStore().store.quotaBytes, 2 * 1024 ** 3);
  assert.equal(newStore({ quotaBytes: 0 }).store.quotaBytes, 2 * 1024 ** 3, '0 means the default, as in etcd');
});

test('alarms: activate, list (all or by type), deactivate, per member', () => {
  const { store } = newStore();
  const activated = store.alarm({ action: AlarmAction.Activate, memberId: 3, alarm: AlarmType.Corrupt });
  assert.deepEqual(activated.alarms, [{ memberId: 3, alarm: AlarmType.Corrupt }]);
  store.alarm({ action: AlarmAction.Activate, memberId: 1, alarm: AlarmType.NoSpace });
  store.alarm({ action: AlarmAction.Activate, memberId: 2, alarm: AlarmType.NoSpace });
  assert.deepEqual(store.alarm({ action: AlarmAction.Activate, memberId: 2, alarm: AlarmType.NoSpace }).alarms, [{ memberId: 2, alarm: AlarmType.NoSpace }], 'activating again returns the alarm');
  assert.deepEqual(store.alarm({ action: AlarmAction.Activate, memberId: 2, alarm: AlarmType.None }).alarms, [], 'NONE is not an alarm');
  assert.deepEqual(store.alarm({ action: AlarmAction.Get }).alarms, [
    { memberId: 1, alarm: AlarmType.NoSpace },
    { memberId: 2, alarm: AlarmType.NoSpace },
    { memberId: 3, alarm: AlarmType.Corrupt },
  ]);
  assert.deepEqual(store.alarm({ action: AlarmAction.Get, alarm: AlarmType.Corrupt }).alarms, [{ memberId: 3, alarm: AlarmType.Corrupt }]);
  assert.deepEqual(store.alarm({ action: AlarmAction.Deactivate, memberId: 9, alarm: AlarmType.Corrupt }).alarms, [], 'nothing to deactivate');
  store.alarm({ action: AlarmAction.Deactivate, memberId: 1, alarm: AlarmType.NoSpace });
  assert.equal(store.alarm({ action: AlarmAction.Get, alarm: AlarmType.NoSpace }).alarms.length, 1);
  assertKvError(() => store.alarm({ action: 7 as AlarmAction }), 'KV_INVALID_ARGUMENT');
});

test('under CORRUPT, writes, compaction and lease changes fail with DataLoss; reads work', () => {
  const { store } = newStore();
  put(store, 'a', '1');
  const lease = store.leaseGrant({ ttl: 60 }).id;
  store.alarm({ action: AlarmAction.Activate, memberId: 1, alarm: AlarmType.Corrupt });
  const error = assertKvError(() => put(store, 'a', '2'), 'KV_CORRUPT', 'etcdserver: corrupt cluster');
  assert.equal(error.grpcCode, 15);
  assertKvError(() => store.deleteRange({ key: bytes('a') }), 'KV_CORRUPT');
  assertKvError(() => store.txn({ success: [{ requestDeleteRange: { key: bytes('a') } }] }), 'KV_CORRUPT');
  assertKvError(() => store.compact({ revision: 2 }), 'KV_CORRUPT');
  assertKvError(() => store.leaseGrant({ ttl: 60 }), 'KV_CORRUPT');
  assertKvError(() => store.leaseRevoke({ id: lease }), 'KV_CORRUPT');
  assert.equal(store.range({ key: bytes('a') }).count, 1);
  assert.equal(store.txn({ success: [{ requestRange: { key: bytes('a') } }] }).succeeded, true);
});
