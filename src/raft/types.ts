/**
 * The data the Raft core exchanges with its driver: log entries, messages, persistent state, snapshots
 * and the Ready batch. Plain data only, so that the simulator can copy, drop, reorder and record it.
 */

/** A member's ID. 0 means "nobody" (no leader, no vote). */
export type NodeId = number;
export const None: NodeId = 0;

export enum EntryType {
  /** An application command (or an empty entry a new leader appends to commit its term). */
  Normal = 0,
  /** A membership change, data is an encoded ConfChange. */
  ConfChange = 1,
}

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** State that must be on stable storage before any message that depends on it leaves the node. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

/** Volatile state, for observers (the driver, the dashboard, the simulator's checkers). */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: Role;
}

export enum Role {
  Follower = 'follower',
  PreCandidate = 'pre-candidate',
  Candidate = 'candidate',
  Leader = 'leader',
}

/**
 * The membership configuration. `votersOutgoing` is non-empty only in a joint configuration (Raft thesis
 * §4.3): decisions then need a majority of `voters` AND a majority of `votersOutgoing`.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
  /** Learners that become voters when the joint configuration is left (a voter demoted in a joint change). */
  readonly learnersNext: readonly NodeId[];
  /** Leave the joint configuration automatically once the entering entry is applied. */
  readonly autoLeave: boolean;
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  /** The application's state at metadata.index, opaque to the core. */
  readonly data: Uint8Array;
}

export enum ConfChangeType {
  AddNode = 'add-node',
  RemoveNode = 'remove-node',
  AddLearner = 'add-learner',
}

export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

export enum ConfChangeTransition {
  /** One simple change goes direct; several changes use joint consensus and leave it automatically. */
  Auto = 'auto',
  /** Joint consensus, left automatically once the entering entry is applied. */
  JointImplicit = 'joint-implicit',
  /** Joint consensus, left only by an explicit empty ConfChange proposal. */
  JointExplicit = 'joint-explicit',
}

/** A membership change. An empty `changes` list is a request to leave a joint configuration. */
export interface ConfChange {
  readonly transition: ConfChangeTransition;
  readonly changes: readonly ConfChangeSingle[];
  /** Opaque application context (for example the new member's peer URLs). */
  readonly context: Uint8Array;
}

export enum MessageType {
  /** Local: the election timer fired. Never sent on the wire. */
  Hup = 'hup',
  /** Local: the heartbeat timer fired on the leader. */
  Beat = 'beat',
  /** A proposal of entries; forwarded from a follower to the leader. */
  Prop = 'prop',
  App = 'app',
  AppResp = 'app-resp',
  Vote = 'vote',
  VoteResp = 'vote-resp',
  PreVote = 'pre-vote',
  PreVoteResp = 'pre-vote-resp',
  Snap = 'snap',
  Heartbeat = 'heartbeat',
  HeartbeatResp = 'heartbeat-resp',
  /** Local: the driver reports that a snapshot send finished or failed. */
  SnapStatus = 'snap-status',
  /** Local: the driver reports that a peer is unreachable. */
  Unreachable = 'unreachable',
  /** Local: the leader checks that a quorum was active during the last election timeout. */
  CheckQuorum = 'check-quorum',
  TransferLeader = 'transfer-leader',
  TimeoutNow = 'timeout-now',
  ReadIndex = 'read-index',
  ReadIndexResp = 'read-index-resp',
}

export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** App: the term of the entry before `entries`. Vote: the candidate's last log term. Resp: a hint. */
  readonly logTerm: number;
  /** App: the index before `entries`. AppResp: the highest index matched, or the rejected index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly snapshot: Snapshot | null;
  readonly reject: boolean;
  /** When rejecting an App: the follower's guess of the last index that may match (fast backtracking). */
  readonly rejectHint: number;
  /** ReadIndex request context, echoed on heartbeats and their responses. */
  readonly context: Uint8Array | null;
  /**
   * Heartbeat: the leader's tick count when it was sent; HeartbeatResp echoes it. The leader's lease
   * is computed from these echoes (Raft thesis §6.4.1).
   */
  readonly leaseTick: number;
}

/** The answer to a ReadIndex request: once `index` is applied, a read made locally is linearizable. */
export interface ReadState {
  readonly index: number;
  readonly requestContext: Uint8Array;
}

/**
 * A batch of work for the driver, in this order:
 *   1. send `messages` (they do not depend on this batch being durable; the leader's appends go here);
 *   2. write `snapshot`, `entries` and `hardState` to stable storage and fsync them;
 *   3. send `messagesAfterPersist` (votes and append acknowledgements: they promise durable state);
 *   4. apply `committedEntries` to the state machine, and serve `readStates` once applied (committed entries
 *      are durable on a quorum already, so a driver may apply them while step 2 runs, unless the Ready
 *      carries a snapshot, which must be installed first);
 *   5. call `advance(ready)`.
 * The driver also reports, like a transport does, when a snapshot send finished or failed
 * (`reportSnapshot`) and when a peer is unreachable (`reportUnreachable`); without the report a follower
 * whose snapshot was lost would wait for it forever.
 */
export interface Ready {
  /** null when unchanged since the last Ready. */
  readonly softState: SoftState | null;
  /** null when unchanged since the last Ready. */
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  readonly readStates: readonly ReadState[];
}

/** The deterministic source of randomness the driver injects. */
export interface Random {
  /** An integer in [0, bound). */
  nextInt(bound: number): number;
}

/** Read-only view of the log that the driver has made durable (etcd-raft's Storage). */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [low, high), at most `maxBytes` in total (always at least one). */
  entries(low: number, high: number, maxBytes: number): Entry[];
  /** The term of the entry at `index`; the snapshot's index is answered too. */
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

/** Why a log access failed. Stable codes, as in the rest of keel. */
export class StorageError extends Error {
  constructor(
    readonly code: 'RAFT_COMPACTED' | 'RAFT_UNAVAILABLE' | 'RAFT_SNAPSHOT_TEMPORARILY_UNAVAILABLE',
    message: string,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}

export enum ReadOnlyOption {
  /** A read is confirmed by a heartbeat round to a quorum (Raft thesis §6.4). */
  Safe = 'safe',
  /** A read is served under the leader's lease; requires checkQuorum (Raft thesis §6.4.1). */
  LeaseBased = 'lease-based',
}

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export const emptyHardState: HardState = { term: 0, vote: None, commit: 0 };
