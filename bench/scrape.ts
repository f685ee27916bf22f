/**
 * Scrape benchmarks, printed as JSON lines: the per-sample path between the parser and the store
 * (target labels, metric relabelling, limits) cold and with the relabelling cache warm, relabelling
 * rules on their own, and whole scrapes of a 10k-series exporter over loopback HTTP through the
 * scrape manager. Run: node --import tsx bench/scrape.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseMonitorConfig } from '../src/monitor/config.ts';
import { MutationCache, processSamples } from '../src/monitor/scrape/_samples.ts';
import type { SampleSettings } from '../src/monitor/scrape/_samples.ts';
import { newRelabelConfig, parseExposition, relabel, ScrapeManager } from '../src/monitor/scrape/index.ts';
import type { Appendable, AppendOutcome } from '../src/monitor/storage.ts';
import { Labels } from '../src/monitor/tsdb/index.ts';

const familyCount = 100;
const seriesPerFamily = 100;
const timedRounds = 5;
const httpScrapes = 10;

function exposition(): string {
  const lines: string[] = [];
  for (let family = 0; family < familyCount; family += 1) {
    lines.push(`# HELP bench_family_${family}_total Requests of family ${family}.`, `# TYPE bench_family_${family}_total counter`);
    for (let series = 0; series < seriesPerFamily; series += 1) {
      lines.push(`bench_family_${family}_total{method="GET",code="${200 + (series % 5)}",path="/api/v1/item/${series}",pod="pod-${series % 7}"} ${series * 17.5}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function report(result: Record<string, string | number>): void {
  console.log(JSON.stringify({ benchmark: 'scrape', ...result }));
}

function bestSeconds(work: () => void): number {
  work();
  let best = Infinity;
  for (let round = 0; round < timedRounds; round += 1) {
    const started = performance.now();
    work();
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return best;
}

function benchSampleProcessing(text: string): void {
  const parsed = parseExposition(text, { format: 'prometheus-text' });
  const target = Labels.fromRecord({ instance: '10.0.0.1:9100', job: 'bench' });
  const settings: SampleSettings = {
    honorLabels: false,
    metricRelabelConfigs: [
      newRelabelConfig({ action: 'drop', sourceLabels: ['__name__'], regex: 'go_.*' }),
      newRelabelConfig({ action: 'labeldrop', regex: 'pod' }),
    ],
    sampleLimit: 0, labelLimit: 30, labelNameLengthLimit: 200, labelValueLengthLimit: 1000,
  };
  const samples = parsed.samples.length;
  const parseSeconds = bestSeconds(() => parseExposition(text, { format: 'prometheus-text' }));
  report({ measurement: 'parse-text', samples, samplesPerSecond: Math.round(samples / parseSeconds) });
  const coldSeconds = bestSeconds(() => processSamples(parsed.samples, target, settings, new MutationCache()));
  report({ measurement: 'process-cold-cache', samples, samplesPerSecond: Math.round(samples / coldSeconds) });
  const cache = new MutationCache();
  const warmSeconds = bestSeconds(() => {
    processSamples(parsed.samples, target, settings, cache);
    cache.finishIteration();
  });
  report({ measurement: 'process-warm-cache', samples, samplesPerSecond: Math.round(samples / warmSeconds) });
}

function benchRelabel(): void {
  const rules = [
    newRelabelConfig({ sourceLabels: ['__address__'], regex: '([^:]+):(\\d+)', targetLabel: 'host', replacement: '$1' }),
    newRelabelConfig({ action: 'hashmod', sourceLabels: ['__address__'], modulus: 4n, targetLabel: '__tmp_shard' }),
    newRelabelConfig({ action: 'keep', sourceLabels: ['__tmp_shard'], regex: '0|1|2|3' }),
    newRelabelConfig({ action: 'labelmap', regex: '__meta_kubernetes_pod_label_(.+)' }),
    newRelabelConfig({ action: 'labeldrop', regex: '__tmp_.*' }),
  ];
  const sets = Array.from({ length: 10_000 }, (_, index) => Labels.fromRecord({
    __address__: `10.0.${index >> 8}.${index & 255}:9100`, __meta_kubernetes_pod_label_app: `app-${index % 50}`, __meta_kubernetes_pod_label_tier: 'web', job: 'k8s',
  }));
  const seconds = bestSeconds(() => {
    for (const labels of sets) relabel(labels, rules);
  });
  report({ measurement: 'relabel-5-rules', labelSets: sets.length, labelSetsPerSecond: Math.round(sets.length / seconds) });
}

/** Counts appends without storing them, so the HTTP benchmark measures the scraper, not a store. */
class CountingAppendable implements Appendable {
  appended = 0;
  durations: number[] = [];

  appender(): ReturnType<Appendable['appender']> {
    return {
      append: (labels: Labels, _timestampMs: number, value: number): AppendOutcome => {
        this.appended += 1;
        if (labels.metricName() === 'scrape_duration_seconds') this.durations.push(value);
        return 'ok';
      },
      commit: () => Promise.resolve(),
      rollback: () => {},
    };
  }
}

async function benchHttpScrapes(text: string): Promise<void> {
  const body = Buffer.from(text);
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const db = new CountingAppendable();
  const manager = new ScrapeManager(db);
  try {
    await manager.applyConfig(parseMonitorConfig(`scrape_configs: [{job_name: bench, scrape_interval: 500ms, static_configs: [{targets: ['${address}']}]}]`));
    while (db.durations.length < httpScrapes) await new Promise((resolve) => setTimeout(resolve, 50));
    const durations = db.durations.slice(1).sort((left, right) => left - right); // The first scrape warms up the JIT.
    const median = durations[Math.floor(durations.length / 2)]!;
    const samples = familyCount * seriesPerFamily;
    report({ measurement: 'http-scrape-10k-series', samples, bodyBytes: body.length, medianScrapeSeconds: Number(median.toFixed(4)), samplesPerSecond: Math.round(samples / median) });
  } finally {
    await manager.stop();
    server.closeAllConnections();
    server.close();
  }
}

/** Runs every scrape benchmark, printing JSON lines. */
export async function run(): Promise<void> {
  const text = exposition();
  benchSampleProcessing(text);
  benchRelabel();
  await benchHttpScrapes(text);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
