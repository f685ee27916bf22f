import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Monitor } from '../../../src/monitor/monitor.ts';
import { TestReceiver } from './_receiver.ts';

test('the monitor sends what it scrapes to remote_write, with external labels, and closes its queues on stop', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'keel-remote-monitor-'));
  const receiver = await TestReceiver.start();
  const target = createServer((_request, response) => response.writeHead(200, { 'Content-Type': 'text/plain' }).end('keel_hook_value 42\n'));
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const targetAddress = `127.0.0.1:${(target.address() as AddressInfo).port}`;
  const text = [
    'global: { scrape_interval: 100ms, scrape_timeout: 100ms, external_labels: { cluster: hook } }',
    `scrape_configs: [{ job_name: hook, static_configs: [{ targets: ['${targetAddress}'] }] }]`,
    `remote_write: [{ url: '${receiver.url}', queue_config: { batch_send_deadline: 20ms } }]`,
  ].join('\n');
  const monitor = await Monitor.start({ storagePath: join(directory, 'data'), config: { text, name: 'hook.yml' }, listenAddress: '127.0.0.1:0' });
  try {
    await receiver.waitFor(() => receiver.samples().some(([name]) => name === 'keel_hook_value'), 'a scraped sample');
    const series = receiver.requests.flatMap((request) => request.body.timeseries).find((entry) => entry.labels.some(([name, value]) => name === '__name__' && value === 'keel_hook_value'))!;
    assert.deepEqual(Object.fromEntries(series.labels), { __name__: 'keel_hook_value', cluster: 'hook', instance: targetAddress, job: 'hook' });
    assert.equal(series.samples[0]!.value, 42);
  } finally {
    await monitor.stop();
    const counters = monitor.remoteWriteCounters();
    await receiver.close();
    await new Promise<void>((resolve) => target.close(() => resolve()));
    await rm(directory, { recursive: true, force: true });
    assert.deepEqual(counters.queues, [], 'stop closed the queues');
    assert.ok(counters.samplesIn > 0);
  }
});
