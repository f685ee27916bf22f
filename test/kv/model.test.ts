// Property test: random operations on a few keys, applied to the store and to a deliberately naive reference
// that keeps a full copy of the key space for every revision. Reads at random revisions, write answers, errors
// and watch events must agree.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CompareResult,
  CompareTarget,
  EventType,
  KvError,
  SortOrder,
  SortTarget,
  type KvStore,
  type RangeRequest,
  type RequestOp,
  type WatchResponse,
} from '../../src/kv/index.ts';
import { bytes, fromKey, newStore, pick, seededRandom, text } from './_helpers.ts';

interface ReferenceKv {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: number;
}

type Span = { start: string; end: string | null; single: boolean };
type ExpectedEvent = [string, string, string, number, string | null];

class Reference {
  revision = 1;
  compactRevision = -1;
  /** The key space after each revision; index = revision. */
  readonly states: Array<Map<string, ReferenceKv>> = [new Map(), new Map()];
  readonly leases = new Set<number>();
  readonly events: ExpectedEvent[] = [];

  stateAt(revision: number): Map<string, ReferenceKv> {
    return this.states[revision] as Map<string, ReferenceKv>;
  }

  /** Applies one revision's worth of changes (already validated), in order. */
  write(changes: Array<{ key: string; value: string | null; lease: number }>): void {
    if (changes.length === 0) return;
    const next = new Map(this.stateAt(this.revision));
    const revision = this.revision + 1;
    for (const change of changes) {
      const previous = next.get(change.key);
      const before = this.stateAt(this.revision).get(change.key);
      if (change.value === null) {
        next.delete(change.key);
        this.events.push(['delete', change.key, '', revision, before?.value ?? null]);
        continue;
      }
      const kv = { key: change.key, value: change.value, createRevision: previous?.createRevision ?? revision, modRevision: revision, version: (previous?.version ?? 0) + 1, lease: change.lease };
      next.set(change.key, kv);
      this.events.push(['put', change.key, change.value, revision, kv.version === 1 ? null : (before?.value ?? null)]);
    }
    this.states.push(next);
    this.revision = revision;
  }

  range(span: Span, revision: number): ReferenceKv[] {
    return [...this.stateAt(revision).values()]
      .filter((kv) => span.single ? kv.key === span.start : kv.key >= span.start && (span.end === null || kv.key < span.end))
      .sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
  }
}

const keyNames = ['a', 'b', 'c', 'd', 'e'];

function randomSpan(random: () => number): { span: Span; key: Uint8Array; rangeEnd?: Uint8Array } {
  const start = pick(random, keyNames);
  const shape = random();
  if (shape < 0.4) return { span: { start, end: start, single: true }, key: bytes(start) };
  if (shape < 0.6) return { span: { start, end: null, single: false }, key: bytes(start), rangeEnd: fromKey };
  const end = pick(random, [...keyNames, 'f']);
  return { span: { start, end, single: false }, key: bytes(start), rangeEnd: bytes(end) };
}

function checkRange(store: KvStore, reference: Reference, random: () => number, context: string): void {
  const { span, key, rangeEnd } = randomSpan(random);
  const revision = Math.floor(random() * (reference.revision + 2));
  const limit = Math.floor(random() * 4);
  const sortOrder = pick(random, [SortOrder.None, SortOrder.Ascend, SortOrder.Descend]);
  const sortTarget = sortOrder === SortOrder.None ? SortTarget.Key : pick(random, [SortTarget.Key, SortTarget.Version, SortTarget.Mod, SortTarget.Value]);
  const request: RangeRequest = { key, limit, revision, sortOrder, sortTarget, ...(rangeEnd === undefined ? {} : { rangeEnd }) };
  const label = `${context} range ${JSON.stringify({ span, revision, limit, sortOrder, sortTarget })}`;
  const resolved = revision === 0 ? reference.revision : revision;
  if (revision > reference.revision || resolved < reference.compactRevision) {
    const expected = revision > reference.revision ? 'KV_FUTURE_REV' : 'KV_COMPACTED';
    assert.throws(() => store.range(request), (error: unknown) => error instanceof KvError && error.code === expected, label);
    return;
  }
  const all = reference.range(span, resolved);
  const field = (kv: ReferenceKv): number | string => sortTarget === SortTarget.Version ? kv.version : sortTarget === SortTarget.Mod ? kv.modRevision : sortTarget === SortTarget.Value ? kv.value : kv.key;
  const direction = sortOrder === SortOrder.Descend ? -1 : 1;
  const sorted = sortOrder === SortOrder.None ? all : [...all].sort((left, right) => direction * (field(left) < field(right) ? -1 : field(left) > field(right) ? 1 : 0));
  const expected = limit > 0 ? sorted.slice(0, limit) : sorted;
  const response = store.range(request);
  const actual = response.kvs.map((kv) => ({ key: text(kv.key), value: text(kv.value), createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, lease: kv.lease }));
  assert.deepEqual(actual, expected, label);
  assert.equal(response.count, all.length, label);
  assert.equal(response.more, limit > 0 && all.length > limit, label);
  assert.equal(response.header.revision, reference.revision, label);
}

function randomWrite(store: KvStore, reference: Reference, random: () => number): void {
  const choice = random();
  const key = pick(random, keyNames);
  const value = `v${Math.floor(random() * 1000)}`;
  if (choice < 0.35) {
    const lease = random() < 0.3 && reference.leases.size > 0 ? pick(random, [...reference.leases]) : 0;
    const response = store.put({ key: bytes(key), value: bytes(value), lease, prevKv: true });
    const previous = reference.stateAt(reference.revision).get(key);
    reference.write([{ key, value, lease }]);
    assert.equal(response.header.revision, reference.revision);
    assert.equal(text(response.prevKv?.value), previous === undefined ? '<undefined>' : previous.value);
  } else if (choice < 0.5) {
    const { span, key: start, rangeEnd } = randomSpan(random);
    const doomed = reference.range(span, reference.revision);
    const response = store.deleteRange({ key: start, ...(rangeEnd === undefined ? {} : { rangeEnd }) });
    reference.write(doomed.map((kv) => ({ key: kv.key, value: null, lease: 0 })));
    assert.equal(response.deleted, doomed.length);
    assert.equal(response.header.revision, reference.revision);
  } else if (choice < 0.75) {
    randomTxn(store, reference, random);
  } else if (choice < 0.85) {
    const revision = Math.floor(random() * (reference.revision + 2));
    if (revision <= reference.compactRevision || revision > reference.revision) {
      assert.throws(() => store.compact({ revision }), KvError);
      return;
    }
    store.compact({ revision });
    reference.compactRevision = revision;
  } else {
    randomLeaseOp(store, reference, random);
  }
}

function randomTxn(store: KvStore, reference: Reference, random: () => number): void {
  const guard = pick(random, keyNames);
  const current = reference.stateAt(reference.revision).get(guard);
  const expectedVersion = random() < 0.5 ? (current?.version ?? 0) : Math.floor(random() * 3);
  const succeeded = (current?.version ?? 0) === expectedVersion;
  const branch = (): Array<{ key: string; value: string | null }> => {
    const keys = [...keyNames].sort(() => random() - 0.5).slice(0, 1 + Math.floor(random() * 3));
    return keys.map((key) => ({ key, value: random() < 0.7 ? `t${Math.floor(random() * 100)}` : null }));
  };
  const success = branch();
  const failure = branch();
  const toOps = (changes: Array<{ key: string; value: string | null }>): RequestOp[] => changes.map((change) =>
    change.value === null ? { requestDeleteRange: { key: bytes(change.key) } } : { requestPut: { key: bytes(change.key), value: bytes(change.value) } });
  const response = store.txn({
    compare: [{ key: bytes(guard), target: CompareTarget.Version, version: expectedVersion, result: CompareResult.Equal }],
    success: toOps(success),
    failure: toOps(failure),
  });
  assert.equal(response.succeeded, succeeded);
  const chosen = succeeded ? success : failure;
  const live = reference.stateAt(reference.revision);
  // A delete of a missing key changes nothing; the rest apply in order.
  reference.write(chosen.filter((change) => change.value !== null || live.has(change.key)).map((change) => ({ ...change, lease: 0 })));
  assert.equal(response.header.revision, reference.revision);
}

function randomLeaseOp(store: KvStore, reference: Reference, random: () => number): void {
  if (reference.leases.size === 0 || random() < 0.5) {
    reference.leases.add(store.leaseGrant({ ttl: 60 }).id);
    return;
  }
  const id = pick(random, [...reference.leases]);
  store.leaseRevoke({ id });
  reference.leases.delete(id);
  const attached = [...reference.stateAt(reference.revision).values()].filter((kv) => kv.lease === id).map((kv) => kv.key).sort();
  reference.write(attached.map((key) => ({ key, value: null, lease: 0 })));
}

function eventTuples(responses: readonly WatchResponse[]): ExpectedEvent[] {
  return responses.flatMap((response) => response.events.map((event): ExpectedEvent => [
    event.type === EventType.Put ? 'put' : 'delete', text(event.kv.key), text(event.kv.value), event.kv.modRevision, event.prevKv === undefined ? null : text(event.prevKv.value),
  ]));
}

test('the store agrees with a naive reference model under random operations', () => {
  for (let seed = 1; seed <= 25; seed++) {
    const random = seededRandom(seed);
    const { store } = newStore({ watch: { pendingResponsesMax: 2, pendingEventsMax: 4 } });
    const reference = new Reference();
    const live = store.watchHub.watch({ key: new Uint8Array([0]), rangeEnd: fromKey, prevKv: true });
    const slow = store.watchHub.watch({ key: new Uint8Array([0]), rangeEnd: fromKey, prevKv: true, startRevision: 1 });
    const liveEvents: WatchResponse[] = [];
    const slowEvents: WatchResponse[] = [];
    for (let step = 0; step < 250; step++) {
      randomWrite(store, reference, random);
      liveEvents.push(...store.watchHub.take(live.watchId));
      if (step % 25 === 0) slowEvents.push(...store.watchHub.take(slow.watchId));
      checkRange(store, reference, random, `seed ${seed} step ${step}`);
    }
    assert.equal(store.revision, reference.revision, `seed ${seed}`);
    assert.deepEqual(eventTuples(liveEvents), reference.events, `seed ${seed}: live watcher events`);
    for (let round = 0; round < 1000 && store.watchHub.status(slow.watchId) !== undefined && store.watchHub.readyWatchIds().includes(slow.watchId); round++) {
      slowEvents.push(...store.watchHub.take(slow.watchId));
    }
    const received = eventTuples(slowEvents);
    const canceled = slowEvents.some((response) => response.canceled);
    // The slow watcher gets a prefix of the events (all, unless compaction overtook it), prev_kv aside:
    // history replay reads prev_kv after later compactions may have removed it.
    const withoutPrevious = (events: ExpectedEvent[]): ExpectedEvent[] => events.map((event) => [event[0], event[1], event[2], event[3], null]);
    assert.deepEqual(withoutPrevious(received), withoutPrevious(reference.events.slice(0, received.length)), `seed ${seed}: slow watcher`);
    if (!canceled) assert.equal(received.length, reference.events.length, `seed ${seed}: slow watcher complete`);
  }
});
