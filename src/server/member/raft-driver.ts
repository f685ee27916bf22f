import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ConfChange, type ConfState, EntryType, MemoryStorage, type Message, type NodeId, RaftNode, type Ready,
  type ReadState, Role, type Snapshot, coalesceMessages, contextKey, decodeConfChange, defaultConfig,
} from '../../raft/index.ts';
import {
  Wal, type StorageLogger, type WalStatistics, loadNewestSnapshotFile, purgeSnapshotFiles, saveSnapshotFile,
} from '../../storage/index.ts';
import { assert } from '../../storage/errors.ts';
import type { Cancellation } from '../grpc/index.ts';
import type { DriverMetrics } from '../metrics.ts';

/**
 * The member's driver loop: runs the Raft core's Ready/Advance cycle against the WAL, snapshot files, a
 * peer transport and a state machine. One event loop, no worker threads: the fsync is the only wait, and
 * proposals arriving meanwhile are batched into the next Ready.
 */

/** The state machine the driver applies committed entries to (the MVCC store, in a member). */
export interface StateMachine {
  /** Applies one committed command; the result goes to whoever proposed it on this member. */
  apply(index: number, command: Uint8Array): unknown;
  /** Applies a committed membership change (after the core has). */
  applyConfChange(index: number, change: ConfChange, confState: ConfState): void;
  /** The state as of the last apply, captured now and encoded later, a slice at a time. */
  captureSnapshot(): SnapshotCapture;
  restore(data: Uint8Array): void;
}

/**
 * A state machine's snapshot, captured at one apply and encoded while the member goes on applying, so that
 * a big state never stops the Ready loop (heartbeats included) for the length of its encoding.
 */
export interface SnapshotCapture {
  /** Encodes up to `maxRecords` more records; true once the whole state is encoded. */
  encodeSome(maxRecords: number): boolean;
  /** The encoded state, once {@link encodeSome} has returned true. */
  finish(): Uint8Array;
}

/** What the driver needs from the peer transport. */
export interface DriverTransport {
  send(messages: readonly Message[]): void;
}

export interface RaftDriverOptions {
  readonly memberId: NodeId;
  readonly dataDirectory: string;
  /** Founding voters, used only when the data directory is new; null when joining an existing cluster. */
  readonly initialVoters: readonly NodeId[] | null;
  /** The state machine's snapshot for a founding member's bootstrap snapshot (index 1); empty if absent. */
  readonly bootstrapData?: Uint8Array;
  readonly stateMachine: StateMachine;
  readonly transport: DriverTransport;
  readonly logger: StorageLogger;
  readonly tickMs: number;
  readonly electionTicks: number;
  /** Applied entries between two snapshots (etcd's --snapshot-count). */
  readonly snapshotEntries: number;
  /** Entries kept behind a snapshot for slow followers (etcd keeps 5,000). */
  readonly compactionTailEntries: number;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  readonly random: () => number;
  /** Reports leader changes, campaigns, fsync and snapshot durations (src/server/metrics.ts). */
  readonly metrics?: DriverMetrics;
  /**
   * How long a proposal or read may wait before it fails with "request timed out" (etcd's ReqTimeout:
   * 5 s plus two election timeouts, the default). A request to a leader that died does not hang until the
   * client gives up.
   */
  readonly requestTimeoutMs?: number;
}

/** Bound on proposals and reads waiting on one member (etcd answers "too many requests" past it). */
export const waitingRequestsMax = 100_000;
/**
 * Every proposal's data starts with a request ID: the proposing member's ID (low 32 bits) and a sequence
 * number, so the member that proposed an entry finds its waiter when applying it.
 */
export const requestIdBytes = 8;
/**
 * Records a background snapshot encodes per turn of the event loop: 1-2 ms of work for small
 * values, so requests and heartbeats wait at most that long behind it.
 */
const snapshotRecordsPerSlice = 1_024;

/**
 * Encodes a captured snapshot `snapshotRecordsPerSlice` records per event-loop turn. Resolves to the bytes,
 * or to null if `abandoned()` turned true between two slices.
 */
export async function encodeInSlices(capture: SnapshotCapture, abandoned: () => boolean): Promise<Uint8Array | null> {
  while (!capture.encodeSome(snapshotRecordsPerSlice)) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (abandoned()) return null;
  }
  return capture.finish();
}

export class DriverError extends Error {
  constructor(readonly code: 'DRIVER_DROPPED' | 'DRIVER_TOO_MANY_REQUESTS' | 'DRIVER_STOPPED' | 'DRIVER_ABORTED' | 'DRIVER_TIMEOUT', message: string) {
    super(message);
    this.name = 'DriverError';
  }
}

/**
 * A request waiting for the core: a proposal until it is applied, a read until its ReadIndex is applied.
 * One object per request: the promise's settle functions, the abort listener (bound once) and the deadline.
 */
class Waiter {
  readonly promise: Promise<unknown>;
  /** When the request fails with a timeout (driver clock). */
  readonly deadlineMs: number;
  /** The leader when the request started: a timeout after it changed says so, as etcd's does. */
  readonly leaderAtStart: NodeId;
  readonly #waiters: Map<unknown, Waiter>;
  readonly #key: unknown;
  readonly #signal: Cancellation;
  readonly #onAbort: () => void;
  #settle!: (result: unknown) => void;
  #fail!: (error: Error) => void;

  constructor(waiters: Map<unknown, Waiter>, key: unknown, signal: Cancellation, deadlineMs: number, leaderAtStart: NodeId) {
    this.#waiters = waiters;
    this.#key = key;
    this.#signal = signal;
    this.deadlineMs = deadlineMs;
    this.leaderAtStart = leaderAtStart;
    this.promise = new Promise((resolve, reject) => {
      this.#settle = resolve;
      this.#fail = reject;
    });
    this.#onAbort = this.#aborted.bind(this);
  }

  /** Registers the waiter (listening for the caller's cancellation); false if it was already cancelled. */
  register(): boolean {
    if (this.#signal.aborted) {
      this.#aborted();
      return false;
    }
    this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    this.#waiters.set(this.#key, this);
    return true;
  }

  /** Takes the waiter back without settling it (its request was never submitted). */
  withdraw(): void {
    this.#waiters.delete(this.#key);
    this.#signal.removeEventListener('abort', this.#onAbort);
  }

  resolve(result: unknown): void {
    this.#signal.removeEventListener('abort', this.#onAbort);
    this.#settle(result);
  }

  reject(error: Error): void {
    this.#signal.removeEventListener('abort', this.#onAbort);
    this.#fail(error);
  }

  #aborted(): void {
    this.#waiters.delete(this.#key);
    this.#fail(new DriverError('DRIVER_ABORTED', 'etcdserver: request timed out'));
  }
}

export class RaftDriver {
  readonly node: RaftNode;
  readonly storage: MemoryStorage;
  readonly #wal: Wal;
  readonly #options: RaftDriverOptions;
  readonly #snapshotDirectory: string;
  /** Proposals made here, by request ID, resolved when their entry is applied. */
  readonly #proposals = new Map<number, Waiter>();
  /** ReadIndex requests made here, by context, resolved once the read index is applied. */
  readonly #reads = new Map<string, Waiter>();
  /** Read states whose index is not yet applied. */
  #readsAwaitingApply: { index: number; key: string }[] = [];
  #requestSequence = 0;
  #ticker: NodeJS.Timeout | null = null;
  #lastTickAtMs: number;
  readonly #requestTimeoutMs: number;
  #processing = false;
  #stopped = false;
  #appliedIndex: number;
  #snapshotIndex: number;
  /** The snapshot being encoded and saved in the background, if any. */
  #snapshotting: Promise<void> | null = null;
  /** Memo of {@link #nextSnapshotAt}; null once a snapshot was taken or installed. */
  #snapshotAt: number | null = null;

  private constructor(options: RaftDriverOptions, wal: Wal, storage: MemoryStorage, applied: number) {
    this.#options = options;
    this.#wal = wal;
    this.storage = storage;
    this.#snapshotDirectory = join(options.dataDirectory, 'snap');
    this.#appliedIndex = applied;
    this.#snapshotIndex = applied;
    this.#lastTickAtMs = options.now();
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 5_000 + 2 * options.electionTicks * options.tickMs;
    assert(this.#requestTimeoutMs > 0, 'a request timeout is positive');
    this.node = new RaftNode({
      id: options.memberId, storage, applied, electionTicks: options.electionTicks, heartbeatTicks: 1,
      random: { nextInt: (bound) => Math.floor(options.random() * bound) },
    });
  }

  /** Whether the data directory already holds a member's log. */
  static hasData(dataDirectory: string): Promise<boolean> {
    return Wal.exists(join(dataDirectory, 'wal'));
  }

  /** Opens (or creates) the member's data directory and recovers its state. */
  static async open(options: RaftDriverOptions): Promise<RaftDriver> {
    const walDirectory = join(options.dataDirectory, 'wal');
    const snapshotDirectory = join(options.dataDirectory, 'snap');
    await mkdir(snapshotDirectory, { recursive: true });
    if (!(await Wal.exists(walDirectory))) return RaftDriver.#create(options, walDirectory, snapshotDirectory);
    const loaded = await loadNewestSnapshotFile(snapshotDirectory, { logger: options.logger });
    // Without a loadable snapshot, replay must start from the beginning of the log (or fail clearly with
    // WAL_SNAPSHOT_MISMATCH if it was released), not from the newest marker.
    const snapshotIndexMax = loaded?.snapshot.metadata.index ?? 0;
    const { wal, replay } = await Wal.open(walDirectory, { logger: options.logger, snapshotIndexMax, onSynced: options.metrics?.walSynced });
    const storage = new MemoryStorage();
    let applied = 0;
    if (loaded !== null) {
      storage.applySnapshot(loaded.snapshot);
      options.stateMachine.restore(loaded.snapshot.data);
      applied = loaded.snapshot.metadata.index;
    }
    storage.append(replay.entries.filter((entry) => entry.index > applied));
    // Commit-only changes are not synced (see #mustSync), but everything in the snapshot was committed.
    storage.setHardState({ ...replay.hardState, commit: Math.max(replay.hardState.commit, applied) });
    return new RaftDriver(options, wal, storage, applied);
  }

  static async #create(options: RaftDriverOptions, walDirectory: string, snapshotDirectory: string): Promise<RaftDriver> {
    const wal = await Wal.create(walDirectory, { logger: options.logger, metadata: walMetadataOf(options.memberId), onSynced: options.metrics?.walSynced });
    if (options.initialVoters === null) return new RaftDriver(options, wal, new MemoryStorage(), 0);
    const storage = await writeBootstrap(wal, snapshotDirectory, options.initialVoters, options.bootstrapData ?? new Uint8Array(0), options.logger);
    return new RaftDriver(options, wal, storage, storage.snapshot().metadata.index);
  }

  /** Starts ticking. Ticks missed while the event loop was busy are delivered on the next timer. */
  start(): void {
    this.#lastTickAtMs = this.#options.now();
    this.#ticker = setInterval(() => this.#tick(), this.#options.tickMs);
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#ticker !== null) clearInterval(this.#ticker);
    const stopped = new DriverError('DRIVER_STOPPED', 'etcdserver: server stopped');
    for (const waiter of [...this.#proposals.values(), ...this.#reads.values()]) waiter.reject(stopped);
    this.#proposals.clear();
    this.#reads.clear();
    // A snapshot being encoded stops at its next slice; one already being written finishes first.
    if (this.#snapshotting !== null) await this.#snapshotting;
    await this.#wal.close();
  }

  #tick(): void {
    const now = this.#options.now();
    this.#expireRequests(this.#proposals, now);
    this.#expireRequests(this.#reads, now);
    // Deliver every tick that elapsed (a pause or a busy loop must not stretch the leader's lease).
    let ticks = Math.floor((now - this.#lastTickAtMs) / this.#options.tickMs);
    if (ticks <= 0) return;
    this.#lastTickAtMs += ticks * this.#options.tickMs;
    ticks = Math.min(ticks, this.#options.electionTicks * 2);
    for (let i = 0; i < ticks; i++) this.node.tick();
    this.#schedule();
  }

  /** A message from a peer. */
  receive(message: Message): void {
    if (this.#stopped) return;
    this.node.step(message);
    this.#schedule();
  }

  /**
   * Proposes a command; resolves with the state machine's result once it is applied here. The first
   * `requestIdBytes` bytes of `data` are the driver's: it writes the request ID there (so a command is
   * encoded once, with room in front, and never copied).
   */
  propose(data: Uint8Array, signal: Cancellation): Promise<unknown> {
    assert(data.length >= requestIdBytes, 'a proposal has room for its request ID');
    const sequence = this.#nextSequence();
    writeUint32(data, 0, this.#options.memberId >>> 0);
    writeUint32(data, 4, sequence);
    return this.#wait(this.#proposals, sequence, signal, () => this.node.propose(data));
  }

  proposeConfChange(change: ConfChange): boolean {
    const accepted = this.node.proposeConfChange(change);
    this.#schedule();
    return accepted;
  }

  /** The transport could not reach a peer: the core stops streaming to it until it answers again. */
  reportUnreachable(peer: NodeId): void {
    this.node.reportUnreachable(peer);
    this.#schedule();
  }

  /** The transport finished (or failed) sending a snapshot to a peer. */
  reportSnapshot(peer: NodeId, ok: boolean): void {
    this.node.reportSnapshot(peer, ok);
    this.#schedule();
  }

  transferLeader(target: NodeId): void {
    this.node.transferLeader(target);
    this.#schedule();
  }

  /** Resolves once a linearizable read may be served from the local state machine (ReadIndex). */
  readBarrier(signal: Cancellation): Promise<void> {
    const id = new Uint8Array(requestIdBytes);
    writeUint32(id, 0, this.#options.memberId >>> 0);
    writeUint32(id, 4, this.#nextSequence());
    return this.#wait(this.#reads, contextKey(id), signal, () => this.node.readIndex(id)).then(() => undefined);
  }

  #wait<Key>(waiters: Map<Key, Waiter>, key: Key, signal: Cancellation, submit: () => boolean): Promise<unknown> {
    if (this.#stopped) return Promise.reject(new DriverError('DRIVER_STOPPED', 'etcdserver: server stopped'));
    if (this.#proposals.size + this.#reads.size >= waitingRequestsMax) {
      return Promise.reject(new DriverError('DRIVER_TOO_MANY_REQUESTS', 'etcdserver: too many requests'));
    }
    const waiter = new Waiter(waiters as Map<unknown, Waiter>, key, signal, this.#options.now() + this.#requestTimeoutMs, this.node.lead);
    if (!waiter.register()) return waiter.promise;
    if (!submit()) {
      waiter.withdraw();
      return Promise.reject(new DriverError('DRIVER_DROPPED', this.node.lead === 0 ? 'etcdserver: no leader' : 'etcdserver: leader changed'));
    }
    this.#schedule();
    return waiter.promise;
  }

  /** Fails requests past their deadline. Maps keep insertion order, which is deadline order: stop at the first live one. */
  #expireRequests<Key>(waiters: Map<Key, Waiter>, now: number): void {
    for (const [key, waiter] of waiters) {
      if (waiter.deadlineMs > now) return;
      waiters.delete(key);
      const leaderChanged = waiter.leaderAtStart !== 0 && waiter.leaderAtStart !== this.node.lead;
      waiter.reject(new DriverError('DRIVER_TIMEOUT', leaderChanged ? 'etcdserver: request timed out, possibly due to previous leader failure' : 'etcdserver: request timed out'));
    }
  }

  #nextSequence(): number {
    this.#requestSequence = (this.#requestSequence + 1) >>> 0;
    return this.#requestSequence;
  }

  /**
   * Runs the Ready loop until the core has nothing more, one batch (one fsync) at a time. An idle loop starts
   * at the end of the current event-loop turn's I/O (setImmediate), not inside the callback that woke it:
   * every request and acknowledgement that arrived in the same turn, on every connection, goes into the first
   * batch instead of the first one alone making a Ready of its own. Under the put benchmark that is a fifth
   * fewer WAL writes and peer messages, and a lower p99.
   */
  #schedule(): void {
    if (this.#processing || this.#stopped || !this.node.hasReady()) return;
    this.#processing = true;
    setImmediate(() => {
      void this.#processReadies().finally(() => {
        this.#processing = false;
        this.#schedule();
      });
    });
  }

  async #processReadies(): Promise<void> {
    while (!this.#stopped && this.node.hasReady()) {
      const ready = this.node.ready();
      this.#options.metrics?.observeReady(ready);
      // The leader's appends leave before its own fsync (thesis §10.2.1): they do not promise anything.
      this.#options.transport.send(coalesceMessages(ready.messages, defaultConfig.maxSizePerMsgBytes));
      // Committed entries are already durable on a quorum, so the leader applies them while its own write
      // runs (as etcd's apply loop does): the write is started, the entries applied (clients answered), then
      // the write awaited. The state machine lives in memory, so a crash before the write completes loses
      // nothing that recovery would not rebuild. A follower acknowledges first and applies after: its
      // acknowledgement is what the leader's commit waits for, and nobody waits for its apply. A snapshot to
      // install comes before anything is applied.
      const applyFirst = ready.snapshot === null && this.node.role === Role.Leader;
      const persisted = this.#persist(ready);
      if (applyFirst) this.#apply(ready);
      await persisted;
      if (this.#stopped) return;
      this.#sendAfterPersist(ready.messagesAfterPersist);
      if (!applyFirst) this.#apply(ready);
      this.node.advance(ready);
      this.#maybeSnapshot();
    }
  }

  async #persist(ready: Ready): Promise<void> {
    if (ready.snapshot !== null) {
      // The leader's snapshot replaces this member's: let a snapshot of its own being saved finish first.
      if (this.#snapshotting !== null) await this.#snapshotting;
      await this.#installSnapshot(ready.snapshot);
    }
    if (ready.entries.length > 0 || this.#mustSync(ready)) await this.#wal.save(ready.hardState, ready.entries);
    this.storage.append(ready.entries);
    if (ready.hardState !== null) this.storage.setHardState(ready.hardState);
  }

  /**
   * Whether the hard state needs an fsync of its own. Term and vote do (they back votes and acknowledgements);
   * a commit index alone does not (etcd's MustSync): a restart relearns it from the leader, and recovery
   * raises it to at least the snapshot index. Skipping it spares every write a second fsync.
   */
  #mustSync(ready: Ready): boolean {
    const hardState = ready.hardState;
    if (hardState === null) return false;
    const durable = this.storage.hardState();
    return hardState.term !== durable.term || hardState.vote !== durable.vote;
  }

  async #installSnapshot(snapshot: Snapshot): Promise<void> {
    // The file first, then the WAL marker: replay trusts a marker only with its snapshot file on disk.
    await saveSnapshotFile(this.#snapshotDirectory, snapshot, { logger: this.#options.logger });
    await this.#wal.saveSnapshotMarker({ index: snapshot.metadata.index, term: snapshot.metadata.term });
    this.storage.applySnapshot(snapshot);
    this.#options.stateMachine.restore(snapshot.data);
    this.#options.logger.info('snapshot installed from leader', { index: snapshot.metadata.index, term: snapshot.metadata.term, bytes: snapshot.data.length });
    this.#appliedIndex = snapshot.metadata.index;
    this.#snapshotIndex = snapshot.metadata.index;
    this.#snapshotAt = null;
  }

  #sendAfterPersist(messages: readonly Message[]): void {
    const remote: Message[] = [];
    for (const message of messages) {
      if (message.to === this.#options.memberId) this.node.step(message);
      else remote.push(message);
    }
    this.#options.transport.send(coalesceMessages(remote, defaultConfig.maxSizePerMsgBytes));
  }

  #apply(ready: Ready): void {
    for (const entry of ready.committedEntries) {
      if (entry.type === EntryType.ConfChange) {
        const change = decodeConfChange(entry.data);
        const confState = this.node.applyConfChange(change);
        this.#options.stateMachine.applyConfChange(entry.index, change, confState);
      } else if (entry.data.length >= requestIdBytes) {
        const data = entry.data;
        const ownProposal = readUint32(data, 0) === this.#options.memberId >>> 0;
        let result: unknown;
        try {
          result = this.#options.stateMachine.apply(entry.index, entry.data.subarray(requestIdBytes));
        } catch (error) {
          result = error;
        }
        const waiter = ownProposal ? this.#proposals.get(readUint32(data, 4)) : undefined;
        if (waiter !== undefined) {
          this.#proposals.delete(readUint32(data, 4));
          if (result instanceof Error) waiter.reject(result);
          else waiter.resolve(result);
        }
      }
      this.#appliedIndex = entry.index;
    }
    for (const state of ready.readStates) this.#readsAwaitingApply.push(readKey(state));
    this.#releaseReads();
  }

  #releaseReads(): void {
    const pending: { index: number; key: string }[] = [];
    for (const read of this.#readsAwaitingApply) {
      if (read.index > this.#appliedIndex) {
        pending.push(read);
        continue;
      }
      const waiter = this.#reads.get(read.key);
      this.#reads.delete(read.key);
      waiter?.resolve(undefined);
    }
    this.#readsAwaitingApply = pending;
  }

  /**
   * Every `snapshotEntries` applied entries, snapshots the state machine in the background: the state is
   * captured here, between two applies, then encoded a slice at a time on later turns of the event loop,
   * saved, marked in the WAL, and the log compacted behind it, while the Ready loop goes on. One at a time.
   */
  #maybeSnapshot(): void {
    if (this.#snapshotting !== null || this.#appliedIndex < this.#nextSnapshotAt()) return;
    const index = this.#appliedIndex;
    const capture = this.#options.stateMachine.captureSnapshot();
    const confState = this.node.status().confState;
    this.#snapshotting = this.#saveSnapshot(index, confState, capture).finally(() => {
      this.#snapshotting = null;
    });
  }

  /**
   * The applied index at which this member takes its next snapshot. Members take turns rather than all
   * snapshotting at the same index: the i-th of n voters (by ID) snapshots at the indexes k × S + i × S / n
   * (S = snapshotEntries), at least S / 2 after its last snapshot, so that a snapshot's CPU, allocation and
   * disk burst slows one member at a time and the others still make a quorum. (On one machine, three members
   * snapshotting together took the put benchmark's p99 to 65-90 ms for that round.)
   */
  #nextSnapshotAt(): number {
    if (this.#snapshotAt !== null) return this.#snapshotAt;
    const entries = this.#options.snapshotEntries;
    const voters = [...this.node.status().confState.voters].sort((left, right) => left - right);
    // A learner (not among the voters) takes the slot after them.
    const rank = voters.indexOf(this.#options.memberId);
    const slot = rank < 0 ? voters.length : rank;
    const phase = Math.floor((slot * entries) / (rank < 0 ? voters.length + 1 : voters.length));
    const earliest = this.#snapshotIndex + Math.ceil(entries / 2);
    this.#snapshotAt = Math.ceil((earliest - phase) / entries) * entries + phase;
    return this.#snapshotAt;
  }

  async #saveSnapshot(index: number, confState: ConfState, capture: SnapshotCapture): Promise<void> {
    const startedAtMs = this.#options.now();
    const data = await encodeInSlices(capture, () => this.#stopped);
    if (data === null) return;
    const snapshot = this.storage.createSnapshot(index, confState, data);
    await saveSnapshotFile(this.#snapshotDirectory, snapshot, { logger: this.#options.logger });
    await this.#wal.saveSnapshotMarker({ index, term: snapshot.metadata.term });
    this.#options.metrics?.snapshotSaved(this.#options.now() - startedAtMs);
    this.#snapshotIndex = index;
    this.#snapshotAt = null;
    const compactTo = index - this.#options.compactionTailEntries;
    if (compactTo > this.storage.firstIndex()) {
      this.storage.compact(compactTo);
      await this.#wal.releaseTo(compactTo);
    }
    await purgeSnapshotFiles(this.#snapshotDirectory, { logger: this.#options.logger });
  }

  /** Proposals made here and not yet applied (metrics). */
  get pendingProposals(): number {
    return this.#proposals.size;
  }

  get walStatistics(): WalStatistics {
    return this.#wal.statistics;
  }

  get appliedIndex(): number {
    return this.#appliedIndex;
  }
}


/** What a member's WAL records about whose log it is. */
export function walMetadataOf(memberId: NodeId): Uint8Array {
  return new TextEncoder().encode(String(memberId));
}

/**
 * A founding member's start (and a restored one's): the bootstrap snapshot at index 1 holding the voters and
 * `data`, saved as a file, then its WAL marker and the hard state. Returns the storage holding that snapshot.
 */
export async function writeBootstrap(wal: Wal, snapshotDirectory: string, voters: readonly NodeId[], data: Uint8Array, logger: StorageLogger): Promise<MemoryStorage> {
  const storage = new MemoryStorage({ voters });
  const bootstrap = { metadata: storage.snapshot().metadata, data };
  storage.applySnapshot(bootstrap);
  await saveSnapshotFile(snapshotDirectory, bootstrap, { logger });
  await wal.saveSnapshotMarker({ index: bootstrap.metadata.index, term: bootstrap.metadata.term });
  await wal.save(storage.hardState(), []);
  return storage;
}

function writeUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

function readKey(state: ReadState): { index: number; key: string } {
  return { index: state.index, key: contextKey(state.requestContext) };
}
