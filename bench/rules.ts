/**
 * Rule manager and notifier benchmark: alert template expansion, one evaluation of an alerting rule and
 * of a recording rule over many series (query, state machine, ALERTS series written), and queueing alerts
 * in the notifier. Prints one JSON line per measurement. Run with `node --import tsx bench/rules.ts`.
 */
import { pathToFileURL } from 'node:url';
import { Notifier } from '../src/monitor/notifier/index.ts';
import type { NotifierAlert } from '../src/monitor/notifier/index.ts';
import { Engine, MemoryStorage } from '../src/monitor/promql/index.ts';
import { AlertTemplate, parseRuleFile, RuleManager } from '../src/monitor/rules/index.ts';
import { Labels } from '../src/monitor/tsdb/index.ts';

const seriesCount = 10_000;
const evaluations = 5;
const startMs = 1_700_000_000_000;
const intervalMs = 15_000;
const timedRounds = 3;

function bestSeconds(run: () => void): number {
  run();
  let best = Infinity;
  for (let round = 0; round < timedRounds; round += 1) {
    const started = performance.now();
    run();
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return best;
}

function templates(): void {
  const template = AlertTemplate.compile('{{ $labels.instance }} of {{ $labels.job }} has load {{ humanize $value }} ({{ printf "%.1f" $value }})', 'HighLoad');
  const data = { labels: Labels.fromRecord({ instance: 'node-17:9100', job: 'node' }), externalLabels: Labels.empty, externalUrl: '', value: 12_345.678 };
  const count = 20_000;
  const seconds = bestSeconds(() => {
    for (let index = 0; index < count; index += 1) template.expand(data);
  });
  console.log(JSON.stringify({ benchmark: 'rules', measurement: 'template-expand', expansionsPerSecond: Math.round(count / seconds), microsecondsPerExpansion: Number(((seconds / count) * 1e6).toFixed(2)) }));
}

async function evaluation(kind: 'alerting' | 'recording'): Promise<void> {
  const storage = new MemoryStorage();
  const appender = storage.appender();
  for (let series = 0; series < seriesCount; series += 1) {
    const labels = Labels.fromRecord({ __name__: 'load', instance: `node-${series}:9100`, job: `job-${series % 10}` });
    for (let step = 0; step <= evaluations; step += 1) appender.append(labels, startMs + step * intervalMs, 2 + (series % 7));
  }
  await appender.commit();
  const rule = kind === 'alerting'
    ? '{alert: HighLoad, expr: load > 1, for: 30s, labels: {severity: page}, annotations: {summary: "{{ $labels.instance }} at {{ humanize $value }}"}}'
    : '{record: "job:load:sum", expr: "sum by (job) (load)"}';
  const manager = new RuleManager({ queryable: storage, appendable: storage, engine: new Engine(), notify: () => {} });
  await manager.loadGroups(parseRuleFile(`groups: [{name: bench, rules: [${rule}]}]`, 'bench.yml'), { evaluationIntervalMs: intervalMs });
  const timings: number[] = [];
  for (let step = 0; step <= evaluations; step += 1) {
    const started = performance.now();
    await manager.evaluateAll(startMs + step * intervalMs);
    timings.push(performance.now() - started);
  }
  const steady = Math.min(...timings.slice(1));
  const heapBytes = process.memoryUsage().heapUsed;
  console.log(JSON.stringify({ benchmark: 'rules', measurement: `${kind}-rule-evaluation`, series: seriesCount, firstEvaluationMs: Number(timings[0]!.toFixed(1)), steadyEvaluationMs: Number(steady.toFixed(1)), microsecondsPerSeries: Number(((steady / seriesCount) * 1000).toFixed(2)), heapUsedBytes: heapBytes }));
}

async function notifierQueue(): Promise<void> {
  const alerts: NotifierAlert[] = Array.from({ length: 1000 }, (_, index) => ({
    labels: Labels.fromRecord({ alertname: 'HighLoad', instance: `node-${index}` }),
    annotations: Labels.fromRecord({ summary: 'high load' }),
    startsAtMs: startMs,
    endsAtMs: startMs + 240_000,
    generatorUrl: 'http://monitor:9090/graph',
  }));
  const notifier = new Notifier();
  const rounds = 50;
  const seconds = bestSeconds(() => {
    for (let round = 0; round < rounds; round += 1) notifier.send(alerts);
  });
  await notifier.stop();
  console.log(JSON.stringify({ benchmark: 'rules', measurement: 'notifier-send', alertsPerSecond: Math.round((rounds * alerts.length) / seconds), dropped: notifier.statistics().dropped }));
}

/** Runs every measurement, printing JSON lines. */
export async function run(): Promise<void> {
  templates();
  await evaluation('alerting');
  await evaluation('recording');
  await notifierQueue();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
