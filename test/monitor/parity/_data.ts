/**
 * Deterministic lab data for the PromQL parity harness, as an OpenMetrics file that both keel
 * (`keel monitor import`) and Prometheus (`promtool tsdb create-blocks-from openmetrics`) load.
 *
 * One hour at a 15 s step, starting at a fixed time: counters with resets, gauges (random walks, constants,
 * negative values, a series that stops halfway), and classic histogram buckets. Timestamps carry a little
 * jitter, as real scrapes do.
 */
import { seededRandom } from '../helpers/random.ts';

export const dataStartSeconds = 1_767_225_600; // 2026-01-01T00:00:00Z
export const dataStepSeconds = 15;
export const dataSamples = 240;
export const dataEndSeconds = dataStartSeconds + (dataSamples - 1) * dataStepSeconds;

function prng(seed: number): () => number {
  const random = seededRandom(seed);
  return () => random.next();
}

interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'unknown';
  readonly help: string;
  readonly series: { readonly labels: string; readonly values: (number | null)[] }[];
}

function labelText(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${value}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function counter(random: () => number, ratePerSecond: number, resetAt: number | null): number[] {
  const values: number[] = [];
  let value = Math.floor(random() * 1000);
  for (let i = 0; i < dataSamples; i++) {
    if (i === resetAt) value = 0;
    value += Math.floor(ratePerSecond * dataStepSeconds * (0.5 + random()));
    values.push(value);
  }
  return values;
}

function families(): Family[] {
  const random = prng(20261124);
  const requests: Family['series'] = [];
  for (const job of ['api', 'web']) {
    for (const instance of ['10.0.0.1:9100', '10.0.0.2:9100', '10.0.0.3:9100']) {
      for (const [method, code, rate] of [['GET', '200', 12], ['GET', '500', 0.4], ['POST', '200', 3], ['POST', '503', 0.1]] as const) {
        const resetAt = job === 'api' && instance === '10.0.0.2:9100' && method === 'GET' && code === '200' ? 150 : null;
        requests.push({ labels: labelText({ job, instance, method, code }), values: counter(random, rate, resetAt) });
      }
    }
  }
  const memory: Family['series'] = [];
  const temperature: Family['series'] = [];
  for (const instance of ['10.0.0.1:9100', '10.0.0.2:9100', '10.0.0.3:9100']) {
    let bytes = 2e9 + random() * 1e9;
    let celsius = -5 + random() * 10;
    const memoryValues: number[] = [];
    const temperatureValues: (number | null)[] = [];
    for (let i = 0; i < dataSamples; i++) {
      bytes += (random() - 0.45) * 5e6;
      celsius += random() - 0.5;
      memoryValues.push(Math.round(bytes));
      // One instance's sensor stops reporting halfway.
      temperatureValues.push(instance === '10.0.0.3:9100' && i >= dataSamples / 2 ? null : Math.round(celsius * 1000) / 1000);
    }
    memory.push({ labels: labelText({ job: 'node', instance }), values: memoryValues });
    temperature.push({ labels: labelText({ job: 'node', instance, sensor: 'cpu' }), values: temperatureValues });
  }
  const constant: Family['series'] = [
    { labels: labelText({ job: 'api', instance: '10.0.0.1:9100', version: '1.2.3' }), values: Array.from({ length: dataSamples }, () => 1) },
    { labels: labelText({ job: 'web', instance: '10.0.0.2:9100', version: '1.2.4' }), values: Array.from({ length: dataSamples }, () => 1) },
  ];
  const bounds = ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'];
  const buckets: Family['series'] = [];
  for (const job of ['api', 'web']) {
    const counts = bounds.map(() => 0);
    const series = bounds.map(() => [] as number[]);
    for (let i = 0; i < dataSamples; i++) {
      const observations = Math.floor(20 + random() * 40);
      for (let o = 0; o < observations; o++) {
        const latency = Math.exp(random() * 3 - 3.5) * (job === 'web' ? 2 : 1);
        bounds.forEach((bound, b) => { if (bound === '+Inf' || latency <= Number(bound)) counts[b]! += 1; });
      }
      counts.forEach((count, b) => series[b]!.push(count));
    }
    bounds.forEach((bound, b) => buckets.push({ labels: labelText({ job, le: bound }), values: series[b]! }));
  }
  return [
    { name: 'http_requests', type: 'counter', help: 'Requests handled.', series: requests },
    { name: 'node_memory_used_bytes', type: 'gauge', help: 'Memory in use.', series: memory },
    { name: 'node_temperature_celsius', type: 'gauge', help: 'Sensor temperature.', series: temperature },
    { name: 'app_build_info', type: 'gauge', help: 'Build information.', series: constant },
    { name: 'http_request_duration_seconds_bucket', type: 'unknown', help: 'Request latency buckets.', series: buckets },
  ];
}

/** The OpenMetrics text, ending with `# EOF`. Timestamps are seconds with millisecond jitter. */
export function labOpenMetrics(): string {
  const jitter = prng(7);
  const jitterMs = Array.from({ length: dataSamples }, () => Math.floor(jitter() * 40) - 20);
  const lines: string[] = [];
  for (const family of families()) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    const sampleName = family.type === 'counter' ? `${family.name}_total` : family.name;
    for (const series of family.series) {
      series.values.forEach((value, i) => {
        if (value === null) return;
        const timestampMs = (dataStartSeconds + i * dataStepSeconds) * 1000 + jitterMs[i]!;
        lines.push(`${sampleName}${series.labels} ${value} ${(timestampMs / 1000).toFixed(3)}`);
      });
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}
