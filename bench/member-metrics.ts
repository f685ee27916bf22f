// Member metrics benchmarks, printed as JSON lines: the per-call cost of keel's gRPC recorder (next to
// prom-client's cached label children doing the same work, the design it replaces), the cost of the timed
// state machine per apply, and the time to render a member's /metrics. Bounded to a few seconds.
// Run: node --import tsx bench/member-metrics.ts
import { pathToFileURL } from 'node:url';
import { Counter, Histogram, Registry } from 'prom-client';
import { MemberMetrics, grpcHandlingSecondsBuckets } from '../src/server/metrics.ts';
import type { StateMachine } from '../src/server/member/raft-driver.ts';

const callsPerRound = 1_000_000;
const rounds = 3;
const scrapeRounds = 200;
/** Methods the calls rotate over, as a member's API has (KV, Watch, Lease, Cluster, Maintenance). */
const methodPaths = Array.from({ length: 24 }, (_, index) => `/etcdserverpb.Service${index % 5}/Method${index}`);

function report(result: Record<string, string | number>): void {
  console.log(JSON.stringify({ bench: 'member-metrics', ...result }));
}

/** Best of `rounds`: nanoseconds per operation of `body(count)`. */
function nanosecondsPerOperation(count: number, body: (count: number) => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    body(count);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / count);
  }
  return Math.round(best * 10) / 10;
}

function heapDeltaBytesPerOperation(count: number, body: (count: number) => void): number {
  body(count); // warm up
  const before = process.memoryUsage().heapUsed;
  body(count);
  return Math.max(0, Math.round((process.memoryUsage().heapUsed - before) / count * 10) / 10);
}

function benchGrpcRecorder(): void {
  const metrics = new MemberMetrics({ name: 'bench', version: 'bench' });
  const calls = (count: number) => {
    for (let call = 0; call < count; call++) metrics.grpc.callStarted(methodPaths[call % methodPaths.length]!, 'unary').callEnded(call % 7 === 0 ? 3 : 0, 0.0004);
  };
  report({ case: 'grpc-call-keel-recorder', nanosecondsPerCall: nanosecondsPerOperation(callsPerRound, calls), heapBytesPerCall: heapDeltaBytesPerOperation(callsPerRound / 4, calls) });
}

/** The same three recordings through prom-client's cached `labels()` children, for comparison. */
function benchPromClientChildren(): void {
  const registry = new Registry();
  const labelNames = ['grpc_type', 'grpc_service', 'grpc_method'];
  const started = new Counter({ name: 'started_total', help: 'h', labelNames, registers: [registry] });
  const handled = new Counter({ name: 'handled_total', help: 'h', labelNames: [...labelNames, 'grpc_code'], registers: [registry] });
  const latency = new Histogram({ name: 'handling_seconds', help: 'h', labelNames, buckets: [...grpcHandlingSecondsBuckets], registers: [registry] });
  const children = methodPaths.map((path) => {
    const labels = ['unary', path.slice(1, path.lastIndexOf('/')), path.slice(path.lastIndexOf('/') + 1)];
    return { started: started.labels(...labels), ok: handled.labels(...labels, 'OK'), invalid: handled.labels(...labels, 'InvalidArgument'), latency: latency.labels(...labels) };
  });
  const calls = (count: number) => {
    for (let call = 0; call < count; call++) {
      const child = children[call % children.length]!;
      child.started.inc();
      (call % 7 === 0 ? child.invalid : child.ok).inc();
      child.latency.observe(0.0004);
    }
  };
  report({ case: 'grpc-call-prom-client-children', nanosecondsPerCall: nanosecondsPerOperation(callsPerRound / 4, calls), heapBytesPerCall: heapDeltaBytesPerOperation(callsPerRound / 16, calls) });
}

function benchTimedApply(): void {
  const inner: StateMachine = { apply: (index) => index, applyConfChange: () => undefined, captureSnapshot: () => ({ encodeSome: () => true, finish: () => new Uint8Array() }), restore: () => undefined };
  const timed = new MemberMetrics({ name: 'bench', version: 'bench' }).instrumentStateMachine(inner);
  const command = new Uint8Array(16);
  const applies = (machine: StateMachine) => (count: number) => {
    for (let index = 0; index < count; index++) machine.apply(index, command);
  };
  report({
    case: 'apply-timing-overhead', nanosecondsPerApplyTimed: nanosecondsPerOperation(callsPerRound, applies(timed)),
    nanosecondsPerApplyPlain: nanosecondsPerOperation(callsPerRound, applies(inner)),
  });
}

async function benchScrape(): Promise<void> {
  const metrics = new MemberMetrics({ name: 'bench', version: 'bench' });
  for (const [index, path] of methodPaths.entries()) for (let code = 0; code < 4; code++) metrics.grpc.callStarted(path, 'unary').callEnded(code, index / 1000);
  for (let peer = 1; peer <= 4; peer++) metrics.peerRoundTrip(peer, peer);
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (let round = 0; round < scrapeRounds; round++) bytes = (await metrics.registry.metrics()).length;
  const microseconds = Number(process.hrtime.bigint() - started) / scrapeRounds / 1000;
  report({ case: 'scrape-render', methods: methodPaths.length, peers: 4, bodyBytes: bytes, microsecondsPerScrape: Math.round(microseconds) });
}

export async function run(): Promise<void> {
  benchGrpcRecorder();
  benchPromClientChildren();
  benchTimedApply();
  await benchScrape();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
