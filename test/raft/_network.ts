/**
 * An in-memory cluster for the Raft core's tests: N RaftNodes, each with a MemoryStorage as its "disk", a
 * message queue the test controls (drop, isolate, hold, deliver selectively), and a driver that processes
 * every Ready exactly as the contract in types.ts says:
 *   1. send `messages` (into the queue);
 *   2. persist snapshot, entries and hard state to the member's MemoryStorage;
 *   3. send `messagesAfterPersist` (self-addressed ones are stepped straight back);
 *   4. apply `committedEntries` (ConfChange entries → decodeConfChange + applyConfChange), record readStates;
 *   5. advance.
 * Like etcd's transport, it reports every snapshot it hands over as finished and every one it loses as
 * failed (RaftNode.reportSnapshot); it reports nothing else (tests call reportUnreachable themselves).
 * The driver also checks, on every Ready, what must hold whatever the test does: entries are applied in
 * order, no two members apply different entries at one index (state machine safety), persisted terms and
 * commit indexes never go back, and `messages` are never addressed to the sender or to nobody.
 */
import assert from 'node:assert/strict';
import {
  type ConfChange, ConfChangeTransition, ConfChangeType, type ConfState, type ConfigInput, type Entry, EntryType,
  MemoryStorage, type Message, MessageType, type NodeId, None, RaftNode, type Random, type ReadState, type Ready,
  Role, type Snapshot, type Status, decodeConfChange, describeMessage,
} from '../../src/raft/index.ts';

export type NodeOptions = Partial<Omit<ConfigInput, 'id' | 'storage' | 'random'>>;

/** Bound on stabilize() rounds: a cluster that still has work after this many is livelocked. */
const stabilizeRoundsMax = 10_000;
/** Bound on Ready batches one member may produce in one stabilize() round. */
const readiesPerRoundMax = 100;

// ---- randomness ---------------------------------------------------------------------------------------

/** mulberry32: a tiny seeded PRNG, so every test replays exactly. */
export class SeededRandom implements Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  nextUint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  nextInt(bound: number): number {
    assert.ok(Number.isInteger(bound) && bound >= 1, `nextInt bound must be a positive integer, got ${bound}`);
    return this.nextUint32() % bound;
  }
}

/** Always draws `offset` (clamped into range): election timeouts become exactly electionTicks + offset. */
export class FixedRandom implements Random {
  readonly bounds: number[] = [];
  constructor(readonly offset: number) {}

  nextInt(bound: number): number {
    this.bounds.push(bound);
    return Math.min(this.offset, bound - 1);
  }
}

// ---- payloads -----------------------------------------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function text(data: Uint8Array): string {
  return decoder.decode(data);
}

function encodeValues(values: readonly string[]): Uint8Array {
  return bytes(JSON.stringify(values));
}

function decodeValues(data: Uint8Array): string[] {
  if (data.length === 0) return [];
  const parsed: unknown = JSON.parse(text(data));
  assert.ok(Array.isArray(parsed), 'snapshot data must be a JSON array');
  return parsed.map((value) => String(value));
}

// ---- conf change builders -----------------------------------------------------------------------------

export function confChange(transition: ConfChangeTransition, ...changes: [ConfChangeType, NodeId][]): ConfChange {
  return { transition, changes: changes.map(([type, nodeId]) => ({ type, nodeId })), context: new Uint8Array(0) };
}

export const addNode = (id: NodeId): ConfChange => confChange(ConfChangeTransition.Auto, [ConfChangeType.AddNode, id]);
export const removeNode = (id: NodeId): ConfChange => confChange(ConfChangeTransition.Auto, [ConfChangeType.RemoveNode, id]);
export const addLearner = (id: NodeId): ConfChange => confChange(ConfChangeTransition.Auto, [ConfChangeType.AddLearner, id]);
export const leaveJoint: ConfChange = confChange(ConfChangeTransition.Auto);

// ---- members ------------------------------------------------------------------------------------------

export class Member {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly options: NodeOptions;
  readonly random: Random;
  node: RaftNode;
  alive = true;
  /** The state machine: the data of applied non-empty Normal entries, in log order. */
  values: string[] = [];
  /** The index of the last entry (or snapshot) applied to `values`. */
  appliedIndex: number;
  readonly readStates: ReadState[] = [];
  /** Every configuration this member switched to, from applied conf changes and installed snapshots. */
  readonly confStates: ConfState[] = [];
  /** How many committed entries each Ready handed out (for the per-Ready bound). */
  readonly committedPerReady: number[] = [];
  /** Every Ready this member produced, in order. */
  readonly readies: Ready[] = [];

  constructor(id: NodeId, storage: MemoryStorage, random: Random, options: NodeOptions) {
    this.id = id;
    this.storage = storage;
    this.random = random;
    this.options = options;
    this.node = new RaftNode({ ...options, id, storage, random });
    this.appliedIndex = storage.snapshot().metadata.index;
    this.values = decodeValues(storage.snapshot().data);
  }

  status(): Status {
    return this.node.status();
  }
}

export interface NetworkOptions {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /** Config shared by every member (merged under `configFor`). */
  readonly config?: NodeOptions;
  readonly configFor?: (id: NodeId) => NodeOptions;
  /** Each member's Random; by default a SeededRandom derived from `seed` and the member's ID. */
  readonly randomFor?: (id: NodeId) => Random;
  readonly seed?: number;
}

type MessageRule = (m: Message) => boolean;

/** A Ready being processed step by step, for tests that look between the steps of the contract. */
export class ReadyInProgress {
  #persisted = false;
  #afterPersistSent = false;
  #finished = false;

  constructor(readonly network: Network, readonly member: Member, readonly ready: Ready) {}

  /** Step 2: write snapshot, entries and hard state to the member's storage. */
  persist(): this {
    assert.ok(!this.#persisted, 'persist() twice');
    this.network.persist(this.member, this.ready);
    this.#persisted = true;
    return this;
  }

  /** Step 3: send messagesAfterPersist; self-addressed ones go straight back into the node. */
  sendAfterPersist(): this {
    assert.ok(this.#persisted, 'messagesAfterPersist may only leave after persist()');
    assert.ok(!this.#afterPersistSent, 'sendAfterPersist() twice');
    this.network.sendAfterPersist(this.member, this.ready);
    this.#afterPersistSent = true;
    return this;
  }

  /** Steps 4 and 5: apply committed entries, record read states, advance. */
  finish(): void {
    assert.ok(!this.#finished, 'finish() twice');
    if (!this.#persisted) this.persist();
    if (!this.#afterPersistSent) this.sendAfterPersist();
    this.network.apply(this.member, this.ready);
    this.member.node.advance(this.ready);
    this.#finished = true;
  }
}

export class Network {
  readonly members = new Map<NodeId, Member>();
  /** Messages in flight, in send order. */
  queue: Message[] = [];
  /** Every message stepped into a recipient, in order. */
  readonly delivered: Message[] = [];
  /** Every message lost to a partition, a drop rule or a dead recipient. */
  readonly dropped: Message[] = [];
  readonly #options: NetworkOptions;
  readonly #isolated = new Set<NodeId>();
  #dropRules: MessageRule[] = [];
  #holdRules: MessageRule[] = [];
  /** State machine safety: what was applied at each index, by any member. */
  readonly #appliedAt = new Map<number, string>();

  constructor(options: NetworkOptions) {
    this.#options = options;
    const learners = options.learners ?? [];
    for (const id of [...options.voters, ...learners]) {
      const storage = new MemoryStorage({ voters: options.voters, learners });
      this.#addMember(id, storage);
    }
  }

  #optionsFor(id: NodeId, overrides: NodeOptions = {}): NodeOptions {
    return { ...this.#options.config, ...this.#options.configFor?.(id), ...overrides };
  }

  #randomFor(id: NodeId): Random {
    return this.#options.randomFor?.(id) ?? new SeededRandom((this.#options.seed ?? 1) * 7919 + id);
  }

  #addMember(id: NodeId, storage: MemoryStorage, overrides: NodeOptions = {}): Member {
    assert.ok(!this.members.has(id), `member ${id} exists`);
    const member = new Member(id, storage, this.#randomFor(id), this.#optionsFor(id, overrides));
    this.members.set(id, member);
    return member;
  }

  /** A member that joins later: empty storage; the leader sends it a snapshot once it is in the config. */
  addMember(id: NodeId, overrides: NodeOptions = {}): Member {
    return this.#addMember(id, new MemoryStorage(), overrides);
  }

  member(id: NodeId): Member {
    const member = this.members.get(id);
    assert.ok(member !== undefined, `no member ${id}`);
    return member;
  }

  node(id: NodeId): RaftNode {
    return this.member(id).node;
  }

  status(id: NodeId): Status {
    return this.node(id).status();
  }

  aliveIds(): NodeId[] {
    return [...this.members.values()].filter((member) => member.alive).map((member) => member.id);
  }

  /** The live leader of the highest term, if any. */
  leader(): NodeId | undefined {
    let best: Status | undefined;
    for (const id of this.aliveIds()) {
      const status = this.status(id);
      if (status.role === Role.Leader && (best === undefined || status.term > best.term)) best = status;
    }
    return best?.id;
  }

  // ---- faults ---------------------------------------------------------------------------------------

  /** Drops every message to or from `id` (at delivery time, so messages already queued are lost too). */
  isolate(id: NodeId): void {
    this.#isolated.add(id);
  }

  /** Removes isolation and every drop rule (held messages stay held). */
  heal(): void {
    this.#isolated.clear();
    this.#dropRules = [];
  }

  /** Drops the messages matching `rule` until `heal()` or the returned function is called. */
  dropIf(rule: MessageRule): () => void {
    this.#dropRules.push(rule);
    return () => {
      this.#dropRules = this.#dropRules.filter((r) => r !== rule);
    };
  }

  /** Keeps the messages matching `rule` in the queue (undelivered, not lost) until released. */
  holdIf(rule: MessageRule): () => void {
    this.#holdRules.push(rule);
    return () => {
      this.#holdRules = this.#holdRules.filter((r) => r !== rule);
    };
  }

  /** Stops a member: it loses everything not in its storage, and messages to it are dropped. */
  crash(id: NodeId): void {
    this.member(id).alive = false;
  }

  /** Rebuilds a crashed member's RaftNode from its storage; its state machine restarts from the snapshot. */
  restart(id: NodeId, overrides: NodeOptions = {}): Member {
    const old = this.member(id);
    assert.equal(old.storage.firstIndex() - 1, old.storage.snapshot().metadata.index, 'harness compacts only to the snapshot index');
    this.members.delete(id);
    const member = new Member(id, old.storage, old.random, { ...old.options, ...overrides });
    this.members.set(id, member);
    return member;
  }

  #isDropped(m: Message): boolean {
    if (this.#isolated.has(m.from) || this.#isolated.has(m.to)) return true;
    return this.#dropRules.some((rule) => rule(m));
  }

  #isHeld(m: Message): boolean {
    return this.#holdRules.some((rule) => rule(m));
  }

  // ---- the driver -----------------------------------------------------------------------------------

  send(m: Message): void {
    assert.notEqual(m.to, None, `message to nobody: ${describeMessage(m)}`);
    this.queue.push(m);
  }

  persist(member: Member, ready: Ready): void {
    const storage = member.storage;
    if (ready.snapshot !== null) storage.applySnapshot(ready.snapshot);
    if (ready.entries.length > 0) storage.append(ready.entries);
    if (ready.hardState !== null) {
      const before = storage.hardState();
      assert.ok(ready.hardState.term >= before.term, `member ${member.id}: persisted term went back ${before.term} → ${ready.hardState.term}`);
      assert.ok(ready.hardState.commit >= before.commit, `member ${member.id}: persisted commit went back ${before.commit} → ${ready.hardState.commit}`);
      storage.setHardState(ready.hardState);
    }
  }

  sendAfterPersist(member: Member, ready: Ready): void {
    for (const m of ready.messagesAfterPersist) {
      if (m.to === member.id) member.node.step(m);
      else this.send(m);
    }
  }

  apply(member: Member, ready: Ready): void {
    if (ready.snapshot !== null) {
      member.values = decodeValues(ready.snapshot.data);
      member.appliedIndex = ready.snapshot.metadata.index;
      member.confStates.push(ready.snapshot.metadata.confState);
    }
    for (const entry of ready.committedEntries) {
      assert.equal(entry.index, member.appliedIndex + 1, `member ${member.id} applies out of order`);
      this.#checkSafety(member.id, entry);
      if (entry.type === EntryType.ConfChange) {
        member.confStates.push(member.node.applyConfChange(decodeConfChange(entry.data)));
      } else if (entry.data.length > 0) {
        member.values.push(text(entry.data));
      }
      member.appliedIndex = entry.index;
    }
    member.committedPerReady.push(ready.committedEntries.length);
    member.readStates.push(...ready.readStates);
  }

  #checkSafety(id: NodeId, entry: Entry): void {
    const key = `${entry.term}/${entry.type}/${text(entry.data)}`;
    const previous = this.#appliedAt.get(entry.index);
    if (previous === undefined) this.#appliedAt.set(entry.index, key);
    else assert.equal(key, previous, `state machine safety: member ${id} applied ${key} at index ${entry.index}, another applied ${previous}`);
  }

  /** Step 1 of the contract, then hands the Ready over for the test to finish step by step. */
  beginReady(id: NodeId): ReadyInProgress {
    const member = this.member(id);
    assert.ok(member.alive, `member ${id} is down`);
    const ready = member.node.ready();
    member.readies.push(ready);
    for (const m of ready.messages) {
      assert.notEqual(m.to, id, `Ready.messages holds a self-addressed message: ${describeMessage(m)}`);
      this.send(m);
    }
    return new ReadyInProgress(this, member, ready);
  }

  /** Processes one whole Ready of `id`; false if it had none. */
  processReady(id: NodeId): boolean {
    const member = this.member(id);
    if (!member.alive || !member.node.hasReady()) return false;
    this.beginReady(id).finish();
    return true;
  }

  /** Steps every queued message that matches `filter` (and is not held); returns how many arrived. */
  deliver(filter: MessageRule = () => true): number {
    const batch = this.queue;
    this.queue = [];
    let count = 0;
    for (const m of batch) {
      if (!filter(m) || this.#isHeld(m)) {
        this.queue.push(m);
        continue;
      }
      const target = this.members.get(m.to);
      if (target === undefined || !target.alive || this.#isDropped(m)) {
        this.dropped.push(m);
        // The transport reports a failed snapshot send (etcd's ReportSnapshot with SnapshotFailure).
        const sender = this.members.get(m.from);
        if (m.type === MessageType.Snap && sender !== undefined && sender.alive) sender.node.reportSnapshot(m.to, false);
        continue;
      }
      target.node.step(m);
      this.delivered.push(m);
      count++;
      // Once a snapshot has been handed over, the transport reports it finished (etcd's SnapshotFinish).
      const sender = this.members.get(m.from);
      if (m.type === MessageType.Snap && sender !== undefined && sender.alive) sender.node.reportSnapshot(m.to, true);
    }
    return count;
  }

  /** Processes Readies and delivers messages until there is nothing left to do. */
  stabilize(): void {
    assert.ok(this.run(stabilizeRoundsMax), 'the cluster did not stabilize');
  }

  /** Up to `rounds` rounds of: process every Ready, deliver every message. Returns whether it went quiet. */
  run(rounds: number): boolean {
    for (let round = 0; round < rounds; round++) {
      let busy = false;
      for (const id of this.aliveIds()) {
        let readies = 0;
        while (this.processReady(id)) {
          busy = true;
          readies++;
          assert.ok(readies < readiesPerRoundMax, `member ${id} keeps producing Readies`);
        }
      }
      if (this.deliver() > 0) busy = true;
      if (!busy) return true;
    }
    return false;
  }

  /** Steps a message straight into its recipient (bypassing the queue and the fault rules). */
  inject(m: Message): void {
    this.member(m.to).node.step(m);
  }

  /** Removes and returns the queued messages that match `filter`. */
  take(filter: MessageRule = () => true): Message[] {
    const taken = this.queue.filter(filter);
    this.queue = this.queue.filter((m) => !filter(m));
    return taken;
  }

  // ---- time and elections ---------------------------------------------------------------------------

  /** Ticks one member `times` times, without processing anything. */
  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).tick();
  }

  /** `times` rounds of: tick every live member once (or those in `ids`), then stabilize. */
  tickAll(times = 1, ids?: readonly NodeId[]): void {
    for (let i = 0; i < times; i++) {
      for (const id of ids ?? this.aliveIds()) if (this.member(id).alive) this.node(id).tick();
      this.stabilize();
    }
  }

  /**
   * Ticks only `id` until it starts a campaign (its randomized timeout), then stabilizes. Works when no
   * other voter protects a leader's lease (fresh cluster, or check-quorum off).
   */
  campaign(id: NodeId): Status {
    const electionTicks = this.member(id).options.electionTicks ?? 10;
    const roleBefore = this.status(id).role;
    for (let i = 0; i < 2 * electionTicks + 1; i++) {
      this.node(id).tick();
      if (!this.node(id).hasReady()) continue;
      const queued = this.queue.length;
      this.processReady(id);
      const requests = this.queue.slice(queued).filter((m) => m.type === MessageType.Vote || m.type === MessageType.PreVote);
      if (requests.length > 0 || this.status(id).role !== roleBefore) {
        this.stabilize();
        return this.status(id);
      }
    }
    assert.fail(`member ${id} did not campaign within ${2 * electionTicks + 1} ticks`);
  }

  /** Campaigns `id` until it leads (bounded). */
  elect(id: NodeId): Status {
    for (let attempt = 0; attempt < 10; attempt++) {
      if (this.status(id).role === Role.Leader) return this.status(id);
      this.campaign(id);
    }
    assert.equal(this.status(id).role, Role.Leader, `member ${id} did not become leader`);
    return this.status(id);
  }

  /** Ticks everyone until some member leads; returns it. */
  waitForLeader(roundsMax = 200): NodeId {
    for (let round = 0; round < roundsMax; round++) {
      const leader = this.leader();
      if (leader !== undefined) return leader;
      this.tickAll();
    }
    assert.fail('no leader was elected');
  }

  // ---- convenience ----------------------------------------------------------------------------------

  propose(id: NodeId, value: string): boolean {
    return this.node(id).propose(bytes(value));
  }

  /** Takes a snapshot of `id`'s state machine at its applied index and compacts its log up to there. */
  compact(id: NodeId): Snapshot {
    const member = this.member(id);
    const snapshot = member.storage.createSnapshot(member.appliedIndex, member.status().confState, encodeValues(member.values));
    member.storage.compact(member.appliedIndex);
    return snapshot;
  }

  /** The member's durable log plus what it holds in memory, as (index, term) pairs from its storage. */
  logTerms(id: NodeId): string {
    return this.member(id).storage.allEntries().map((entry) => `${entry.index}@${entry.term}`).join(' ');
  }

  describeQueue(): string {
    return this.queue.map(describeMessage).join('\n');
  }
}

/** Entries as a compact "index@term" list, for assertion messages. */
export function describeEntries(entries: readonly Entry[]): string {
  return entries.map((entry) => `${entry.index}@${entry.term}`).join(' ');
}

/** Shorthand for the type-filtered messages of a list. */
export function ofType(messages: readonly Message[], type: MessageType, filter: MessageRule = () => true): Message[] {
  return messages.filter((m) => m.type === type && filter(m));
}
