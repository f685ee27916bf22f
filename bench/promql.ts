// keel's PromQL engine against Prometheus 2.42 over HTTP, in the same run, on the same data. One JSON line
// per data set:
//
//   {"bench":"promql","dataset":"lab","series":70,"queries":556,"measured":556,"keel":{"p50_ms":..,"p90_ms":..},
//    "prometheus":{..},"ratio_median":keel/prometheus,"worst":[{"ratio":..,"query":..},..],..}
//
// The queries are the parity battery (test/monitor/parity/queries.promql): each expression as three instant
// queries and one range query, as parity.test.ts runs them. Two data sets: the parity lab data (70 series,
// an hour at 15 s) and a larger one from bench/_promql-data.ts (10k series × 1 day at 15 s, 57.2M samples,
// at KEEL_BENCH_SCALE=1), with the instant times and range adapted to its day (the range step gives about
// 250 steps). Each is imported with `promtool tsdb create-blocks-from openmetrics` and `keel monitor
// import`, one after the other and timed, then served by `prometheus` and `keel monitor` with the same
// flags. Both keep the imports' 2h blocks: under 60h of retention the leveled compactor's largest range is
// 2h on both sides, so neither compacts during the run.
//
// After a warm-up (each expression once as an instant query), every query is timed on both sides (request
// sent to response body read, one keep-alive client), keel and Prometheus alternating which goes first,
// several times (5 on the lab data, 3 on the larger set; no more once a query has used 3 s, so the heaviest
// are timed once); the per-query median is kept. The ratio is keel/Prometheus per query, and its median over
// the queries is the figure (target: at most 1.0). An error answer (the battery's one invalid expression) is
// timed like any answer when both sides give it; a query that gets no answer (the 60 s per-query timeout, a
// 5xx) or different kinds of answer is listed under "failures" and left out of the ratios; queries left when
// the time budget is spent are counted as skipped. Without prometheus/promtool it prints one "skipped" line.
// At scale 1 the whole run takes over half an hour on a 2-core machine, most of it in the two imports.
//
// Run:  node --import tsx bench/promql.ts          (or `npm run bench`, which runs every bench)
// Env:  KEEL_BENCH_SCALE=0.1             the larger set's series count × this (default 1: 10k series)
//       KEEL_BENCH_PROMQL_BUDGET_S=3600  the whole bench's time budget in seconds (default 1 hour)
//       KEEL_BENCH_PROMQL_DATASETS=lab   only these data sets (lab, large)
//       KEEL_BENCH_PROMQL_KEEP=DIR       keep the imported stores under DIR and reuse them on the next run
//                                        (same data set and scale), skipping generation and import
//       KEEL_BENCH_PROMQL_MATCH=REGEX    only the battery's expressions matching REGEX
//       KEEL_BENCH_PROMQL_ROWS=FILE      also write every measured query (both medians, the ratio) to FILE,
//                                        one JSON line each, for finding where time goes
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataEndSeconds, dataStartSeconds, labOpenMetrics } from '../test/monitor/parity/_data.ts';
import { scaledInstancesAtScaleOne, scaledSeriesPerInstance, writeScaledOpenMetrics } from './_promql-data.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const keelBin = join(repoRoot, 'bin', 'keel');
const batteryFile = join(repoRoot, 'test', 'monitor', 'parity', 'queries.promql');
const labSeries = 70;
const largeStepSeconds = 15;
const largeSamplesPerSeries = 5_760;
/** Range queries over the larger set get about this many steps. */
const rangeStepsTarget = 250;
/** Under 60h the largest compaction range is 2h (10% of retention, ranges ×3): no compaction; a day fits. */
const retention = '50h';
const queryTimeoutMs = 60_000;
/** The client gives up this long after the servers' own query timeout. */
const queryClientGraceMs = 5_000;
const serverReadyTimeoutMs = 60_000;
const serverStopTimeoutMs = 10_000;
const labRepetitions = 5;
const largeRepetitions = 3;
/** A query is not repeated once its measurements (both sides) have taken this long. */
const queryMeasureMsMax = 3_000;
const worstShownMax = 5;
const failuresShownMax = 10;
const stderrCharactersMax = 2_000;
const budgetMs = positiveNumber(process.env.KEEL_BENCH_PROMQL_BUDGET_S, 3_600) * 1_000;
const scale = positiveNumber(process.env.KEEL_BENCH_SCALE, 1);
const dataSetNames = (process.env.KEEL_BENCH_PROMQL_DATASETS ?? 'lab,large').split(',').filter((name) => name !== '');
const keepDirectory = nonEmpty(process.env.KEEL_BENCH_PROMQL_KEEP);
const expressionFilter = nonEmpty(process.env.KEEL_BENCH_PROMQL_MATCH);
const rowsFile = nonEmpty(process.env.KEEL_BENCH_PROMQL_ROWS);

type Side = 'keel' | 'prometheus';
const sides: readonly Side[] = ['keel', 'prometheus'];

interface Server { readonly url: string; readonly child: ChildProcess; stderr: string }
type Servers = Record<Side, Server>;

interface Query { readonly expression: string; readonly kind: 'instant' | 'range'; readonly path: string; readonly params: Readonly<Record<string, string>> }

interface Times { readonly instants: readonly number[]; readonly range: { readonly start: number; readonly end: number; readonly step: number } }

interface Measurement {
  readonly ms: number;
  /** No usable answer: no response, a timeout, a 5xx. */
  readonly error?: string;
  /** `success` or `error ERRORTYPE` (both sides must give the same for the query to count). */
  readonly answer?: string;
  readonly series?: number;
}

interface QueryResult {
  readonly query: Query;
  readonly ms: Record<Side, number[]>;
  readonly error: Partial<Record<Side, string>>;
  readonly answer: Partial<Record<Side, string>>;
  readonly series: Partial<Record<Side, number>>;
}

function positiveNumber(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`bench/promql: expected a positive number, not ${JSON.stringify(text)}`);
  return value;
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}

function report(line: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench: 'promql', ...line }));
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
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

/** Runs a command to completion (stdout ignored), killed after `timeoutMs`; resolves with its outcome. */
function runCommand(file: string, args: readonly string[], timeoutMs: number): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  return new Promise((done) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, Math.max(1, timeoutMs));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-stderrCharactersMax); });
    child.on('error', (error) => { stderr += `\nspawn: ${error.message}`; });
    child.on('close', (code) => { clearTimeout(timer); done({ code, stderr, timedOut }); });
  });
}

async function onPath(command: string): Promise<boolean> {
  return (await runCommand('sh', ['-c', `command -v ${command}`], 5_000)).code === 0;
}

function startServer(command: string, args: readonly string[], port: number): Server {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const server: Server = { url: `http://127.0.0.1:${port}`, child, stderr: '' };
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => { server.stderr = (server.stderr + chunk).slice(-stderrCharactersMax); });
  child.on('error', (error) => { server.stderr += `\nspawn: ${error.message}`; });
  return server;
}

async function waitReady(server: Server): Promise<void> {
  const deadline = Date.now() + serverReadyTimeoutMs;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`${server.url} exited: ${server.stderr.trim()}`);
    const ok = await fetch(`${server.url}/api/v1/query?query=1`).then((response) => response.ok, () => false);
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${server.url} not ready within ${serverReadyTimeoutMs} ms: ${server.stderr.trim()}`);
}

/** SIGTERM, then SIGKILL if it has not exited within the stop timeout; resolves once it has exited. */
async function stopServer(server: Server | undefined): Promise<void> {
  if (server === undefined || server.child.exitCode !== null || server.child.signalCode !== null) return;
  await new Promise<void>((done) => {
    const force = setTimeout(() => server.child.kill('SIGKILL'), serverStopTimeoutMs);
    server.child.once('exit', () => { clearTimeout(force); done(); });
    server.child.kill('SIGTERM');
  });
}

async function startServers(directory: string, config: string): Promise<Servers> {
  const [keelPort, prometheusPort] = [await freePort(), await freePort()];
  const flags = (side: Side, port: number): string[] => [`--config.file=${config}`, `--storage.tsdb.path=${join(directory, side)}`,
    `--storage.tsdb.retention.time=${retention}`, `--web.listen-address=127.0.0.1:${port}`];
  const servers: Servers = {
    keel: startServer(process.execPath, [keelBin, 'monitor', ...flags('keel', keelPort), '--log.level=warn'], keelPort),
    prometheus: startServer('prometheus', [...flags('prometheus', prometheusPort), '--log.level=warn'], prometheusPort),
  };
  try {
    await Promise.all(sides.map((side) => waitReady(servers[side])));
  } catch (error) {
    await Promise.all(sides.map((side) => stopServer(servers[side])));
    throw error;
  }
  return servers;
}

async function readBattery(): Promise<string[]> {
  const text = await readFile(batteryFile, 'utf8');
  const pattern = expressionFilter === undefined ? undefined : new RegExp(expressionFilter);
  return text.split('\n').map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && (pattern === undefined || pattern.test(line)));
}

/** Each expression as an instant query at each time, then as a range query, as the parity test runs them. */
function queriesOf(expressions: readonly string[], times: Times): Query[] {
  const range = { start: String(times.range.start), end: String(times.range.end), step: String(times.range.step) };
  return expressions.flatMap((expression) => [
    ...times.instants.map((time): Query => ({ expression, kind: 'instant', path: '/api/v1/query', params: { query: expression, time: String(time) } })),
    { expression, kind: 'range', path: '/api/v1/query_range', params: { query: expression, ...range } },
  ]);
}

/** The larger set's times, placed in its day as the parity test places them in the lab's hour. */
function largeTimes(startSeconds: number, endSeconds: number): Times {
  const span = endSeconds - startSeconds;
  const rangeStart = startSeconds + 600;
  const step = Math.max(largeStepSeconds, Math.round((endSeconds - rangeStart) / rangeStepsTarget / largeStepSeconds) * largeStepSeconds);
  return { instants: [startSeconds + Math.round(span / 2), startSeconds + Math.round((span * 5) / 6), endSeconds], range: { start: rangeStart, end: endSeconds, step } };
}

/**
 * Time from sending the query to reading the whole body. When `check` is set the body is then read (untimed):
 * a successful answer gives its series count, an error answer (a 4xx, as for an invalid expression) its
 * errorType as `answer`. No response, a 5xx or a timeout is an `error`.
 */
async function measure(server: Server, query: Query, check: boolean): Promise<Measurement> {
  const body = new URLSearchParams({ ...query.params, timeout: `${queryTimeoutMs / 1000}s` });
  const started = performance.now();
  let bytes: ArrayBuffer;
  let status: number;
  try {
    const response = await fetch(`${server.url}${query.path}`, { method: 'POST', body, signal: AbortSignal.timeout(queryTimeoutMs + queryClientGraceMs) });
    status = response.status;
    bytes = await response.arrayBuffer();
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    return { ms: performance.now() - started, error: name === 'TimeoutError' ? 'client timeout' : String(error).slice(0, 200) };
  }
  const ms = performance.now() - started;
  if (!check && status < 500) return { ms };
  const answer = JSON.parse(new TextDecoder().decode(bytes)) as { status?: string; errorType?: string; error?: string; data?: { result?: unknown } };
  if (status >= 500) return { ms, error: `${status} ${answer.errorType ?? ''}: ${answer.error ?? ''}`.slice(0, 200) };
  if (answer.status !== 'success') return { ms, answer: `error ${answer.errorType ?? status}` };
  const result = answer.data?.result;
  return { ms, answer: 'success', series: Array.isArray(result) && result.every((item) => typeof item === 'object') ? result.length : 1 };
}

/** Times one query on both sides, alternating which goes first, until enough repetitions or time spent. */
async function measureQuery(servers: Servers, query: Query, repetitions: number, deadline: number): Promise<QueryResult> {
  const result: QueryResult = { query, ms: { keel: [], prometheus: [] }, error: {}, answer: {}, series: {} };
  let spentMs = 0;
  for (let repetition = 0; repetition < repetitions; repetition++) {
    if (repetition > 0 && (spentMs > queryMeasureMsMax || Date.now() > deadline)) break;
    const order = repetition % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const measurement = await measure(servers[side], query, repetition === 0);
      spentMs += measurement.ms;
      if (measurement.error !== undefined) result.error[side] = measurement.error;
      else result.ms[side].push(measurement.ms);
      if (measurement.answer !== undefined) result.answer[side] = measurement.answer;
      if (measurement.series !== undefined) result.series[side] = measurement.series;
    }
    if (Object.keys(result.error).length > 0) break;
    if (result.answer.keel !== result.answer.prometheus) {
      for (const side of sides) result.error[side] = result.answer[side] ?? '';
      break;
    }
  }
  return result;
}

function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Linear interpolation between order statistics; NaN for no values. */
function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((left, right) => left - right);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

function sideFigures(milliseconds: readonly number[]): Record<string, number> {
  const total = milliseconds.reduce((sum, value) => sum + value, 0);
  return { p50_ms: round(quantile(milliseconds, 0.5)), p90_ms: round(quantile(milliseconds, 0.9)), max_ms: round(quantile(milliseconds, 1)), total_ms: Math.round(total) };
}

/** A measured query's median time on each side and their ratio (keel / Prometheus). */
function rowOf(result: QueryResult): { result: QueryResult; keel: number; prometheus: number; ratio: number } {
  const keel = median(result.ms.keel);
  const prometheus = median(result.ms.prometheus);
  return { result, keel, prometheus, ratio: keel / prometheus };
}

/** The data set's summary line: latency quantiles over per-query medians, ratio figures, worst and failed queries. */
function summarize(results: readonly QueryResult[], total: number): Record<string, unknown> {
  const measured = results.filter((result) => Object.keys(result.error).length === 0 && result.ms.keel.length > 0 && result.ms.prometheus.length > 0);
  const rows = measured.map(rowOf);
  const ratios = (kind?: Query['kind']): number[] => rows.filter((row) => kind === undefined || row.result.query.kind === kind).map((row) => row.ratio);
  const sum = (side: Side): number => rows.reduce((total, row) => total + row[side], 0);
  const worst = [...rows].sort((left, right) => right.ratio - left.ratio).slice(0, worstShownMax).map((row) => ({
    ratio: round(row.ratio), kind: row.result.query.kind, query: row.result.query.expression, ...(row.result.query.params['time'] !== undefined ? { time: Number(row.result.query.params['time']) } : {}),
    keel_ms: round(row.keel), prometheus_ms: round(row.prometheus), series: row.result.series.prometheus,
  }));
  const failed = results.filter((result) => Object.keys(result.error).length > 0);
  const mismatched = measured.filter((result) => result.series.keel !== result.series.prometheus);
  return {
    queries: total, measured: measured.length, skipped: total - results.length, failed: failed.length,
    keel: sideFigures(rows.map((row) => row.keel)), prometheus: sideFigures(rows.map((row) => row.prometheus)),
    ratio_median: round(median(ratios())), ratio_median_instant: round(median(ratios('instant'))), ratio_median_range: round(median(ratios('range'))),
    ratio_p90: round(quantile(ratios(), 0.9)), ratio_of_totals: round(sum('keel') / sum('prometheus')),
    worst,
    ...(failed.length > 0 ? { failures: failed.slice(0, failuresShownMax).map((result) => ({ kind: result.query.kind, query: result.query.expression, ...result.error })) } : {}),
    // A sanity check of the data, not of correctness (parity.test.ts checks that): the same number of series.
    series_count_mismatches: mismatched.length,
  };
}

/** Imports `file` into both stores under `directory`, timed; throws with stderr when one fails. */
async function importBoth(file: string, directory: string, deadline: number): Promise<Record<Side, number>> {
  const commands: Record<Side, [string, string[]]> = {
    prometheus: ['promtool', ['tsdb', 'create-blocks-from', 'openmetrics', file, join(directory, 'prometheus')]],
    keel: [process.execPath, [keelBin, 'monitor', 'import', file, '--storage.tsdb.path', join(directory, 'keel')]],
  };
  const seconds: Record<Side, number> = { keel: 0, prometheus: 0 };
  for (const side of ['prometheus', 'keel'] as const) {
    const started = performance.now();
    const [command, args] = commands[side];
    const outcome = await runCommand(command, args, deadline - Date.now());
    if (outcome.timedOut) throw new Error(`${side} import did not finish within the time budget`);
    if (outcome.code !== 0) throw new Error(`${side} import exited ${outcome.code}: ${outcome.stderr.trim()}`);
    seconds[side] = round((performance.now() - started) / 1000, 1);
  }
  return seconds;
}

/**
 * Warm-up (untimed, both sides: every expression once as an instant query at the last instant time, which
 * reaches every code path at a fraction of the range queries' cost), then the timed battery while the budget
 * lasts.
 */
async function measureBattery(servers: Servers, queries: readonly Query[], repetitions: number, deadline: number): Promise<QueryResult[]> {
  const lastTime = queries.reduce((last, query) => Math.max(last, Number(query.params['time'] ?? 0)), 0);
  for (const query of queries) {
    if (Date.now() > deadline) break;
    if (query.params['time'] !== String(lastTime)) continue;
    for (const side of sides) await measure(servers[side], query, false);
  }
  const results: QueryResult[] = [];
  for (const query of queries) {
    if (Date.now() > deadline) break;
    results.push(await measureQuery(servers, query, repetitions, deadline));
  }
  return results;
}

/** What a data set's preparation gives: its times, series count and the figures of its generation. */
interface Prepared { readonly times: Times; readonly series: number; readonly extra: Record<string, unknown> }

interface DataSetPlan {
  readonly name: string;
  readonly repetitions: number;
  /** Writes the OpenMetrics file and describes the data. */
  readonly prepare: (file: string) => Promise<Prepared>;
}

const preparedFile = 'prepared.json';

/**
 * Generates and imports the data (or, with KEEL_BENCH_PROMQL_KEEP, reuses an earlier import of the same data
 * set), serves it from both sides, measures the battery and prints the data set's line.
 */
async function benchDataSet(root: string, plan: DataSetPlan, deadline: number): Promise<void> {
  const kept = keepDirectory !== undefined;
  const directory = kept ? join(resolve(keepDirectory), plan.name === 'large' ? `large-${scale}` : plan.name) : join(root, plan.name);
  let prepared = kept ? await readPrepared(directory) : undefined;
  let importSeconds: Record<Side, number> | 'reused' = 'reused';
  if (prepared === undefined) {
    await rm(directory, { recursive: true, force: true });
    await mkdir(directory, { recursive: true });
    const file = join(root, `${plan.name}.om`);
    prepared = await plan.prepare(file);
    importSeconds = await importBoth(file, directory, deadline);
    await rm(file, { force: true });
    if (kept) await writeFile(join(directory, preparedFile), JSON.stringify(prepared));
  }
  const config = join(directory, 'config.yml');
  await writeFile(config, 'global:\n  scrape_interval: 15s\n');
  const queries = queriesOf(await readBattery(), prepared.times);
  const servers = await startServers(directory, config);
  let results: QueryResult[];
  try {
    results = await measureBattery(servers, queries, plan.repetitions, deadline);
  } finally {
    await Promise.all(sides.map((side) => stopServer(servers[side])));
  }
  if (rowsFile !== undefined) await appendRows(rowsFile, plan.name, results);
  report({
    dataset: plan.name, series: prepared.series, ...prepared.extra, import_seconds: importSeconds, repetitions: plan.repetitions,
    instant_times: prepared.times.instants, range: prepared.times.range, ...summarize(results, queries.length),
  });
  if (!kept) await rm(directory, { recursive: true, force: true });
}

/** Every measured query of the data set as one JSON line: its kind, time, expression, both medians and the ratio. */
async function appendRows(file: string, dataset: string, results: readonly QueryResult[]): Promise<void> {
  const lines = results.filter((result) => result.ms.keel.length > 0 && result.ms.prometheus.length > 0).map(rowOf).map((row) =>
    JSON.stringify({ dataset, kind: row.result.query.kind, time: row.result.query.params['time'], query: row.result.query.expression,
      keel_ms: round(row.keel), prometheus_ms: round(row.prometheus), ratio: round(row.ratio) }));
  await appendFile(file, lines.map((line) => `${line}\n`).join(''));
}

/** The description an earlier kept run left, or undefined when there is none (or it is unreadable). */
async function readPrepared(directory: string): Promise<Prepared | undefined> {
  try {
    return JSON.parse(await readFile(join(directory, preparedFile), 'utf8')) as Prepared;
  } catch {
    return undefined;
  }
}

const labPlan: DataSetPlan = {
  name: 'lab',
  repetitions: labRepetitions,
  prepare: async (file) => {
    await writeFile(file, labOpenMetrics());
    const times: Times = { instants: [dataStartSeconds + 1800, dataStartSeconds + 3000, dataEndSeconds], range: { start: dataStartSeconds + 600, end: dataEndSeconds, step: 60 } };
    return { times, series: labSeries, extra: {} };
  },
};

const largePlan: DataSetPlan = {
  name: 'large',
  repetitions: largeRepetitions,
  prepare: async (file) => {
    const instances = Math.max(1, Math.round(scaledInstancesAtScaleOne * scale));
    const started = performance.now();
    const data = await writeScaledOpenMetrics(file, { instances, startSeconds: dataStartSeconds, stepSeconds: largeStepSeconds, samples: largeSamplesPerSeries });
    const extra = { scale, samples: data.samples, file_bytes: data.bytes, generate_seconds: round((performance.now() - started) / 1000, 1) };
    return { times: largeTimes(data.startSeconds, data.endSeconds), series: instances * scaledSeriesPerInstance, extra };
  },
};

export async function run(): Promise<void> {
  if (!(await onPath('prometheus')) || !(await onPath('promtool'))) return report({ skipped: 'prometheus or promtool is not installed (apt-get install prometheus)' });
  const deadline = Date.now() + budgetMs;
  const root = await mkdtemp(join(tmpdir(), 'keel-bench-promql-'));
  try {
    for (const plan of [labPlan, largePlan]) {
      const name = plan.name;
      if (!dataSetNames.includes(name)) continue;
      if (Date.now() > deadline) {
        report({ dataset: name, skipped: `over the ${budgetMs / 1000} s budget` });
        continue;
      }
      try {
        await benchDataSet(root, plan, deadline);
      } catch (error) {
        report({ dataset: name, error: (error instanceof Error ? error.message : String(error)).slice(0, 1_000) });
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await run();
