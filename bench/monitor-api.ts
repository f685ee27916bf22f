/**
 * Monitor HTTP API benchmark: selector parsing, and the series endpoints over HTTP against a real TSDB of
 * 10,000 series (100 metrics × 100 instances). Prints one JSON line per measurement. Run with
 * `node --import tsx bench/monitor-api.ts`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Tsdb } from '../src/monitor/tsdb/db.ts';
import { Labels } from '../src/monitor/tsdb/labels.ts';
import { createApiHandler, parseListenAddress, parseMetricSelector, startWebServer } from '../src/monitor/web/index.ts';
import type { TargetsView } from '../src/monitor/targets.ts';

const metricCount = 100;
const instanceCount = 100;
const samplesPerSeries = 10;
const startMs = 1_700_000_000_000;
const stepMs = 15_000;
const selectorParses = 100_000;
const requestsPerCase = 200;

const noTargets: TargetsView = { activeTargets: () => [], droppedTargets: () => [], metadata: () => [] };

function benchSelectorParsing(): void {
  const selector = 'http_requests_total{job="api", instance=~"10\\\\.0\\\\..*", code!="500", method=~"GET|POST"}';
  parseMetricSelector(selector);
  const started = performance.now();
  for (let index = 0; index < selectorParses; index += 1) parseMetricSelector(selector);
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ benchmark: 'monitor-api', measurement: 'selector-parse', selectorsPerSecond: Math.round(selectorParses / seconds) }));
}

async function fillTsdb(db: Tsdb): Promise<void> {
  const appender = db.appender();
  for (let metric = 0; metric < metricCount; metric += 1) {
    for (let instance = 0; instance < instanceCount; instance += 1) {
      const labels = Labels.fromRecord({ __name__: `metric_${metric}`, job: 'bench', instance: `host-${instance}:9100` });
      for (let sample = 0; sample < samplesPerSeries; sample += 1) appender.append(labels, startMs + sample * stepMs, sample);
    }
  }
  await appender.commit();
}

/** Sequential requests on one keep-alive connection: requests per second, median and p99 latency, bytes. */
async function benchRequests(name: string, url: string, count: number): Promise<void> {
  const latenciesMs: number[] = [];
  let bytes = 0;
  await (await fetch(url)).arrayBuffer();
  const started = performance.now();
  for (let index = 0; index < count; index += 1) {
    const requestStarted = performance.now();
    const response = await fetch(url);
    bytes = (await response.arrayBuffer()).byteLength;
    if (response.status !== 200) throw new Error(`${name}: status ${response.status}`);
    latenciesMs.push(performance.now() - requestStarted);
  }
  const seconds = (performance.now() - started) / 1000;
  latenciesMs.sort((left, right) => left - right);
  const quantile = (q: number): number => Number(latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(q * latenciesMs.length))]!.toFixed(2));
  console.log(JSON.stringify({ benchmark: 'monitor-api', measurement: name, series: metricCount * instanceCount, requestsPerSecond: Math.round(count / seconds), p50Ms: quantile(0.5), p99Ms: quantile(0.99), responseBytes: bytes }));
}

/** Parses selectors, then times the series endpoints against a filled TSDB. */
export async function run(): Promise<void> {
  benchSelectorParsing();
  const directory = await mkdtemp(join(tmpdir(), 'keel-bench-api-'));
  const db = await Tsdb.open(directory, { compactionIntervalMs: 0 });
  const server = await startWebServer(createApiHandler({
    queryable: db, targets: noTargets, flags: {}, configText: () => '',
    buildInfo: { version: '', revision: '', branch: '', buildUser: '', buildDate: '', goVersion: '' },
    runtimeInfo: () => ({ startTime: '', CWD: '', reloadConfigSuccess: true, lastConfigTime: '', corruptionCount: 0, storageRetention: '' }),
  }), parseListenAddress('127.0.0.1:0'));
  try {
    await fillTsdb(db);
    const api = `${server.url}/api/v1`;
    await benchRequests('series-one-metric-100-series', `${api}/series?match[]=metric_7`, requestsPerCase);
    await benchRequests('label-values-with-match', `${api}/label/instance/values?match[]=metric_7`, requestsPerCase);
    await benchRequests('labels-all', `${api}/labels`, requestsPerCase);
    await benchRequests('series-all-10000-series', `${api}/series?match[]=${encodeURIComponent('{job="bench"}')}`, requestsPerCase / 10);
  } finally {
    await server.close();
    await db.close();
    await rm(directory, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
