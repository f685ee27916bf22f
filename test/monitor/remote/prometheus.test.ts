// Integration: keel's remote-write sender against a real Prometheus 2.42 started with
// --web.enable-remote-write-receiver. Samples go in through the fanout and must come back from Prometheus's
// HTTP API with exact values and timestamps; the staleness marker must end a series; an out-of-order sample
// must be refused with 400 and not retried. Prometheus's remote-read answer (snappy from Go's encoder) is
// decoded with keel's decoder. Skipped only when the prometheus binary is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseMonitorConfig } from '../../../src/monitor/config.ts';
import type { RemoteWriteError } from '../../../src/monitor/remote/errors.ts';
import { QueueManager } from '../../../src/monitor/remote/queue-manager.ts';
import { snappyDecode, snappyEncode } from '../../../src/monitor/remote/snappy.ts';
import { WriteStorage } from '../../../src/monitor/remote/write-storage.ts';
import type { Appendable } from '../../../src/monitor/storage.ts';
import { floatFromBits, Labels, staleMarkerHighBits, staleMarkerLowBits } from '../../../src/monitor/tsdb/index.ts';
import { freePort } from '../../_net.ts';
import { decodeReadResponse } from './_decode.ts';
import { eventually } from './_receiver.ts';

const run = promisify(execFile);
const missing = await run('sh', ['-c', 'command -v prometheus']).then(() => false, () => true);

/** A primary store that accepts everything (the TSDB's part is tested elsewhere). */
const acceptingStore: Appendable = { appender: () => ({ append: () => 'ok', commit: async () => {}, rollback: () => {} }) };

interface Prometheus { readonly url: string; readonly child: ChildProcess; readonly stderr: string[] }

async function startPrometheus(directory: string): Promise<Prometheus> {
  const config = join(directory, 'prometheus.yml');
  await writeFile(config, 'global:\n  scrape_interval: 15s\n');
  const port = await freePort();
  const child = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(directory, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => { if (stderr.length < 500) stderr.push(chunk); });
  const prometheus = { url: `http://127.0.0.1:${port}`, child, stderr };
  const started = Date.now();
  while (!(await fetch(`${prometheus.url}/-/ready`).then((response) => response.ok, () => false))) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr.join('')}`);
    if (Date.now() - started > 30_000) throw new Error(`prometheus not ready: ${stderr.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return prometheus;
}

async function stopPrometheus(prometheus: Prometheus | undefined): Promise<void> {
  if (prometheus === undefined || prometheus.child.exitCode !== null) return;
  const exited = new Promise((resolve) => prometheus.child.once('exit', resolve));
  prometheus.child.kill('SIGTERM');
  await exited;
}

/** Prometheus's JSON spelling of a float. */
const parseValue = (text: string): number => (text === '+Inf' ? Number.POSITIVE_INFINITY : text === '-Inf' ? Number.NEGATIVE_INFINITY : Number(text));

type ApiAnswer<T> = { status: string; data: T };
type Matrix = { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] };

async function api<T>(prometheus: Prometheus, path: string, params: Record<string, string>): Promise<T> {
  const response = await fetch(`${prometheus.url}${path}`, { method: 'POST', body: new URLSearchParams(params) });
  const answer = await response.json() as ApiAnswer<T>;
  assert.equal(answer.status, 'success', `${path} ${JSON.stringify(params)}: ${JSON.stringify(answer)}`);
  return answer.data;
}

/** A remote-read ReadRequest for `{__name__=~pattern}` over [start, end], hand-encoded (protobuf). */
function readRequest(pattern: string, startMs: number, endMs: number): Uint8Array {
  const varint = (value: number): number[] => {
    const out: number[] = [];
    let remaining = value;
    while (remaining >= 0x80) { out.push((remaining % 0x80) | 0x80); remaining = Math.floor(remaining / 0x80); }
    return [...out, remaining];
  };
  const text = (field: number, value: string): number[] => { const bytes = [...new TextEncoder().encode(value)]; return [(field << 3) | 2, ...varint(bytes.length), ...bytes]; };
  const message = (field: number, body: number[]): number[] => [(field << 3) | 2, ...varint(body.length), ...body];
  const matcher = [0x08, 2, ...text(2, '__name__'), ...text(3, pattern)]; // type RE = 2
  const query = [0x08, ...varint(startMs), 0x10, ...varint(endMs), ...message(3, matcher)];
  return Uint8Array.from(message(1, query));
}

test('samples sent by keel arrive in a real Prometheus with exact values and timestamps', { skip: missing ? 'prometheus not installed' : false, timeout: 60_000 }, async () => {
  const directory = await mkdtemp(join(tmpdir(), 'keel-remote-write-'));
  let prometheus: Prometheus | undefined;
  const storage = new WriteStorage();
  try {
    prometheus = await startPrometheus(directory);
    const text = `remote_write:\n  - url: ${prometheus.url}/api/v1/write\n    name: prom\n    queue_config: { max_samples_per_send: 16, batch_send_deadline: 50ms, min_shards: 2, max_shards: 2 }\n`;
    await storage.applyConfig(parseMonitorConfig(text).remoteWrite, Labels.fromRecord({ cluster: 'keel-test' }));
    const appendable = storage.fanout(acceptingStore);

    const baseMs = Date.now() - 10 * 60_000;
    const series = [
      Labels.fromRecord({ __name__: 'keel_test_gauge', instance: 'a' }),
      Labels.fromRecord({ __name__: 'keel_test_requests_total', instance: 'b', route: '/v3/kv/range' }),
      Labels.fromRecord({ __name__: 'keel_test_unicode', note: 'välue ✓ 🚀 "quoted"' }),
    ];
    const values = [0.1, -2.5, 1e-300, 12345678.901, 3, 1 / 3, 1.7976931348623157e308, 42];
    const expected = new Map<string, [number, number][]>();
    const appender = appendable.appender();
    for (let seriesIndex = 0; seriesIndex < series.length; seriesIndex += 1) {
      const samples: [number, number][] = [];
      for (let step = 0; step < 40; step += 1) {
        const timestampMs = baseMs + step * 15_000 + seriesIndex * 7 + (step % 3);
        const value = values[(step + seriesIndex) % values.length]! * (step + 1);
        appender.append(series[seriesIndex]!, timestampMs, value);
        samples.push([timestampMs, value]);
      }
      expected.set(series[seriesIndex]!.metricName(), samples);
    }
    const staleLabels = Labels.fromRecord({ __name__: 'keel_test_stale' });
    appender.append(staleLabels, baseMs, 5);
    appender.append(staleLabels, baseMs + 60_000, floatFromBits(staleMarkerHighBits, staleMarkerLowBits));
    await appender.commit();
    const total = series.length * 40 + 2;
    await eventually(() => storage.counters().queues[0]!.samplesSent === total, `${total} samples accepted`, 20_000);
    const counters = storage.counters().queues[0]!;
    assert.equal(counters.samplesFailed, 0);
    assert.equal(counters.remoteName, 'prom');

    const endSeconds = String((baseMs + 40 * 15_000 + 1000) / 1000);
    for (const [name, samples] of expected) {
      const matrix: Matrix = await api<Matrix>(prometheus, '/api/v1/query', { query: `${name}[1h]`, time: endSeconds });
      assert.equal(matrix.resultType, 'matrix');
      assert.equal(matrix.result.length, 1, name);
      const got = matrix.result[0]!.values.map(([seconds, value]): [number, number] => [Math.round(seconds * 1000), parseValue(value)]);
      assert.deepEqual(got, samples, name);
    }
    const seriesList = await api<Record<string, string>[]>(prometheus, '/api/v1/series', {
      'match[]': '{__name__=~"keel_test_.*"}', start: String(baseMs / 1000 - 1), end: endSeconds,
    });
    const byName = new Map(seriesList.map((labels) => [labels['__name__'], labels]));
    assert.equal(byName.size, 4);
    assert.deepEqual(byName.get('keel_test_requests_total'), { __name__: 'keel_test_requests_total', cluster: 'keel-test', instance: 'b', route: '/v3/kv/range' });
    assert.equal(byName.get('keel_test_unicode')?.['note'], 'välue ✓ 🚀 "quoted"');

    // The staleness marker ends the series: before it the last value is visible, after it nothing is.
    const instant = async (atMs: number) => (await api<{ result: { value: [number, string] }[] }>(prometheus!, '/api/v1/query', { query: 'keel_test_stale', time: String(atMs / 1000) })).result;
    assert.deepEqual((await instant(baseMs + 59_000)).map((sample) => sample.value[1]), ['5']);
    assert.deepEqual(await instant(baseMs + 61_000), [], 'a plain NaN would have shown as "NaN"; the marker hides the series');

    // Prometheus's remote read answers with Go's snappy; keel's decoder must read it back to the same samples.
    const response = await fetch(`${prometheus.url}/api/v1/read`, {
      method: 'POST', body: snappyEncode(readRequest('keel_test_(gauge|requests_total|unicode)', baseMs - 1, baseMs + 3_600_000)),
      headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Read-Version': '0.1.0' },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-encoding'), 'snappy');
    const compressed = new Uint8Array(await response.arrayBuffer());
    const decoded = snappyDecode(compressed);
    assert.ok(compressed.length < decoded.length, `Go's encoder found matches (${compressed.length} of ${decoded.length} bytes)`);
    const [results] = decodeReadResponse(decoded);
    assert.equal(results!.length, 3);
    for (const result of results!) {
      const name = Object.fromEntries(result.labels)['__name__']!;
      assert.deepEqual(result.samples.map((sample) => [sample.timestampMs, sample.value]), expected.get(name), `remote read of ${name}`);
    }
  } finally {
    await storage.close();
    await stopPrometheus(prometheus);
    await rm(directory, { recursive: true, force: true });
  }
});

test('a real Prometheus refuses an out-of-order sample with 400, and keel does not retry it', { skip: missing ? 'prometheus not installed' : false, timeout: 60_000 }, async () => {
  const directory = await mkdtemp(join(tmpdir(), 'keel-remote-write-'));
  let prometheus: Prometheus | undefined;
  let queue: QueueManager | undefined;
  try {
    prometheus = await startPrometheus(directory);
    const text = `remote_write:\n  - url: ${prometheus.url}/api/v1/write\n    queue_config: { max_samples_per_send: 1, batch_send_deadline: 10ms, min_backoff: 1ms }\n`;
    const errors: string[] = [];
    queue = new QueueManager({ config: parseMonitorConfig(text).remoteWrite[0]!, onError: (error: RemoteWriteError, _samples, willRetry) => errors.push(`${willRetry} ${error.message}`) });
    const labels = Labels.fromRecord({ __name__: 'keel_test_order' });
    const nowMs = Date.now();
    queue.append(labels, nowMs, 1);
    await eventually(() => queue!.counters().samplesSent === 1, 'the first sample accepted', 20_000);
    queue.append(labels, nowMs - 60_000, 2);
    await eventually(() => queue!.counters().samplesFailed === 1, 'the old sample refused', 20_000);
    const counters = queue.counters();
    assert.equal(counters.requestsSent, 2);
    assert.equal(counters.samplesRetried, 0);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^false Server returned HTTP status 400 Bad Request: out of order sample/);
  } finally {
    await queue?.stop();
    await stopPrometheus(prometheus);
    await rm(directory, { recursive: true, force: true });
  }
});
