import { assert } from './assert.ts';
import { decodeConfChange, encodeConfChange } from './codec.ts';
import { type ChangeResult, applyChange, isLeaveJoint, restoreConfig } from './confchange.ts';
import { type BugName, type Config, type ConfigInput, validateConfig } from './config.ts';
import { RaftLog } from './log.ts';
import { isTransferContext, message, needsPersistFirst, transferContext } from './message.ts';
import { jointVoteResult } from './quorum.ts';
import { ReadOnly } from './read-only.ts';
import { entrySizeBytes } from './storage.ts';
import type { Progress } from './tracker/progress.ts';
import { ProgressTracker, confStateOf } from './tracker/tracker.ts';
import {
  type ConfChange, ConfChangeTransition, type ConfState, type Entry, EntryType, type Message, MessageType,
  type NodeId, None, ReadOnlyOption, type ReadState, Role, type Snapshot, StorageError,
} from './types.ts';

/** A proposal before the leader gives it a term and an index. */
export interface ProposalEntry {
  readonly type: EntryType;
  readonly data: Uint8Array;
}

type CampaignKind = 'pre-election' | 'election' | 'transfer';

const emptyData = new Uint8Array(0);

/**
 * The Raft state machine (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm", and
 * Ongaro's thesis), after etcd-io/raft: per-role step functions, outputs collected as data. Pure: no I/O,
 * no clock, no ambient randomness.
 */
export class Raft {
  readonly id: NodeId;
  readonly config: Config;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  readonly #bugs: ReadonlySet<BugName>;

  /** Persistent (Figure 2). Invariant: term >= the term of every entry in the log. */
  term = 0;
  vote: NodeId = None;
  lead: NodeId = None;
  role: Role = Role.Follower;
  isLearner = false;

  /** Messages that may leave right away, and messages that must wait for the next fsync. */
  messages: Message[] = [];
  messagesAfterPersist: Message[] = [];
  readStates: ReadState[] = [];

  /** Ticks since the last election timeout reset (followers) or check-quorum round (leader). */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** Ticks since this node started; monotonic. The leader lease is measured on it. */
  tickCount = 0;

  leadTransferee: NodeId = None;
  /** Leader: index of the newest conf change that may be unapplied; no new one until it is applied. */
  pendingConfIndex = 0;
  /** Leader: bytes of entries proposed but not yet committed and applied. */
  uncommittedBytes = 0;
  /** Leader: a TimeoutNow was sent this term, so a forced election may be under way: no lease reads. */
  leaseRevoked = false;
  readonly readOnly: ReadOnly;
  /** Leader: ReadIndex requests that arrived before it committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  /** Leader: proposals were appended and not yet broadcast (one broadcast per Ready batches them). */
  broadcastPending = false;
  /** Follower: a TimeoutNow arrived while a committed conf change was unapplied; campaign once applied. */
  transferCampaignDeferred = false;
  /** Follower: proposals waiting to be forwarded to the leader in one message. */
  forwardBuffer: ProposalEntry[] = [];

  constructor(input: ConfigInput) {
    this.config = validateConfig(input);
    this.id = this.config.id;
    this.#bugs = new Set(this.config.bugs);
    this.log = new RaftLog(this.config.storage, this.config.maxCommittedSizePerReadyBytes);
    this.tracker = new ProgressTracker(this.config.maxInflightMsgs, this.config.maxInflightBytes);
    this.readOnly = new ReadOnly(this.config.maxPendingReadIndexRequests);
    const { hardState, confState } = this.config.storage.initialState();
    this.switchToConfig(restoreConfig(confState, this.log.lastIndex(), this.newProgress));
    this.term = hardState.term;
    this.vote = hardState.vote;
    if (hardState.commit > 0) this.log.commitTo(hardState.commit);
    // A torn write can keep entries whose term record was lost: the term is at least the last entry's.
    // Raising it is safe: no vote in that term was durable, so none was ever sent (votes wait for fsync).
    if (this.log.lastTerm() > this.term) {
      this.term = this.log.lastTerm();
      this.vote = None;
    }
    if (this.config.applied > 0) this.log.appliedTo(this.config.applied);
    this.becomeFollower(this.term, None);
  }

  readonly newProgress = (next: number, isLearner: boolean): Progress => this.tracker.newProgress(next, isLearner);

  hasBug(name: BugName): boolean {
    return this.#bugs.has(name);
  }

  // ---- sending -------------------------------------------------------------------------------------

  send(fields: Partial<Message> & { readonly type: MessageType; readonly to: NodeId }): void {
    const type = fields.type;
    const keepsTerm = type === MessageType.Vote || type === MessageType.PreVote || type === MessageType.VoteResp
      || type === MessageType.PreVoteResp || type === MessageType.Prop || type === MessageType.ReadIndex
      || type === MessageType.TransferLeader;
    const m = message({ ...fields, from: this.id, term: keepsTerm ? (fields.term ?? 0) : this.term });
    const waitsForFsync = needsPersistFirst(type) && !this.hasBug('ack-before-fsync');
    if (waitsForFsync || m.to === this.id) this.messagesAfterPersist.push(m);
    else this.messages.push(m);
  }

  // ---- role transitions ----------------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = None;
    }
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.config.electionTicks + this.config.random.nextInt(this.config.electionTicks);
    this.leadTransferee = None;
    this.leaseRevoked = false;
    this.transferCampaignDeferred = false;
    this.tracker.resetVotes();
    const lastIndex = this.log.lastIndex();
    // The leader's own match is what is durable: its unstable entries are acknowledged after the fsync.
    const durable = Math.min(this.log.storage.lastIndex(), this.log.unstableOffset - 1);
    for (const [id, progress] of this.tracker.progress) {
      const fresh = this.tracker.newProgress(lastIndex + 1, progress.isLearner);
      if (id === this.id) fresh.match = this.hasBug('ack-before-fsync') ? lastIndex : durable;
      this.tracker.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly.clear();
    this.pendingReadIndexMessages = [];
    this.broadcastPending = false;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = Role.Follower;
  }

  becomePreCandidate(): void {
    assert(this.role !== Role.Leader, 'a leader cannot become a pre-candidate');
    // A pre-vote changes neither the term nor the vote (thesis §9.6).
    this.tracker.resetVotes();
    this.lead = None;
    this.role = Role.PreCandidate;
  }

  becomeCandidate(): void {
    assert(this.role !== Role.Leader, 'a leader cannot become a candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  becomeLeader(): void {
    assert(this.role === Role.Candidate, 'only a candidate becomes leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = Role.Leader;
    this.tracker.progress.get(this.id)?.becomeReplicate();
    // Any conf change still in the log may be unapplied: allow no new one until everything is applied.
    this.pendingConfIndex = this.log.lastIndex();
    // An empty entry of the new term lets the leader commit the entries of earlier terms (§5.4.2).
    this.appendEntries([{ type: EntryType.Normal, data: emptyData }]);
    this.uncommittedBytes = 0;
  }

  // ---- ticks ---------------------------------------------------------------------------------------

  tick(): void {
    this.tickCount++;
    if (this.role === Role.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(message({ type: MessageType.Hup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.removedFromConfig()) {
        // A leader no longer in the configuration retries its hand-off until a successor wins.
        this.handOffLeadership();
      } else {
        if (this.config.checkQuorum) this.step(message({ type: MessageType.CheckQuorum, from: this.id }));
        // A transfer that did not finish within an election timeout is abandoned.
        if (this.role === Role.Leader && this.leadTransferee !== None) this.leadTransferee = None;
      }
    }
    if (this.role !== Role.Leader) return;
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: MessageType.Beat, from: this.id }));
    }
  }

  /** Whether this node may campaign: a voter with no snapshot waiting to be written. */
  promotable(): boolean {
    return this.tracker.isVoter(this.id) && this.log.unstableSnapshot === null;
  }

  // ---- elections -----------------------------------------------------------------------------------

  private hup(kind: CampaignKind): void {
    if (this.role === Role.Leader || !this.promotable()) return;
    // A committed but unapplied conf change may change who votes: wait until it is applied. A transfer
    // request is kept and acted on once it is (the leader usually sends TimeoutNow right as it applies).
    if (this.log.committed > this.log.applied) {
      const pending = this.log.slice(this.log.applied + 1, this.log.committed + 1, Infinity);
      if (pending.some((entry) => entry.type === EntryType.ConfChange)) {
        if (kind === 'transfer') this.transferCampaignDeferred = true;
        return;
      }
    }
    this.campaign(kind);
  }

  /** Called after entries are applied: a deferred transfer campaign may go ahead now. */
  maybeCampaignDeferredTransfer(): void {
    if (!this.transferCampaignDeferred) return;
    this.transferCampaignDeferred = false;
    if (this.role === Role.Follower) this.hup('transfer');
  }

  campaign(kind: CampaignKind): void {
    let term: number;
    let voteType: MessageType;
    if (kind === 'pre-election') {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    const responseType = voteType === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
    for (const id of this.tracker.voterIds()) {
      if (id === this.id) {
        // Our own vote counts only once the term and vote are durable: it comes back after the fsync.
        this.send({ type: responseType, to: this.id, term });
        continue;
      }
      this.send({
        type: voteType, to: id, term, index: this.log.lastIndex(), logTerm: this.log.lastTerm(),
        context: kind === 'transfer' ? transferContext : null,
      });
    }
  }

  private poll(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    this.tracker.recordVote(from, granted);
    return this.tracker.tallyVotes().result;
  }

  // ---- step ----------------------------------------------------------------------------------------

  step(m: Message): void {
    if (!this.checkTerm(m)) return;
    switch (m.type) {
      case MessageType.Hup:
        this.hup(this.config.preVote ? 'pre-election' : 'election');
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return;
      default:
        if (this.role === Role.Leader) this.stepLeader(m);
        else if (this.role === Role.Follower) this.stepFollower(m);
        else this.stepCandidate(m);
    }
  }

  /** The term rules of Figure 2 plus pre-vote and check-quorum; returns false if `m` is done with. */
  private checkTerm(m: Message): boolean {
    if (m.term === 0) return true;
    if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        // Inside a leader's lease a vote request is ignored, unless it comes from a leadership transfer.
        if (!isTransferContext(m.context) && this.inLease()) return false;
      }
      if (m.type === MessageType.PreVote) return true;
      if (m.type === MessageType.PreVoteResp && !m.reject) return true;
      const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
      this.becomeFollower(m.term, fromLeader ? m.from : None);
      return true;
    }
    if (m.term < this.term) {
      if ((this.config.checkQuorum || this.config.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
        // Tell a stale leader about the new term, or it may never step down (a partitioned node that
        // used pre-vote never raised its term, so the leader's messages are the only way to learn).
        this.send({ type: MessageType.AppResp, to: m.from });
      } else if (m.type === MessageType.PreVote) {
        this.send({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true });
      }
      return false;
    }
    return true;
  }

  /** A node that heard from a leader within the election timeout does not help depose it. */
  private inLease(): boolean {
    if (!this.config.checkQuorum) return false;
    if (this.lead !== None && this.electionElapsed < this.config.electionTicks) return true;
    // After a restart this node cannot know whether it acknowledged a leader's lease just before
    // crashing, so with lease reads it waits out one election timeout before voting.
    return this.config.readOnlyOption === ReadOnlyOption.LeaseBased && this.tickCount < this.config.electionTicks;
  }

  private handleVoteRequest(m: Message): void {
    const isPreVote = m.type === MessageType.PreVote;
    const canVote = this.vote === m.from
      || (this.vote === None && this.lead === None)
      || (isPreVote && m.term > this.term)
      || (!isPreVote && this.hasBug('vote-twice'));
    const upToDate = this.hasBug('vote-ignores-log') || this.log.isUpToDate(m.index, m.logTerm);
    const responseType = isPreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
    if (canVote && upToDate) {
      this.send({ type: responseType, to: m.from, term: m.term });
      if (!isPreVote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: responseType, to: m.from, term: this.term, reject: true });
    }
  }

  // ---- leader --------------------------------------------------------------------------------------

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.broadcastHeartbeat(this.readOnly.lastContext());
        return;
      case MessageType.CheckQuorum:
        this.checkQuorum();
        return;
      case MessageType.Prop:
        this.proposeAsLeader(m.entries);
        return;
      case MessageType.ReadIndex:
        this.handleReadIndex(m);
        return;
      default:
    }
    const progress = this.tracker.progress.get(m.from);
    if (progress === undefined) return;
    switch (m.type) {
      case MessageType.AppResp:
        progress.recentActive = true;
        this.handleAppendResponse(m, progress);
        return;
      case MessageType.HeartbeatResp:
        this.handleHeartbeatResponse(m, progress);
        return;
      case MessageType.SnapStatus:
        if (progress.state !== 'snapshot') return;
        // Either way wait for the next heartbeat before probing, so as not to flood a slow follower.
        if (m.reject) progress.pendingSnapshot = 0;
        progress.becomeProbe();
        progress.probeSent = true;
        return;
      case MessageType.Unreachable:
        if (progress.state === 'replicate') progress.becomeProbe();
        return;
      case MessageType.TransferLeader:
        this.handleTransferLeader(m.from, progress);
        return;
      default:
    }
  }

  private checkQuorum(): void {
    if (!this.tracker.quorumActive(this.id)) {
      this.becomeFollower(this.term, None);
      return;
    }
    for (const [id, progress] of this.tracker.progress) {
      if (id !== this.id) progress.recentActive = false;
    }
  }

  /** Appends proposals on the leader; returns false if they were refused. */
  /**
   * Appends proposals on the leader. A conf change that is not allowed (another is pending, or it is
   * invalid for the configuration) is replaced by an empty entry, so a forwarded batch keeps its other
   * proposals. Returns false if nothing was accepted.
   */
  proposeAsLeader(entries: readonly ProposalEntry[]): boolean {
    if (entries.length === 0 || !this.tracker.progress.has(this.id) || this.leadTransferee !== None) return false;
    if (!this.increaseUncommittedBytes(entries)) return false;
    const firstIndex = this.log.lastIndex() + 1;
    let refused = 0;
    const accepted = entries.map((entry, i) => {
      if (entry.type !== EntryType.ConfChange) return entry;
      if (this.confChangeAllowed(entry.data)) {
        // Checked entry by entry, so a second conf change in the same batch sees this one pending.
        this.pendingConfIndex = firstIndex + i;
        return entry;
      }
      refused++;
      return { type: EntryType.Normal, data: emptyData };
    });
    if (refused === entries.length) return false;
    this.appendEntries(accepted);
    this.broadcastPending = true;
    return true;
  }

  /** At most one unapplied conf change, and it must be valid for the configuration it will meet. */
  private confChangeAllowed(data: Uint8Array): boolean {
    if (this.pendingConfIndex > this.log.applied) return false;
    try {
      applyChange(this.changeContext(), decodeConfChange(data));
      return true;
    } catch {
      return false;
    }
  }

  private increaseUncommittedBytes(entries: readonly ProposalEntry[]): boolean {
    let bytes = 0;
    for (const entry of entries) bytes += entry.data.byteLength;
    if (this.uncommittedBytes > 0 && bytes > 0 && this.uncommittedBytes + bytes > this.config.maxUncommittedEntriesBytes) {
      return false;
    }
    this.uncommittedBytes += bytes;
    return true;
  }

  reduceUncommittedBytes(entries: readonly Entry[]): void {
    let bytes = 0;
    for (const entry of entries) bytes += entry.data.byteLength;
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
  }

  appendEntries(proposals: readonly ProposalEntry[]): void {
    const lastIndex = this.log.lastIndex();
    const entries: Entry[] = proposals.map((proposal, i) => ({
      term: this.term, index: lastIndex + 1 + i, type: proposal.type, data: proposal.data,
    }));
    this.log.append(entries);
    if (this.hasBug('ack-before-fsync')) {
      this.tracker.progress.get(this.id)?.maybeUpdate(this.log.lastIndex());
      this.maybeCommit();
    }
  }

  /** Advances the commit index to what a quorum holds, if that entry is of the current term (§5.4.2). */
  maybeCommit(): boolean {
    const quorumIndex = this.tracker.committed();
    if (quorumIndex <= this.log.committed || quorumIndex === Infinity) return false;
    if (!this.hasBug('commit-old-term') && this.log.term(quorumIndex) !== this.term) return false;
    const hadCommittedInTerm = this.committedEntryInCurrentTerm();
    this.log.commitTo(quorumIndex);
    if (!hadCommittedInTerm && this.committedEntryInCurrentTerm()) this.releasePendingReadIndexMessages();
    return true;
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private handleAppendResponse(m: Message, progress: Progress): void {
    if (m.reject) {
      let probeHint = m.rejectHint;
      if (m.logTerm > 0) probeHint = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (progress.maybeDecrement(m.index, probeHint)) {
        if (progress.state === 'replicate') progress.becomeProbe();
        this.sendAppend(m.from, true);
      }
      return;
    }
    const wasPaused = progress.isPaused();
    if (!progress.maybeUpdate(m.index) && !(progress.match === m.index && progress.state === 'probe')) return;
    if (progress.state === 'probe') progress.becomeReplicate();
    else if (progress.state === 'snapshot' && progress.match + 1 >= this.log.firstIndex()) {
      progress.becomeProbe();
      progress.becomeReplicate();
    } else if (progress.state === 'replicate') progress.inflights.freeLE(m.index);
    if (this.maybeCommit()) this.broadcastAppend();
    else if (wasPaused && m.from !== this.id) this.sendAppend(m.from, true);
    if (m.from !== this.id) {
      while (this.sendAppend(m.from, false)) { /* keep the pipe full while flow control allows */ }
    }
    if (m.from === this.leadTransferee && progress.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: Message, progress: Progress): void {
    progress.recentActive = true;
    progress.probeSent = false;
    progress.leaseAckTick = Math.max(progress.leaseAckTick, m.leaseTick);
    if (progress.match < this.log.lastIndex()) {
      // With every inflight slot taken, the appends may all have been lost: no answer would ever free a
      // slot. An empty append elicits an answer (a rejection if there is a gap) and so recovers the flow.
      if (progress.state === 'replicate' && progress.inflights.full()) this.sendEmptyAppend(m.from, progress);
      else this.sendAppend(m.from, true);
    }
    if (m.context === null) return;
    const acks = this.readOnly.recordAck(m.from, m.context);
    if (acks === null) return;
    const votes = new Map<NodeId, boolean>();
    for (const id of acks) votes.set(id, true);
    if (jointVoteResult(this.tracker.config.voters, votes) !== 'won') return;
    for (const read of this.readOnly.advance(m.context)) this.answerReadIndex(read.from, read.context, read.index);
  }

  private handleTransferLeader(transferee: NodeId, progress: Progress): void {
    if (progress.isLearner || transferee === this.id) return;
    if (this.leadTransferee === transferee) return;
    this.leadTransferee = transferee;
    // The transfer must finish within an election timeout, counted from now.
    this.electionElapsed = 0;
    if (progress.match === this.log.lastIndex()) this.sendTimeoutNow(transferee);
    else this.sendAppend(transferee, true);
  }

  private sendTimeoutNow(to: NodeId): void {
    // The transferee will campaign ignoring every lease, so ours is void for the rest of this term.
    this.leaseRevoked = true;
    this.send({ type: MessageType.TimeoutNow, to });
  }

  // ---- replication ---------------------------------------------------------------------------------

  broadcastAppend(): void {
    for (const id of this.tracker.progress.keys()) {
      if (id !== this.id) this.sendAppend(id, true);
    }
  }

  /** Sends one append (or a snapshot) to `to` if flow control allows; returns whether it sent. */
  sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const progress = this.tracker.progress.get(to);
    if (progress === undefined || progress.isPaused()) return false;
    const previousIndex = progress.next - 1;
    const previousTerm = this.log.term(previousIndex);
    let entries: Entry[];
    try {
      if (previousTerm === 0 && previousIndex > 0) throw new StorageError('RAFT_COMPACTED', 'previous entry compacted');
      entries = this.log.entriesFrom(progress.next, this.config.maxSizePerMsgBytes);
    } catch (error) {
      if (error instanceof StorageError && error.code === 'RAFT_COMPACTED') return this.sendSnapshot(to, progress);
      throw error;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const entry of entries) bytes += entrySizeBytes(entry);
    this.send({ type: MessageType.App, to, index: previousIndex, logTerm: previousTerm, entries, commit: this.log.committed });
    const last = entries[entries.length - 1];
    progress.sentEntries(last === undefined ? previousIndex : last.index, entries.length, bytes);
    return true;
  }

  private sendEmptyAppend(to: NodeId, progress: Progress): void {
    const previousIndex = progress.next - 1;
    const previousTerm = this.log.term(previousIndex);
    if (previousTerm === 0 && previousIndex > 0) return;
    this.send({ type: MessageType.App, to, index: previousIndex, logTerm: previousTerm, commit: this.log.committed });
  }

  private sendSnapshot(to: NodeId, progress: Progress): boolean {
    if (!progress.recentActive) return false;
    let snapshot: Snapshot;
    try {
      snapshot = this.log.snapshot();
    } catch (error) {
      if (error instanceof StorageError && error.code === 'RAFT_SNAPSHOT_TEMPORARILY_UNAVAILABLE') return false;
      throw error;
    }
    assert(snapshot.metadata.index > 0, 'the leader has no snapshot to send');
    progress.becomeSnapshot(snapshot.metadata.index);
    this.send({ type: MessageType.Snap, to, snapshot });
    return true;
  }

  broadcastHeartbeat(context: Uint8Array | null): void {
    for (const [id, progress] of this.tracker.progress) {
      if (id === this.id) continue;
      // The follower may not have the entries up to our commit index yet.
      const commit = Math.min(progress.match, this.log.committed);
      this.send({ type: MessageType.Heartbeat, to: id, commit, context, leaseTick: this.tickCount });
    }
  }

  // ---- reads ---------------------------------------------------------------------------------------

  private handleReadIndex(m: Message): void {
    const context = m.context ?? emptyData;
    if (!this.committedEntryInCurrentTerm() && !this.hasBug('read-without-quorum')) {
      // Our commit index may be behind the previous leader's until we commit an entry of our term.
      if (this.pendingReadIndexMessages.length < this.config.maxPendingReadIndexRequests) this.pendingReadIndexMessages.push(m);
      return;
    }
    if (this.tracker.isSingleton() || this.hasBug('read-without-quorum')) {
      this.answerReadIndex(m.from, context, this.log.committed);
    } else if (this.config.readOnlyOption === ReadOnlyOption.LeaseBased && this.leaseValid()) {
      this.answerReadIndex(m.from, context, this.log.committed);
    } else if (!this.readOnly.full()) {
      this.readOnly.add(this.log.committed, m.from, context);
      this.readOnly.recordAck(this.id, context);
      this.broadcastHeartbeat(context);
    }
  }

  private releasePendingReadIndexMessages(): void {
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.handleReadIndex(m);
  }

  /**
   * The lease (thesis §6.4.1): voters that acknowledged a heartbeat sent at tick T ignore vote requests
   * until an election timeout after T, so no other leader can exist before then. The margin covers
   * clock drift and tick granularity.
   */
  leaseValid(): boolean {
    if (this.leaseRevoked || this.leadTransferee !== None || !this.committedEntryInCurrentTerm()) return false;
    const quorumTick = this.tracker.quorumValue((id, progress) => (id === this.id ? this.tickCount : progress.leaseAckTick));
    return this.tickCount < quorumTick + this.config.electionTicks - this.config.leaseMarginTicks;
  }

  private answerReadIndex(from: NodeId, context: Uint8Array, index: number): void {
    if (from === None || from === this.id) this.readStates.push({ index, requestContext: context });
    else this.send({ type: MessageType.ReadIndexResp, to: from, index, context });
  }

  // ---- follower and candidate ----------------------------------------------------------------------

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Prop:
        if (this.lead !== None && !this.config.disableProposalForwarding) this.forward(m);
        return;
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TransferLeader:
      case MessageType.ReadIndex:
        if (this.lead !== None) this.forward(m);
        return;
      case MessageType.TimeoutNow:
        // A transfer never uses pre-vote: the leader asked for it, there is no partition to guard against.
        if (this.promotable()) this.hup('transfer');
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, requestContext: m.context ?? emptyData });
        return;
      default:
    }
  }

  private forward(m: Message): void {
    this.messages.push({ ...m, to: this.lead, term: 0 });
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case MessageType.App:
      case MessageType.Heartbeat:
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        return;
      case MessageType.VoteResp:
      case MessageType.PreVoteResp:
        this.handleVoteResponse(m);
        return;
      default:
    }
  }

  private handleVoteResponse(m: Message): void {
    const expected = this.role === Role.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    if (m.type !== expected) return;
    const result = this.poll(m.from, !m.reject);
    if (result === 'won') {
      if (this.role === Role.PreCandidate) {
        this.campaign('election');
      } else {
        this.becomeLeader();
        this.broadcastAppend();
      }
    } else if (result === 'lost') {
      this.becomeFollower(this.term, None);
    }
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      this.send({ type: MessageType.AppResp, to: m.from, index: this.log.committed });
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries, this.hasBug('append-ignores-prev-term'));
    if (lastNew !== null) {
      this.send({ type: MessageType.AppResp, to: m.from, index: lastNew });
      return;
    }
    // Fast backtracking: tell the leader where our log may match, skipping a term per round trip.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send({ type: MessageType.AppResp, to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: MessageType.HeartbeatResp, to: m.from, context: m.context, leaseTick: m.leaseTick });
  }

  private handleSnapshot(m: Message): void {
    const snapshot = m.snapshot;
    if (snapshot === null) return;
    if (this.restore(snapshot)) {
      this.send({ type: MessageType.AppResp, to: m.from, index: this.log.lastIndex() });
    } else {
      this.send({ type: MessageType.AppResp, to: m.from, index: this.log.committed });
    }
  }

  /** Installs a snapshot from the leader; returns false if it was ignored (stale or already held). */
  private restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata;
    if (index <= this.log.committed) return false;
    // The snapshot may predate this member's addition (it is then added by a later entry), so it is
    // installed even when its ConfState does not list us; a removed member receives no snapshots.
    // The driver is still applying entries handed out earlier (their fsync is in flight): a conf change
    // among them would land on top of the snapshot's configuration. Refuse for now; the leader resends.
    if (this.log.applying > this.log.applied) return false;
    if (this.log.matchTerm(index, term)) {
      // We already have the entry: just fast-forward the commit index.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    this.switchToConfig(restoreConfig(confState, this.log.lastIndex(), this.newProgress));
    return true;
  }

  // ---- membership ----------------------------------------------------------------------------------

  changeContext() {
    return { config: this.tracker.config, progress: this.tracker.progress, lastIndex: this.log.lastIndex(), newProgress: this.newProgress };
  }

  applyConfChange(change: ConfChange): ConfState {
    this.switchToConfig(applyChange(this.changeContext(), change));
    return confStateOf(this.tracker.config);
  }

  private switchToConfig(result: ChangeResult): void {
    this.tracker.config = result.config;
    this.tracker.progress = result.progress;
    this.tracker.checkInvariants();
    const own = this.tracker.progress.get(this.id);
    this.isLearner = own !== undefined && own.isLearner;
    if ((own === undefined || this.isLearner) && this.role === Role.Leader) {
      this.handOffLeadership();
      return;
    }
    if (this.role !== Role.Leader || this.tracker.config.voters.incoming.size === 0) return;
    if (this.maybeCommit()) this.broadcastAppend();
    else {
      for (const id of this.tracker.progress.keys()) if (id !== this.id) this.sendAppend(id, false);
    }
    if (this.leadTransferee !== None && !this.tracker.isVoter(this.leadTransferee)) this.leadTransferee = None;
  }


  /**
   * A leader removed (or demoted) by a change stops leading once a successor is elected: it transfers
   * leadership to the most up-to-date remaining voter, retrying every election timeout (tickHeartbeat),
   * and steps down when the successor's higher term reaches it. Meanwhile it accepts no proposals.
   * Stepping down at once can leave the cluster without a leader: the others may not yet know the change
   * is committed, so they still count the old leader's vote, which it refuses because its log is longer.
   */
  private handOffLeadership(): void {
    let best: NodeId = None;
    let bestMatch = -1;
    for (const id of this.tracker.voterIds()) {
      const progress = this.tracker.progress.get(id);
      if (id !== this.id && progress !== undefined && progress.match > bestMatch) {
        best = id;
        bestMatch = progress.match;
      }
    }
    const progress = this.tracker.progress.get(best);
    if (progress === undefined) {
      this.becomeFollower(this.term, None);
      return;
    }
    this.leadTransferee = None;
    this.handleTransferLeader(best, progress);
  }

  /** Whether this leader is no longer a voter and only stays on to hand leadership over. */
  removedFromConfig(): boolean {
    const own = this.tracker.progress.get(this.id);
    return own === undefined || own.isLearner;
  }

  /** After the entering entry of an auto-leave joint configuration is applied, the leader leaves it. */
  maybeAutoLeave(): void {
    if (this.role !== Role.Leader || !this.tracker.config.autoLeave || this.log.applied < this.pendingConfIndex) return;
    const leave: ConfChange = { transition: ConfChangeTransition.Auto, changes: [], context: emptyData };
    assert(isLeaveJoint(leave), 'an empty change leaves the joint configuration');
    this.appendEntries([{ type: EntryType.ConfChange, data: encodeConfChange(leave) }]);
    this.pendingConfIndex = this.log.lastIndex();
    this.broadcastPending = true;
  }
}
