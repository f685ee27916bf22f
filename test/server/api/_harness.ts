/**
 * Test harness for the API layer only: a real GrpcServer on 127.0.0.1:0 with the API services over a
 * single-member backend that applies each proposal straight to a real KvStore (no Raft, no WAL), driven by
 * the real etcdctl 3.4.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { GrpcServer } from '../../../src/server/grpc/index.ts';
import { KvStore, type LeaseKeepAliveResponse, type LeaseTimeToLiveRequest, type LeaseTimeToLiveResponse } from '../../../src/kv/index.ts';
import type { HeaderInfo, MemberBackend, MemberInfo, MemberStatus, ReplicatedRequest, ReplicatedResponse } from '../../../src/server/member/backend.ts';
import { registerApiServices, type ApiOptions, type ApiServices } from '../../../src/server/api/index.ts';

export const etcdctlPath = '/usr/bin/etcdctl';
export const clusterId = 0xcdf818194e3a8c32n;
export const memberId = 0x8e9e05c52164694dn;
/** Chunk size of the test backend's snapshot stream: small, so that a snapshot takes several chunks. */
const snapshotChunkBytes = 1000;

/** A single member: proposals apply synchronously to the store; reads need no barrier. */
export class StoreBackend implements MemberBackend {
  readonly store: KvStore;
  readonly memberList: MemberInfo[] = [{ id: memberId, name: 'default', peerUrls: ['http://127.0.0.1:2380'], clientUrls: ['http://127.0.0.1:2379'], isLearner: false }];
  readBarriers = 0;
  proposals = 0;
  services: ApiServices | undefined;

  constructor() {
    this.store = new KvStore({ clock: { now: () => performance.now() }, watch: { onReady: (id) => this.services?.watchReady(id) } });
    this.store.promote();
  }

  header(): HeaderInfo {
    return { clusterId, memberId, revision: this.store.revision, raftTerm: 2 };
  }

  async propose<K extends ReplicatedRequest['kind']>(request: ReplicatedRequest & { kind: K }): Promise<ReplicatedResponse<K>> {
    this.proposals++;
    return this.#apply(request) as ReplicatedResponse<K>;
  }

  #apply(request: ReplicatedRequest): ReplicatedResponse<ReplicatedRequest['kind']> {
    switch (request.kind) {
      case 'put': return this.store.put(request.request);
      case 'deleteRange': return this.store.deleteRange(request.request);
      case 'txn': return this.store.txn(request.request);
      case 'compaction': return this.store.compact(request.request);
      case 'leaseGrant': return this.store.leaseGrant(request.request);
      case 'leaseRevoke': return this.store.leaseRevoke(request.request);
      case 'alarm': return this.store.alarm(request.request);
    }
  }

  async readBarrier(): Promise<void> {
    this.readBarriers++;
  }

  async leaseKeepAlive(id: number): Promise<LeaseKeepAliveResponse> {
    return this.store.leaseKeepAlive({ id });
  }

  async leaseTimeToLive(request: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
    return this.store.leaseTimeToLive(request);
  }

  members(): readonly MemberInfo[] {
    return this.memberList;
  }

  async addMember(peerUrls: readonly string[], isLearner: boolean): Promise<MemberInfo> {
    const member = { id: 0x1234n + BigInt(this.memberList.length), name: '', peerUrls, clientUrls: [], isLearner };
    this.memberList.push(member);
    return member;
  }

  async removeMember(): Promise<void> {}
  async updateMember(): Promise<void> {}
  async promoteMember(): Promise<void> {}
  async moveLeader(): Promise<void> {}

  status(): MemberStatus {
    return { version: '3.4.0', dbSizeBytes: 20480, dbSizeInUseBytes: 16384, leader: memberId, raftIndex: 7, raftTerm: 2, raftAppliedIndex: 7, isLearner: false, errors: [] };
  }

  async *snapshot(): AsyncIterable<Uint8Array> {
    const bytes = this.store.snapshot();
    for (let offset = 0; offset < bytes.length; offset += snapshotChunkBytes) yield bytes.subarray(offset, offset + snapshotChunkBytes);
  }
}

export interface Harness {
  readonly backend: StoreBackend;
  readonly endpoint: string;
  etcdctl(args: readonly string[], input?: string | Uint8Array): Promise<EtcdctlResult>;
  /** Starts a long-running etcdctl (watch, keep-alive) whose output the test reads as it comes. */
  spawnEtcdctl(args: readonly string[]): RunningEtcdctl;
  close(): Promise<void>;
}

export interface EtcdctlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export async function startHarness(options: ApiOptions = {}): Promise<Harness> {
  const backend = new StoreBackend();
  const server = new GrpcServer();
  backend.services = registerApiServices(server, backend, options);
  const address = await server.listen({ host: '127.0.0.1', port: 0 });
  const endpoint = `127.0.0.1:${address.port}`;
  const running = new Set<RunningEtcdctl>();
  return {
    backend,
    endpoint,
    etcdctl: (args, input) => runEtcdctl(endpoint, args, input),
    spawnEtcdctl: (args) => {
      const process = new RunningEtcdctl(endpoint, args);
      running.add(process);
      return process;
    },
    close: async () => {
      for (const process of running) process.kill();
      backend.services?.close();
      await server.close({ graceMs: 0 });
    },
  };
}

function etcdctlArguments(endpoint: string, args: readonly string[]): string[] {
  return [`--endpoints=${endpoint}`, '--dial-timeout=3s', '--command-timeout=5s', ...args];
}

const etcdctlEnvironment = { ...process.env, ETCDCTL_API: '3' };

export function runEtcdctl(endpoint: string, args: readonly string[], input?: string | Uint8Array): Promise<EtcdctlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(etcdctlPath, etcdctlArguments(endpoint, args), { env: etcdctlEnvironment });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** A long-running etcdctl; `waitFor` resolves once its stdout contains the text. */
export class RunningEtcdctl {
  readonly #child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  #waiters: (() => void)[] = [];

  constructor(endpoint: string, args: readonly string[]) {
    this.#child = spawn(etcdctlPath, etcdctlArguments(endpoint, args), { env: etcdctlEnvironment });
    this.#child.stdout.on('data', (chunk: Buffer) => this.#append('stdout', chunk));
    this.#child.stderr.on('data', (chunk: Buffer) => this.#append('stderr', chunk));
    this.exited = new Promise((resolve) => this.#child.on('close', (code) => {
      this.#notify();
      resolve(code);
    }));
  }

  #append(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    this[stream] += chunk.toString();
    this.#notify();
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  async waitFor(text: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stdout.includes(text) && !this.stderr.includes(text)) {
      if (this.#child.exitCode !== null) throw new Error(`etcdctl exited; stdout: ${this.stdout} stderr: ${this.stderr}`);
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new Error(`timed out waiting for ${JSON.stringify(text)}; stdout: ${JSON.stringify(this.stdout)} stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remainingMs);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGTERM');
  }
}

/** Polls until `condition` holds (a watcher registered, say). */
export async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Runs `body` against a fresh harness, and closes it whatever happens. */
export async function withHarness(body: (harness: Harness) => Promise<void>, options: ApiOptions = {}): Promise<void> {
  const harness = await startHarness(options);
  try {
    await body(harness);
  } finally {
    await harness.close();
  }
}

/** Runs etcdctl and asserts that it succeeded; returns its stdout. */
export async function ok(harness: Harness, args: string[], input?: string): Promise<string> {
  const result = await harness.etcdctl(args, input);
  assert.equal(result.code, 0, `etcdctl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}
