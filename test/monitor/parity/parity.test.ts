// PromQL parity: the same OpenMetrics data loaded into keel (`keel monitor import`) and into Prometheus 2.42
// (`promtool tsdb create-blocks-from openmetrics`), both served on loopback, and the battery in
// queries.promql run against both HTTP APIs as instant queries at several times and as range queries. The
// answers must agree: same result type, same series with the same labels, values equal within a relative
// error of 1e-6 (NaN equals NaN). The agreement figure is printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../_net.ts';
import { dataEndSeconds, dataStartSeconds, labOpenMetrics } from './_data.ts';

const run = promisify(execFile);
const keel = join(import.meta.dirname, '..', '..', '..', 'bin', 'keel');
const installed = async (command: string) => run('sh', ['-c', `command -v ${command}`]).then(() => true, () => false);
const missing = !(await installed('prometheus')) || !(await installed('promtool'));
const relativeErrorMax = 1e-6;

interface Server { readonly url: string; readonly child: ChildProcess; readonly stderr: string[] }

function startServer(command: string, args: readonly string[], url: string): Server {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => { if (stderr.length < 200) stderr.push(chunk); });
  return { url, child, stderr };
}

async function waitReady(server: Server, limitMs = 30_000): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if (server.child.exitCode !== null) throw new Error(`${server.url} exited: ${server.stderr.join('')}`);
    const ok = await fetch(`${server.url}/api/v1/query?query=1`).then((response) => response.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${server.url} not ready: ${server.stderr.join('')}`);
}

async function stop(server: Server | null): Promise<void> {
  if (server === null || server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

type Answer = { status: string; errorType?: string; data?: { resultType: string; result: unknown } };

async function query(server: Server, path: string, params: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', body: new URLSearchParams(params) });
  return await response.json() as Answer;
}

function closeEnough(left: string, right: string): boolean {
  if (left === right) return true;
  const a = Number(left);
  const b = Number(right);
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= relativeErrorMax * Math.max(Math.abs(a), Math.abs(b));
}

/** Why two answers differ, or null when they agree. */
export function difference(keelAnswer: Answer, promAnswer: Answer): string | null {
  if (keelAnswer.status !== promAnswer.status) return `status ${keelAnswer.status} vs ${promAnswer.status}`;
  if (promAnswer.status !== 'success') return keelAnswer.errorType === promAnswer.errorType ? null : `errorType ${keelAnswer.errorType} vs ${promAnswer.errorType}`;
  const k = keelAnswer.data!;
  const p = promAnswer.data!;
  if (k.resultType !== p.resultType) return `resultType ${k.resultType} vs ${p.resultType}`;
  if (p.resultType === 'scalar' || p.resultType === 'string') {
    const [kt, kv] = k.result as [number, string];
    const [pt, pv] = p.result as [number, string];
    return kt === pt && closeEnough(kv, pv) ? null : `scalar ${JSON.stringify(k.result)} vs ${JSON.stringify(p.result)}`;
  }
  const index = (result: unknown) => new Map((result as { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[])
    .map((series) => [JSON.stringify(Object.entries(series.metric).sort()), series.values ?? [series.value!]]));
  const ks = index(k.result);
  const ps = index(p.result);
  if (ks.size !== ps.size) return `${ks.size} series vs ${ps.size}: ${[...ks.keys()].slice(0, 3).join(' ')} | ${[...ps.keys()].slice(0, 3).join(' ')}`;
  for (const [labels, promValues] of ps) {
    const keelValues = ks.get(labels);
    if (keelValues === undefined) return `missing series ${labels}`;
    if (keelValues.length !== promValues.length) return `${labels}: ${keelValues.length} points vs ${promValues.length}`;
    for (let i = 0; i < promValues.length; i++) {
      const [kt, kv] = keelValues[i]!;
      const [pt, pv] = promValues[i]!;
      if (kt !== pt || !closeEnough(kv, pv)) return `${labels} at ${pt}: ${kt}=${kv} vs ${pt}=${pv}`;
    }
  }
  return null;
}

test('PromQL parity with Prometheus 2.42 over the same data', { skip: missing ? 'prometheus/promtool not installed' : false, timeout: 300_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-parity-'));
  let prometheus: Server | null = null;
  let monitor: Server | null = null;
  try {
    const dataFile = join(root, 'lab.om');
    await writeFile(dataFile, labOpenMetrics());
    const config = join(root, 'config.yml');
    await writeFile(config, 'global:\n  scrape_interval: 15s\n');
    await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', dataFile, join(root, 'prometheus')], { maxBuffer: 16 << 20 });
    await run(process.execPath, [keel, 'monitor', 'import', dataFile, '--storage.tsdb.path', join(root, 'keel')], { maxBuffer: 16 << 20 });
    const promPort = await freePort();
    const keelPort = await freePort();
    prometheus = startServer('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(root, 'prometheus')}`, '--storage.tsdb.retention.time=100y',
      `--web.listen-address=127.0.0.1:${promPort}`], `http://127.0.0.1:${promPort}`);
    monitor = startServer(process.execPath, [keel, 'monitor', `--config.file=${config}`, `--storage.tsdb.path=${join(root, 'keel')}`, '--storage.tsdb.retention.time=100y',
      `--web.listen-address=127.0.0.1:${keelPort}`], `http://127.0.0.1:${keelPort}`);
    await Promise.all([waitReady(prometheus), waitReady(monitor)]);

    const expressions = (await readFile(join(import.meta.dirname, 'queries.promql'), 'utf8')).split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    const instants = [dataStartSeconds + 1800, dataStartSeconds + 3000, dataEndSeconds].map(String);
    const range = { start: String(dataStartSeconds + 600), end: String(dataEndSeconds), step: '60' };
    const failures: string[] = [];
    let total = 0;
    let nonEmpty = 0;
    for (const expression of expressions) {
      const cases: [string, Record<string, string>][] = [
        ...instants.map((time): [string, Record<string, string>] => ['/api/v1/query', { query: expression, time }]),
        ['/api/v1/query_range', { query: expression, ...range }],
      ];
      for (const [path, params] of cases) {
        total++;
        const [keelAnswer, promAnswer] = await Promise.all([query(monitor, path, params), query(prometheus, path, params)]);
        const why = difference(keelAnswer, promAnswer);
        const result = promAnswer.data?.result;
        if (promAnswer.status === 'success' && !(Array.isArray(result) && result.length === 0)) nonEmpty++;
        if (why !== null) failures.push(`${path} ${expression} ${params['time'] ?? 'range'}: ${why}`);
      }
    }
    console.log(JSON.stringify({ parity: { queries: total, nonEmpty, agree: total - failures.length, agreement: Number(((total - failures.length) / total).toFixed(4)) } }));
    assert.ok(total >= 200, 'the battery has at least 200 queries');
    // The battery must exercise real answers, not agree on empty results or errors.
    assert.ok(nonEmpty >= total * 0.9, `only ${nonEmpty} of ${total} queries have a non-empty successful answer`);
    assert.deepEqual(failures, [], `${failures.length} of ${total} queries disagree`);
  } finally {
    await stop(monitor);
    await stop(prometheus);
    await rm(root, { recursive: true, force: true });
  }
});
