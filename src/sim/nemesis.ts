import type { NodeId } from '../raft/index.ts';
import { assert } from './assert.ts';
import type { Cluster } from './cluster.ts';
import type { FaultEnd, FaultKind, SimEvent } from './events.ts';
import type { PseudoRandom } from './random.ts';
import type { FaultOptions, FaultRate } from './swarm.ts';
import type { Trace } from './trace.ts';

export interface NemesisEnvironment {
  readonly trace: Trace;
  nowMs(): number;
  schedule(atMs: number, event: SimEvent): void;
}

const faultKinds: readonly FaultKind[] = ['partition', 'asymmetricPartition', 'clog', 'crash', 'powerLoss', 'pause'];

/**
 * Injects the seed's faults during the safety phase: each enabled kind starts at exponentially
 * distributed intervals and ends after a random duration. `healAll` ends the safety phase: every cut and
 * clog is removed, crashed members restart and paused ones resume; later start and end events are ignored.
 */
export class Nemesis {
  readonly #faults: FaultOptions;
  readonly #random: PseudoRandom;
  readonly #cluster: Cluster;
  readonly #environment: NemesisEnvironment;
  #active = true;

  constructor(faults: FaultOptions, random: PseudoRandom, cluster: Cluster, environment: NemesisEnvironment) {
    this.#faults = faults;
    this.#random = random;
    this.#cluster = cluster;
    this.#environment = environment;
  }

  start(): void {
    for (const kind of faultKinds) {
      const rate = this.#faults[kind];
      if (rate !== null) this.#scheduleStart(kind, rate);
    }
  }

  #scheduleStart(kind: FaultKind, rate: FaultRate): void {
    this.#environment.schedule(this.#environment.nowMs() + this.#random.exponential(rate.intervalMeanMs), { kind: 'fault-start', fault: kind });
  }

  onFaultStart(kind: FaultKind): void {
    if (!this.#active) return;
    const rate = this.#faults[kind];
    assert(rate !== null, 'only enabled faults start');
    const end = this.#begin(kind);
    if (end !== null) {
      const durationMs = this.#random.floatRange(rate.durationMaxMs / 10, rate.durationMaxMs);
      this.#environment.schedule(this.#environment.nowMs() + durationMs, { kind: 'fault-end', end });
    }
    this.#scheduleStart(kind, rate);
  }

  #begin(kind: FaultKind): FaultEnd | null {
    switch (kind) {
      case 'partition': return this.#partition();
      case 'asymmetricPartition': return this.#asymmetricPartition();
      case 'clog': return this.#clog();
      case 'crash': return this.#crash();
      case 'powerLoss': return this.#powerLoss();
      case 'pause': return this.#pause();
    }
  }

  /** The member a fault aims at: the leader (with the seed's probability) or a random one of `candidates`. */
  #pickTarget(candidates: readonly NodeId[]): NodeId {
    assert(candidates.length > 0, 'a fault needs a candidate');
    if (this.#random.chance(this.#faults.targetLeaderProbability)) {
      const leader = this.#cluster.leader();
      if (leader !== null && candidates.includes(leader.id)) return leader.id;
    }
    return this.#random.pick(candidates);
  }

  #partition(): FaultEnd | null {
    const ids = this.#cluster.activeMembers().map((member) => member.id);
    if (ids.length < 2) return null;
    // The target goes to the first group; the rest are shuffled around it.
    const target = this.#pickTarget(ids);
    const others = this.#random.shuffle(ids.filter((id) => id !== target));
    const split = this.#random.range(1, ids.length - 1);
    const ordered = [target, ...others];
    const groups = [ordered.slice(0, split), ordered.slice(split)];
    const links = this.#cluster.network.partition(groups);
    const description = groups.map((group) => `{${group.map((id) => `n${id}`).join(' ')}}`).join(' | ');
    this.#environment.trace.record(this.#environment.nowMs(), () => `partition ${description}`);
    return { kind: 'restore-links', links, description: `partition ${description}` };
  }

  #asymmetricPartition(): FaultEnd | null {
    const ids = this.#cluster.activeMembers().map((member) => member.id);
    if (ids.length < 2) return null;
    const node = this.#pickTarget(ids);
    const inbound = this.#random.chance(0.5);
    const links: [NodeId, NodeId][] = ids.filter((id) => id !== node).map((other) => (inbound ? [other, node] : [node, other]));
    for (const [from, to] of links) this.#cluster.network.cutOneWay(from, to);
    const description = inbound ? `n${node} hears nobody (sends still leave)` : `n${node} is heard by nobody (it still receives)`;
    this.#environment.trace.record(this.#environment.nowMs(), () => `asymmetric partition: ${description}`);
    return { kind: 'restore-links', links, description: `asymmetric partition (${description})` };
  }

  #clog(): FaultEnd | null {
    const ids = this.#cluster.activeMembers().map((member) => member.id);
    if (ids.length < 2) return null;
    const [from, to] = this.#random.shuffle(ids) as [NodeId, NodeId];
    if (this.#cluster.network.isClogged(from, to)) return null;
    this.#cluster.network.clog(from, to);
    this.#environment.trace.record(this.#environment.nowMs(), () => `link n${from}->n${to} clogged`);
    return { kind: 'unclog', from, to };
  }

  #faultyCount(): number {
    return this.#cluster.activeMembers().filter((member) => member.status === 'crashed' || member.status === 'paused').length;
  }

  #crash(): FaultEnd | null {
    if (this.#faultyCount() >= this.#faults.faultyNodesMax) return null;
    const candidates = this.#cluster.activeMembers().filter((member) => member.status === 'up');
    if (candidates.length === 0) return null;
    // Half the time, aim at a member whose write is in flight: the crash then loses or tears it.
    const writing = candidates.filter((member) => member.disk.hasPendingWrite());
    const aimed = writing.length > 0 && this.#random.chance(0.5) ? writing : candidates;
    const node = this.#pickTarget(aimed.map((member) => member.id));
    this.#cluster.crash(node);
    return { kind: 'restart', nodes: [node] };
  }

  #powerLoss(): FaultEnd | null {
    const running = this.#cluster.activeMembers().filter((member) => member.status === 'up' || member.status === 'paused');
    if (running.length === 0) return null;
    this.#environment.trace.record(this.#environment.nowMs(), () => 'power loss: every running member crashes');
    for (const member of running) this.#cluster.crash(member.id);
    return { kind: 'restart', nodes: running.map((member) => member.id) };
  }

  #pause(): FaultEnd | null {
    if (this.#faultyCount() >= this.#faults.faultyNodesMax) return null;
    const candidates = this.#cluster.activeMembers().filter((member) => member.status === 'up');
    if (candidates.length === 0) return null;
    const node = this.#pickTarget(candidates.map((member) => member.id));
    this.#cluster.pause(node);
    return { kind: 'resume', node };
  }

  /** A new leader: with the seed's probability, isolate it alone a little later. */
  onLeaderElected(node: NodeId): void {
    const isolation = this.#faults.leaderIsolation;
    if (!this.#active || isolation === null || !this.#random.chance(isolation.probability)) return;
    const delayMs = this.#random.floatRange(0, isolation.delayMaxMs);
    this.#environment.schedule(this.#environment.nowMs() + delayMs, { kind: 'isolate-leader', node });
  }

  onIsolateLeader(node: NodeId): void {
    const isolation = this.#faults.leaderIsolation;
    if (!this.#active || isolation === null || this.#cluster.member(node).status === 'removed') return;
    const others = this.#cluster.activeMembers().map((member) => member.id).filter((id) => id !== node);
    if (others.length === 0) return;
    const links = this.#cluster.network.partition([[node], others]);
    const description = `new leader n${node} isolated`;
    this.#environment.trace.record(this.#environment.nowMs(), () => description);
    const durationMs = this.#random.floatRange(isolation.durationMaxMs / 10, isolation.durationMaxMs);
    this.#environment.schedule(this.#environment.nowMs() + durationMs, { kind: 'fault-end', end: { kind: 'restore-links', links, description } });
  }

  onFaultEnd(end: FaultEnd): void {
    if (!this.#active) return;
    const cluster = this.#cluster;
    const nowMs = this.#environment.nowMs();
    if (end.kind === 'restore-links') {
      cluster.network.restore(end.links);
      this.#environment.trace.record(nowMs, () => `healed ${end.description}`);
    } else if (end.kind === 'unclog') {
      cluster.network.unclog(end.from, end.to, nowMs);
      this.#environment.trace.record(nowMs, () => `link n${end.from}->n${end.to} unclogged`);
    } else if (end.kind === 'restart') {
      for (const node of end.nodes) if (cluster.member(node).status === 'crashed') cluster.restart(node);
    } else if (cluster.member(end.node).status === 'paused') {
      cluster.resume(end.node);
    }
  }

  /** The end of the safety phase: every fault heals and no new one starts. */
  healAll(): void {
    this.#active = false;
    const cluster = this.#cluster;
    cluster.network.healAll(this.#environment.nowMs());
    for (const member of cluster.activeMembers()) {
      if (member.status === 'crashed') cluster.restart(member.id);
      else if (member.status === 'paused') cluster.resume(member.id);
    }
    assert(cluster.activeMembers().every((member) => member.status === 'up'), 'after healing every member runs');
  }
}
