import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMonitorConfig } from '../../../src/monitor/config.ts';
import type { RemoteWriteConfig } from '../../../src/monitor/config.ts';
import type { RemoteWriteError } from '../../../src/monitor/remote/errors.ts';
import { QueueManager } from '../../../src/monitor/remote/queue-manager.ts';
import type { QueueManagerOptions } from '../../../src/monitor/remote/queue-manager.ts';
import { floatFromBits, Labels, staleMarkerHighBits, staleMarkerLowBits } from '../../../src/monitor/tsdb/index.ts';
import { freePort } from '../../_net.ts';
import { eventually, TestReceiver } from './_receiver.ts';

/** A remote_write entry parsed by the real configuration parser. */
function remoteWriteConfig(url: string, extra = ''): RemoteWriteConfig {
  const text = `remote_write:\n  - url: ${url}\n${extra.split('\n').filter((line) => line !== '').map((line) => `    ${line}`).join('\n')}\n`;
  return parseMonitorConfig(text).remoteWrite[0]!;
}

const series = (name: string, extra: Record<string, string> = {}): Labels => Labels.fromRecord({ __name__: name, job: 'keel', ...extra });

async function withQueue(receiverSetup: (receiver: TestReceiver) => void, configExtra: string, options: Partial<QueueManagerOptions>,
  body: (queue: QueueManager, receiver: TestReceiver) => Promise<void>): Promise<void> {
  const receiver = await TestReceiver.start();
  receiverSetup(receiver);
  const queue = new QueueManager({ config: remoteWriteConfig(receiver.url, configExtra), ...options });
  try {
    await body(queue, receiver);
  } finally {
    await queue.stop();
    await receiver.close();
  }
}

test('QueueManager sends full batches of max_samples_per_send and groups a series\' samples', async () => {
  const config = 'queue_config: { max_samples_per_send: 10, capacity: 100, max_shards: 1, batch_send_deadline: 1m }';
  await withQueue(() => {}, config, {}, async (queue, receiver) => {
    for (let index = 0; index < 30; index += 1) queue.append(series(`metric_${index % 3}`), 1000 + index, index);
    await receiver.waitFor(() => receiver.requests.length === 3, 'three batches');
    for (const request of receiver.requests) {
      assert.equal(request.body.timeseries.length, 3, 'one TimeSeries per series in the batch');
      assert.equal(request.body.timeseries.reduce((sum, entry) => sum + entry.samples.length, 0), 10);
    }
    assert.deepEqual(receiver.samples().map(([, timestampMs]) => timestampMs).sort(), Array.from({ length: 30 }, (_, index) => 1000 + index));
    await eventually(() => queue.counters().samplesSent === 30, 'samplesSent 30');
    const counters = queue.counters();
    assert.equal(counters.samplesIn, 30);
    assert.equal(counters.samplesPending, 0);
    assert.equal(counters.requestsSent, 3);
    assert.equal(counters.bytesSent, receiver.requests.reduce((sum, request) => sum + request.compressed.length, 0));
    assert.equal(counters.highestSentTimestampMs, 1029);
  });
});

test('QueueManager sends a partial batch once batch_send_deadline passes', async () => {
  await withQueue(() => {}, 'queue_config: { max_samples_per_send: 100, batch_send_deadline: 20ms }', {}, async (queue, receiver) => {
    queue.append(series('a'), 1, 1);
    queue.append(series('a'), 2, 2);
    await receiver.waitFor(() => receiver.requests.length === 1, 'the deadline batch');
    assert.deepEqual(receiver.samples(), [['a', 1, 1], ['a', 2, 2]]);
  });
});

test('QueueManager sends the protocol headers, custom headers and basic auth', async () => {
  const config = 'headers: { X-Scope-OrgID: tenant-1 }\nremote_timeout: 5s\nqueue_config: { batch_send_deadline: 10ms }';
  await withQueue(() => {}, config, { basicAuth: { username: 'keel', password: 's3cret' } }, async (queue, receiver) => {
    queue.append(series('up'), 5, 1);
    await receiver.waitFor(() => receiver.requests.length === 1, 'one request');
    const request = receiver.requests[0]!;
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/api/v1/write');
    assert.equal(request.headers['content-encoding'], 'snappy');
    assert.equal(request.headers['content-type'], 'application/x-protobuf');
    assert.equal(request.headers['user-agent'], 'keel-monitor/0.1.0');
    assert.equal(request.headers['x-prometheus-remote-write-version'], '0.1.0');
    assert.equal(request.headers['x-scope-orgid'], 'tenant-1');
    assert.equal(request.headers['authorization'], `Basic ${Buffer.from('keel:s3cret').toString('base64')}`);
  });
});

test('QueueManager retries a 500 with backoff and then succeeds, counting the retries', async () => {
  const errors: [string, boolean][] = [];
  const onError = (error: RemoteWriteError, _samples: number, willRetry: boolean): void => { errors.push([error.code, willRetry]); };
  const config = 'queue_config: { max_samples_per_send: 4, batch_send_deadline: 1m, min_backoff: 5ms, max_backoff: 20ms }';
  await withQueue((receiver) => receiver.replies.push({ status: 500, body: 'try later' }, { status: 503 }), config, { onError }, async (queue, receiver) => {
    for (let index = 0; index < 4; index += 1) queue.append(series('r'), index + 1, index);
    await eventually(() => queue.counters().samplesSent === 4, 'the batch delivered');
    assert.equal(receiver.requests.length, 3);
    assert.deepEqual(receiver.requests[1]!.compressed, receiver.requests[0]!.compressed, 'the same body is resent');
    const counters = queue.counters();
    assert.equal(counters.samplesRetried, 8);
    assert.equal(counters.samplesFailed, 0);
    assert.equal(counters.requestsSent, 3);
    assert.deepEqual(errors, [['REMOTE_HTTP_STATUS', true], ['REMOTE_HTTP_STATUS', true]]);
  });
});

test('QueueManager does not retry a 400: the batch is dropped and counted as failed', async () => {
  const messages: string[] = [];
  const onError = (error: RemoteWriteError, samples: number, willRetry: boolean): void => { messages.push(`${samples} ${willRetry} ${error.message}`); };
  await withQueue((receiver) => receiver.replies.push({ status: 400, body: 'out of order sample\nsecond line' }), 'queue_config: { max_samples_per_send: 3, min_backoff: 1ms }', { onError }, async (queue, receiver) => {
    for (let index = 0; index < 3; index += 1) queue.append(series('bad'), index, index);
    await eventually(() => queue.counters().samplesFailed === 3, 'the batch failed');
    assert.equal(receiver.requests.length, 1);
    assert.equal(queue.counters().samplesRetried, 0);
    assert.equal(queue.counters().samplesSent, 0);
    assert.equal(queue.counters().samplesPending, 0);
    assert.deepEqual(messages, ['3 false Server returned HTTP status 400 Bad Request: out of order sample']);
    // The queue goes on with the next batch.
    for (let index = 3; index < 6; index += 1) queue.append(series('bad'), index, index);
    await eventually(() => queue.counters().samplesSent === 3, 'the next batch delivered');
  });
});

test('QueueManager retries 429 only with retry_on_http_429', async () => {
  await withQueue((receiver) => receiver.replies.push({ status: 429 }), 'queue_config: { max_samples_per_send: 1, min_backoff: 1ms }', {}, async (queue, receiver) => {
    queue.append(series('x'), 1, 1);
    await eventually(() => queue.counters().samplesFailed === 1, 'failed without retry');
    assert.equal(receiver.requests.length, 1);
  });
  const config = 'queue_config: { max_samples_per_send: 1, min_backoff: 1ms, retry_on_http_429: true }';
  await withQueue((receiver) => receiver.replies.push({ status: 429, headers: { 'Retry-After': '0' } }), config, {}, async (queue, receiver) => {
    queue.append(series('x'), 1, 1);
    await eventually(() => queue.counters().samplesSent === 1, 'sent after a retry');
    assert.equal(receiver.requests.length, 2);
    assert.equal(queue.counters().samplesRetried, 1);
  });
});

test('QueueManager gives a batch up after sendAttemptsMax retryable failures', async () => {
  await withQueue((receiver) => { receiver.fallback = { status: 502 }; }, 'queue_config: { max_samples_per_send: 2, min_backoff: 1ms, max_backoff: 2ms }', { sendAttemptsMax: 3 }, async (queue, receiver) => {
    queue.append(series('y'), 1, 1);
    queue.append(series('y'), 2, 2);
    await eventually(() => queue.counters().samplesFailed === 2, 'given up');
    assert.equal(receiver.requests.length, 3);
    assert.equal(queue.counters().samplesRetried, 4);
  });
});

test('QueueManager drops and counts samples when a shard\'s queue is full', async () => {
  const config = 'queue_config: { capacity: 10, max_samples_per_send: 5, max_shards: 1, batch_send_deadline: 1m }';
  await withQueue((receiver) => { receiver.fallback = 'hang'; }, config, {}, async (queue, receiver) => {
    for (let index = 0; index < 5; index += 1) queue.append(series('q'), index, index);
    await receiver.waitFor(() => receiver.requests.length === 1, 'the first batch in flight');
    for (let index = 5; index < 25; index += 1) queue.append(series('q'), index, index);
    assert.equal(queue.counters().samplesDropped.queue_full, 10);
    assert.equal(queue.counters().samplesPending, 15);
    receiver.fallback = { status: 204 };
    receiver.release();
    await eventually(() => queue.counters().samplesSent === 15, 'the queued samples delivered');
    assert.deepEqual(receiver.samples().map(([, timestampMs]) => timestampMs), Array.from({ length: 15 }, (_, index) => index));
  });
});

test('QueueManager applies external labels (the series\' own win) and write_relabel_configs', async () => {
  const config = [
    'write_relabel_configs:',
    '  - { source_labels: [job], regex: drop-me, action: drop }',
    '  - { regex: pod, action: labeldrop }',
    'queue_config: { batch_send_deadline: 10ms }',
  ].join('\n');
  await withQueue(() => {}, config, { externalLabels: Labels.fromRecord({ cluster: 'eu', job: 'external' }) }, async (queue, receiver) => {
    queue.append(series('kept', { pod: 'p1' }), 1, 1);
    queue.append(Labels.fromRecord({ __name__: 'dropped', job: 'drop-me' }), 1, 1);
    queue.append(Labels.fromRecord({ __name__: 'no_job' }), 1, 1);
    await receiver.waitFor(() => receiver.samples().length === 2, 'two samples');
    const labels = receiver.requests.flatMap((request) => request.body.timeseries.map((entry) => entry.labels));
    assert.deepEqual(labels, [
      [['__name__', 'kept'], ['cluster', 'eu'], ['job', 'keel']],
      [['__name__', 'no_job'], ['cluster', 'eu'], ['job', 'external']],
    ]);
    assert.equal(queue.counters().samplesDropped.relabel, 1);
  });
});

test('QueueManager sends the staleness marker as its exact NaN bits', async () => {
  await withQueue(() => {}, 'queue_config: { batch_send_deadline: 10ms }', {}, async (queue, receiver) => {
    queue.append(series('gone'), 1, 3);
    queue.append(series('gone'), 2, floatFromBits(staleMarkerHighBits, staleMarkerLowBits));
    await receiver.waitFor(() => receiver.samples().length === 2, 'two samples');
    const samples = receiver.requests.flatMap((request) => request.body.timeseries.flatMap((entry) => entry.samples));
    assert.deepEqual(samples.map((sample) => sample.valueBits), [0x4008_0000_0000_0000n, 0x7ff0_0000_0000_0002n]);
  });
});

test('QueueManager keeps each series in order across several shards', async () => {
  const config = 'queue_config: { min_shards: 4, max_shards: 4, max_samples_per_send: 7, capacity: 1000, batch_send_deadline: 10ms }';
  await withQueue(() => {}, config, {}, async (queue, receiver) => {
    for (let step = 0; step < 50; step += 1) {
      for (let index = 0; index < 10; index += 1) queue.append(series(`s${index}`), step, step);
    }
    await eventually(() => queue.counters().samplesSent === 500, 'all samples');
    const byName = new Map<string, number[]>();
    for (const [name, timestampMs] of receiver.samples()) byName.set(name, [...(byName.get(name) ?? []), timestampMs]);
    assert.equal(byName.size, 10);
    for (const [name, timestamps] of byName) assert.deepEqual(timestamps, Array.from({ length: 50 }, (_, index) => index), name);
    assert.equal(queue.counters().shards, 4);
  });
});

test('QueueManager.stop flushes a partial batch before the deadline', async () => {
  const receiver = await TestReceiver.start();
  const queue = new QueueManager({ config: remoteWriteConfig(receiver.url, 'queue_config: { batch_send_deadline: 1h }') });
  try {
    queue.append(series('last'), 7, 7);
    await queue.stop();
    assert.deepEqual(receiver.samples(), [['last', 7, 7]]);
    assert.equal(queue.counters().samplesSent, 1);
    queue.append(series('late'), 8, 8);
    assert.equal(queue.counters().samplesDropped.stopped, 1);
  } finally {
    await receiver.close();
  }
});

test('QueueManager.stop gives up at the flush deadline, aborting the request and counting failures', async () => {
  const receiver = await TestReceiver.start();
  receiver.fallback = 'hang';
  const config = remoteWriteConfig(receiver.url, 'queue_config: { max_samples_per_send: 2, capacity: 10, max_shards: 1, batch_send_deadline: 1h }');
  const queue = new QueueManager({ config, flushDeadlineMs: 50 });
  try {
    for (let index = 0; index < 5; index += 1) queue.append(series('stuck'), index, index);
    await queue.stop();
    const counters = queue.counters();
    assert.equal(counters.samplesFailed, 5, 'two in flight, three still queued');
    assert.equal(counters.samplesPending, 0);
    assert.equal(counters.samplesSent, 0);
  } finally {
    await receiver.close();
  }
});

test('QueueManager retries network errors and timeouts', async () => {
  const codes: string[] = [];
  const onError = (error: RemoteWriteError): void => { codes.push(error.code); };
  const port = await freePort();
  const refused = new QueueManager({ config: remoteWriteConfig(`http://127.0.0.1:${port}/api/v1/write`, 'queue_config: { max_samples_per_send: 1, min_backoff: 1ms }'), sendAttemptsMax: 2, onError });
  refused.append(series('n'), 1, 1);
  await eventually(() => refused.counters().samplesFailed === 1, 'connection refused twice');
  await refused.stop();
  assert.deepEqual(codes, ['REMOTE_NETWORK', 'REMOTE_NETWORK']);
  assert.equal(refused.counters().samplesRetried, 1);

  codes.length = 0;
  await withQueue((receiver) => receiver.replies.push('hang'), 'remote_timeout: 30ms\nqueue_config: { max_samples_per_send: 1, min_backoff: 1ms }', { onError }, async (queue, receiver) => {
    queue.append(series('t'), 1, 1);
    await eventually(() => queue.counters().samplesSent === 1, 'sent after a timeout');
    assert.equal(receiver.requests.length, 2);
    assert.deepEqual(codes, ['REMOTE_TIMEOUT']);
  });
});

test('QueueManager refuses bad options with clear errors', () => {
  const config = remoteWriteConfig('http://127.0.0.1:1/api/v1/write');
  const withQueueConfig = (changes: object): RemoteWriteConfig => ({ ...config, queueConfig: { ...config.queueConfig, ...changes } });
  assert.throws(() => new QueueManager({ config: withQueueConfig({ capacity: 0 }) }), { code: 'REMOTE_INVALID_OPTIONS', message: /capacity must be a positive integer, got 0/ });
  assert.throws(() => new QueueManager({ config: withQueueConfig({ minShards: 5, maxShards: 2 }) }), { message: /min_shards must not be greater than max_shards/ });
  assert.throws(() => new QueueManager({ config: withQueueConfig({ capacity: 1_000_000, maxShards: 200 }) }), { message: /queuedSamplesMax/ });
  assert.throws(() => new QueueManager({ config, sendAttemptsMax: 0 }), { message: /sendAttemptsMax must be in \[1, 1000\], got 0/ });
  assert.throws(() => new QueueManager({ config: { ...config, url: 'ftp://example' } }), { message: /not an http or https URL/ });
  assert.throws(() => new QueueManager({ config, basicAuth: { username: 'a', password: 'b' }, bearerToken: 't' }), { message: /At most one of basic auth and a bearer token/ });
});

test('QueueManager refuses a custom header that is not valid HTTP', () => {
  const config = remoteWriteConfig('http://127.0.0.1:1/api/v1/write');
  assert.throws(() => new QueueManager({ config: { ...config, headers: { 'X-Bad': 'line\nbreak' } } }), { code: 'REMOTE_INVALID_OPTIONS', message: /"X-Bad" is not a valid HTTP header/ });
});
