import { assert } from './assert.ts';
import type { NodeId } from './types.ts';

/** A ReadIndex request waiting for a heartbeat quorum to confirm the leader (Raft thesis §6.4). */
export interface PendingRead {
  readonly index: number;
  readonly from: NodeId;
  readonly context: Uint8Array;
  readonly acks: Set<NodeId>;
}

/** Contexts are compared by content; a string key makes them usable in a Map. */
export function contextKey(context: Uint8Array): string {
  let key = '';
  for (let i = 0; i < context.length; i++) key += String.fromCharCode(context[i]!);
  return key;
}

/** The leader's queue of ReadIndex requests, bounded by maxPendingReadIndexRequests. */
export class ReadOnly {
  readonly #pending = new Map<string, PendingRead>();
  /** Request keys in arrival order. Invariant: same keys as #pending. */
  #queue: string[] = [];
  readonly #pendingMax: number;

  constructor(pendingMax: number) {
    this.#pendingMax = pendingMax;
  }

  full(): boolean {
    return this.#queue.length >= this.#pendingMax;
  }

  /** Adds a request; a duplicate context is ignored (the first one is already in flight). */
  add(index: number, from: NodeId, context: Uint8Array): void {
    const key = contextKey(context);
    if (this.#pending.has(key)) return;
    assert(!this.full(), 'read-only queue is full');
    this.#pending.set(key, { index, from, context, acks: new Set() });
    this.#queue.push(key);
  }

  /** Records a heartbeat acknowledgement carrying `context`; returns the acks so far, or null. */
  recordAck(id: NodeId, context: Uint8Array): ReadonlySet<NodeId> | null {
    const pending = this.#pending.get(contextKey(context));
    if (pending === undefined) return null;
    pending.acks.add(id);
    return pending.acks;
  }

  /**
   * Confirms the request with `context` and every request queued before it (a heartbeat round that
   * confirms a later request also confirms the earlier ones); returns them in order.
   */
  advance(context: Uint8Array): PendingRead[] {
    const key = contextKey(context);
    const position = this.#queue.indexOf(key);
    if (position < 0) return [];
    const confirmed: PendingRead[] = [];
    for (const queued of this.#queue.slice(0, position + 1)) {
      const pending = this.#pending.get(queued);
      assert(pending !== undefined, 'read-only queue and map disagree');
      confirmed.push(pending);
      this.#pending.delete(queued);
    }
    this.#queue = this.#queue.slice(position + 1);
    return confirmed;
  }

  /** The context of the newest request, sent with heartbeats so one round confirms all queued reads. */
  lastContext(): Uint8Array | null {
    const key = this.#queue[this.#queue.length - 1];
    return key === undefined ? null : this.#pending.get(key)!.context;
  }

  size(): number {
    return this.#queue.length;
  }

  clear(): void {
    this.#pending.clear();
    this.#queue = [];
  }
}
