/**
 * TSDB benchmark, one JSON line per measurement. Run with `node --import tsx bench/tsdb.ts` (or through
 * bench/run.ts).
 *
 * - bytes-per-sample: a deterministic OpenMetrics file (1,000 series × 720 samples at a 15 s step: counters,
 *   random-walk gauges, constants, a little timestamp jitter, from a seeded PRNG) imported into keel and,
 *   when promtool is installed, into Prometheus blocks with `promtool tsdb create-blocks-from openmetrics`;
 *   both directories' sizes, and their ratio.
 * - append: samples per second through the Appender into the head (WAL included) at 10k and 1M active
 *   series, by label set and by series reference, on one core.
 * - memory-per-series: heap plus array-buffer bytes per active series (4 samples each) at 1M series.
 * - wal-replay: time to reopen a database whose WAL holds 1M samples.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { importOpenMetrics, Labels, silentLogger, Tsdb } from '../src/monitor/tsdb/index.ts';

const seriesCount = 1_000;
const samplesPerSeries = 720;
const stepMs = 15_000;
const twoHoursMs = 7_200_000;
/** Starts one hour into a 2h range, so the 3 hours of data span two block ranges. */
const startMs = Math.floor(1_700_000_000_000 / twoHoursMs) * twoHoursMs + twoHoursMs / 2;
const appendBatchSamples = 10_000;

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 16), 0x21f0aaad);
    mixed = Math.imul(mixed ^ (mixed >>> 15), 0x735a2d97);
    return ((mixed ^ (mixed >>> 15)) >>> 0) / 2 ** 32;
  };
}

function print(fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ benchmark: 'tsdb', ...fields }));
}

/** 40% counters, 40% random-walk gauges (two decimals), 20% constants, in families of 50 series. */
async function writeOpenMetrics(path: string): Promise<number> {
  const random = seededRandom(0x6b65656c);
  const out = createWriteStream(path);
  const write = (text: string): Promise<void> => (out.write(text) ? Promise.resolve() : new Promise((resolve) => out.once('drain', () => resolve())));
  const familySize = 50;
  let samples = 0;
  for (let family = 0; family < seriesCount / familySize; family += 1) {
    const kind = family % 5 < 2 ? 'counter' : family % 5 < 4 ? 'gauge' : 'constant';
    const name = `bench_${kind}_${family}`;
    await write(`# HELP ${name} Benchmark ${kind} family ${family}.\n# TYPE ${name} ${kind === 'counter' ? 'counter' : 'gauge'}\n`);
    for (let member = 0; member < familySize; member += 1) {
      const labels = `{instance="host-${String(member % 25).padStart(2, '0')}:9100",job="node",shard="${member}"}`;
      const rate = 10 ** (random() * 3 - 1);
      let value = kind === 'constant' ? Math.floor(random() * 1000) : Math.floor(random() * 10_000);
      const lines: string[] = [];
      for (let index = 0; index < samplesPerSeries; index += 1) {
        if (kind === 'counter') value += Math.round(rate * 15 * (0.5 + random()));
        else if (kind === 'gauge') value = Math.round((value + (random() - 0.5) * 10) * 100) / 100;
        const jitterMs = random() < 0.2 ? Math.floor(random() * 7) - 3 : 0;
        const timestampMs = startMs + index * stepMs + jitterMs;
        lines.push(`${name}${kind === 'counter' ? '_total' : ''}${labels} ${value} ${(timestampMs / 1000).toFixed(3)}\n`);
        samples += 1;
      }
      await write(lines.join(''));
    }
  }
  await write('# EOF\n');
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return samples;
}

async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

async function benchBytesPerSample(root: string): Promise<void> {
  const file = join(root, 'bench.om');
  const samples = await writeOpenMetrics(file);
  const keelDirectory = join(root, 'keel');
  const started = performance.now();
  const result = await importOpenMetrics(file, keelDirectory, { logger: silentLogger });
  const keelSeconds = (performance.now() - started) / 1000;
  const keelBytes = await directoryBytes(keelDirectory);
  const keelPerSample = keelBytes / samples;
  print({ measurement: 'bytes-per-sample', system: 'keel', series: seriesCount, samples, blocks: result.blocks.length, bytes: keelBytes, bytesPerSample: round(keelPerSample), importSeconds: round(keelSeconds) });
  const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (promtool.error !== undefined || promtool.status !== 0) {
    print({ measurement: 'bytes-per-sample', system: 'prometheus', skipped: `promtool is not installed (${promtool.error?.message ?? `exit ${promtool.status}`}); install the Debian package prometheus` });
    return;
  }
  const prometheusDirectory = join(root, 'prometheus');
  const promStarted = performance.now();
  const created = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', file, prometheusDirectory], { encoding: 'utf8' });
  const promSeconds = (performance.now() - promStarted) / 1000;
  if (created.status !== 0) {
    print({ measurement: 'bytes-per-sample', system: 'prometheus', skipped: `promtool failed: ${created.stderr.trim().slice(0, 300)}` });
    return;
  }
  const version = promtool.stdout.split('\n')[0]!.trim();
  const prometheusBytes = await directoryBytes(prometheusDirectory);
  const blocks = (await readdir(prometheusDirectory)).filter((name) => /^[0-9A-Z]{26}$/.test(name)).length;
  print({ measurement: 'bytes-per-sample', system: 'prometheus', version, series: seriesCount, samples, blocks, bytes: prometheusBytes, bytesPerSample: round(prometheusBytes / samples), importSeconds: round(promSeconds) });
  print({ measurement: 'bytes-per-sample-ratio', keelOverPrometheus: round(keelBytes / prometheusBytes), target: '<= 1' });
}

function makeLabels(count: number): Labels[] {
  return Array.from({ length: count }, (_, index) => Labels.fromRecord({
    __name__: `bench_metric_${index % 100}`,
    instance: `10.0.${(index >> 8) & 255}.${index & 255}:9100`,
    job: 'node',
    shard: String(index % 1_000),
  }));
}

interface Throughput {
  /** Samples per second of elapsed time. */
  readonly wall: number;
  /** Samples per second of CPU time (all threads): steadier than wall time on a shared machine. */
  readonly cpu: number;
}

/** Appends one sample per series per round, in commits of appendBatchSamples. */
async function appendRounds(db: Tsdb, labels: readonly Labels[], references: number[] | undefined, rounds: number, firstRound: number): Promise<Throughput> {
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  for (let round = firstRound; round < firstRound + rounds; round += 1) {
    const timestampMs = startMs + round * stepMs;
    for (let from = 0; from < labels.length; from += appendBatchSamples) {
      const appender = db.appender();
      const to = Math.min(labels.length, from + appendBatchSamples);
      if (references === undefined) {
        for (let index = from; index < to; index += 1) appender.append(labels[index]!, timestampMs, round * 3 + (index & 7));
      } else {
        for (let index = from; index < to; index += 1) appender.appendRef(references[index]!, timestampMs, round * 3 + (index & 7));
      }
      await appender.commit();
    }
  }
  const cpu = process.cpuUsage(cpuStarted);
  const samples = labels.length * rounds;
  return { wall: samples / ((performance.now() - started) / 1000), cpu: samples / ((cpu.user + cpu.system) / 1e6) };
}

function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

function memoryBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

async function benchAppend(root: string, activeSeries: number, rounds: number, warmUpRounds: number, measureMemory: boolean): Promise<void> {
  const gc = collectGarbage();
  const labels = makeLabels(activeSeries);
  gc();
  const baseline = memoryBytes();
  const db = await Tsdb.open(join(root, `append-${activeSeries}`), { compactionIntervalMs: 0, logger: silentLogger, appenderSamplesMax: appendBatchSamples });
  try {
    const createStarted = performance.now();
    const references: number[] = [];
    const creator = db.appender();
    for (const entry of labels) references.push(creator.seriesRef(entry));
    creator.rollback();
    const createSeconds = (performance.now() - createStarted) / 1000;
    // Warm-up: opens every series' first chunk and lets the optimising compiler see both paths.
    await appendRounds(db, labels, undefined, warmUpRounds, 0);
    await appendRounds(db, labels, references, warmUpRounds, warmUpRounds);
    const byLabels = await appendRounds(db, labels, undefined, rounds, 2 * warmUpRounds);
    const byReference = await appendRounds(db, labels, references, rounds, 2 * warmUpRounds + rounds);
    const common = { measurement: 'append', activeSeries, samples: activeSeries * rounds, samplesPerCommit: appendBatchSamples, wal: true };
    print({ ...common, path: 'append(labels)', samplesPerSecond: Math.round(byLabels.wall), samplesPerCpuSecond: Math.round(byLabels.cpu), target: '>= 1000000' });
    print({ ...common, path: 'appendRef(ref)', samplesPerSecond: Math.round(byReference.wall), samplesPerCpuSecond: Math.round(byReference.cpu), target: '>= 1000000' });
    print({ measurement: 'series-creation', activeSeries, seriesPerSecond: Math.round(activeSeries / createSeconds) });
    if (measureMemory) {
      gc();
      const samplesPerSeries = 2 * warmUpRounds + 2 * rounds;
      print({ measurement: 'memory-per-series', activeSeries, samplesPerSeries, bytesPerSeries: Math.round((memoryBytes() - baseline) / activeSeries) });
    }
  } finally {
    await db.close();
    await rm(join(root, `append-${activeSeries}`), { recursive: true, force: true });
  }
}

async function benchReplay(root: string): Promise<void> {
  const directory = join(root, 'replay');
  const series = 10_000;
  const rounds = 100;
  const labels = makeLabels(series);
  const db = await Tsdb.open(directory, { compactionIntervalMs: 0, logger: silentLogger, blockRangeMs: 24 * twoHoursMs });
  await appendRounds(db, labels, undefined, rounds, 0);
  const walBytes = db.stats().wal.sizeBytes;
  await db.close();
  const started = performance.now();
  const reopened = await Tsdb.open(directory, { compactionIntervalMs: 0, logger: silentLogger, blockRangeMs: 24 * twoHoursMs });
  const seconds = (performance.now() - started) / 1000;
  const replayed = reopened.stats().wal.replay.samplesReplayed;
  await reopened.close();
  print({ measurement: 'wal-replay', series, samples: replayed, walBytes, seconds: round(seconds), samplesPerSecond: Math.round(replayed / seconds) });
}

function round(value: number): number {
  return Number(value.toFixed(3));
}

/** Runs every TSDB measurement in a temporary directory. */
export async function run(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'keel-bench-tsdb-'));
  try {
    await benchBytesPerSample(root);
    await benchAppend(root, 10_000, 100, 10, false);
    await benchAppend(root, 1_000_000, 3, 1, true);
    await benchReplay(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
