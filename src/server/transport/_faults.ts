/**
 * Fault injection for tests and `keel chaos`: per peer, drop, delay and duplicate messages, or block a
 * direction. Outbound faults act where messages are sent, inbound faults where they are delivered, so a
 * fault on one member never needs the other member's help.
 */
import { TransportError, assert } from './errors.ts';

export type FaultDirection = 'outbound' | 'inbound' | 'both';

export interface PeerFault {
  /** Probability in [0, 1] that a message is dropped. */
  readonly dropProbability?: number;
  /** Extra latency added to every message; order is kept (a delayed message holds back later ones). */
  readonly delayMs?: number;
  /** Probability in [0, 1] that a message is delivered twice. */
  readonly duplicateProbability?: number;
  /** Nothing is sent to this peer (messages, pings, snapshots). */
  readonly blockOutbound?: boolean;
  /** Nothing from this peer is delivered; its snapshot streams are refused. */
  readonly blockInbound?: boolean;
  /** Where drop, delay and duplicate apply. Default 'outbound'. */
  readonly direction?: FaultDirection;
}

/** Bound on an injected delay: an hour is already far past any election timeout. */
export const faultDelayMsMax = 3_600_000;

export function validatePeerFault(fault: PeerFault): PeerFault {
  for (const field of ['dropProbability', 'duplicateProbability'] as const) {
    const value = fault[field];
    if (value !== undefined && !(value >= 0 && value <= 1)) throw invalid(`${field} must be in [0, 1]`);
  }
  const delayMs = fault.delayMs;
  if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0 && delayMs <= faultDelayMsMax)) {
    throw invalid(`delayMs must be in [0, ${faultDelayMsMax}]`);
  }
  if (fault.direction !== undefined && !['outbound', 'inbound', 'both'].includes(fault.direction)) {
    throw invalid(`direction must be 'outbound', 'inbound' or 'both'`);
  }
  return { ...fault };
}

function invalid(reason: string): TransportError {
  return new TransportError('TRANSPORT_INVALID_ARGUMENT', `invalid fault: ${reason}`);
}

export interface FaultVerdict {
  /** 0 drops the message, 2 duplicates it. */
  readonly copies: 0 | 1 | 2;
  readonly delayMs: number;
}

const passVerdict: FaultVerdict = { copies: 1, delayMs: 0 };

/** Decides one message's fate. `direction` is where it is being decided: 'outbound' or 'inbound'. */
export function faultVerdict(fault: PeerFault | undefined, direction: 'outbound' | 'inbound', random: () => number): FaultVerdict {
  if (fault === undefined) return passVerdict;
  if (direction === 'outbound' ? fault.blockOutbound === true : fault.blockInbound === true) return { copies: 0, delayMs: 0 };
  const applies = (fault.direction ?? 'outbound') === 'both' || (fault.direction ?? 'outbound') === direction;
  if (!applies) return passVerdict;
  if (fault.dropProbability !== undefined && fault.dropProbability > 0 && draw(random) < fault.dropProbability) {
    return { copies: 0, delayMs: 0 };
  }
  const duplicate = fault.duplicateProbability !== undefined && fault.duplicateProbability > 0 && draw(random) < fault.duplicateProbability;
  return { copies: duplicate ? 2 : 1, delayMs: fault.delayMs ?? 0 };
}

function draw(random: () => number): number {
  const value = random();
  assert(value >= 0 && value < 1, 'random() returns a number in [0, 1)');
  return value;
}

/**
 * A FIFO of delayed items. An item leaves at max(its own due time, the previous item's), so that a delay
 * never reorders a peer's messages: Raft tolerates reordering, but the fault should model latency only.
 */
export class DelayLine<Item> {
  readonly #sink: (item: Item) => void;
  readonly #now: () => number;
  readonly #items: { readonly item: Item; readonly dueAtMs: number }[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(sink: (item: Item) => void, now: () => number) {
    this.#sink = sink;
    this.#now = now;
  }

  get size(): number {
    return this.#items.length;
  }

  push(item: Item, delayMs: number): void {
    assert(delayMs >= 0, 'delay is not negative');
    const tailDueAtMs = this.#items.at(-1)?.dueAtMs ?? 0;
    this.#items.push({ item, dueAtMs: Math.max(this.#now() + delayMs, tailDueAtMs) });
    this.#schedule();
  }

  /** Releases everything now, in order (faults cleared). */
  flush(): void {
    this.#cancel();
    while (this.#items.length > 0) this.#sink(this.#items.shift()!.item);
  }

  /** Drops everything (transport closed); returns how many items were dropped. */
  clear(): number {
    this.#cancel();
    const dropped = this.#items.length;
    this.#items.length = 0;
    return dropped;
  }

  #schedule(): void {
    const head = this.#items[0];
    if (head === undefined || this.#timer !== null) return;
    this.#timer = setTimeout(() => this.#release(), Math.max(0, head.dueAtMs - this.#now()));
  }

  #release(): void {
    this.#timer = null;
    const now = this.#now();
    while (this.#items.length > 0 && this.#items[0]!.dueAtMs <= now) this.#sink(this.#items.shift()!.item);
    this.#schedule();
  }

  #cancel(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
