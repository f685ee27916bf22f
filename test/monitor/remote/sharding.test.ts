import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMonitorConfig } from '../../../src/monitor/config.ts';
import { parseRetryAfterMs, retryAfterMsMax } from '../../../src/monitor/remote/client.ts';
import { QueueManager } from '../../../src/monitor/remote/queue-manager.ts';
import { desiredShards, EwmaRate } from '../../../src/monitor/remote/_resharding.ts';
import type { ShardingInputs } from '../../../src/monitor/remote/_resharding.ts';
import { Labels } from '../../../src/monitor/tsdb/index.ts';
import { eventually, TestReceiver } from './_receiver.ts';

const steady: ShardingInputs = {
  shards: 1, minShards: 1, maxShards: 10, samplesInRate: 1000, samplesOutRate: 1000, samplesDroppedRate: 0,
  sendSecondsRate: 4, highestReceivedSeconds: 100, highestSentSeconds: 100,
};

test('desiredShards: time per sample times the rate in, plus 5 % of the backlog per second', () => {
  assert.equal(desiredShards(steady), 4, '4 ms per sample at 1000 samples/s keeps 4 senders busy');
  // 20 s behind at 1000/s is a backlog of 20,000 samples: catching up on 1000/s more doubles the need.
  assert.equal(desiredShards({ ...steady, highestSentSeconds: 80 }), 8);
  // Samples relabelled away need no sending: half dropped halves the need.
  assert.equal(desiredShards({ ...steady, samplesDroppedRate: 1000 }), 2);
});

test('desiredShards keeps the count within the 30 % tolerance, when nothing was sent, and when far behind', () => {
  assert.equal(desiredShards({ ...steady, shards: 4, sendSecondsRate: 5 }), 4, '5 is within 4 ± 30 %');
  assert.equal(desiredShards({ ...steady, shards: 4, sendSecondsRate: 6 }), 6);
  assert.equal(desiredShards({ ...steady, samplesOutRate: 0 }), 1);
  assert.equal(desiredShards({ ...steady, shards: 8, sendSecondsRate: 1, highestSentSeconds: 88 }), 8, 'no downsharding 12 s behind');
  assert.equal(desiredShards({ ...steady, shards: 8, sendSecondsRate: 1 }), 1);
});

test('desiredShards clamps to [min_shards, max_shards]', () => {
  assert.equal(desiredShards({ ...steady, sendSecondsRate: 100 }), 10);
  assert.equal(desiredShards({ ...steady, shards: 5, minShards: 3, sendSecondsRate: 0.001 }), 3);
});

test('EwmaRate starts at the first non-empty interval and then moves 20 % toward each new one', () => {
  const rate = new EwmaRate(10_000);
  rate.tick();
  assert.equal(rate.rate, 0);
  rate.increment(1000);
  rate.tick();
  assert.equal(rate.rate, 100);
  rate.increment(2000);
  rate.tick();
  assert.equal(rate.rate, 120);
  rate.tick();
  assert.equal(rate.rate, 96);
});

test('parseRetryAfterMs reads seconds and HTTP dates, capped, and ignores bad values', () => {
  const nowMs = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(parseRetryAfterMs('3', nowMs), 3000);
  assert.equal(parseRetryAfterMs(' 0 ', nowMs), 0);
  assert.equal(parseRetryAfterMs('Mon, 01 Jan 2024 00:00:10 GMT', nowMs), 10_000);
  assert.equal(parseRetryAfterMs('Sun, 31 Dec 2023 23:59:00 GMT', nowMs), 0, 'a date in the past');
  assert.equal(parseRetryAfterMs('999999', nowMs), retryAfterMsMax);
  assert.equal(parseRetryAfterMs('soon', nowMs), 0);
  assert.equal(parseRetryAfterMs('-5', nowMs), 0);
  assert.equal(parseRetryAfterMs(undefined, nowMs), 0);
});

test('QueueManager adds shards when the receiver is slower than the rate in, keeping every series in order', async () => {
  const receiver = await TestReceiver.start();
  receiver.fallback = { status: 204, delayMs: 20 };
  const text = `remote_write:\n  - url: ${receiver.url}\n    queue_config: { max_shards: 8, capacity: 20000, max_samples_per_send: 10, batch_send_deadline: 1s }\n`;
  const queue = new QueueManager({ config: parseMonitorConfig(text).remoteWrite[0]!, shardUpdateIntervalMs: 50 });
  const labels = Array.from({ length: 10 }, (_, index) => Labels.fromRecord({ __name__: `load_${index}` }));
  let step = 0;
  try {
    const feeder = setInterval(() => {
      for (let repeat = 0; repeat < 5; repeat += 1, step += 1) for (const series of labels) queue.append(series, step, step);
    }, 5);
    try {
      await eventually(() => queue.counters().shards > 1, 'more than one shard', 15_000);
    } finally {
      clearInterval(feeder);
    }
    await eventually(() => queue.counters().samplesSent === step * labels.length, 'every sample sent', 15_000);
    assert.equal(queue.counters().samplesDropped.queue_full, 0);
    const byName = new Map<string, number[]>();
    for (const [name, timestampMs] of receiver.samples()) byName.set(name, [...(byName.get(name) ?? []), timestampMs]);
    for (const [name, timestamps] of byName) assert.deepEqual(timestamps, Array.from({ length: step }, (_, index) => index), `${name} in order`);
  } finally {
    await queue.stop();
    await receiver.close();
  }
});
