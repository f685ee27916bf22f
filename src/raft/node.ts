import { assert } from './assert.ts';
import { encodeConfChange } from './codec.ts';
import type { ConfigInput } from './config.ts';
import { isLocalMessage, message } from './message.ts';
import { Raft } from './raft.ts';
import type { ProgressState } from './tracker/progress.ts';
import { confStateOf } from './tracker/tracker.ts';
import {
  type ConfChange, type ConfState, EntryType, type HardState, type Message, MessageType, type NodeId, None,
  type Ready, type Role, type SoftState,
} from './types.ts';

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  readonly recentActive: boolean;
  readonly inflightCount: number;
}

export interface Status {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly lead: NodeId;
  readonly role: Role;
  readonly confState: ConfState;
  readonly leadTransferee: NodeId;
  /** The leader's view of every member; null on other roles. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus> | null;
}

/**
 * The driver's handle on the core (etcd-io/raft's RawNode). Inputs: tick, step, propose, readIndex.
 * Outputs: ready(), confirmed with advance(). Deterministic given (config, random, inputs).
 *
 * @example
 * const node = new RaftNode({ id: 1, storage: new MemoryStorage({ voters: [1] }), random });
 * node.tick();
 * if (node.hasReady()) { const rd = node.ready(); persistAndSend(rd); node.advance(rd); }
 */
export class RaftNode {
  readonly #raft: Raft;
  #previousSoftState: SoftState;
  #previousHardState: HardState;
  /** Invariant: true between ready() and advance(). */
  #awaitingAdvance = false;

  constructor(config: ConfigInput) {
    this.#raft = new Raft(config);
    this.#previousSoftState = this.#softState();
    this.#previousHardState = this.#hardState();
  }

  tick(): void {
    this.#raft.tick();
  }

  /** A message from a peer. Local message types are refused: they are the core's own business. */
  step(m: Message): void {
    // Local message types are the core's and the driver's own business, never accepted from the wire.
    if (isLocalMessage(m.type)) return;
    if (m.type === MessageType.Prop) {
      this.#propose(m.entries);
      return;
    }
    // Answers from peers we no longer track (removed members) are dropped by the role step functions.
    this.#raft.step(m);
  }

  /** Proposes an application command; false if it was dropped (no leader known, transfer, or limits). */
  propose(data: Uint8Array): boolean {
    return this.#propose([{ type: EntryType.Normal, data }]);
  }

  proposeConfChange(change: ConfChange): boolean {
    return this.#propose([{ type: EntryType.ConfChange, data: encodeConfChange(change) }]);
  }

  #propose(entries: readonly { type: EntryType; data: Uint8Array }[]): boolean {
    const raft = this.#raft;
    if (raft.role === 'leader') return raft.proposeAsLeader(entries);
    if (raft.role !== 'follower' || raft.lead === None || raft.config.disableProposalForwarding) return false;
    if (raft.forwardBuffer.length + entries.length > raft.config.maxForwardedProposalEntries) return false;
    for (const entry of entries) raft.forwardBuffer.push(entry);
    return true;
  }

  /** Applies a committed conf change (call it when the entry is applied); returns the new ConfState. */
  applyConfChange(change: ConfChange): ConfState {
    return this.#raft.applyConfChange(change);
  }

  /** Requests a linearizable read point; answered in ready().readStates. False if dropped. */
  readIndex(context: Uint8Array): boolean {
    const raft = this.#raft;
    if (raft.role === 'leader') {
      if (raft.readOnly.full() || raft.pendingReadIndexMessages.length >= raft.config.maxPendingReadIndexRequests) return false;
    } else if (raft.role !== 'follower' || raft.lead === None) {
      return false;
    }
    raft.step(message({ type: MessageType.ReadIndex, from: this.#raft.id, to: this.#raft.id, context }));
    return true;
  }

  transferLeader(target: NodeId): void {
    this.#raft.step(message({ type: MessageType.TransferLeader, from: target, to: this.#raft.id }));
  }

  reportUnreachable(id: NodeId): void {
    this.#raft.step(message({ type: MessageType.Unreachable, from: id, to: this.#raft.id }));
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.#raft.step(message({ type: MessageType.SnapStatus, from: id, to: this.#raft.id, reject: !ok }));
  }

  hasReady(): boolean {
    const raft = this.#raft;
    if (this.#awaitingAdvance) return false;
    return raft.messages.length > 0 || raft.messagesAfterPersist.length > 0 || raft.readStates.length > 0
      || raft.log.unstableEntries.length > 0 || raft.log.unstableSnapshot !== null || raft.log.hasNextCommittedEntries()
      || raft.broadcastPending || (raft.forwardBuffer.length > 0 && raft.lead !== None)
      || !sameHardState(this.#hardState(), this.#previousHardState) || !sameSoftState(this.#softState(), this.#previousSoftState);
  }

  ready(): Ready {
    assert(!this.#awaitingAdvance, 'ready() called again before advance()');
    const raft = this.#raft;
    this.#flush();
    const entries = raft.log.unstableEntries.slice();
    const last = entries[entries.length - 1];
    if (last !== undefined && raft.role === 'leader' && !raft.hasBug('ack-before-fsync')) {
      // The leader's own acknowledgement, delivered back to it once these entries are durable.
      raft.send({ type: MessageType.AppResp, to: raft.id, index: last.index });
    }
    const softState = this.#softState();
    const hardState = this.#hardState();
    const ready: Ready = {
      softState: sameSoftState(softState, this.#previousSoftState) ? null : softState,
      hardState: sameHardState(hardState, this.#previousHardState) ? null : hardState,
      entries,
      snapshot: raft.log.unstableSnapshot,
      committedEntries: raft.log.nextCommittedEntries(),
      messages: raft.messages,
      messagesAfterPersist: raft.messagesAfterPersist,
      readStates: raft.readStates,
    };
    raft.messages = [];
    raft.messagesAfterPersist = [];
    raft.readStates = [];
    this.#previousSoftState = softState;
    this.#previousHardState = hardState;
    this.#awaitingAdvance = true;
    return ready;
  }

  /** Sends the batched broadcast and forwarded proposals: many proposals make one message per peer. */
  #flush(): void {
    const raft = this.#raft;
    if (raft.broadcastPending) {
      raft.broadcastPending = false;
      if (raft.role === 'leader') raft.broadcastAppend();
    }
    if (raft.forwardBuffer.length > 0 && raft.lead !== None && raft.role === 'follower') {
      const entries = raft.forwardBuffer.map((entry) => ({ term: 0, index: 0, type: entry.type, data: entry.data }));
      raft.messages.push(message({ type: MessageType.Prop, from: raft.id, to: raft.lead, entries }));
    }
    raft.forwardBuffer = [];
  }

  advance(ready: Ready): void {
    assert(this.#awaitingAdvance, 'advance() without ready()');
    this.#awaitingAdvance = false;
    const raft = this.#raft;
    if (ready.snapshot !== null) {
      raft.log.stableSnapshotTo(ready.snapshot.metadata.index);
      raft.log.appliedTo(ready.snapshot.metadata.index);
    }
    const last = ready.entries[ready.entries.length - 1];
    if (last !== undefined) raft.log.stableTo(last.index, last.term);
    const applied = ready.committedEntries[ready.committedEntries.length - 1];
    if (applied !== undefined) {
      raft.log.appliedTo(applied.index);
      if (raft.role === 'leader') raft.reduceUncommittedBytes(ready.committedEntries);
      raft.maybeAutoLeave();
      raft.maybeCampaignDeferredTransfer();
    }
  }

  /** The known leader (None when there is none): a field read, for hot paths where `status()` would allocate. */
  get lead(): NodeId {
    return this.#raft.lead;
  }

  get term(): number {
    return this.#raft.term;
  }

  get role(): Role {
    return this.#raft.role;
  }

  /** A full picture, with the leader's view of every peer's progress; it allocates, so keep it off hot paths. */
  status(): Status {
    const raft = this.#raft;
    let progress: Map<NodeId, ProgressStatus> | null = null;
    if (raft.role === 'leader') {
      progress = new Map();
      for (const [id, p] of raft.tracker.progress) {
        progress.set(id, { match: p.match, next: p.next, state: p.state, isLearner: p.isLearner, recentActive: p.recentActive, inflightCount: p.inflights.count });
      }
    }
    return {
      id: raft.id, term: raft.term, vote: raft.vote, commit: raft.log.committed, applied: raft.log.applied,
      lastIndex: raft.log.lastIndex(), lead: raft.lead, role: raft.role, confState: confStateOf(raft.tracker.config),
      leadTransferee: raft.leadTransferee, progress,
    };
  }

  /** Whether a lease-based read would be answered locally right now (for tests and diagnosis). */
  leaseValid(): boolean {
    return this.#raft.role === 'leader' && this.#raft.leaseValid();
  }

  #softState(): SoftState {
    return { lead: this.#raft.lead, role: this.#raft.role };
  }

  #hardState(): HardState {
    return { term: this.#raft.term, vote: this.#raft.vote, commit: this.#raft.log.committed };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.role === b.role;
}
