// keel vs etcd 3.4 through etcd's own Go client (../shared/tools/etcd-bench), printed as JSON lines:
//
//   {"bench":"etcd-compare","op":"put","clients":100,"conns":10,"total":20000,
//    "keel":{"rps":..,"p50_ms":..,"p99_ms":..,"errors":..},"etcd":{...},"ratio_rps":keel/etcd,"ratio_p99":keel/etcd}
//
// Starts 3 `keel serve` children and, when `etcd` is on the PATH, 3 etcd members, all on free loopback
// ports with temporary data dirs and default heartbeat/election; waits for a leader in each (its /metrics
// `*_server_is_leader`), then runs etcd-bench against each leader's client URL, keel and etcd interleaved per
// op (alternating which goes first) so both share the machine's noise. Each op runs `rounds` times per side
// (default 3, alternating the order every round) and reports each side's median rps and median p99, with
// every round's rps, because one run on these machines can be 20% off the next. Without Go or the tool it prints one
// `{"bench":"etcd-compare","skipped":"..."}` line; without etcd it prints keel's figures with "etcd":null.
// Bounded to about 3 minutes: each run has a time limit (a run that hits it reports "timeout"), and ops left
// when the budget is spent print {"op":..,"skipped":..}.
//
// Run:  node --import tsx bench/etcd-compare.ts          (or `npm run bench`, which runs every bench)
// Env:  KEEL_ETCD_BENCH=/path/to/etcd-bench   use this binary instead of finding or building one
//       KEEL_BENCH_SCALE=0.5                  multiply every op's total (quick runs; default 1)
//       KEEL_BENCH_CPU_PROF=DIR               run the keel members under `node --cpu-prof` into DIR
//       KEEL_BENCH_OPS=put,txn                only these ops
//       KEEL_BENCH_ROUNDS=3                   runs per op and side (the median is reported)
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const keelBin = join(repoRoot, 'bin', 'keel');
const buildScript = resolve(repoRoot, '..', 'shared', 'tools', 'etcd-bench', 'build.sh');
const cachedTool = join(repoRoot, 'node_modules', '.cache', 'keel', 'etcd-bench');
const toolCandidates = [cachedTool, '/tmp/etcd-bench'];
const buildTimeoutMs = 300_000;
const leaderTimeoutMs = 20_000;
const runTimeoutMs = 35_000;
/** The whole comparison (clusters up, every run, teardown) stays within about 3 minutes. */
const totalBudgetMs = 165_000;
const valueBytes = 256;

interface Op { readonly op: string; readonly clients: number; readonly conns: number; readonly total: number }

const scale = Number(process.env.KEEL_BENCH_SCALE ?? '1') > 0 ? Number(process.env.KEEL_BENCH_SCALE ?? '1') : 1;
const rounds = Math.max(1, Math.min(9, Math.floor(Number(process.env.KEEL_BENCH_ROUNDS ?? '3')) || 3));
const onlyOps = process.env.KEEL_BENCH_OPS?.split(',').filter((name) => name !== '');
const ops: readonly Op[] = ([
  { op: 'put', clients: 1, conns: 1, total: 2_000 },
  { op: 'put', clients: 100, conns: 10, total: 20_000 },
  { op: 'range', clients: 100, conns: 10, total: 20_000 },
  { op: 'range-s', clients: 100, conns: 10, total: 20_000 },
  { op: 'txn', clients: 100, conns: 10, total: 10_000 },
] satisfies Op[]).filter((op) => onlyOps === undefined || onlyOps.includes(op.op)).map((op) => ({ ...op, total: Math.max(100, Math.round(op.total * scale)) }));

interface Figures { rps: number; p50_ms: number; p90_ms?: number; p99_ms: number; max_ms?: number; errors: number; error?: string }

function report(line: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench: 'etcd-compare', ...line }));
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(() => true, () => false);
}

function exec(file: string, args: readonly string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((done) => {
    const child = execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const timedOut = error !== null && (error as NodeJS.ErrnoException & { killed?: boolean }).killed === true;
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : child.exitCode, stdout: String(stdout), stderr: String(stderr), timedOut });
    });
  });
}

async function onPath(command: string): Promise<boolean> {
  return (await exec('sh', ['-c', `command -v ${command}`], 5_000)).code === 0;
}

/** The etcd-bench binary: given, already built, or built now with the shared build script; else why not. */
async function findTool(): Promise<{ path: string } | { skipped: string }> {
  const given = process.env.KEEL_ETCD_BENCH;
  if (given !== undefined && given !== '') return (await executable(given)) ? { path: given } : { skipped: `KEEL_ETCD_BENCH=${given} is not executable` };
  for (const candidate of toolCandidates) if (await executable(candidate)) return { path: candidate };
  if (!(await executable(buildScript))) return { skipped: `etcd-bench is not built and ${buildScript} is missing` };
  await mkdir(dirname(cachedTool), { recursive: true });
  process.stderr.write(`etcd-compare: building etcd-bench into ${cachedTool} (may install golang-go and golang-etcd-server-dev)\n`);
  const built = await exec(buildScript, [cachedTool], buildTimeoutMs);
  if (built.code === 0 && (await executable(cachedTool))) return { path: cachedTool };
  const why = built.timedOut ? 'timed out' : `exited ${built.code}: ${built.stderr.trim().split('\n').slice(-2).join(' | ')}`;
  return { skipped: `could not build etcd-bench (Go or golang-etcd-server-dev unavailable?): build.sh ${why}`.slice(0, 400) };
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function httpGet(url: string, timeoutMs: number): Promise<string> {
  return new Promise((done, fail) => {
    const request = http.get(url, { timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => done(body));
      response.on('error', fail);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', fail);
  });
}

interface Member { readonly name: string; readonly clientPort: number; readonly peerPort: number; process: ChildProcess | null; stderr: string }

/** Three members of one kind (keel or etcd) as child processes on loopback. */
class Cluster {
  readonly members: Member[] = [];
  root = '';

  constructor(readonly kind: 'keel' | 'etcd', readonly leaderMetric: string) {}

  async start(): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), `etcd-compare-${this.kind}-`));
    for (let i = 1; i <= 3; i++) this.members.push({ name: `${this.kind}${i}`, clientPort: await freePort(), peerPort: await freePort(), process: null, stderr: '' });
    const initialCluster = this.members.map((member) => `${member.name}=http://127.0.0.1:${member.peerPort}`).join(',');
    const profileDirectory = process.env.KEEL_BENCH_CPU_PROF;
    for (const member of this.members) {
      const client = `http://127.0.0.1:${member.clientPort}`;
      const peer = `http://127.0.0.1:${member.peerPort}`;
      const flags = ['--name', member.name, '--data-dir', join(this.root, member.name), '--listen-client-urls', client,
        '--advertise-client-urls', client, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
        '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', `etcd-compare-${this.kind}`];
      const child = this.kind === 'keel'
        ? spawn(process.execPath, [...(profileDirectory ? ['--cpu-prof', '--cpu-prof-dir', profileDirectory] : []), keelBin, 'serve', ...flags, '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'pipe'] })
        : spawn('etcd', [...flags, '--log-level', 'error', '--logger', 'zap'], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => { member.stderr = (member.stderr + chunk).slice(-2000); });
      child.on('error', (error) => { member.stderr += `\nspawn: ${error.message}`; });
      member.process = child;
    }
  }

  /** The member whose /metrics says it leads; throws with the members' stderr after the time limit. */
  async leader(): Promise<Member> {
    const deadline = Date.now() + leaderTimeoutMs;
    const pattern = new RegExp(`^${this.leaderMetric}(\\{[^}]*\\})? 1$`, 'm');
    while (Date.now() < deadline) {
      for (const member of this.members) {
        if (member.process !== null && member.process.exitCode !== null) throw new Error(`${this.kind} member ${member.name} exited: ${member.stderr.trim().slice(-500)}`);
        const metrics = await httpGet(`http://127.0.0.1:${member.clientPort}/metrics`, 1_000).catch(() => '');
        if (pattern.test(metrics)) return member;
      }
      await sleep(100);
    }
    throw new Error(`${this.kind}: no leader within ${leaderTimeoutMs} ms: ${this.members.map((member) => member.stderr.trim().slice(-300)).join(' | ')}`);
  }

  async stop(): Promise<void> {
    const exits = this.members.map((member) => {
      const child = member.process;
      member.process = null;
      if (child === null || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((done) => {
        const force = setTimeout(() => child.kill('SIGKILL'), 8_000);
        child.once('exit', () => { clearTimeout(force); done(); });
        child.kill('SIGTERM');
      });
    });
    await Promise.all(exits);
    if (this.root !== '') await rm(this.root, { recursive: true, force: true });
  }
}

async function drive(tool: string, endpoint: string, op: Op, timeoutMs = runTimeoutMs): Promise<Figures> {
  const args = ['--endpoints', endpoint, '--op', op.op, '--conns', String(op.conns), '--clients', String(op.clients), '--total', String(op.total), '--val', String(valueBytes)];
  const result = await exec(tool, args, timeoutMs);
  if (result.timedOut) return { rps: 0, p50_ms: 0, p99_ms: 0, errors: -1, error: `timeout after ${timeoutMs} ms` };
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as Figures;
    const figures: Figures = { rps: Math.round(parsed.rps), p50_ms: round(parsed.p50_ms), p90_ms: round(parsed.p90_ms ?? 0), p99_ms: round(parsed.p99_ms), max_ms: round(parsed.max_ms ?? 0), errors: parsed.errors };
    const firstError = result.stderr.trim().split('\n')[0];
    if (parsed.errors > 0 && firstError) figures.error = firstError.slice(0, 200);
    return figures;
  } catch {
    return { rps: 0, p50_ms: 0, p99_ms: 0, errors: -1, error: `exit ${result.code}: ${result.stderr.trim().slice(0, 200)}` };
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One side's runs of an op as one line: the median of each figure (errors summed, the first error kept). */
function medianFigures(runs: readonly Figures[]): Figures {
  const pick = (field: 'rps' | 'p50_ms' | 'p90_ms' | 'p99_ms' | 'max_ms'): number => round(median(runs.map((run) => run[field] ?? 0)));
  const error = runs.find((run) => run.error !== undefined)?.error;
  const errors = runs.some((run) => run.errors < 0) ? -1 : runs.reduce((sum, run) => sum + run.errors, 0);
  return { rps: Math.round(pick('rps')), p50_ms: pick('p50_ms'), p90_ms: pick('p90_ms'), p99_ms: pick('p99_ms'), max_ms: pick('max_ms'), errors, ...(error !== undefined ? { error } : {}) };
}

function ratio(keel: number, etcd: number): number | null {
  return etcd > 0 && keel > 0 ? Math.round((keel / etcd) * 100) / 100 : null;
}

export async function run(): Promise<void> {
  const tool = await findTool();
  const deadline = Date.now() + totalBudgetMs;
  // Each run gets its own limit, cut to what is left of the budget (less 10 s for teardown).
  const timeLeft = (): number => Math.min(runTimeoutMs, deadline - Date.now() - 10_000);
  if ('skipped' in tool) return report({ skipped: tool.skipped });
  const etcdInstalled = await onPath('etcd');
  const keel = new Cluster('keel', 'keel_server_is_leader');
  const etcd = etcdInstalled ? new Cluster('etcd', 'etcd_server_is_leader') : null;
  try {
    await keel.start();
    await etcd?.start();
    const endpoints: Record<'keel' | 'etcd', string | null> = { keel: null, etcd: null };
    endpoints.keel = `127.0.0.1:${(await keel.leader()).clientPort}`;
    let etcdProblem = etcd === null ? 'etcd is not installed (apt-get install etcd-server): keel only' : '';
    if (etcd !== null) {
      try {
        endpoints.etcd = `127.0.0.1:${(await etcd.leader()).clientPort}`;
      } catch (error) {
        etcdProblem = `etcd did not start, keel only: ${error instanceof Error ? error.message : String(error)}`.slice(0, 400);
      }
    }
    // Warm both up (keel's JIT, both servers' connections and allocators) without reporting it.
    const warmup: Op = { op: 'put', clients: 100, conns: 10, total: Math.max(200, Math.round(2_000 * scale)) };
    for (const kind of ['keel', 'etcd'] as const) if (endpoints[kind] !== null) await drive(tool.path, endpoints[kind], warmup, Math.max(1_000, timeLeft()));
    for (const [index, op] of ops.entries()) {
      const runs: Record<'keel' | 'etcd', Figures[]> = { keel: [], etcd: [] };
      for (let round = 0; round < rounds; round++) {
        if (timeLeft() < 5_000) break;
        const order = (index + round) % 2 === 0 ? (['keel', 'etcd'] as const) : (['etcd', 'keel'] as const);
        for (const kind of order) if (endpoints[kind] !== null) runs[kind].push(await drive(tool.path, endpoints[kind], op, Math.max(1_000, timeLeft())));
      }
      if (runs.keel.length === 0) {
        report({ op: op.op, clients: op.clients, skipped: `over the ${totalBudgetMs / 1000} s budget` });
        continue;
      }
      const figures = { keel: medianFigures(runs.keel), etcd: runs.etcd.length > 0 ? medianFigures(runs.etcd) : null };
      report({
        op: op.op, clients: op.clients, conns: op.conns, total: op.total, value_bytes: valueBytes, rounds: runs.keel.length,
        keel: figures.keel, etcd: figures.etcd,
        ratio_rps: figures.etcd ? ratio(figures.keel.rps, figures.etcd.rps) : null,
        ratio_p99: figures.etcd ? ratio(figures.keel.p99_ms, figures.etcd.p99_ms) : null,
        rounds_rps: { keel: runs.keel.map((run) => run.rps), etcd: runs.etcd.map((run) => run.rps) },
        rounds_p99_ms: { keel: runs.keel.map((run) => run.p99_ms), etcd: runs.etcd.map((run) => run.p99_ms) },
        ...(etcdProblem !== '' ? { note: etcdProblem } : {}),
      });
    }
  } finally {
    await Promise.all([keel.stop(), etcd?.stop()]);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await run();
