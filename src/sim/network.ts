import { assert } from './assert.ts';
import type { PseudoRandom } from './random.ts';

/** The faults and delays of the simulated network. Probabilities are per message. */
export interface NetworkOptions {
  /** The usual one-way delay; individual messages vary around it, with a heavy tail. */
  readonly latencyTypicalMs: number;
  readonly latencyMaxMs: number;
  readonly lossProbability: number;
  readonly duplicationProbability: number;
  /** A reordered message gets an extra delay, so later messages overtake it. */
  readonly reorderProbability: number;
  readonly reorderDelayMaxMs: number;
}

export const networkOptionsPerfect: NetworkOptions = {
  latencyTypicalMs: 1, latencyMaxMs: 1, lossProbability: 0, duplicationProbability: 0, reorderProbability: 0, reorderDelayMaxMs: 0,
};

/** Node IDs are below this, so a link key is `from * nodeIdsMax + to`. */
export const nodeIdsMax = 1024;
/** Messages in flight on one link (a socket buffer); beyond it new messages are dropped. */
export const linkInFlightMessagesMax = 2048;
/** Messages held on one clogged link; beyond it new messages are dropped. */
export const linkHeldMessagesMax = 512;

export interface Delivery<T> {
  readonly from: number;
  readonly to: number;
  readonly payload: T;
}

/** What became of one `send`. */
export type SendOutcome = 'sent' | 'duplicated' | 'lost' | 'cut' | 'held' | 'overflow';

interface Link<T> {
  /** How many active faults cut this link; it is cut while this is above zero. */
  cutCount: number;
  clogged: boolean;
  inFlight: number;
  readonly held: Delivery<T>[];
}

/**
 * Directed links between nodes with delay, loss, duplication, reordering, partitions (full and one-way)
 * and clogging. The network is passive: it hands each delivery to `schedule` with its arrival time, and
 * the simulator calls `arrive` when that time comes. A link that is cut when a message arrives loses it,
 * as a real partition loses the packets in flight.
 *
 * @example
 * const network = new Network(options, random, (atMs, delivery) => queue.schedule(atMs, delivery));
 * network.send(1, 2, message, nowMs);
 */
export class Network<T> {
  #options: NetworkOptions;
  readonly #random: PseudoRandom;
  readonly #schedule: (atMs: number, delivery: Delivery<T>) => void;
  /** Links in order of first use, so iteration (heal, release) is deterministic. */
  readonly #links = new Map<number, Link<T>>();

  constructor(options: NetworkOptions, random: PseudoRandom, schedule: (atMs: number, delivery: Delivery<T>) => void) {
    validateNetworkOptions(options);
    this.#options = options;
    this.#random = random;
    this.#schedule = schedule;
  }

  /** Changes the delays and per-message faults from now on (the liveness phase calms the network). */
  setOptions(options: NetworkOptions): void {
    validateNetworkOptions(options);
    this.#options = options;
  }

  send(from: number, to: number, payload: T, nowMs: number): SendOutcome {
    const link = this.#link(from, to);
    const delivery: Delivery<T> = { from, to, payload };
    if (link.cutCount > 0) return 'cut';
    if (link.clogged) {
      if (link.held.length >= linkHeldMessagesMax) return 'overflow';
      link.held.push(delivery);
      return 'held';
    }
    if (this.#random.chance(this.#options.lossProbability)) return 'lost';
    if (!this.#transmit(link, delivery, nowMs)) return 'overflow';
    if (this.#random.chance(this.#options.duplicationProbability)) {
      return this.#transmit(link, delivery, nowMs) ? 'duplicated' : 'sent';
    }
    return 'sent';
  }

  /** Called by the simulator at a delivery's arrival time; false if the link was cut meanwhile. */
  arrive(delivery: Delivery<T>): boolean {
    const link = this.#link(delivery.from, delivery.to);
    assert(link.inFlight > 0, () => `arrival on link ${delivery.from}->${delivery.to} with nothing in flight`);
    link.inFlight--;
    return link.cutCount === 0;
  }

  isCut(from: number, to: number): boolean {
    return (this.#links.get(linkKey(from, to))?.cutCount ?? 0) > 0;
  }

  isClogged(from: number, to: number): boolean {
    return this.#links.get(linkKey(from, to))?.clogged ?? false;
  }

  /**
   * Cuts every link between different groups, both ways (nodes in no group keep their links), and returns
   * the links cut, to be handed back to `restore`. Faults overlap: a link is up again only when every
   * fault that cut it is restored.
   */
  partition(groups: readonly (readonly number[])[]): [number, number][] {
    const links: [number, number][] = [];
    for (const [index, group] of groups.entries()) {
      for (const [otherIndex, otherGroup] of groups.entries()) {
        if (index === otherIndex) continue;
        for (const from of group) for (const to of otherGroup) links.push([from, to]);
      }
    }
    for (const [from, to] of links) this.#link(from, to).cutCount++;
    return links;
  }

  /** Cuts one direction only (an asymmetric partition); undo with `restore([[from, to]])`. */
  cutOneWay(from: number, to: number): void {
    this.#link(from, to).cutCount++;
  }

  /** Undoes one fault's cuts. */
  restore(links: readonly (readonly [number, number])[]): void {
    for (const [from, to] of links) {
      const link = this.#link(from, to);
      assert(link.cutCount > 0, () => `restoring link ${from}->${to}, which is not cut`);
      link.cutCount--;
    }
  }

  /** Restores every cut link, whatever cut it. */
  healPartitions(): void {
    for (const link of this.#links.values()) link.cutCount = 0;
  }

  /** Messages sent on a clogged link are held, not lost, until it is unclogged. */
  clog(from: number, to: number): void {
    this.#link(from, to).clogged = true;
  }

  /** Releases the held messages of one link, each with a fresh delay from `nowMs`. */
  unclog(from: number, to: number, nowMs: number): void {
    const link = this.#link(from, to);
    link.clogged = false;
    const held = link.held.splice(0, link.held.length);
    for (const delivery of held) {
      if (link.cutCount === 0) this.#transmit(link, delivery, nowMs);
    }
    assert(link.held.length === 0, 'an unclogged link holds nothing');
  }

  unclogAll(nowMs: number): void {
    for (const [key, link] of this.#links) {
      if (link.clogged) this.unclog(Math.floor(key / nodeIdsMax), key % nodeIdsMax, nowMs);
    }
  }

  /** Removes every fault: no cut, no clog (held messages are released). */
  healAll(nowMs: number): void {
    this.healPartitions();
    this.unclogAll(nowMs);
  }

  heldCount(from: number, to: number): number {
    return this.#links.get(linkKey(from, to))?.held.length ?? 0;
  }

  #transmit(link: Link<T>, delivery: Delivery<T>, nowMs: number): boolean {
    if (link.inFlight >= linkInFlightMessagesMax) return false;
    const options = this.#options;
    let delayMs = this.#random.latency(options.latencyTypicalMs, options.latencyMaxMs);
    if (this.#random.chance(options.reorderProbability)) delayMs += this.#random.floatRange(0, options.reorderDelayMaxMs);
    assert(delayMs >= 0, 'a delay is never negative');
    link.inFlight++;
    this.#schedule(nowMs + delayMs, delivery);
    return true;
  }

  #link(from: number, to: number): Link<T> {
    const key = linkKey(from, to);
    let link = this.#links.get(key);
    if (link === undefined) {
      link = { cutCount: 0, clogged: false, inFlight: 0, held: [] };
      this.#links.set(key, link);
    }
    return link;
  }
}

function linkKey(from: number, to: number): number {
  assert(Number.isInteger(from) && from >= 0 && from < nodeIdsMax, () => `node ID ${from} out of range`);
  assert(Number.isInteger(to) && to >= 0 && to < nodeIdsMax, () => `node ID ${to} out of range`);
  return from * nodeIdsMax + to;
}

export function validateNetworkOptions(options: NetworkOptions): void {
  assert(options.latencyTypicalMs >= 0 && options.latencyMaxMs >= options.latencyTypicalMs, 'latency bounds');
  for (const probability of [options.lossProbability, options.duplicationProbability, options.reorderProbability]) {
    assert(probability >= 0 && probability <= 1, `probability out of [0, 1]: ${probability}`);
  }
  assert(options.reorderDelayMaxMs >= 0, 'reorderDelayMaxMs must be non-negative');
}
