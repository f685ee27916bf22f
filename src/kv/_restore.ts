/**
 * Rebuilds the multi-version store and the lessor from a decoded snapshot, checking that the history is one
 * this store could have produced; anything else is KV_SNAPSHOT_CORRUPT, raised before any state is replaced.
 */
import type { KeyIndex } from './_key-index.ts';
import type { Lessor } from './_lessor.ts';
import { Mvcc } from './_mvcc.ts';
import type { SnapshotRecord, SnapshotState } from './_snapshot.ts';
import { KvError } from './errors.ts';
import { leaseTtlSecondsMax } from './limits.ts';
import { AlarmType } from './types.ts';

function corrupt(detail: string): KvError {
  return new KvError('KV_SNAPSHOT_CORRUPT', detail);
}

export function restoreState(state: SnapshotState, lessor: Lessor): Mvcc {
  if (state.currentRevision < 1) throw corrupt('current revision below 1');
  if (state.compactRevision < -1 || state.compactRevision > state.currentRevision) throw corrupt('compact revision out of range');
  const mvcc = new Mvcc();
  let previous: SnapshotRecord | null = null;
  for (const record of state.records) {
    checkOrder(previous, record, state.currentRevision);
    restoreRecord(mvcc, record, state.compactRevision);
    previous = record;
  }
  mvcc.currentRevision = state.currentRevision;
  mvcc.compactRevision = state.compactRevision;
  restoreLeases(state, lessor);
  mvcc.index.forEachInRange('', null, (key, keyIndex) => {
    const lease = keyIndex.live?.lease ?? 0;
    // etcd skips (and logs) keys whose lease no longer exists.
    if (lease !== 0 && lessor.lookup(lease) !== undefined) lessor.attach(lease, key);
    return true;
  });
  for (const alarm of state.alarms) {
    if (alarm.alarm !== AlarmType.NoSpace && alarm.alarm !== AlarmType.Corrupt) throw corrupt(`unknown alarm type ${alarm.alarm}`);
  }
  return mvcc;
}

function checkOrder(previous: SnapshotRecord | null, record: SnapshotRecord, currentRevision: number): void {
  if (record.mainRevision < 1 || record.mainRevision > currentRevision) throw corrupt(`revision ${record.mainRevision} out of range`);
  if (previous === null) return;
  const ascending = record.mainRevision > previous.mainRevision ||
    (record.mainRevision === previous.mainRevision && record.subRevision > previous.subRevision);
  if (!ascending) throw corrupt(`revision ${record.mainRevision}.${record.subRevision} out of order`);
}

function restoreRecord(mvcc: Mvcc, record: SnapshotRecord, compactRevision: number): void {
  const keyIndex: KeyIndex | undefined = mvcc.index.get(record.key);
  const revision = [record.mainRevision, record.subRevision] as const;
  // Compaction keeps, per key, only the put visible at the compact revision: the key's first record.
  if (record.mainRevision <= compactRevision && (keyIndex !== undefined || record.put === null)) {
    throw corrupt(`history below the compact revision at ${record.mainRevision}`);
  }
  if (record.put === null) {
    if (keyIndex === undefined || keyIndex.live === null) throw corrupt(`tombstone of a deleted key at ${record.mainRevision}`);
    mvcc.appendTombstone(keyIndex, revision);
    return;
  }
  const { createRevision, version, lease, value } = record.put;
  const live = keyIndex?.live ?? null;
  const expected = expectedPut(keyIndex, live, record.mainRevision);
  const consistent = expected === null
    ? createRevision >= 1 && createRevision <= record.mainRevision && version >= 1 && (version !== 1 || createRevision === record.mainRevision)
    : createRevision === expected.createRevision && version === expected.version;
  if (!consistent || !Number.isSafeInteger(lease)) throw corrupt(`inconsistent put at ${record.mainRevision}`);
  mvcc.appendPut(record.key, record.keyBytes, revision, { createRevision, version, value, lease });
}

/** What the next put of a key must carry, or null when its first restored record may start mid-history. */
function expectedPut(keyIndex: KeyIndex | undefined, live: KeyIndex['live'], mainRevision: number): { createRevision: number; version: number } | null {
  if (keyIndex === undefined) return null;
  if (live !== null) return { createRevision: live.createRevision, version: live.version + 1 };
  return { createRevision: mainRevision, version: 1 };
}

function restoreLeases(state: SnapshotState, lessor: Lessor): void {
  let previousId: number | null = null;
  for (const lease of state.leases) {
    if (lease.id === 0 || (previousId !== null && lease.id <= previousId)) throw corrupt(`lease ${lease.id} out of order`);
    if (lease.ttlSeconds < 1 || lease.ttlSeconds > leaseTtlSecondsMax) throw corrupt(`lease ${lease.id} TTL out of range`);
    lessor.restore(lease.id, lease.ttlSeconds, lease.remainingTtlSeconds);
    previousId = lease.id;
  }
  lessor.idSequence = state.leaseIdSequence;
}
