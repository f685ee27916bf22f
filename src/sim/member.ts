import {
  type ConfChange, type ConfState, type Entry, EntryType, type Message, type MemoryStorage, type NodeId, RaftNode, type Ready,
  type ReadState, Role, coalesceMessages, decodeConfChange,
} from '../raft/index.ts';
import { assert } from './assert.ts';
import type { Checkers } from './checkers/index.ts';
import { Disk, type CrashOutcome } from './disk.ts';
import type { ClientOutcome, ClientRequest, MemberEvent } from './events.ts';
import { type Command, KvStateMachine, decodeCommand, encodeCommand } from './kv.ts';
import { PseudoRandom } from './random.ts';
import { type SimulationOptions, electionTicks, heartbeatTicks, leaseMarginTicks, tickMs } from './swarm.ts';
import type { Trace } from './trace.ts';

/** Bound on Ready batches handled in a row for one event; the core settles in a few. */
export const readyRoundsMax = 64;
/** Bound on client requests a member holds (proposed or reading) at once. */
export const pendingRequestsMax = 4096;
/** Bound on events a paused member holds for when it resumes (a socket buffer). */
export const inboxEventsMax = 4096;

export type MemberStatus = 'up' | 'paused' | 'crashed' | 'removed';

/** What a member needs from the simulation around it. */
export interface MemberEnvironment {
  readonly options: SimulationOptions;
  readonly checkers: Checkers;
  readonly trace: Trace;
  nowMs(): number;
  /** `sender` puts `message` on the network. */
  sendPeer(sender: NodeId, message: Message): void;
  respond(node: NodeId, request: ClientRequest, outcome: ClientOutcome): void;
  scheduleFsync(node: NodeId, incarnation: number, writeId: number, atMs: number): void;
  scheduleTick(node: NodeId, incarnation: number, atMs: number): void;
  /** A conf change was applied by `node`; `before` and `after` are its configurations around it. */
  onConfChangeApplied(node: NodeId, index: number, change: ConfChange, before: ConfState, after: ConfState): void;
  /** `node` handed out its first Ready as leader of a term. */
  onLeaderElected(node: NodeId): void;
}

/**
 * One simulated member: the driver of a RaftNode, as a real member process would run it. It takes Ready
 * batches, sends messages at once, writes to its disk and waits for the simulated fsync, then sends the
 * messages that promise durability, applies committed entries to its KV state machine, answers clients,
 * and takes snapshots. Its disk survives crashes; everything else is lost.
 */
export class Member {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly disk: Disk;
  readonly #environment: MemberEnvironment;
  readonly #tickIntervalMs: number;
  status: MemberStatus = 'crashed';
  /** Counts starts; events carry it so that those meant for a previous incarnation are ignored. */
  incarnation = 0;
  #raft: RaftNode | null = null;
  #kv = new KvStateMachine();
  #appliedIndex = 0;
  #confState: ConfState;
  #lastSnapshotIndex = 0;
  /** The Ready whose write is in flight. Invariant: non-null exactly when the disk has a pending write. */
  #inFlight: { ready: Ready; writeId: number } | null = null;
  readonly #pendingProposals = new Map<number, ClientRequest>();
  /** ReadIndex requests under way, with the global commit index when each arrived. */
  readonly #pendingReads = new Map<number, { request: ClientRequest; committedAtArrival: number }>();
  #readsAwaitingApply: { index: number; request: ClientRequest }[] = [];
  #inbox: MemberEvent[] = [];
  #missedTicks = 0;

  constructor(id: NodeId, storage: MemoryStorage, environment: MemberEnvironment, driftFactor: number) {
    assert(driftFactor > 0, 'a clock runs forwards');
    this.id = id;
    this.storage = storage;
    this.#environment = environment;
    this.disk = new Disk(storage, environment.options.disk, PseudoRandom.fromSeed(environment.options.seed, `disk-${id}`));
    this.#tickIntervalMs = tickMs * driftFactor;
    this.#confState = storage.snapshot().metadata.confState;
  }

  get raft(): RaftNode | null {
    return this.#raft;
  }

  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  get tickIntervalMs(): number {
    return this.#tickIntervalMs;
  }

  /** Starts (or restarts) the process over the durable disk. */
  start(): void {
    assert(this.status === 'crashed', () => `n${this.id} starts only when down, it is ${this.status}`);
    assert(!this.disk.hasPendingWrite(), 'a stopped member has no write in flight');
    this.incarnation++;
    this.status = 'up';
    const snapshot = this.storage.snapshot();
    this.#kv = new KvStateMachine();
    this.#kv.restore(snapshot.data);
    this.#appliedIndex = snapshot.metadata.index;
    this.#lastSnapshotIndex = snapshot.metadata.index;
    this.#confState = snapshot.metadata.confState;
    this.#environment.checkers.observeRestart(this.id, this.incarnation, this.storage);
    this.#raft = new RaftNode({ ...this.#coreConfig(), applied: this.#appliedIndex });
    this.#environment.scheduleTick(this.id, this.incarnation, this.#environment.nowMs() + this.#tickIntervalMs);
  }

  #coreConfig() {
    const options = this.#environment.options;
    const core = options.core;
    return {
      id: this.id, storage: this.storage,
      random: PseudoRandom.fromSeed(options.seed, `core-${this.id}-${this.incarnation}`),
      electionTicks, heartbeatTicks, leaseMarginTicks,
      preVote: core.preVote, checkQuorum: core.checkQuorum, readOnlyOption: core.readOnlyOption,
      maxSizePerMsgBytes: core.maxSizePerMsgBytes, maxInflightMsgs: core.maxInflightMsgs,
      maxInflightBytes: core.maxSizePerMsgBytes * core.maxInflightMsgs,
      bugs: options.bug === null ? [] : [options.bug],
    };
  }

  /** Power loss: memory is gone, the write in flight is lost or torn. */
  crash(): CrashOutcome {
    assert(this.status === 'up' || this.status === 'paused', () => `n${this.id} crashes only when running`);
    const outcome = this.disk.crash();
    this.#stop('crashed');
    return outcome;
  }

  /** Removed from the cluster: the process is shut down for good. */
  decommission(): void {
    if (this.status === 'up' || this.status === 'paused') this.disk.crash();
    this.#stop('removed');
  }

  #stop(status: MemberStatus): void {
    this.status = status;
    this.#raft = null;
    this.#inFlight = null;
    this.#pendingProposals.clear();
    this.#pendingReads.clear();
    this.#readsAwaitingApply = [];
    this.#inbox = [];
    this.#missedTicks = 0;
    assert(!this.disk.hasPendingWrite(), 'a stopped member has no write in flight');
  }

  pause(): void {
    assert(this.status === 'up', 'only a running member pauses');
    this.status = 'paused';
  }

  /** Resumes: the ticks missed come first (a monotonic clock jumped), then what arrived meanwhile. */
  resume(): void {
    assert(this.status === 'paused', 'only a paused member resumes');
    this.status = 'up';
    const raft = this.#requireRaft();
    const missedTicks = this.#missedTicks;
    this.#missedTicks = 0;
    for (let i = 0; i < missedTicks; i++) raft.tick();
    this.drain();
    const inbox = this.#inbox;
    this.#inbox = [];
    for (const event of inbox) {
      if (this.status !== 'up') return;
      this.handle(event);
    }
  }

  onTick(incarnation: number): void {
    if (incarnation !== this.incarnation || (this.status !== 'up' && this.status !== 'paused')) return;
    this.#environment.scheduleTick(this.id, this.incarnation, this.#environment.nowMs() + this.#tickIntervalMs);
    if (this.status === 'paused') {
      this.#missedTicks++;
      return;
    }
    this.#requireRaft().tick();
    this.drain();
  }

  /** An event addressed to this member; held while paused, dropped while down. */
  handle(event: MemberEvent): void {
    if (this.status === 'crashed' || this.status === 'removed') return;
    if ('incarnation' in event && event.incarnation !== this.incarnation) return;
    if (this.status === 'paused') {
      if (this.#inbox.length < inboxEventsMax) this.#inbox.push(event);
      return;
    }
    const raft = this.#requireRaft();
    if (event.kind === 'peer-message') raft.step(event.delivery.payload);
    else if (event.kind === 'fsync') this.#onFsync(event.writeId);
    else if (event.kind === 'snapshot-status') raft.reportSnapshot(event.target, event.ok);
    else if (event.kind === 'unreachable') raft.reportUnreachable(event.target);
    else this.#onClientRequest(event.request);
    this.drain();
  }

  #requireRaft(): RaftNode {
    assert(this.#raft !== null, () => `n${this.id} has no running core (${this.status})`);
    return this.#raft;
  }

  // ---- the Ready loop ------------------------------------------------------------------------------

  /** Takes and handles Ready batches until the core is idle or a write is in flight. */
  drain(): void {
    if (this.status !== 'up') return;
    const raft = this.#requireRaft();
    for (let round = 0; round < readyRoundsMax; round++) {
      if (this.#inFlight !== null || !raft.hasReady()) return;
      const ready = raft.ready();
      this.#observeReady(raft, ready);
      for (const m of coalesceMessages(ready.messages, this.#environment.options.core.maxSizePerMsgBytes)) this.#environment.sendPeer(this.id, m);
      if (ready.snapshot === null && ready.entries.length === 0 && ready.hardState === null) {
        this.#finish(ready);
        continue;
      }
      const { writeId, doneAtMs } = this.disk.beginWrite(
        { snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState }, this.#environment.nowMs(),
      );
      this.#inFlight = { ready, writeId };
      this.#environment.scheduleFsync(this.id, this.incarnation, writeId, doneAtMs);
      return;
    }
    assert(false, () => `n${this.id}: the Ready loop did not settle in ${readyRoundsMax} rounds`);
  }

  #observeReady(raft: RaftNode, ready: Ready): void {
    const environment = this.#environment;
    const becameLeader = ready.softState?.role === Role.Leader;
    const term = ready.softState !== null ? raft.status().term : null;
    environment.checkers.observeReady(this.id, this.incarnation, ready, this.storage, becameLeader ? term : null);
    if (becameLeader) environment.onLeaderElected(this.id);
    if (ready.softState !== null && environment.trace.enabled) {
      const softState = ready.softState;
      const leader = softState.role === Role.Follower && softState.lead !== 0 ? ` (leader n${softState.lead})` : '';
      environment.trace.record(environment.nowMs(), () => `n${this.id} became ${softState.role} term ${term}${leader}`);
    }
  }

  #onFsync(writeId: number): void {
    const inFlight = this.#inFlight;
    assert(inFlight !== null && inFlight.writeId === writeId, () => `n${this.id}: fsync of write ${writeId}, which is not in flight`);
    const previous = this.storage.hardState();
    this.disk.completeWrite(writeId);
    this.#environment.checkers.observeDurableHardState(this.id, previous, this.storage.hardState());
    this.#inFlight = null;
    this.#finish(inFlight.ready);
  }

  /** The Ready's write is durable: the rest of the contract, in order. */
  #finish(ready: Ready): void {
    const raft = this.#requireRaft();
    if (ready.snapshot !== null) this.#installSnapshot(ready);
    for (const m of coalesceMessages(ready.messagesAfterPersist, this.#environment.options.core.maxSizePerMsgBytes)) {
      if (m.to === this.id) raft.step(m);
      else this.#environment.sendPeer(this.id, m);
    }
    this.#apply(raft, ready.committedEntries);
    this.#queueReads(ready.readStates);
    this.#serveReads();
    raft.advance(ready);
    this.#maybeSnapshot(false);
  }

  #installSnapshot(ready: Ready): void {
    const snapshot = ready.snapshot!;
    assert(snapshot.metadata.index >= this.#appliedIndex, 'an installed snapshot is newer than the applied state');
    this.#kv.restore(snapshot.data);
    this.#appliedIndex = snapshot.metadata.index;
    this.#lastSnapshotIndex = snapshot.metadata.index;
    this.#confState = snapshot.metadata.confState;
    this.#environment.checkers.observeSnapshotInstalled(this.id, snapshot);
    const { index, term } = snapshot.metadata;
    this.#environment.trace.record(this.#environment.nowMs(), () => `n${this.id} installed a snapshot at index ${index} term ${term}`);
  }

  // ---- applying ------------------------------------------------------------------------------------

  #apply(raft: RaftNode, entries: readonly Entry[]): void {
    for (const entry of entries) {
      assert(entry.index === this.#appliedIndex + 1, () => `n${this.id} applies ${entry.index} after ${this.#appliedIndex}`);
      this.#environment.checkers.observeApply(this.id, entry);
      this.#appliedIndex = entry.index;
      if (entry.type === EntryType.ConfChange) this.#applyConfChange(raft, entry);
      else if (entry.data.byteLength > 0) this.#applyCommand(decodeCommand(entry.data));
    }
  }

  #applyConfChange(raft: RaftNode, entry: Entry): void {
    const change = decodeConfChange(entry.data);
    const before = this.#confState;
    this.#confState = raft.applyConfChange(change);
    this.#environment.onConfChangeApplied(this.id, entry.index, change, before, this.#confState);
    // A member joining the cluster is sent the leader's snapshot: make sure the next one includes it.
    const added = [...this.#confState.voters, ...this.#confState.learners].some((id) => !isMember(before, id));
    if (added) this.#maybeSnapshot(true);
  }

  #applyCommand(command: Command): void {
    const result = this.#kv.apply(command);
    const request = this.#pendingProposals.get(command.requestId);
    if (request === undefined || result.output === null) return;
    this.#pendingProposals.delete(command.requestId);
    this.#environment.respond(this.id, request, { kind: 'ok', output: result.output });
  }

  /** Every `snapshotIntervalEntries` applied entries (or when forced), a snapshot; the log is compacted behind it. */
  #maybeSnapshot(force: boolean): void {
    const options = this.#environment.options;
    const interval = options.snapshotIntervalEntries;
    if (!force && (interval === null || this.#appliedIndex - this.#lastSnapshotIndex < interval)) return;
    if (this.#appliedIndex <= this.storage.snapshot().metadata.index || this.#appliedIndex > this.storage.lastIndex()) return;
    this.storage.createSnapshot(this.#appliedIndex, this.#confState, this.#kv.encode());
    this.#lastSnapshotIndex = this.#appliedIndex;
    const compactIndex = this.#appliedIndex - options.snapshotKeepTailEntries;
    if (compactIndex >= this.storage.firstIndex()) this.storage.compact(compactIndex);
    assert(this.storage.firstIndex() <= this.#appliedIndex + 1, 'compaction keeps everything after the snapshot');
  }

  // ---- clients -------------------------------------------------------------------------------------

  #onClientRequest(request: ClientRequest): void {
    const raft = this.#requireRaft();
    assert(this.#pendingProposals.size + this.#pendingReads.size < pendingRequestsMax, 'too many pending client requests');
    if (request.input.kind === 'get' && request.viaReadIndex) {
      const committedAtArrival = this.#environment.checkers.committedIndexNow();
      if (raft.readIndex(encodeReadContext(request.requestId))) this.#pendingReads.set(request.requestId, { request, committedAtArrival });
      else this.#refuse(raft, request);
      return;
    }
    const command: Command = { requestId: request.requestId, clientId: request.clientId, sequence: request.sequence, input: request.input };
    if (raft.propose(encodeCommand(command))) this.#pendingProposals.set(request.requestId, request);
    else this.#refuse(raft, request);
  }

  #refuse(raft: RaftNode, request: ClientRequest): void {
    const lead = raft.status().lead;
    this.#environment.respond(this.id, request, { kind: 'not-leader', leaderHint: lead === this.id ? 0 : lead });
  }

  #queueReads(readStates: readonly ReadState[]): void {
    for (const readState of readStates) {
      const requestId = decodeReadContext(readState.requestContext);
      const pending = requestId === null ? undefined : this.#pendingReads.get(requestId);
      if (pending === undefined) continue;
      this.#pendingReads.delete(pending.request.requestId);
      this.#environment.checkers.observeReadState(this.id, readState.index, pending.committedAtArrival);
      this.#readsAwaitingApply.push({ index: readState.index, request: pending.request });
    }
  }

  #serveReads(): void {
    if (this.#readsAwaitingApply.length === 0) return;
    const waiting: { index: number; request: ClientRequest }[] = [];
    for (const read of this.#readsAwaitingApply) {
      if (read.index > this.#appliedIndex) {
        waiting.push(read);
        continue;
      }
      assert(read.request.input.kind === 'get', 'only gets are read through ReadIndex');
      const value = this.#kv.get(read.request.input.key);
      this.#environment.respond(this.id, read.request, { kind: 'ok', output: { kind: 'get', value } });
    }
    this.#readsAwaitingApply = waiting;
  }
}

export function isMember(confState: ConfState, id: NodeId): boolean {
  return confState.voters.includes(id) || confState.learners.includes(id) || confState.votersOutgoing.includes(id)
    || confState.learnersNext.includes(id);
}

const readContextPrefix = 'read:';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encodeReadContext(requestId: number): Uint8Array {
  return encoder.encode(`${readContextPrefix}${requestId}`);
}

function decodeReadContext(context: Uint8Array): number | null {
  const text = decoder.decode(context);
  if (!text.startsWith(readContextPrefix)) return null;
  const requestId = Number(text.slice(readContextPrefix.length));
  return Number.isSafeInteger(requestId) ? requestId : null;
}

