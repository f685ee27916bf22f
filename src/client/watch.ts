/**
 * A watch: one Watch stream per watcher (simple, and a slow watcher never holds up another), resumed on
 * another endpoint after the last revision seen when its member goes away.
 */
import type { Event, ResponseHeader, WatchRequest, WatchRequestInit, WatchResponse } from '../server/proto/index.ts';
import { Status } from '../server/grpc/index.ts';
import type { Call } from './_call.ts';
import { type Bytes, rangeEndFor } from './_bytes.ts';
import { ClientError } from './errors.ts';

/** Reconnections in a row without an event in between before a watcher gives up. */
export const watchReconnectsMax = 8;
export const watchBackoffMs = 100;
export const compactedMessage = 'etcdserver: mvcc: required revision has been compacted';

export interface WatchOptions {
  readonly prefix?: boolean;
  readonly fromKey?: boolean;
  readonly rangeEnd?: Bytes;
  /** The first revision to deliver; by default, changes after the watch is created. */
  readonly startRevision?: number;
  readonly prevKv?: boolean;
  readonly progressNotify?: boolean;
}

/** The events of one response; all share `revision` unless the server batched several revisions. */
export interface WatchBatch {
  readonly header: ResponseHeader | undefined;
  readonly events: readonly Event[];
}

/** What a Watcher needs from the client. */
export interface WatchHost {
  nextEndpoint(): string;
  openWatch(endpoint: string): WatchCall;
}

export type WatchCall = Call<WatchRequest, WatchResponse, WatchRequestInit>;

/**
 * @example
 * const watcher = await client.watch('config/', { prefix: true });
 * for await (const { events } of watcher) for (const event of events) console.log(event.type, event.kv?.key);
 */
export class Watcher implements AsyncIterable<WatchBatch> {
  readonly #host: WatchHost;
  readonly #key: Uint8Array;
  readonly #options: WatchOptions;
  readonly #onClose: () => void;
  #call: WatchCall | undefined;
  /** The revision to resume from after a reconnection; 0 until known. */
  #nextRevision: number;
  #cancelled = false;
  /** The header of the `created` response. */
  createdHeader: ResponseHeader | undefined;

  constructor(host: WatchHost, key: Uint8Array, options: WatchOptions, onClose: () => void) {
    this.#host = host;
    this.#key = key;
    this.#options = options;
    this.#onClose = onClose;
    this.#nextRevision = options.startRevision ?? 0;
  }

  /** Opens the stream and waits for the server to confirm the watch. */
  async ready(): Promise<void> {
    const endpoint = this.#host.nextEndpoint();
    const call = this.#host.openWatch(endpoint);
    this.#call = call;
    call.send({ requestUnion: { case: 'createRequest', value: {
      key: this.#key, rangeEnd: rangeEndFor(this.#key, this.#options), startRevision: this.#nextRevision,
      prevKv: this.#options.prevKv, progressNotify: this.#options.progressNotify,
    } } });
    const created = await call.next();
    if (created === undefined) throw new ClientError(Status.UNAVAILABLE, 'the watch stream ended before the watch was created', { endpoint });
    if (created.canceled) throw canceledError(created, endpoint);
    if (!created.created) throw new ClientError(Status.INTERNAL, 'the first watch response did not confirm creation', { endpoint });
    this.createdHeader = created.header;
    if (this.#nextRevision <= 0 && created.header !== undefined) this.#nextRevision = created.header.revision + 1;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchBatch> {
    let reconnects = 0;
    try {
      while (!this.#cancelled) {
        let response: WatchResponse | undefined;
        try {
          response = await this.#call!.next();
        } catch (error) {
          if (this.#cancelled) return;
          if (!(error instanceof ClientError) || error.status !== Status.UNAVAILABLE || reconnects >= watchReconnectsMax) throw error;
          reconnects++;
          await new Promise((resolve) => setTimeout(resolve, watchBackoffMs * reconnects));
          await this.ready().catch(() => { /* the next read reports it and counts another attempt */ });
          continue;
        }
        if (response === undefined) return;
        if (response.canceled) throw canceledError(response, this.#call!.endpoint);
        if (response.events.length === 0) continue;
        const last = response.events[response.events.length - 1]!;
        this.#nextRevision = (last.kv?.modRevision ?? this.#nextRevision - 1) + 1;
        reconnects = 0;
        yield { header: response.header, events: response.events };
      }
    } finally {
      this.cancel();
    }
  }

  /** Ends the watch; iteration stops. */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#call?.cancel();
    this.#onClose();
  }
}

function canceledError(response: WatchResponse, endpoint: string): ClientError {
  if (response.compactRevision > 0) return new ClientError(Status.OUT_OF_RANGE, compactedMessage, { endpoint });
  return new ClientError(Status.CANCELLED, response.cancelReason === '' ? 'the watch was canceled' : response.cancelReason, { endpoint });
}
