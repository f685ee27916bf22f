/**
 * KeelClient: a typed etcd v3 client on node:http2. One HTTP/2 session per endpoint (opened on first use,
 * reopened after a failure); reads go round-robin, writes stay on the last endpoint that worked, and a call
 * that finds its member unavailable moves on to the next endpoint, a bounded number of times with backoff,
 * within one deadline for the whole call.
 */
import http2 from 'node:http2';
import {
  AlarmRequestAlarmAction, AlarmType, ClusterService, CompareResult, CompareTarget, KVService, LeaseService,
  MaintenanceService, RangeRequestSortOrder, RangeRequestSortTarget, WatchService,
  type AlarmMember, type AlarmResponse, type CompactionResponse, type CompareInit, type DeleteRangeRequestInit,
  type DeleteRangeResponse, type LeaseGrantResponse, type LeaseKeepAliveResponse, type LeaseLeasesResponse,
  type LeaseRevokeResponse, type LeaseTimeToLiveResponse, type MemberAddResponse, type MemberListResponse,
  type MemberPromoteResponse, type MemberRemoveResponse, type MethodDefinition, type MethodKind, type PutRequestInit,
  type PutResponse, type RangeRequestInit, type RangeResponse, type RequestOpInit, type StatusResponse, type TxnResponse,
} from '../server/proto/index.ts';
import { Status } from '../server/grpc/index.ts';
import { Call, unaryOn } from './_call.ts';
import { type Bytes, rangeEndFor, toBytes } from './_bytes.ts';
import { ClientError } from './errors.ts';
import { Watcher, type WatchCall, type WatchOptions } from './watch.ts';

/** Endpoints one client may know. */
export const endpointsMax = 64;
/** Attempts per call, across endpoints (the first try included). */
export const attemptsMax = 8;
export const backoffMsBase = 25;
export const backoffMsMax = 1000;
export const callTimeoutMsDefault = 5000;
/** Largest request the client sends: etcd's 1.5 MiB request limit plus gRPC overhead. */
export const requestBytesMax = 2 * 1024 * 1024;
/** Largest response message accepted (a big Range or a snapshot chunk). */
export const responseBytesMax = 64 * 1024 * 1024;
/** Responses buffered per streaming call before the stream is paused. */
export const streamQueueMessagesMax = 64;
export const snapshotTimeoutMsDefault = 10 * 60 * 1000;

const notLeaderMessage = 'etcdserver: not leader';
/** Messages of UNAVAILABLE errors that mean the request was not applied, so even a write may be retried. */
const notAppliedMessages = new Set(['etcdserver: no leader', 'etcdserver: leader changed', 'grpc: the server is shutting down', 'etcdserver: not capable']);

export interface ClientOptions {
  /** host:port of each member. */
  readonly endpoints: readonly string[];
  /** Deadline of each call, retries included. */
  readonly callTimeoutMs?: number;
}

export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value';
export type SortOrder = 'none' | 'ascend' | 'descend';

export interface GetOptions {
  readonly prefix?: boolean;
  readonly fromKey?: boolean;
  readonly rangeEnd?: Bytes;
  readonly limit?: number;
  readonly revision?: number;
  readonly sort?: { readonly target?: SortTarget; readonly order?: SortOrder };
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  /** Served by the member asked, without a quorum round: possibly stale. */
  readonly serializable?: boolean;
}

export interface PutOptions {
  readonly lease?: bigint;
  readonly prevKv?: boolean;
  readonly ignoreValue?: boolean;
  readonly ignoreLease?: boolean;
}

export interface DeleteOptions {
  readonly prefix?: boolean;
  readonly fromKey?: boolean;
  readonly rangeEnd?: Bytes;
  readonly prevKv?: boolean;
}

export type CompareOperator = '=' | '!=' | '>' | '<';

/** One guard of a transaction: `target(key) operator operand`. */
export type TxnCompare =
  | { readonly key: Bytes; readonly target: 'value'; readonly operator: CompareOperator; readonly operand: Bytes; readonly rangeEnd?: Bytes }
  | { readonly key: Bytes; readonly target: 'version' | 'create' | 'mod'; readonly operator: CompareOperator; readonly operand: number; readonly rangeEnd?: Bytes }
  | { readonly key: Bytes; readonly target: 'lease'; readonly operator: CompareOperator; readonly operand: bigint; readonly rangeEnd?: Bytes };

export type TxnOp =
  | { readonly type: 'get'; readonly key: Bytes; readonly options?: GetOptions }
  | { readonly type: 'put'; readonly key: Bytes; readonly value: Bytes; readonly options?: PutOptions }
  | { readonly type: 'delete'; readonly key: Bytes; readonly options?: DeleteOptions };

export interface TxnSpec {
  readonly compare?: readonly TxnCompare[];
  readonly success?: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

type AnyMethod<Request, Response, RequestInit> = MethodDefinition<Request, Response, RequestInit, unknown, MethodKind>;

const sortTargets: Record<SortTarget, RangeRequestSortTarget> = {
  key: RangeRequestSortTarget.KEY, version: RangeRequestSortTarget.VERSION, create: RangeRequestSortTarget.CREATE,
  mod: RangeRequestSortTarget.MOD, value: RangeRequestSortTarget.VALUE,
};
const sortOrders: Record<SortOrder, RangeRequestSortOrder> = { none: RangeRequestSortOrder.NONE, ascend: RangeRequestSortOrder.ASCEND, descend: RangeRequestSortOrder.DESCEND };
const compareResults: Record<CompareOperator, CompareResult> = { '=': CompareResult.EQUAL, '!=': CompareResult.NOT_EQUAL, '>': CompareResult.GREATER, '<': CompareResult.LESS };

/** Builds a RangeRequest from a key and options. */
export function rangeRequest(key: Bytes, options: GetOptions = {}): RangeRequestInit {
  const keyBytes = toBytes(key);
  if (options.limit !== undefined && (!Number.isSafeInteger(options.limit) || options.limit < 0)) throw new RangeError('limit must be a non-negative integer');
  return {
    key: keyBytes, rangeEnd: rangeEndFor(keyBytes, options), limit: options.limit, revision: options.revision,
    sortTarget: options.sort?.target === undefined ? undefined : sortTargets[options.sort.target],
    sortOrder: options.sort?.order === undefined ? undefined : sortOrders[options.sort.order],
    keysOnly: options.keysOnly, countOnly: options.countOnly, serializable: options.serializable,
  };
}

export function putRequest(key: Bytes, value: Bytes, options: PutOptions = {}): PutRequestInit {
  return { key: toBytes(key), value: toBytes(value), lease: options.lease, prevKv: options.prevKv, ignoreValue: options.ignoreValue, ignoreLease: options.ignoreLease };
}

export function deleteRequest(key: Bytes, options: DeleteOptions = {}): DeleteRangeRequestInit {
  const keyBytes = toBytes(key);
  return { key: keyBytes, rangeEnd: rangeEndFor(keyBytes, options), prevKv: options.prevKv };
}

function compareInit(compare: TxnCompare): CompareInit {
  const base = { key: toBytes(compare.key), result: compareResults[compare.operator], rangeEnd: compare.rangeEnd === undefined ? undefined : toBytes(compare.rangeEnd) };
  switch (compare.target) {
    case 'value': return { ...base, target: CompareTarget.VALUE, targetUnion: { case: 'value', value: toBytes(compare.operand) } };
    case 'version': return { ...base, target: CompareTarget.VERSION, targetUnion: { case: 'version', value: compare.operand } };
    case 'create': return { ...base, target: CompareTarget.CREATE, targetUnion: { case: 'createRevision', value: compare.operand } };
    case 'mod': return { ...base, target: CompareTarget.MOD, targetUnion: { case: 'modRevision', value: compare.operand } };
    case 'lease': return { ...base, target: CompareTarget.LEASE, targetUnion: { case: 'lease', value: compare.operand } };
  }
}

function opInit(op: TxnOp): RequestOpInit {
  switch (op.type) {
    case 'get': return { request: { case: 'requestRange', value: rangeRequest(op.key, op.options) } };
    case 'put': return { request: { case: 'requestPut', value: putRequest(op.key, op.value, op.options) } };
    case 'delete': return { request: { case: 'requestDeleteRange', value: deleteRequest(op.key, op.options) } };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * @example
 * const client = new KeelClient({ endpoints: ['127.0.0.1:2379'] });
 * await client.put('greeting', 'hello');
 * const { kvs } = await client.get('greeting');
 * client.close();
 */
export class KeelClient {
  readonly endpoints: readonly string[];
  readonly callTimeoutMs: number;
  readonly #sessions = new Map<string, http2.ClientHttp2Session>();
  readonly #watchers = new Set<Watcher>();
  /** Round-robin cursor for reads. */
  #readCursor = 0;
  /** Index of the endpoint writes go to; moves on after a failure. */
  #writeIndex = 0;
  #closed = false;

  constructor(options: ClientOptions) {
    const endpoints = options.endpoints.map((endpoint) => endpoint.trim().replace(/^https?:\/\//, '')).filter((endpoint) => endpoint !== '');
    if (endpoints.length === 0) throw new RangeError('at least one endpoint is required');
    if (endpoints.length > endpointsMax) throw new RangeError(`at most ${endpointsMax} endpoints`);
    for (const endpoint of endpoints) if (!/^[^:/\s]+:\d+$/.test(endpoint) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(endpoint)) throw new RangeError(`endpoint ${JSON.stringify(endpoint)} is not host:port`);
    this.endpoints = endpoints;
    this.callTimeoutMs = options.callTimeoutMs ?? callTimeoutMsDefault;
    if (!(this.callTimeoutMs > 0)) throw new RangeError('callTimeoutMs must be positive');
  }

  /** The session to `endpoint`, opened if none is live. Connection errors surface on the calls. */
  session(endpoint: string): http2.ClientHttp2Session {
    if (this.#closed) throw new ClientError(Status.CANCELLED, 'grpc: the client connection is closing');
    const existing = this.#sessions.get(endpoint);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(`http://${endpoint}`);
    session.on('error', () => { /* reported by each stream */ });
    const forget = (): void => {
      if (this.#sessions.get(endpoint) === session) this.#sessions.delete(endpoint);
    };
    session.on('close', forget);
    session.on('goaway', forget);
    this.#sessions.set(endpoint, session);
    return session;
  }

  /** Opens a call to `endpoint`. */
  open<Request, Response, RequestInit>(endpoint: string, method: AnyMethod<Request, Response, RequestInit>, deadline: number): Call<Request, Response, RequestInit> {
    return new Call(this.session(endpoint), method, { endpoint, deadline, messageBytesMax: responseBytesMax, queueMessagesMax: streamQueueMessagesMax });
  }

  /** Drops a session after a failure so that the next call reconnects. */
  #discard(endpoint: string): void {
    const session = this.#sessions.get(endpoint);
    this.#sessions.delete(endpoint);
    session?.destroy();
  }

  /**
   * Runs `attempt` on endpoints in turn, starting at a read (round-robin) or write (sticky) position,
   * retrying on UNAVAILABLE: always when `idempotent`, otherwise only when the request cannot have been
   * applied.
   */
  async withFailover<T>(idempotent: boolean, attempt: (endpoint: string, deadline: number) => Promise<T>, deadline = performance.now() + this.callTimeoutMs): Promise<T> {
    const count = this.endpoints.length;
    const start = idempotent ? this.#readCursor++ % count : this.#writeIndex;
    let lastError: unknown;
    for (let tries = 0; tries < attemptsMax; tries++) {
      const index = (start + tries) % count;
      const endpoint = this.endpoints[index]!;
      try {
        const result = await attempt(endpoint, deadline);
        if (!idempotent) this.#writeIndex = index;
        return result;
      } catch (error) {
        lastError = error;
        if (!(error instanceof ClientError)) throw error;
        // A member that is not the leader refuses lease renewals; another endpoint may be the leader.
        const notLeader = idempotent && error.status === Status.FAILED_PRECONDITION && error.message === notLeaderMessage;
        if (error.status !== Status.UNAVAILABLE && !notLeader) throw error;
        const stage = (error as ClientError & { stage?: string }).stage;
        if (!idempotent && stage !== 'connect' && !notAppliedMessages.has(error.message)) throw error;
        this.#discard(endpoint);
        if (!idempotent) this.#writeIndex = (index + 1) % count;
        const backoffMs = Math.min(backoffMsMax, backoffMsBase * 2 ** tries);
        if (performance.now() + backoffMs >= deadline) break;
        if (tries + 1 < attemptsMax) await sleep(backoffMs);
      }
    }
    throw lastError;
  }

  async #unary<Request, Response, RequestInit>(method: AnyMethod<Request, Response, RequestInit>, request: RequestInit, idempotent: boolean): Promise<Response> {
    return this.withFailover(idempotent, (endpoint, deadline) => this.unaryAt(endpoint, method, request, deadline));
  }

  /** One unary call to one endpoint, no failover. */
  async unaryAt<Request, Response, RequestInit>(endpoint: string, method: AnyMethod<Request, Response, RequestInit>, request: RequestInit, deadline = performance.now() + this.callTimeoutMs): Promise<Response> {
    const call = this.open(endpoint, method, deadline);
    try {
      return await unaryOn(call, request);
    } catch (error) {
      if (error instanceof ClientError) Object.assign(error, { stage: call.failureStage });
      throw error;
    }
  }

  // ---- KV ----

  /** Reads a key, a prefix or a range. Linearizable unless `serializable`. */
  get(key: Bytes, options: GetOptions = {}): Promise<RangeResponse> {
    return this.#unary(KVService.methods.Range, rangeRequest(key, options), true);
  }

  put(key: Bytes, value: Bytes, options: PutOptions = {}): Promise<PutResponse> {
    return this.#unary(KVService.methods.Put, putRequest(key, value, options), false);
  }

  delete(key: Bytes, options: DeleteOptions = {}): Promise<DeleteRangeResponse> {
    return this.#unary(KVService.methods.DeleteRange, deleteRequest(key, options), false);
  }

  /**
   * @example
   * await client.txn({ compare: [{ key: 'k', target: 'version', operator: '=', operand: 0 }], success: [{ type: 'put', key: 'k', value: 'v' }] });
   */
  txn(spec: TxnSpec): Promise<TxnResponse> {
    const request = { compare: (spec.compare ?? []).map(compareInit), success: (spec.success ?? []).map(opInit), failure: (spec.failure ?? []).map(opInit) };
    const readOnly = request.success.concat(request.failure).every((op) => op.request?.case === 'requestRange');
    return this.#unary(KVService.methods.Txn, request, readOnly);
  }

  compact(revision: number, options: { physical?: boolean } = {}): Promise<CompactionResponse> {
    return this.#unary(KVService.methods.Compact, { revision, physical: options.physical }, false);
  }

  /**
   * Watches a key or prefix; resolves once the server has created the watch. Iterate the watcher for
   * batches of events; it reconnects to another endpoint, resuming after the last revision seen.
   */
  async watch(key: Bytes, options: WatchOptions = {}): Promise<Watcher> {
    const watcher = new Watcher(this, toBytes(key), options, () => this.#watchers.delete(watcher));
    this.#watchers.add(watcher);
    try {
      await watcher.ready();
    } catch (error) {
      watcher.cancel();
      throw error;
    }
    return watcher;
  }

  /** Opens a Watch stream (no deadline). */
  openWatch(endpoint: string): WatchCall {
    return this.open(endpoint, WatchService.methods.Watch, Infinity);
  }

  /** The next endpoint for a long-lived stream. */
  nextEndpoint(): string {
    return this.endpoints[this.#readCursor++ % this.endpoints.length]!;
  }

  // ---- Lease ----

  leaseGrant(ttlSeconds: number, options: { id?: bigint } = {}): Promise<LeaseGrantResponse> {
    return this.#unary(LeaseService.methods.LeaseGrant, { TTL: ttlSeconds, ID: options.id }, false);
  }

  leaseRevoke(id: bigint): Promise<LeaseRevokeResponse> {
    return this.#unary(LeaseService.methods.LeaseRevoke, { ID: id }, false);
  }

  /** Renews a lease once over the LeaseKeepAlive stream; TTL 0 in the answer means the lease is gone. */
  leaseKeepAliveOnce(id: bigint): Promise<LeaseKeepAliveResponse> {
    return this.withFailover(true, async (endpoint, deadline) => {
      const call = this.open(endpoint, LeaseService.methods.LeaseKeepAlive, deadline);
      call.send({ ID: id });
      try {
        const response = await call.next();
        if (response === undefined) throw new ClientError(Status.UNAVAILABLE, 'the keep-alive stream ended without a response', { endpoint });
        return response;
      } catch (error) {
        if (error instanceof ClientError) Object.assign(error, { stage: call.failureStage });
        throw error;
      } finally {
        call.cancel();
      }
    });
  }

  leaseTimeToLive(id: bigint, options: { keys?: boolean } = {}): Promise<LeaseTimeToLiveResponse> {
    return this.#unary(LeaseService.methods.LeaseTimeToLive, { ID: id, keys: options.keys }, true);
  }

  leaseList(): Promise<LeaseLeasesResponse> {
    return this.#unary(LeaseService.methods.LeaseLeases, {}, true);
  }

  // ---- Cluster ----

  memberList(): Promise<MemberListResponse> {
    return this.#unary(ClusterService.methods.MemberList, {}, true);
  }

  memberAdd(peerUrls: readonly string[], options: { learner?: boolean } = {}): Promise<MemberAddResponse> {
    return this.#unary(ClusterService.methods.MemberAdd, { peerURLs: peerUrls, isLearner: options.learner }, false);
  }

  memberRemove(id: bigint): Promise<MemberRemoveResponse> {
    return this.#unary(ClusterService.methods.MemberRemove, { ID: id }, false);
  }

  memberPromote(id: bigint): Promise<MemberPromoteResponse> {
    return this.#unary(ClusterService.methods.MemberPromote, { ID: id }, false);
  }

  // ---- Maintenance ----

  /** The status of one member (no failover: the answer is about that endpoint). */
  status(endpoint: string): Promise<StatusResponse> {
    return this.unaryAt(endpoint, MaintenanceService.methods.Status, {});
  }

  alarmList(): Promise<AlarmResponse> {
    return this.#unary(MaintenanceService.methods.Alarm, { action: AlarmRequestAlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE }, true);
  }

  /** Disarms one alarm, or (without an argument) every alarm raised; returns the alarms disarmed. */
  async alarmDisarm(alarm?: AlarmMember): Promise<AlarmResponse> {
    const targets = alarm === undefined ? (await this.alarmList()).alarms : [alarm];
    let last: AlarmResponse | undefined;
    const disarmed: AlarmMember[] = [];
    for (const target of targets) {
      last = await this.#unary(MaintenanceService.methods.Alarm, { action: AlarmRequestAlarmAction.DEACTIVATE, memberID: target.memberID, alarm: target.alarm }, false);
      disarmed.push(...last.alarms);
    }
    return { header: last?.header, alarms: disarmed };
  }

  /** The backend database as a stream of chunks, from one endpoint. */
  async *snapshot(options: { timeoutMs?: number } = {}): AsyncGenerator<Uint8Array> {
    const deadline = performance.now() + (options.timeoutMs ?? snapshotTimeoutMsDefault);
    const endpoint = this.nextEndpoint();
    const call = this.open(endpoint, MaintenanceService.methods.Snapshot, deadline);
    call.send({});
    call.end();
    for await (const response of call) yield response.blob;
  }

  /** Ends every watch and closes every session. */
  close(): void {
    this.#closed = true;
    for (const watcher of [...this.#watchers]) watcher.cancel();
    for (const session of this.#sessions.values()) session.close();
    this.#sessions.clear();
  }
}
