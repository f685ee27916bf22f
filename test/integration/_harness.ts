// Shared by the integration tests: real `keel serve` processes on loopback, etcdctl, and a tiny gRPC client on
// node:http2 that uses keel's own protobuf codecs (no gRPC client library is available yet).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import http2 from 'node:http2';
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { freePort } from '../_net.ts';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  decodeRangeResponse, decodeStatusResponse, encodePutRequest, encodeRangeRequest, encodeStatusRequest,
} from '../../src/server/proto/index.ts';
import type { RangeResponse, StatusResponse } from '../../src/server/proto/index.ts';

export { freePort };
export const run = promisify(execFile);
export const keel = join(import.meta.dirname, '..', '..', 'bin', 'keel');
export const etcdctlMissing = await run('sh', ['-c', 'command -v etcdctl']).then(() => false, () => true);
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const text = (value: string): Uint8Array => new TextEncoder().encode(value);
export const fromText = (value: Uint8Array): string => new TextDecoder().decode(value);


/** A small seeded PRNG (mulberry32): the same seed gives the same crash schedule. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface KeelNode {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  process: ChildProcess | null;
  /** Resolves with the exit code (or the signal name) of the current process. */
  exited: Promise<number | string> | null;
  /** Every stderr line of every run of this member. */
  readonly stderr: string[];
}

export interface ClusterOptions {
  readonly size: number;
  readonly snapshotCount?: number;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  readonly electionTimeoutMs?: number;
  /** More `keel serve` flags. */
  readonly extraArgs?: readonly string[];
}

/** `size` real `keel serve` processes on 127.0.0.1. */
export class KeelCluster {
  readonly nodes: KeelNode[] = [];
  constructor(readonly root: string, readonly options: ClusterOptions) {}

  async init(): Promise<void> {
    for (let i = 1; i <= this.options.size; i++) {
      this.nodes.push({ name: `m${i}`, clientPort: await freePort(), peerPort: await freePort(), process: null, exited: null, stderr: [] });
    }
  }

  dataDir(node: KeelNode): string {
    return join(this.root, node.name);
  }

  /** A new node (not started): the next name and fresh ports. Later `start`s list it in --initial-cluster. */
  async addNode(): Promise<KeelNode> {
    const node: KeelNode = { name: `m${this.nodes.length + 1}`, clientPort: await freePort(), peerPort: await freePort(), process: null, exited: null, stderr: [] };
    this.nodes.push(node);
    return node;
  }

  start(node: KeelNode, extraArgs: readonly string[] = []): void {
    const cluster = this.nodes.map((other) => `${other.name}=http://127.0.0.1:${other.peerPort}`).join(',');
    const client = `http://127.0.0.1:${node.clientPort}`;
    const peer = `http://127.0.0.1:${node.peerPort}`;
    const child = spawn(process.execPath, [keel, 'serve', '--name', node.name, '--data-dir', this.dataDir(node),
      '--listen-client-urls', client, '--advertise-client-urls', client, '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer, '--initial-cluster', cluster, '--heartbeat-interval', '50',
      '--election-timeout', String(this.options.electionTimeoutMs ?? 500), '--snapshot-count', String(this.options.snapshotCount ?? 10_000),
      '--log-level', this.options.logLevel ?? 'warn', ...(this.options.extraArgs ?? []), ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    let partial = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      node.stderr.push(...lines);
    });
    node.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      if (partial !== '') node.stderr.push(partial);
      partial = '';
      resolve(code ?? signal ?? 'unknown');
    }));
    node.process = child;
  }

  /** kill -9, and wait until the process is gone. */
  async kill(node: KeelNode): Promise<void> {
    const exited = node.exited;
    node.process?.kill('SIGKILL');
    node.process = null;
    if (exited !== null) await exited;
  }

  up(): KeelNode[] {
    return this.nodes.filter((node) => node.process !== null);
  }

  endpoints(nodes = this.up()): string {
    return nodes.map((node) => `127.0.0.1:${node.clientPort}`).join(',');
  }

  async etcdctl(args: string[], endpoints = this.endpoints()): Promise<string> {
    const { stdout } = await run('etcdctl', [`--endpoints=${endpoints}`, '--command-timeout=5s', '--dial-timeout=2s', ...args],
      { env: { ...process.env, ETCDCTL_API: '3' }, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  }

  /** etcdctl's error text (stderr) for a command that must fail. */
  async etcdctlError(args: string[], endpoints = this.endpoints()): Promise<string> {
    try {
      const stdout = await this.etcdctl(args, endpoints);
      return `unexpected success: ${stdout}`;
    } catch (error) {
      return String((error as { stderr?: string }).stderr ?? error);
    }
  }

  /** The member that reports itself leader, among the running ones (Maintenance.Status). */
  async leader(client: GrpcClient, limitMs = 30_000): Promise<KeelNode> {
    const started = Date.now();
    while (Date.now() - started < limitMs) {
      if (this.up().length === 0) throw new Error('no member is running');
      for (const node of this.up()) {
        const status = await client.status(node.clientPort).catch(() => null);
        if (status !== null && status.leader !== 0n && status.leader === status.header?.memberId) return node;
      }
      await sleep(100);
    }
    throw new Error('no leader');
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((node) => this.kill(node)));
  }

  /** The stderr lines, as parsed JSON where they are JSON. */
  static logs(node: KeelNode): Record<string, unknown>[] {
    const parsed: Record<string, unknown>[] = [];
    for (const line of node.stderr) {
      try {
        parsed.push(JSON.parse(line) as Record<string, unknown>);
      } catch { /* not a log line */ }
    }
    return parsed;
  }
}

export interface GrpcResult {
  readonly status: number;
  readonly message: string;
  /** The response message, for status 0. */
  readonly body: Uint8Array | null;
}

export function frame(payload: Uint8Array): Buffer {
  const framed = Buffer.alloc(5 + payload.length);
  framed.writeUInt32BE(payload.length, 1);
  framed.set(payload, 5);
  return framed;
}

/** A minimal unary gRPC client: one HTTP/2 session per port, dropped when it breaks. */
export class GrpcClient {
  readonly #sessions = new Map<number, ClientHttp2Session>();

  #session(port: number): ClientHttp2Session {
    const existing = this.#sessions.get(port);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const forget = () => {
      if (this.#sessions.get(port) === session) this.#sessions.delete(port);
    };
    session.on('error', forget);
    session.on('close', forget);
    session.on('goaway', forget);
    this.#sessions.set(port, session);
    return session;
  }

  /** One unary call; rejects on a transport failure or a timeout (an unknown outcome). */
  unary(port: number, path: string, payload: Uint8Array, timeoutMs = 3_000): Promise<GrpcResult> {
    return new Promise((resolve, reject) => {
      let session: ClientHttp2Session;
      try {
        session = this.#session(port);
      } catch (error) {
        reject(error as Error);
        return;
      }
      const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': `${timeoutMs}m` });
      let headers: IncomingHttpHeaders = {};
      let trailers: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(new Error(`${path} on port ${port} timed out`));
      }, timeoutMs + 500);
      stream.on('response', (received) => (headers = received));
      stream.on('trailers', (received) => (trailers = received));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      stream.on('close', () => {
        clearTimeout(timer);
        const source = headers['grpc-status'] !== undefined ? headers : trailers;
        const status = source['grpc-status'];
        if (status === undefined) {
          reject(new Error(`${path} on port ${port}: no grpc-status (HTTP ${String(headers[':status'])}, rst ${stream.rstCode})`));
          return;
        }
        const body = Buffer.concat(chunks);
        const message = source['grpc-message'];
        resolve({
          status: Number(status),
          message: typeof message === 'string' ? decodeURIComponent(message) : '',
          body: body.length >= 5 ? new Uint8Array(body.subarray(5, 5 + body.readUInt32BE(1))) : null,
        });
      });
      stream.end(frame(payload));
    });
  }

  async put(port: number, key: string, value: string, timeoutMs?: number): Promise<GrpcResult> {
    return this.unary(port, '/etcdserverpb.KV/Put', encodePutRequest({ key: text(key), value: text(value) }), timeoutMs);
  }

  /** Range over [key, rangeEnd); throws on a non-OK status. */
  async range(port: number, key: string, rangeEnd: string, serializable: boolean, timeoutMs?: number): Promise<RangeResponse> {
    const result = await this.unary(port, '/etcdserverpb.KV/Range', encodeRangeRequest({ key: text(key), rangeEnd: text(rangeEnd), serializable }), timeoutMs);
    if (result.status !== 0 || result.body === null) throw new Error(`Range failed: ${result.status} ${result.message}`);
    return decodeRangeResponse(result.body);
  }

  async status(port: number): Promise<StatusResponse> {
    const result = await this.unary(port, '/etcdserverpb.Maintenance/Status', encodeStatusRequest({}), 1_000);
    if (result.status !== 0 || result.body === null) throw new Error(`Status failed: ${result.status} ${result.message}`);
    return decodeStatusResponse(result.body);
  }

  close(): void {
    for (const session of this.#sessions.values()) session.destroy();
    this.#sessions.clear();
  }
}
