/**
 * One Watch stream: many watchers multiplexed on one bidirectional call, as etcd's serverWatchStream
 * (v3rpc/watch.go). Requests create and cancel watchers and ask for progress; responses are pulled from the
 * store's watch hub only when the stream can send, so a slow client holds the server back to the hub's
 * bounded per-watcher buffers (a watcher that overflows falls behind and catches up from history later).
 *
 * Stream watch IDs are the client's (etcd 3.4 lets a client choose one; 0 means "pick one", and the server
 * picks the lowest free ID counting from 0). The hub has its own IDs, global to the store.
 */
import type { RequestStream, ServerStreamCall } from '../grpc/index.ts';
import { KvError, type WatchHub, type WatchResponse as HubResponse, type WatchFilterType } from '../../kv/index.ts';
import type { MemberBackend } from '../member/backend.ts';
import { encodeEvent, encodeWatchResponse, type EventInit, type WatchCreateRequest, type WatchRequest, type WatchResponseInit } from '../proto/index.ts';
import { eventToProto, responseHeader } from './_convert.ts';
import { toGrpcError } from './_errors.ts';
import { assert, type ResolvedApiOptions } from './options.ts';

/** etcd's answers to a create it refuses (mvcc/watcher.go). */
export const emptyWatcherRangeReason = 'mvcc: watcher range is empty';
export const duplicateWatchIdReason = 'mvcc: duplicate watch ID provided on the WatchStream';
export const streamWatchersReason = 'keel: too many watchers on this watch stream';
/** etcd answers a progress request with this ID: the response belongs to every watcher of the stream. */
export const broadcastWatchId = -1;
/** Bytes an event adds to a WatchResponse beyond its own encoding: field tag and length prefix. */
const eventFieldOverheadBytesMax = 1 + 5;

interface StreamWatcher {
  readonly streamId: number;
  readonly hubId: number;
  readonly fragment: boolean;
  readonly progressNotify: boolean;
}

/** Routes the hub's readiness signals (by hub ID) to the stream that owns the watcher. */
export interface WatchRouter {
  register(hubId: number, stream: WatchStream): void;
  unregister(hubId: number): void;
}

export class WatchStream {
  readonly #backend: MemberBackend;
  readonly #hub: WatchHub;
  readonly #options: ResolvedApiOptions;
  readonly #router: WatchRouter;
  readonly #byStreamId = new Map<number, StreamWatcher>();
  readonly #byHubId = new Map<number, StreamWatcher>();
  /** Hub IDs with responses to take, in turn order. Invariant: a subset of `#byHubId`'s keys. */
  readonly #ready = new Set<number>();
  /** Created, canceled and progress answers. Invariant: length <= watchControlResponsesMax. */
  readonly #control: WatchResponseInit[] = [];
  #nextStreamId = 0;
  #wakePump: (() => void) | undefined;
  #controlRoom: (() => void) | undefined;
  #stopped = false;

  constructor(backend: MemberBackend, options: ResolvedApiOptions, router: WatchRouter) {
    this.#backend = backend;
    this.#hub = backend.store.watchHub;
    this.#options = options;
    this.#router = router;
  }

  get watcherCount(): number {
    return this.#byStreamId.size;
  }

  /** Serves the call until the client goes away; the watchers die with the stream. */
  async run(requests: RequestStream<WatchRequest>, call: ServerStreamCall<WatchResponseInit>): Promise<void> {
    const stop = (): void => this.#stop();
    call.signal.addEventListener('abort', stop, { once: true });
    const progressTimer = setInterval(() => this.#requestProgressAll(), this.#options.watchProgressIntervalMs);
    progressTimer.unref();
    const pump = this.#pump(call);
    try {
      // A client that half-closes still gets its events until it cancels, as in etcd (recvLoop's EOF is not an error).
      await this.#read(requests);
      await pump;
    } catch (error) {
      throw toGrpcError(error);
    } finally {
      clearInterval(progressTimer);
      call.signal.removeEventListener('abort', stop);
      this.#stop();
      pump.catch(() => undefined);
      for (const watcher of this.#byHubId.values()) this.#forget(watcher);
    }
  }

  /** The hub says `hubId` has something to take. */
  markReady(hubId: number): void {
    if (!this.#byHubId.has(hubId) || this.#ready.has(hubId)) return;
    this.#ready.add(hubId);
    this.#wake();
  }

  async #read(requests: RequestStream<WatchRequest>): Promise<void> {
    for await (const request of requests) {
      if (this.#stopped) return;
      const union = request.requestUnion;
      if (union === undefined) continue;
      if (union.case === 'createRequest') this.#create(union.value);
      else if (union.case === 'cancelRequest') this.#cancel(union.value.watchId);
      else this.#queueControl({ header: this.#header(), watchId: broadcastWatchId });
      await this.#controlHasRoom();
    }
  }

  #create(request: WatchCreateRequest): void {
    const refuse = (reason: string): void => {
      this.#queueControl({ header: this.#header(), watchId: -1, created: true, canceled: true, cancelReason: reason });
    };
    // etcd: an empty key means the smallest key, \x00; a range end of \x00 means "every key >= key".
    const key = request.key.length === 0 ? new Uint8Array([0]) : request.key;
    const rangeEnd = request.rangeEnd;
    if (rangeEnd.length > 0 && !(rangeEnd.length === 1 && rangeEnd[0] === 0) && Buffer.compare(key, rangeEnd) >= 0) return refuse(emptyWatcherRangeReason);
    if (request.watchId !== 0 && this.#byStreamId.has(request.watchId)) return refuse(duplicateWatchIdReason);
    if (this.#byStreamId.size >= this.#options.streamWatchersMax) return refuse(streamWatchersReason);
    let hubId: number;
    try {
      const filters = request.filters.map((filter) => filter as number as WatchFilterType);
      hubId = this.#hub.watch({ key, rangeEnd, startRevision: Math.max(0, request.startRevision), progressNotify: request.progressNotify, filters, prevKv: request.prevKv }).watchId;
    } catch (error) {
      if (error instanceof KvError) return refuse(error.message);
      throw error;
    }
    const streamId = request.watchId !== 0 ? request.watchId : this.#freeStreamId();
    const watcher: StreamWatcher = { streamId, hubId, fragment: request.fragment, progressNotify: request.progressNotify };
    this.#byStreamId.set(streamId, watcher);
    this.#byHubId.set(hubId, watcher);
    this.#router.register(hubId, this);
    // The created answer is queued before the watcher can be marked ready, and control answers go first.
    this.#queueControl({ header: this.#header(), watchId: streamId, created: true });
    this.#refreshReady(hubId);
  }

  #cancel(streamId: number): void {
    const watcher = this.#byStreamId.get(streamId);
    // etcd answers a cancel of an unknown ID with nothing.
    if (watcher === undefined) return;
    this.#forget(watcher);
    this.#queueControl({ header: this.#header(), watchId: streamId, canceled: true });
  }

  #forget(watcher: StreamWatcher): void {
    this.#hub.cancel(watcher.hubId);
    this.#router.unregister(watcher.hubId);
    this.#byStreamId.delete(watcher.streamId);
    this.#byHubId.delete(watcher.hubId);
    this.#ready.delete(watcher.hubId);
  }

  #freeStreamId(): number {
    // Bounded: at most streamWatchersMax IDs are taken, so a free one is found within that many steps.
    for (let step = 0; step <= this.#options.streamWatchersMax; step++) {
      const candidate = this.#nextStreamId;
      this.#nextStreamId = candidate >= Number.MAX_SAFE_INTEGER ? 0 : candidate + 1;
      if (!this.#byStreamId.has(candidate)) return candidate;
    }
    assert(false, 'a free watch ID exists below the watcher bound');
  }

  #queueControl(response: WatchResponseInit): void {
    // The reader waits for room after every request, so at most one answer per request passes the bound.
    assert(this.#control.length <= this.#options.watchControlResponsesMax, 'control answers are bounded');
    this.#control.push(response);
    this.#wake();
  }

  #controlHasRoom(): Promise<void> {
    if (this.#control.length < this.#options.watchControlResponsesMax || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.#controlRoom = resolve;
    });
  }

  #header(): WatchResponseInit['header'] {
    return responseHeader(this.#backend.header());
  }

  // ---------------------------------------------------------------------------------------------------
  // Sending
  // ---------------------------------------------------------------------------------------------------

  async #pump(call: ServerStreamCall<WatchResponseInit>): Promise<void> {
    while (!this.#stopped) {
      const control = this.#control.shift();
      if (control !== undefined) {
        this.#controlRoom?.();
        this.#controlRoom = undefined;
        await call.send(control);
        continue;
      }
      const hubId = this.#ready.values().next().value;
      if (hubId !== undefined) {
        this.#ready.delete(hubId);
        await this.#deliver(hubId, call);
        continue;
      }
      await new Promise<void>((resolve) => {
        this.#wakePump = resolve;
      });
    }
  }

  async #deliver(hubId: number, call: ServerStreamCall<WatchResponseInit>): Promise<void> {
    for (const response of this.#hub.take(hubId, this.#options.watchTakeResponsesMax)) {
      const watcher = this.#byHubId.get(hubId);
      if (watcher === undefined) return; // canceled by the client while earlier responses were sent
      if (response.canceled) this.#forget(watcher);
      for (const message of this.#toWire(watcher, response)) await call.send(message);
    }
    this.#refreshReady(hubId);
  }

  #toWire(watcher: StreamWatcher, response: HubResponse): WatchResponseInit[] {
    const base: WatchResponseInit = {
      header: responseHeader(this.#backend.header(), response.header.revision),
      watchId: watcher.streamId,
      compactRevision: response.compactRevision,
      canceled: response.canceled,
    };
    const events = response.events.map(eventToProto);
    if (!watcher.fragment || events.length < 2) return [{ ...base, events }];
    return fragments(base, events, this.#options.requestBytesMax);
  }

  /** A watcher still ready after a take (catching up, or more pending) gets another turn at the back. */
  #refreshReady(hubId: number): void {
    const status = this.#hub.status(hubId);
    if (status === undefined) return;
    if (status.pendingResponses > 0 || (!status.synced && !status.canceled)) this.markReady(hubId);
  }

  #requestProgressAll(): void {
    for (const watcher of this.#byHubId.values()) {
      if (!watcher.progressNotify) continue;
      if (this.#hub.requestProgress(watcher.hubId)) this.#refreshReady(watcher.hubId);
    }
  }

  #wake(): void {
    const wake = this.#wakePump;
    this.#wakePump = undefined;
    wake?.();
  }

  #stop(): void {
    this.#stopped = true;
    this.#wake();
    this.#controlRoom?.();
    this.#controlRoom = undefined;
  }
}

/**
 * etcd's sendFragments: a response over the size limit is split into responses of whole events, each under
 * the limit unless one event alone is larger; all but the last carry `fragment: true`.
 */
export function fragments(base: WatchResponseInit, events: EventInit[], bytesMax: number): WatchResponseInit[] {
  const whole = { ...base, events };
  if (encodeWatchResponse(whole).length < bytesMax) return [whole];
  const baseBytes = encodeWatchResponse({ ...base, fragment: true }).length;
  const result: WatchResponseInit[] = [];
  let batch: EventInit[] = [];
  let batchBytes = baseBytes;
  for (const event of events) {
    const eventBytes = encodeEvent(event).length + eventFieldOverheadBytesMax;
    if (batch.length > 0 && batchBytes + eventBytes > bytesMax) {
      result.push({ ...base, events: batch, fragment: true });
      batch = [];
      batchBytes = baseBytes;
    }
    batch.push(event);
    batchBytes += eventBytes;
  }
  result.push({ ...base, events: batch, fragment: false });
  assert(result.reduce((count, message) => count + (message.events?.length ?? 0), 0) === events.length, 'fragments keep every event');
  return result;
}
