/**
 * The watch hub, after etcd's watchableStore. A watcher is either synced (it has every event up to the
 * current revision and receives new ones as writes commit) or unsynced (it is behind and catches up from the
 * store's revision history). Each watcher holds a bounded buffer of undelivered responses; a synced watcher
 * whose buffer is full drops to unsynced instead of growing, so writes never wait and memory stays bounded.
 * A watcher whose next revision has been compacted away is canceled with the compact revision.
 *
 * Delivery is pull-based: the API takes a watcher's responses when its stream can send (`take`), and catch-up
 * from history happens then, one bounded step at a time. `onReady` tells the API a watcher has something.
 * Fragmenting, `created` responses and per-stream watch IDs are the API's business.
 */
import { emptyBytes, keySpanOf, spanContains, type KeySpan } from './_bytes.ts';
import type { RevisionRecord } from './_key-index.ts';
import type { Mvcc } from './_mvcc.ts';
import { toKeyValue } from './_range.ts';
import { assert, KvError } from './errors.ts';
import { watchCatchUpRevisionsMax, watcherPendingEventsMaxDefault, watcherPendingResponsesMaxDefault, watchersMaxDefault } from './limits.ts';
import {
  EventType,
  WatchFilterType,
  type Event,
  type KeyValue,
  type WatchCreateRequest,
  type WatchCreateResponse,
  type WatchResponse,
} from './types.ts';

export interface WatchHubOptions {
  /** Undelivered responses per watcher before it falls back to catch-up. */
  readonly pendingResponsesMax?: number;
  /** Undelivered events per watcher (one revision is never split, so a single one may exceed it). */
  readonly pendingEventsMax?: number;
  readonly watchersMax?: number;
  /** Called when a watcher goes from having nothing to take to having something. */
  readonly onReady?: (watchId: number) => void;
}

/** A watcher's state, for the API and for tests. */
export interface WatcherStatus {
  readonly watchId: number;
  readonly synced: boolean;
  /** The first revision whose events the watcher has not been given (meaningful while unsynced). */
  readonly nextRevision: number;
  readonly pendingResponses: number;
  readonly pendingEvents: number;
  readonly progressNotify: boolean;
  readonly canceled: boolean;
}

/** Counts over every watcher, for metrics. */
export interface WatchHubStatistics {
  readonly watchers: number;
  /** Watchers behind the current revision, catching up from history (etcd's slow watchers). */
  readonly unsyncedWatchers: number;
  /** Events queued and not yet taken. */
  readonly pendingEvents: number;
}

class Watcher {
  readonly id: number;
  readonly span: KeySpan;
  readonly groupKey: string;
  readonly prevKv: boolean;
  readonly dropPuts: boolean;
  readonly dropDeletes: boolean;
  readonly progressNotify: boolean;
  nextRevision: number;
  synced = false;
  canceled = false;
  ready = false;
  readonly pending: WatchResponse[] = [];
  /** Invariant: the number of events in `pending`. */
  pendingEvents = 0;

  constructor(id: number, request: WatchCreateRequest, nextRevision: number) {
    this.id = id;
    this.span = keySpanOf(request.key, request.rangeEnd);
    // Binary strings hold code units <= 0xff, so U+0100 and U+0101 cannot collide with key text.
    this.groupKey = `${this.span.start}\u0100${this.span.end ?? '\u0101'}`;
    this.prevKv = request.prevKv === true;
    const filters = request.filters ?? [];
    this.dropPuts = filters.includes(WatchFilterType.NoPut);
    this.dropDeletes = filters.includes(WatchFilterType.NoDelete);
    this.progressNotify = request.progressNotify === true;
    this.nextRevision = nextRevision;
  }

  wants(record: RevisionRecord): boolean {
    return record.tombstone ? !this.dropDeletes : !this.dropPuts;
  }
}

interface RangeGroup {
  readonly span: KeySpan;
  readonly watchers: Set<Watcher>;
}

export class WatchHub {
  readonly #source: () => Mvcc;
  readonly #pendingResponsesMax: number;
  readonly #pendingEventsMax: number;
  readonly #watchersMax: number;
  readonly #onReady: ((watchId: number) => void) | undefined;
  readonly #watchers = new Map<number, Watcher>();
  /** Synced single-key watchers by key. */
  readonly #byKey = new Map<string, Set<Watcher>>();
  /** Synced range watchers, grouped by identical range (many watchers usually share a prefix). */
  readonly #byRange = new Map<string, RangeGroup>();
  #nextWatchId = 1;

  /** @internal The store constructs the hub; `source` yields its current multi-version state. */
  constructor(source: () => Mvcc, options: WatchHubOptions = {}) {
    this.#source = source;
    this.#pendingResponsesMax = options.pendingResponsesMax ?? watcherPendingResponsesMaxDefault;
    this.#pendingEventsMax = options.pendingEventsMax ?? watcherPendingEventsMaxDefault;
    this.#watchersMax = options.watchersMax ?? watchersMaxDefault;
    this.#onReady = options.onReady;
    assert(this.#pendingResponsesMax >= 2 && this.#pendingEventsMax >= 1 && this.#watchersMax >= 1, 'watch bounds are positive');
  }

  get size(): number {
    return this.#watchers.size;
  }

  /**
   * Starts a watcher. A start revision of 0 or above the current revision only sees new writes; one at or
   * below it replays history first (and is canceled at the next take if that history is compacted).
   *
   * @example
   * const { watchId } = store.watchHub.watch({ key: bytes('a'), rangeEnd: bytes('b'), startRevision: 5 });
   * const responses = store.watchHub.take(watchId);
   */
  watch(request: WatchCreateRequest): WatchCreateResponse {
    const startRevision = request.startRevision ?? 0;
    if (!Number.isSafeInteger(startRevision)) throw new KvError('KV_UNSAFE_INTEGER', String(startRevision));
    if (startRevision < 0) throw new KvError('KV_INVALID_ARGUMENT', 'negative start revision');
    if (this.#watchers.size >= this.#watchersMax) throw new KvError('KV_TOO_MANY_WATCHERS');
    const current = this.#source().currentRevision;
    const synced = startRevision === 0 || startRevision > current;
    const watcher = new Watcher(this.#nextWatchId++, request, synced ? Math.max(current + 1, startRevision) : startRevision);
    this.#watchers.set(watcher.id, watcher);
    if (synced) this.#join(watcher);
    this.#updateReady(watcher);
    return { watchId: watcher.id, header: { revision: current } };
  }

  cancel(watchId: number): boolean {
    const watcher = this.#watchers.get(watchId);
    if (watcher === undefined) return false;
    if (watcher.synced) this.#leave(watcher);
    this.#watchers.delete(watchId);
    return true;
  }

  /**
   * Hands over up to `responsesMax` responses. An unsynced watcher with nothing pending first takes one
   * catch-up step from history. After the final (canceled) response the watcher is gone.
   */
  take(watchId: number, responsesMax = this.#pendingResponsesMax): WatchResponse[] {
    const watcher = this.#watchers.get(watchId);
    if (watcher === undefined) return [];
    if (watcher.pending.length === 0 && !watcher.synced && !watcher.canceled) this.#catchUp(watcher);
    const taken = watcher.pending.splice(0, Math.max(0, responsesMax));
    for (const response of taken) watcher.pendingEvents -= response.events.length;
    assert(watcher.pendingEvents >= 0, 'pending events are counted');
    if (watcher.canceled && watcher.pending.length === 0) this.#watchers.delete(watchId);
    else this.#updateReady(watcher);
    return taken;
  }

  /** Queues a progress response (no events, header = current revision) if the watcher is synced and has room. */
  requestProgress(watchId: number): boolean {
    const watcher = this.#watchers.get(watchId);
    if (watcher === undefined || !watcher.synced || watcher.canceled) return false;
    if (watcher.pending.length >= this.#pendingResponsesMax) return false;
    this.#enqueue(watcher, { header: { revision: this.#source().currentRevision }, watchId, events: [], compactRevision: 0, canceled: false });
    return true;
  }

  /** Watchers that have something to take, in ID order. */
  readyWatchIds(): number[] {
    const ids: number[] = [];
    for (const watcher of this.#watchers.values()) if (watcher.ready) ids.push(watcher.id);
    return ids.sort((left, right) => left - right);
  }

  /** O(watchers): for a metrics scrape, not for a hot path. */
  statistics(): WatchHubStatistics {
    let unsyncedWatchers = 0;
    let pendingEvents = 0;
    for (const watcher of this.#watchers.values()) {
      if (!watcher.synced && !watcher.canceled) unsyncedWatchers++;
      pendingEvents += watcher.pendingEvents;
    }
    assert(unsyncedWatchers <= this.#watchers.size && pendingEvents >= 0, 'watch counts are consistent');
    return { watchers: this.#watchers.size, unsyncedWatchers, pendingEvents };
  }

  status(watchId: number): WatcherStatus | undefined {
    const watcher = this.#watchers.get(watchId);
    if (watcher === undefined) return undefined;
    const { synced, nextRevision, pendingEvents, progressNotify, canceled } = watcher;
    return { watchId, synced, nextRevision, pendingResponses: watcher.pending.length, pendingEvents, progressNotify, canceled };
  }

  /** @internal The store reports each committed revision with its changes in sub-revision order. */
  notify(revision: number, changes: readonly RevisionRecord[]): void {
    if (this.#byKey.size === 0 && this.#byRange.size === 0) return;
    const batches = this.#matchSynced(changes);
    const events = new EventCache(this.#source());
    for (const [watcher, records] of batches) {
      if (revision < watcher.nextRevision) continue; // a watcher that starts at a future revision
      watcher.nextRevision = revision + 1;
      const delivered: Event[] = [];
      for (const record of records) if (watcher.wants(record)) delivered.push(events.of(record, watcher.prevKv));
      if (delivered.length === 0) continue;
      if (!this.#hasRoom(watcher, delivered.length)) {
        this.#fallBehind(watcher, revision);
        continue;
      }
      this.#enqueue(watcher, { header: { revision }, watchId: watcher.id, events: delivered, compactRevision: 0, canceled: false });
    }
  }

  /**
   * @internal After the store's state was replaced: every synced watcher catches up from the new history,
   * starting after `previousRevision`, the last revision it was synced to.
   */
  restored(previousRevision: number): void {
    for (const watcher of this.#watchers.values()) {
      if (!watcher.synced) continue;
      this.#fallBehind(watcher, Math.max(watcher.nextRevision, previousRevision + 1));
    }
  }

  #matchSynced(changes: readonly RevisionRecord[]): Map<Watcher, RevisionRecord[]> {
    const batches = new Map<Watcher, RevisionRecord[]>();
    const add = (watcher: Watcher, record: RevisionRecord): void => {
      const batch = batches.get(watcher);
      if (batch === undefined) batches.set(watcher, [record]);
      else batch.push(record);
    };
    for (const record of changes) {
      const key = record.keyIndex.key;
      const exact = this.#byKey.get(key);
      if (exact !== undefined) for (const watcher of exact) add(watcher, record);
      for (const group of this.#byRange.values()) {
        if (spanContains(group.span, key)) for (const watcher of group.watchers) add(watcher, record);
      }
    }
    return batches;
  }

  #hasRoom(watcher: Watcher, eventCount: number): boolean {
    if (watcher.pending.length >= this.#pendingResponsesMax) return false;
    return watcher.pending.length === 0 || watcher.pendingEvents + eventCount <= this.#pendingEventsMax;
  }

  #enqueue(watcher: Watcher, response: WatchResponse): void {
    watcher.pending.push(response);
    watcher.pendingEvents += response.events.length;
    this.#updateReady(watcher);
  }

  /** One bounded catch-up step: events of up to watchCatchUpRevisionsMax revisions, ending on a revision boundary. */
  #catchUp(watcher: Watcher): void {
    const source = this.#source();
    const current = source.currentRevision;
    if (watcher.nextRevision > current) {
      this.#join(watcher);
      return;
    }
    if (watcher.nextRevision < source.compactRevision) {
      watcher.canceled = true;
      const response = { header: { revision: current }, watchId: watcher.id, events: [], compactRevision: source.compactRevision, canceled: true };
      this.#enqueue(watcher, response);
      return;
    }
    const lastRevision = Math.min(current, watcher.nextRevision + watchCatchUpRevisionsMax - 1);
    const { events, throughRevision } = this.#readHistory(watcher, source, lastRevision);
    watcher.nextRevision = throughRevision + 1;
    if (events.length > 0) this.#enqueue(watcher, { header: { revision: current }, watchId: watcher.id, events, compactRevision: 0, canceled: false });
    if (watcher.nextRevision > current) this.#join(watcher);
  }

  #readHistory(watcher: Watcher, source: Mvcc, lastRevision: number): { events: Event[]; throughRevision: number } {
    const log = source.log;
    const cache = new EventCache(source);
    const events: Event[] = [];
    let index = source.logIndexFrom(watcher.nextRevision);
    while (index < log.length) {
      const revision = (log[index] as RevisionRecord).mainRevision;
      if (revision > lastRevision) break;
      if (events.length >= this.#pendingEventsMax) return { events, throughRevision: revision - 1 };
      for (; index < log.length && (log[index] as RevisionRecord).mainRevision === revision; index++) {
        const record = log[index] as RevisionRecord;
        if (spanContains(watcher.span, record.keyIndex.key) && watcher.wants(record)) events.push(cache.of(record, watcher.prevKv));
      }
    }
    return { events, throughRevision: lastRevision };
  }

  #join(watcher: Watcher): void {
    assert(!watcher.synced, 'a watcher joins once');
    watcher.synced = true;
    if (watcher.span.single) {
      let watchers = this.#byKey.get(watcher.span.start);
      if (watchers === undefined) this.#byKey.set(watcher.span.start, (watchers = new Set()));
      watchers.add(watcher);
      return;
    }
    let group = this.#byRange.get(watcher.groupKey);
    if (group === undefined) this.#byRange.set(watcher.groupKey, (group = { span: watcher.span, watchers: new Set() }));
    group.watchers.add(watcher);
  }

  #leave(watcher: Watcher): void {
    assert(watcher.synced, 'only a synced watcher leaves the live groups');
    watcher.synced = false;
    if (watcher.span.single) {
      const watchers = this.#byKey.get(watcher.span.start);
      watchers?.delete(watcher);
      if (watchers?.size === 0) this.#byKey.delete(watcher.span.start);
      return;
    }
    const group = this.#byRange.get(watcher.groupKey);
    group?.watchers.delete(watcher);
    if (group?.watchers.size === 0) this.#byRange.delete(watcher.groupKey);
  }

  #fallBehind(watcher: Watcher, nextRevision: number): void {
    this.#leave(watcher);
    watcher.nextRevision = nextRevision;
    this.#updateReady(watcher);
  }

  #updateReady(watcher: Watcher): void {
    const ready = watcher.pending.length > 0 || (!watcher.synced && !watcher.canceled);
    const becameReady = ready && !watcher.ready;
    watcher.ready = ready;
    if (becameReady && this.#onReady !== undefined) this.#onReady(watcher.id);
  }
}

/** Builds each event once per revision batch and shares it between watchers (events are read-only). */
class EventCache {
  readonly #source: Mvcc;
  readonly #plain = new Map<RevisionRecord, Event>();
  readonly #withPrevious = new Map<RevisionRecord, Event>();

  constructor(source: Mvcc) {
    this.#source = source;
  }

  of(record: RevisionRecord, withPrevious: boolean): Event {
    const cache = withPrevious ? this.#withPrevious : this.#plain;
    let event = cache.get(record);
    if (event === undefined) {
      event = this.#build(record, withPrevious);
      cache.set(record, event);
    }
    return event;
  }

  #build(record: RevisionRecord, withPrevious: boolean): Event {
    const kv: KeyValue = record.tombstone
      ? { key: record.keyIndex.keyBytes, createRevision: 0, modRevision: record.mainRevision, version: 0, value: emptyBytes, lease: 0 }
      : toKeyValue(record);
    const event: Event = { type: record.tombstone ? EventType.Delete : EventType.Put, kv };
    // etcd's watch server reads the previous value at mod_revision - 1, except for a create, and leaves it out
    // when that revision is compacted.
    const isCreate = !record.tombstone && record.createRevision === record.mainRevision;
    if (withPrevious && !isCreate && record.mainRevision - 1 >= this.#source.compactRevision) {
      const previous = record.keyIndex.at(record.mainRevision - 1);
      if (previous !== null) event.prevKv = toKeyValue(previous);
    }
    return event;
  }
}
