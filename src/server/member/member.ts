import { ConfChangeTransition, ConfChangeType, type Message, Role } from '../../raft/index.ts';
import { KvStore, type LeaseKeepAliveResponse, type LeaseTimeToLiveRequest, type LeaseTimeToLiveResponse } from '../../kv/index.ts';
import type { StorageLogger } from '../../storage/index.ts';
import { type Cancellation, GrpcError, Status } from '../grpc/index.ts';
import { ClientError, KeelClient } from '../../client/index.ts';
import type {
  HeaderInfo, MemberBackend, MemberInfo, MemberStatus, ReplicatedRequest, ReplicatedResponse,
} from './backend.ts';
import { DriverError, type DriverTransport, RaftDriver, requestIdBytes, encodeInSlices } from './raft-driver.ts';
import { type MemberAnnouncement, MemberRegistry, StoreMachine, memberIdOf } from './store-machine.ts';
import { encodeCommand } from './_command-codec.ts';
import { encodeValue, type PlainValue } from './_value-codec.ts';
import type { MemberMetrics } from '../metrics.ts';
import { IdentityError, type ListedMember, type MemberIdentity, discoverIdentity, readIdentity, writeIdentity } from './identity.ts';
import { encodeMemberListResponse } from '../proto/index.ts';
import { memberToProto } from '../api/_convert.ts';

export const keelVersion = '3.4.23-keel.0.1.0';
/** How often the leader looks for expired leases and due checkpoints. */
const leaseSweepIntervalMs = 500;
/** Bound on lease revocations the leader proposes per sweep (etcd revokes at most 1000/s). */
const leaseRevocationsPerSweepMax = 500;
/** Bound on attempts to publish this member's attributes (one per half election timeout). */
const publishAttemptsMax = 1000;
/** Bound on snapshot chunks (etcd's Maintenance.Snapshot sends 32 KiB chunks). */
export const snapshotChunkBytes = 32 * 1024;

export interface InitialMember {
  readonly name: string;
  readonly peerUrls: readonly string[];
}

export interface MemberOptions {
  readonly name: string;
  readonly dataDirectory: string;
  /** --initial-cluster, parsed. */
  readonly initialCluster: readonly InitialMember[];
  readonly initialClusterToken: string;
  /** 'new' bootstraps the founding members; 'existing' joins a running cluster (added by MemberAdd). */
  readonly initialClusterState: 'new' | 'existing';
  readonly advertiseClientUrls: readonly string[];
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  readonly snapshotCount: number;
  readonly snapshotCatchupEntries: number;
  readonly quotaBackendBytes: number;
  readonly logger: StorageLogger;
  /** Builds the peer transport once the member knows its ID; the transport reports back through `events`. */
  readonly transport: (memberId: number, clusterId: bigint, events: TransportEvents) => MemberTransport;
  /** Where the member and its driver report (src/server/metrics.ts); none when absent. */
  readonly metrics?: MemberMetrics;
}

/** What the peer transport reports to the member. */
export interface TransportEvents {
  receive(message: Message): void;
  unreachable(peer: number): void;
  snapshotStatus(peer: number, ok: boolean): void;
  /** The member list as etcd's MemberListResponse protobuf, answering a joining member's query. */
  memberList(): Uint8Array;
}

export interface MemberTransport extends DriverTransport {
  setPeers(peers: ReadonlyMap<number, readonly string[]>): void;
  close(): Promise<void>;
}

/** Member errors are gRPC errors with etcd's codes and messages, so the API passes them through. */
function memberError(status: Status, message: string): GrpcError {
  return new GrpcError(status, message);
}

/**
 * One keel member: the Raft driver, the MVCC store as its state machine, the replicated membership, and the
 * leader-local lease work. Implements the contract the etcd API layer uses.
 */
export class Member implements MemberBackend {
  readonly store: KvStore;
  readonly id: number;
  /** `id` as the bigint every response header carries. */
  readonly #memberIdBig: bigint;
  readonly clusterId: bigint;
  readonly #members: MemberRegistry;
  readonly #options: MemberOptions;
  #driver!: RaftDriver;
  #transport!: MemberTransport;
  #leaseTimer: NodeJS.Timeout | null = null;
  #wasLeader = false;
  #stopped = false;
  #watchReady: ((watchId: number) => void) | null = null;
  /** A client to the current leader, for forwarding lease renewals. */
  #leaderClient: KeelClient | null = null;

  private constructor(options: MemberOptions, identity: MemberIdentity, listed: readonly ListedMember[] | null) {
    this.#options = options;
    this.store = new KvStore({
      clock: { now: () => performance.now() }, quotaBytes: options.quotaBackendBytes,
      // Requests reach the store decoded from Raft entries, whose bytes nothing changes.
      adoptsRequestBytes: true,
      watch: { onReady: (watchId) => this.#watchReady?.(watchId) },
    });
    this.#members = new MemberRegistry();
    this.id = identity.memberId;
    this.#memberIdBig = BigInt(identity.memberId);
    this.clusterId = identity.clusterId;
    // A joining member seeds the membership the cluster listed; a founding (or restarting) one derives it from
    // --initial-cluster. Either way a snapshot from disk or from the leader replaces it with the truth.
    const seeds = listed ?? options.initialCluster.map((member) => ({
      id: memberIdOf(member.name, member.peerUrls, options.initialClusterToken), name: member.name, peerUrls: member.peerUrls, clientUrls: [],
    }));
    for (const member of seeds) {
      this.#members.seed(member.id, { name: member.name, peerUrls: member.peerUrls, clientUrls: member.id === this.id ? options.advertiseClientUrls : member.clientUrls });
    }
  }

  /**
   * Who this member is (see identity.ts): from its data directory once it has one, from the cluster when it
   * joins one (`existing`), otherwise derived from --initial-cluster as every founding member derives it.
   */
  static async #identity(options: MemberOptions): Promise<{ identity: MemberIdentity; listed: ListedMember[] | null; stored: boolean }> {
    const self = options.initialCluster.find((member) => member.name === options.name);
    if (self === undefined) throw memberError(Status.INVALID_ARGUMENT, `--initial-cluster has no member named ${options.name}`);
    const derived = {
      memberId: memberIdOf(options.name, self.peerUrls, options.initialClusterToken),
      clusterId: clusterIdOf(options.initialCluster, options.initialClusterToken),
    };
    const stored = await readIdentity(options.dataDirectory);
    if (stored !== null) return { identity: stored, listed: null, stored: true };
    // A data directory from before member.json existed belongs to a founding member.
    if (options.initialClusterState === 'new' || await RaftDriver.hasData(options.dataDirectory)) return { identity: derived, listed: null, stored: false };
    const others = options.initialCluster.filter((member) => member.name !== options.name).flatMap((member) => member.peerUrls);
    const { identity, members } = await discoverIdentity(others, self.peerUrls).catch((error: unknown) => {
      throw error instanceof IdentityError ? memberError(Status.FAILED_PRECONDITION, error.message) : error;
    });
    options.logger.info('joining the cluster', { memberId: identity.memberId, clusterId: `0x${identity.clusterId.toString(16)}`, members: members.length });
    return { identity, listed: members, stored: false };
  }

  /** The API layer's watch router, told when a watcher has events (so they leave at once, not on a poll). */
  onWatchReady(listener: (watchId: number) => void): void {
    this.#watchReady = listener;
  }

  static async start(options: MemberOptions): Promise<Member> {
    const { identity, listed, stored } = await Member.#identity(options);
    const member = new Member(options, identity, listed);
    await member.#open();
    if (!stored) await writeIdentity(options.dataDirectory, identity);
    return member;
  }

  /** The member list as etcd's MemberListResponse, for the peer transport's membership query. */
  #memberListBytes(): Uint8Array {
    return encodeMemberListResponse({ header: this.header(), members: this.#members.list().map(memberToProto) });
  }

  async #open(): Promise<void> {
    const options = this.#options;
    this.#transport = options.transport(this.id, this.clusterId, {
      receive: (message) => this.#driver.receive(message),
      unreachable: (peer) => this.#driver.reportUnreachable(peer),
      snapshotStatus: (peer, ok) => this.#driver.reportSnapshot(peer, ok),
      memberList: () => this.#memberListBytes(),
    });
    // The transport exists from here on; until the driver starts, the peer set is refreshed once below.
    const storeMachine = new StoreMachine(this.store, this.#members, () => this.#refreshPeers());
    const machine = options.metrics?.instrumentStateMachine(storeMachine) ?? storeMachine;
    const founding = options.initialClusterState === 'new'
      ? options.initialCluster.map((member) => memberIdOf(member.name, member.peerUrls, options.initialClusterToken))
      : null;
    this.#driver = await RaftDriver.open({
      memberId: this.id, dataDirectory: options.dataDirectory, initialVoters: founding, stateMachine: machine,
      // The bootstrap snapshot holds the founding membership, so a member that joins later learns it.
      bootstrapData: founding === null ? undefined : storeMachine.snapshot(),
      transport: this.#transport, logger: options.logger, tickMs: options.heartbeatIntervalMs,
      electionTicks: Math.max(2, Math.round(options.electionTimeoutMs / options.heartbeatIntervalMs)),
      snapshotEntries: options.snapshotCount, compactionTailEntries: options.snapshotCatchupEntries,
      now: () => performance.now(), random: Math.random, metrics: options.metrics,
    });
    options.metrics?.attach({ memberId: this.id, clusterId: this.clusterId, store: this.store, driver: this.#driver });
    this.#refreshPeers();
    this.#driver.start();
    this.#leaseTimer = setInterval(() => this.#leaseSweep(), leaseSweepIntervalMs);
    void this.#publish();
  }

  /** Publishes this member's name and client URLs through Raft, retrying until a leader takes it. */
  async #publish(): Promise<void> {
    const request = { id: this.id, name: this.#options.name, clientUrls: this.#options.advertiseClientUrls };
    for (let attempt = 0; attempt < publishAttemptsMax && !this.#stopped; attempt++) {
      try {
        await this.#driver.propose(encodeCommand({ kind: 'memberAttributes', request }, requestIdBytes), AbortSignal.timeout(this.#options.electionTimeoutMs * 2));
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, this.#options.electionTimeoutMs / 2));
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#leaseTimer !== null) clearInterval(this.#leaseTimer);
    this.#leaderClient?.close();
    await this.#driver.stop();
    await this.#transport.close();
  }

  /** The peers' URLs come from the replicated membership. */
  #refreshPeers(): void {
    const peers = new Map<number, readonly string[]>();
    for (const member of this.#members.list()) {
      const id = Number(member.id);
      if (id !== this.id) peers.set(id, member.peerUrls);
    }
    this.#transport.setPeers(peers);
  }

  header(): HeaderInfo {
    // Before the driver opens (a membership query can arrive that early) the term is not known yet.
    return { clusterId: this.clusterId, memberId: this.#memberIdBig, revision: this.store.revision, raftTerm: this.#driver?.node.term ?? 0 };
  }

  propose<K extends ReplicatedRequest['kind']>(request: ReplicatedRequest & { kind: K }, signal: Cancellation): Promise<ReplicatedResponse<K>> {
    let pending: Promise<unknown>;
    try {
      pending = this.#driver.propose(encodeCommand(request, requestIdBytes), signal);
    } catch (error) {
      return Promise.reject(this.#proposalFailed(error));
    }
    // A rejection handler made once per member: a write's only promise beyond the driver's own.
    return pending.catch(this.#onProposalFailed) as Promise<ReplicatedResponse<K>>;
  }

  readonly #onProposalFailed = (error: unknown): never => {
    throw this.#proposalFailed(error);
  };

  #proposalFailed(error: unknown): Error {
    if (error instanceof DriverError) this.#options.metrics?.proposalFailed();
    return translate(error);
  }

  async readBarrier(signal: Cancellation): Promise<void> {
    try {
      await this.#driver.readBarrier(signal);
    } catch (error) {
      throw translate(error);
    }
  }

  /**
   * Renews a lease on the leader, where lease expiry is driven. A follower forwards the renewal to the
   * leader's client URL (as etcd does), so clients may keep leases alive through any member.
   */
  async leaseKeepAlive(id: number, signal: AbortSignal): Promise<LeaseKeepAliveResponse> {
    const raft = this.#driver.node.status();
    if (raft.role !== Role.Leader) return this.#forwardKeepAlive(id, raft.lead, signal);
    const response = this.store.leaseKeepAlive({ id });
    if (response.checkpointClearRequired) {
      // A checkpointed remainder must not outlive the renewal: a new leader would restore it (etcd's Renew).
      await this.#driver.propose(encodeCommand({ kind: 'leaseCheckpoint', request: { checkpoints: [{ id, remainingTtl: 0 }] } }, requestIdBytes), signal)
        .catch((error: unknown) => this.#options.logger.warn('lease checkpoint after renewal failed', { lease: id, error: String(error) }));
    }
    return response;
  }

  async #forwardKeepAlive(id: number, leader: number, signal: AbortSignal): Promise<LeaseKeepAliveResponse> {
    const clientUrls = await this.#leaderClientUrls(leader, signal);
    if (clientUrls.length === 0) throw memberError(Status.UNAVAILABLE, 'etcdserver: no leader');
    const endpoints = clientUrls.map((url) => new URL(url).host);
    if (this.#leaderClient === null || this.#leaderClient.endpoints.join(',') !== endpoints.join(',')) {
      this.#leaderClient?.close();
      this.#leaderClient = new KeelClient({ endpoints, callTimeoutMs: this.#options.electionTimeoutMs * 2 });
    }
    try {
      const response = await this.#leaderClient.leaseKeepAliveOnce(BigInt(id));
      return { header: { revision: response.header?.revision ?? this.store.revision }, id, ttl: response.TTL, checkpointClearRequired: false };
    } catch (error) {
      if (error instanceof ClientError) throw memberError(error.status, error.message);
      throw error;
    }
  }

  async leaseTimeToLive(request: LeaseTimeToLiveRequest, signal: AbortSignal): Promise<LeaseTimeToLiveResponse> {
    await this.readBarrier(signal);
    return this.store.leaseTimeToLive(request);
  }

  /**
   * The leader's client URLs, from the replicated membership. A leader that just started may not have had
   * its publish entry applied here yet: wait for it, within an election timeout.
   */
  async #leaderClientUrls(leader: number, signal: AbortSignal): Promise<readonly string[]> {
    const deadline = performance.now() + this.#options.electionTimeoutMs;
    while (leader !== 0) {
      const urls = this.#members.get(leader)?.clientUrls ?? [];
      if (urls.length > 0 || signal.aborted || performance.now() > deadline) return urls;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return [];
  }

  members(): readonly MemberInfo[] {
    return this.#members.list();
  }

  async addMember(peerUrls: readonly string[], isLearner: boolean, signal: AbortSignal): Promise<MemberInfo> {
    const name = '';
    const id = memberIdOf(`${name}${performance.now()}`, peerUrls, this.#options.initialClusterToken);
    const announcement: MemberAnnouncement = { name, peerUrls, clientUrls: [] };
    await this.#changeMembership(isLearner ? ConfChangeType.AddLearner : ConfChangeType.AddNode, id, announcement, signal);
    return { id: BigInt(id), name, peerUrls, clientUrls: [], isLearner };
  }

  async removeMember(id: bigint, signal: AbortSignal): Promise<void> {
    if (!this.#members.list().some((member) => member.id === id)) throw memberError(Status.NOT_FOUND, 'etcdserver: member not found');
    await this.#changeMembership(ConfChangeType.RemoveNode, Number(id), null, signal);
  }

  async updateMember(id: bigint, peerUrls: readonly string[], signal: AbortSignal): Promise<void> {
    const existing = this.#members.get(Number(id));
    if (existing === undefined) throw memberError(Status.NOT_FOUND, 'etcdserver: member not found');
    const isLearner = this.#members.list().find((member) => member.id === id)?.isLearner ?? false;
    await this.#changeMembership(isLearner ? ConfChangeType.AddLearner : ConfChangeType.AddNode, Number(id), { ...existing, peerUrls }, signal);
  }

  async promoteMember(id: bigint, signal: AbortSignal): Promise<void> {
    const member = this.#members.list().find((candidate) => candidate.id === id);
    if (member === undefined) throw memberError(Status.NOT_FOUND, 'etcdserver: member not found');
    if (!member.isLearner) throw memberError(Status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member');
    await this.#changeMembership(ConfChangeType.AddNode, Number(id), null, signal);
  }

  async #changeMembership(type: ConfChangeType, id: number, announcement: MemberAnnouncement | null, signal: AbortSignal): Promise<void> {
    const context = announcement === null ? new Uint8Array(0) : encodeValue(announcement as unknown as PlainValue);
    const accepted = this.#driver.proposeConfChange({ transition: ConfChangeTransition.Auto, changes: [{ type, nodeId: id }], context });
    if (!accepted) throw memberError(Status.FAILED_PRECONDITION, 'etcdserver: unhealthy cluster');
    const applied = () => {
      const present = this.#members.list().find((member) => Number(member.id) === id);
      if (type === ConfChangeType.RemoveNode) return present === undefined;
      return present !== undefined && present.isLearner === (type === ConfChangeType.AddLearner);
    };
    while (!applied()) {
      if (signal.aborted) throw memberError(Status.UNAVAILABLE, 'etcdserver: request timed out');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.#refreshPeers();
  }

  status(): MemberStatus {
    const raft = this.#driver.node.status();
    return {
      version: keelVersion, dbSizeBytes: this.store.sizeBytesEstimate, dbSizeInUseBytes: this.store.sizeBytesEstimate,
      leader: BigInt(raft.lead), raftIndex: raft.commit, raftTerm: raft.term, raftAppliedIndex: this.#driver.appliedIndex,
      isLearner: raft.confState.learners.includes(this.id), errors: [],
    };
  }

  async moveLeader(target: bigint, signal: AbortSignal): Promise<void> {
    if (this.#driver.node.role !== Role.Leader) throw memberError(Status.FAILED_PRECONDITION, 'etcdserver: not leader');
    this.#driver.transferLeader(Number(target));
    while (this.#driver.node.lead !== Number(target)) {
      if (signal.aborted) throw memberError(Status.UNAVAILABLE, 'etcdserver: request timed out');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async *snapshot(signal: AbortSignal): AsyncIterable<Uint8Array> {
    await this.readBarrier(signal);
    // Captured at the read barrier, encoded a slice per turn so that a big store does not stall the member.
    const bytes = await encodeInSlices(this.store.captureSnapshot(), () => signal.aborted);
    if (bytes === null) return;
    for (let offset = 0; offset < bytes.length; offset += snapshotChunkBytes) {
      if (signal.aborted) return;
      yield bytes.subarray(offset, Math.min(bytes.length, offset + snapshotChunkBytes));
    }
  }

  raftStatus() {
    return this.#driver.node.status();
  }

  /** Leader-local: revoke expired leases and checkpoint remaining TTLs, as proposals. */
  #leaseSweep(): void {
    const isLeader = this.#driver.node.role === Role.Leader;
    if (isLeader !== this.#wasLeader) {
      if (isLeader) this.store.promote();
      else this.store.demote();
      this.#wasLeader = isLeader;
    }
    if (!isLeader) return;
    const signal = AbortSignal.timeout(this.#options.electionTimeoutMs * 5);
    for (const id of this.store.expiredLeases(leaseRevocationsPerSweepMax)) {
      this.propose({ kind: 'leaseRevoke', request: { id } }, signal).then(() => this.#options.metrics?.leaseExpired(), () => undefined);
    }
    const checkpoints = this.store.leaseCheckpointsDue(leaseRevocationsPerSweepMax);
    if (checkpoints.length > 0) {
      this.#driver.propose(encodeCommand({ kind: 'leaseCheckpoint', request: { checkpoints } }, requestIdBytes), signal).catch(() => undefined);
    }
  }
}

export function clusterIdOf(members: readonly InitialMember[], token: string): bigint {
  const ids = members.map((member) => memberIdOf(member.name, member.peerUrls, token)).sort((a, b) => a - b);
  return BigInt(memberIdOf(ids.join(','), [], token));
}

/** Driver errors become etcd's gRPC codes and messages. */
function translate(error: unknown): Error {
  if (error instanceof DriverError) {
    // ResourceExhausted for overload; Unavailable for timeouts, no leader and a leader change (clients retry).
    return memberError(error.code === 'DRIVER_TOO_MANY_REQUESTS' ? Status.RESOURCE_EXHAUSTED : Status.UNAVAILABLE, error.message);
  }
  return error instanceof Error ? error : new Error(String(error));
}
