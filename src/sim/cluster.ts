import {
  type ConfChange, type ConfState, MemoryStorage, type Message, MessageType, type NodeId, Role, describeMessage,
} from '../raft/index.ts';
import { assert } from './assert.ts';
import type { Checkers } from './checkers/index.ts';
import type { EventQueue } from './event-queue.ts';
import type { ClientOutcome, ClientPacket, ClientRequest, MemberEvent, SimEvent } from './events.ts';
import { Member, type MemberEnvironment, isMember } from './member.ts';
import { Network, nodeIdsMax } from './network.ts';
import type { PseudoRandom } from './random.ts';
import { type SimulationOptions, clockDriftMax, tickMs } from './swarm.ts';
import type { Trace } from './trace.ts';

/** Client addresses on the client network start here; member IDs stay below it. */
export const clientAddressBase = 900;
/** Bound on members ever created in one run (founders plus those added by membership changes). */
export const membersCreatedMax = 16;
/** A transport notices a failed link or snapshot send after about this long. */
const transportReportDelayMs = tickMs;

export interface ClusterEnvironment {
  readonly options: SimulationOptions;
  readonly checkers: Checkers;
  readonly trace: Trace;
  readonly queue: EventQueue<SimEvent>;
  /** The cluster's own stream: clock drifts and member choices. */
  readonly random: PseudoRandom;
  readonly networkRandom: PseudoRandom;
}

/**
 * The simulated members and the networks between them: routes messages, reports failed transfers to
 * the sender as a transport would, and carries out crashes, restarts, pauses and membership side
 * effects (a member removed from the configuration is shut down).
 */
export class Cluster {
  readonly members = new Map<NodeId, Member>();
  readonly network: Network<Message>;
  readonly clientNetwork: Network<ClientPacket>;
  readonly #environment: ClusterEnvironment;
  readonly #memberEnvironment: MemberEnvironment;
  /** Conf change indexes already traced (the first member to apply one reports it). */
  readonly #tracedConfChanges = new Set<number>();
  /** Founders, and every member some applied configuration has included: the ones clients may contact. */
  readonly #joined = new Set<NodeId>();
  #lastTracedCommitIndex = 0;
  #lastTracedCommitMs = 0;

  constructor(environment: ClusterEnvironment) {
    this.#environment = environment;
    const queue = environment.queue;
    this.network = new Network<Message>(environment.options.network, environment.networkRandom, (atMs, delivery) =>
      queue.schedule(atMs, { kind: 'peer-message', delivery }));
    this.clientNetwork = new Network<ClientPacket>(environment.options.clientNetwork, environment.networkRandom.fork('clients'), (atMs, delivery) =>
      queue.schedule(atMs, { kind: 'client-packet', delivery }));
    this.#memberEnvironment = this.#createMemberEnvironment();
  }

  /** Creates and starts the founding members, 1..nodesCount. */
  bootstrap(): void {
    const voters = Array.from({ length: this.#environment.options.nodesCount }, (_, i) => i + 1);
    for (const id of voters) {
      this.#joined.add(id);
      this.#createMember(id, new MemoryStorage({ voters }));
    }
  }

  /** A new, empty member that learns everything from the leader's snapshot once it is added. */
  createJoiningMember(): NodeId {
    const id = this.members.size + 1;
    assert(id <= membersCreatedMax, 'too many members created');
    this.#createMember(id, new MemoryStorage());
    return id;
  }

  #createMember(id: NodeId, storage: MemoryStorage): void {
    assert(id < clientAddressBase && id < nodeIdsMax && !this.members.has(id), () => `bad new member ID ${id}`);
    const random = this.#environment.random;
    const drift = this.#environment.options.clockDrift ? random.floatRange(-clockDriftMax, clockDriftMax) : 0;
    const member = new Member(id, storage, this.#memberEnvironment, 1 + drift);
    this.members.set(id, member);
    member.start();
    this.#environment.trace.record(this.#nowMs(), () => `n${id} started (clock drift ${(drift * 100).toFixed(2)}%)`);
  }

  member(id: NodeId): Member {
    const member = this.members.get(id);
    assert(member !== undefined, () => `no member n${id}`);
    return member;
  }

  /** Members not removed from the cluster, in creation order. */
  activeMembers(): Member[] {
    return [...this.members.values()].filter((member) => member.status !== 'removed');
  }

  /** The members a client may contact: joined and not removed. */
  clientTargets(): NodeId[] {
    return this.activeMembers().filter((member) => this.#joined.has(member.id)).map((member) => member.id);
  }

  /** The running member that is leader with the highest term, or null. */
  leader(): Member | null {
    let best: Member | null = null;
    let bestTerm = -1;
    for (const member of this.members.values()) {
      if (member.status !== 'up' || member.raft === null) continue;
      const status = member.raft.status();
      if (status.role === Role.Leader && status.term > bestTerm) {
        best = member;
        bestTerm = status.term;
      }
    }
    return best;
  }

  // ---- events --------------------------------------------------------------------------------------

  onTick(node: NodeId, incarnation: number): void {
    this.members.get(node)?.onTick(incarnation);
  }

  onPeerMessage(event: Extract<SimEvent, { kind: 'peer-message' }>): void {
    const delivery = event.delivery;
    const arrived = this.network.arrive(delivery);
    const target = this.members.get(delivery.to);
    const delivered = arrived && target !== undefined && (target.status === 'up' || target.status === 'paused');
    if (delivery.payload.type === MessageType.Snap) this.#reportToSender(delivery.from, 'snapshot-status', delivery.to, delivered);
    if (delivered) target!.handle(event);
  }

  /** An event for one member's process (fsync completions, transport reports). */
  onMemberEvent(node: NodeId, event: MemberEvent): void {
    this.members.get(node)?.handle(event);
  }

  onClientRequest(node: NodeId, request: ClientRequest): void {
    this.members.get(node)?.handle({ kind: 'client-request', request });
  }

  sendRequest(request: ClientRequest, node: NodeId): void {
    this.clientNetwork.send(clientAddressBase + request.clientId, node, { kind: 'request', request }, this.#nowMs());
  }

  /**
   * `sender` hands `m` to the network. The sender is not always `m.from`: a follower forwarding a
   * ReadIndex request keeps the original requester in `from`.
   */
  #sendPeer(sender: NodeId, m: Message): void {
    assert(m.to !== sender, () => `a member sends its own messages to itself without the network: ${describeMessage(m)}`);
    const outcome = this.network.send(sender, m.to, m, this.#nowMs());
    const failed = outcome === 'cut' || outcome === 'lost' || outcome === 'overflow';
    if (m.type === MessageType.Snap && failed) this.#reportToSender(sender, 'snapshot-status', m.to, false);
    // Like a transport whose connection failed; only for appends, where it matters (replicate -> probe).
    if (m.type !== MessageType.App) return;
    const target = this.members.get(m.to);
    if (outcome === 'cut' || target === undefined || target.status === 'crashed' || target.status === 'removed') {
      this.#reportToSender(sender, 'unreachable', m.to, false);
    }
  }

  #reportToSender(sender: NodeId, kind: 'snapshot-status' | 'unreachable', target: NodeId, ok: boolean): void {
    const member = this.members.get(sender);
    if (member === undefined) return;
    const atMs = this.#nowMs() + transportReportDelayMs;
    const incarnation = member.incarnation;
    if (kind === 'snapshot-status') this.#environment.queue.schedule(atMs, { kind, node: sender, incarnation, target, ok });
    else this.#environment.queue.schedule(atMs, { kind, node: sender, incarnation, target });
  }

  #respond(node: NodeId, request: ClientRequest, outcome: ClientOutcome): void {
    const response = { requestId: request.requestId, clientId: request.clientId, outcome };
    this.clientNetwork.send(node, clientAddressBase + request.clientId, { kind: 'response', response }, this.#nowMs());
  }

  // ---- faults --------------------------------------------------------------------------------------

  crash(id: NodeId): void {
    const member = this.member(id);
    const outcome = member.crash();
    this.#environment.trace.record(this.#nowMs(), () => {
      if (outcome.idle) return `n${id} crashed`;
      if (outcome.entriesKept === 0 && !outcome.snapshotKept) return `n${id} crashed, losing its unsynced write`;
      return `n${id} crashed, tearing its unsynced write (kept ${outcome.snapshotKept ? 'the snapshot and ' : ''}${outcome.entriesKept} entries, no hard state)`;
    });
  }

  restart(id: NodeId): void {
    const member = this.member(id);
    member.start();
    const hardState = member.storage.hardState();
    this.#environment.trace.record(this.#nowMs(), () =>
      `n${id} restarted: term ${hardState.term}, commit ${hardState.commit}, log ${member.storage.firstIndex()}..${member.storage.lastIndex()}`);
  }

  pause(id: NodeId): void {
    this.member(id).pause();
    this.#environment.trace.record(this.#nowMs(), () => `n${id} paused`);
  }

  resume(id: NodeId): void {
    this.#environment.trace.record(this.#nowMs(), () => `n${id} resumed`);
    this.member(id).resume();
  }

  decommission(id: NodeId): void {
    const member = this.member(id);
    if (member.status === 'removed') return;
    member.decommission();
    this.#environment.trace.record(this.#nowMs(), () => `n${id} shut down: removed from the cluster`);
  }

  // ---- member environment --------------------------------------------------------------------------

  #createMemberEnvironment(): MemberEnvironment {
    const environment = this.#environment;
    const queue = environment.queue;
    return {
      options: environment.options,
      checkers: environment.checkers,
      trace: environment.trace,
      nowMs: () => queue.nowMs,
      sendPeer: (sender, m) => this.#sendPeer(sender, m),
      respond: (node, request, outcome) => this.#respond(node, request, outcome),
      scheduleFsync: (node, incarnation, writeId, atMs) => queue.schedule(atMs, { kind: 'fsync', node, incarnation, writeId }),
      scheduleTick: (node, incarnation, atMs) => queue.schedule(atMs, { kind: 'tick', node, incarnation }),
      onConfChangeApplied: (node, index, change, before, after) => this.#onConfChangeApplied(node, index, change, before, after),
      // An event rather than a call: faults must not change the network in the middle of a Ready.
      onLeaderElected: (node) => queue.schedule(queue.nowMs, { kind: 'leader-elected', node }),
    };
  }

  #onConfChangeApplied(node: NodeId, index: number, change: ConfChange, before: ConfState, after: ConfState): void {
    if (!this.#tracedConfChanges.has(index)) {
      this.#tracedConfChanges.add(index);
      this.#environment.trace.record(this.#nowMs(), () => `n${node} applied conf change at ${index}: ${describeConfChange(change)} -> ${describeConfState(after)}`);
    }
    for (const id of [...after.voters, ...after.learners]) this.#joined.add(id);
    for (const id of [...before.voters, ...before.learners, ...before.votersOutgoing, ...before.learnersNext]) {
      if (!isMember(after, id)) this.#environment.queue.schedule(this.#nowMs(), { kind: 'decommission', node: id });
    }
  }

  /** A commit summary at most once per simulated second, so the trace stays readable. */
  traceCommitProgress(): void {
    const trace = this.#environment.trace;
    if (!trace.enabled) return;
    const commitIndex = this.#environment.checkers.committed.commitIndex;
    const nowMs = this.#nowMs();
    if (commitIndex === this.#lastTracedCommitIndex || nowMs - this.#lastTracedCommitMs < commitTraceIntervalMs) return;
    const previous = this.#lastTracedCommitIndex;
    this.#lastTracedCommitIndex = commitIndex;
    this.#lastTracedCommitMs = nowMs;
    trace.record(nowMs, () => `committed up to index ${commitIndex} (+${commitIndex - previous})`);
  }

  #nowMs(): number {
    return this.#environment.queue.nowMs;
  }
}

const commitTraceIntervalMs = 1_000;

export function describeConfChange(change: ConfChange): string {
  if (change.changes.length === 0) return 'leave joint';
  const changes = change.changes.map((single) => `${single.type} n${single.nodeId}`).join(', ');
  return change.changes.length > 1 || change.transition !== 'auto' ? `${changes} (${change.transition})` : changes;
}

export function describeConfState(confState: ConfState): string {
  const list = (ids: readonly NodeId[]) => `[${ids.map((id) => `n${id}`).join(' ')}]`;
  let text = `voters ${list(confState.voters)}`;
  if (confState.votersOutgoing.length > 0) text += ` outgoing ${list(confState.votersOutgoing)}`;
  if (confState.learners.length > 0) text += ` learners ${list(confState.learners)}`;
  return text;
}
