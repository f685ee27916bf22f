/**
 * gRPC server benchmarks. Prints one JSON line per measurement:
 *
 * - `grpc.unary.range`: etcdserverpb.KV/Range calls (decode a RangeRequest, encode a RangeResponse with one
 *   key) from a node:http2 client over a few connections with many concurrent streams. The server runs in
 *   a child process, so client and server each get a core; `callsPerServerCpuSecond` normalises by the
 *   CPU time the server process actually used (the number to compare with "calls/s on one core").
 * - `grpc.server-stream`: messages/s and MB/s of one server stream with backpressure.
 * - `proto.codec`: encode + decode of a 100-key RangeResponse, in-process.
 *
 *   node --import tsx bench/grpc.ts
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import http2 from 'node:http2';
import type { ClientHttp2Session } from 'node:http2';
import { Buffer } from 'node:buffer';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GrpcServer, serverStream } from '../src/server/grpc/index.ts';
import { decodeRangeResponse, encodeRangeRequest, encodeRangeResponse, KVService } from '../src/server/proto/index.ts';
import type { RangeResponseInit } from '../src/server/proto/index.ts';

const connectionCount = 4;
const streamsPerConnection = 64;
const warmupMs = 500;
const unaryMeasureMs = 3_000;
const streamMeasureMs = 1_500;
const streamMessageBytes = 4 * 1024;
const codecIterationsMax = 200_000;
const codecMeasureMs = 1_000;

interface ServerReport {
  readonly port?: number;
  readonly cpuMicroseconds?: number;
}

// ---------------------------------------------------------------------------------------------------
// The server side (runs in the child process)
// ---------------------------------------------------------------------------------------------------

async function serve(): Promise<void> {
  const server = new GrpcServer();
  const value = Buffer.alloc(64, 'v');
  server.addService(KVService, {
    Range: (request) => ({
      header: { clusterId: 0x8e9e05c52164694dn, memberId: 0x5b2e6ec1a34b2a7fn, revision: 12345, raftTerm: 7 },
      kvs: [{ key: request.key, value, createRevision: 100, modRevision: 12345, version: 3 }],
      count: 1,
    }),
  });
  const blob = new Uint8Array(streamMessageBytes);
  server.addService('bench.Stream', {
    Flood: serverStream(() => undefined, (message: Uint8Array, reservedBytes: number) => {
      const output = Buffer.allocUnsafe(reservedBytes + message.length);
      output.set(message, reservedBytes);
      return output;
    }, async (_request, call) => {
      while (!call.ended) await call.send(blob);
    }),
  });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  process.on('message', (message: string) => {
    if (message === 'cpu') {
      const usage = process.cpuUsage();
      process.send!({ cpuMicroseconds: usage.user + usage.system } satisfies ServerReport);
    } else if (message === 'stop') {
      void server.close({ graceMs: 100 }).then(() => process.exit(0));
    }
  });
  process.send!({ port } satisfies ServerReport);
}

// ---------------------------------------------------------------------------------------------------
// The client side
// ---------------------------------------------------------------------------------------------------

function startServerProcess(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`benchmark server exited with ${code}`)));
    child.once('message', (report: ServerReport) => resolve({ child, port: report.port! }));
  });
}

function serverCpuMicroseconds(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (report: ServerReport) => resolve(report.cpuMicroseconds!));
    child.send('cpu');
  });
}

function connect(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 1 << 20 } });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

function frame(payload: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + payload.length);
  framed[0] = 0;
  framed.writeUInt32BE(payload.length, 1);
  framed.set(payload, 5);
  return framed;
}

const rangeHeaders = { ':method': 'POST', ':path': '/etcdserverpb.KV/Range', 'content-type': 'application/grpc', te: 'trailers' };

/** One unary call; resolves with the status once the stream closes. */
function callRange(session: ClientHttp2Session, request: Buffer): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const stream = session.request(rangeHeaders, { endStream: false });
    let status: string | undefined;
    stream.on('trailers', (trailers) => (status = trailers['grpc-status'] as string | undefined));
    stream.on('data', () => {});
    stream.on('error', reject);
    stream.on('close', () => resolve(status));
    stream.end(request);
  });
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

async function benchmarkUnary(port: number, child: ChildProcess): Promise<void> {
  const sessions = await Promise.all(Array.from({ length: connectionCount }, () => connect(port)));
  const request = frame(encodeRangeRequest({ key: Buffer.from('/registry/pods/default/web-0') }));
  let measuring = false;
  let stopping = false;
  let calls = 0;
  let failures = 0;
  const latenciesMs: number[] = [];
  const worker = async (session: ClientHttp2Session): Promise<void> => {
    while (!stopping) {
      const started = performance.now();
      const status = await callRange(session, request);
      if (!measuring) continue;
      if (status === '0') calls++;
      else failures++;
      if (latenciesMs.length < 1_000_000) latenciesMs.push(performance.now() - started);
    }
  };
  const workers = sessions.flatMap((session) => Array.from({ length: streamsPerConnection }, () => worker(session)));
  await sleep(warmupMs);
  measuring = true;
  const cpuBefore = await serverCpuMicroseconds(child);
  const started = performance.now();
  await sleep(unaryMeasureMs);
  const cpuAfter = await serverCpuMicroseconds(child);
  const seconds = (performance.now() - started) / 1000;
  measuring = false;
  const measuredCalls = calls;
  stopping = true;
  await Promise.all(workers);
  for (const session of sessions) session.close();
  latenciesMs.sort((left, right) => left - right);
  const serverCpuSeconds = (cpuAfter - cpuBefore) / 1e6;
  print({
    benchmark: 'grpc.unary.range',
    connections: connectionCount,
    concurrentStreams: connectionCount * streamsPerConnection,
    calls: measuredCalls,
    failures,
    seconds: round(seconds),
    callsPerSecond: Math.round(measuredCalls / seconds),
    serverCpuSeconds: round(serverCpuSeconds),
    callsPerServerCpuSecond: Math.round(measuredCalls / serverCpuSeconds),
    latencyP50Ms: round(percentile(latenciesMs, 0.5)),
    latencyP99Ms: round(percentile(latenciesMs, 0.99)),
  });
}

async function benchmarkServerStream(port: number): Promise<void> {
  const session = await connect(port);
  const stream = session.request({ ':method': 'POST', ':path': '/bench.Stream/Flood', 'content-type': 'application/grpc', te: 'trailers' });
  stream.end(frame(new Uint8Array(0)));
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
  stream.on('error', () => {});
  await sleep(warmupMs);
  const startBytes = bytes;
  const started = performance.now();
  await sleep(streamMeasureMs);
  const seconds = (performance.now() - started) / 1000;
  const measured = bytes - startBytes;
  stream.close(http2.constants.NGHTTP2_CANCEL);
  session.close();
  print({
    benchmark: 'grpc.server-stream',
    messageBytes: streamMessageBytes,
    messagesPerSecond: Math.round(measured / (streamMessageBytes + 5) / seconds),
    megabytesPerSecond: round(measured / seconds / 1e6),
  });
}

function benchmarkCodec(): void {
  const response: RangeResponseInit = {
    header: { clusterId: 0x8e9e05c52164694dn, memberId: 0x5b2e6ec1a34b2a7fn, revision: 12345, raftTerm: 7 },
    kvs: Array.from({ length: 100 }, (_, index) => ({ key: Buffer.from(`/registry/pods/default/web-${index}`), value: Buffer.alloc(128, index), createRevision: 100 + index, modRevision: 12_000 + index, version: 3, lease: 0x694d7b8c4d1c5a0bn })),
    count: 100,
  };
  let iterations = 0;
  let encodedBytes = 0;
  const started = performance.now();
  while (iterations < codecIterationsMax && performance.now() - started < codecMeasureMs) {
    const encoded = encodeRangeResponse(response);
    encodedBytes = encoded.length;
    if (decodeRangeResponse(encoded).kvs.length !== 100) throw new Error('codec round trip lost keys');
    iterations++;
  }
  const seconds = (performance.now() - started) / 1000;
  print({
    benchmark: 'proto.codec.range-response-100-keys',
    encodedBytes,
    roundTripsPerSecond: Math.round(iterations / seconds),
    megabytesPerSecond: round((iterations * encodedBytes) / seconds / 1e6),
  });
}

function print(record: Record<string, unknown>): void {
  console.log(JSON.stringify(record));
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs every gRPC benchmark (about 10 s) and prints a JSON line for each. */
export async function run(): Promise<void> {
  benchmarkCodec();
  const { child, port } = await startServerProcess();
  child.removeAllListeners('exit');
  try {
    await benchmarkUnary(port, child);
    await benchmarkServerStream(port);
  } finally {
    child.send('stop');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--serve')) await serve();
  else await run();
}
