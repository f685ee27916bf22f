import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMonitorConfig } from '../../../src/monitor/config.ts';
import type { RemoteWriteConfig } from '../../../src/monitor/config.ts';
import type { StoreResult, WriteClient } from '../../../src/monitor/remote/client.ts';
import { snappyDecode } from '../../../src/monitor/remote/snappy.ts';
import { WriteStorage } from '../../../src/monitor/remote/write-storage.ts';
import type { Appendable, Appender, AppendOutcome } from '../../../src/monitor/storage.ts';
import { Labels } from '../../../src/monitor/tsdb/index.ts';
import { decodeWriteRequest } from './_decode.ts';
import { eventually } from './_receiver.ts';

/** A primary store that refuses negative timestamps and can be told to fail its commits. */
class FakeStore implements Appendable {
  committed: [string, number, number][] = [];
  failCommits = false;

  appender(): Appender {
    let pending: [string, number, number][] = [];
    return {
      append: (labels: Labels, timestampMs: number, value: number): AppendOutcome => {
        if (timestampMs < 0) return 'out_of_bounds';
        pending.push([labels.metricName(), timestampMs, value]);
        return 'ok';
      },
      commit: async () => {
        if (this.failCommits) throw new Error('disk full');
        this.committed.push(...pending);
        pending = [];
      },
      rollback: () => { pending = []; },
    };
  }
}

/** A client that decodes and records what it is given, per endpoint. */
class RecordingClient implements WriteClient {
  readonly endpoint: string;
  readonly samples: [string, number, number][] = [];
  closed = false;

  constructor(endpoint: string) {
    this.endpoint = endpoint;
  }

  async store(body: Uint8Array): Promise<StoreResult> {
    for (const series of decodeWriteRequest(snappyDecode(body)).timeseries) {
      const name = Object.fromEntries(series.labels)['__name__'] ?? '';
      for (const sample of series.samples) this.samples.push([name, sample.timestampMs, sample.value]);
    }
    return { status: 'ok' };
  }

  close(): void {
    this.closed = true;
  }
}

function configs(yaml: string): RemoteWriteConfig[] {
  return [...parseMonitorConfig(yaml).remoteWrite];
}

const twoEndpoints = `remote_write:
  - url: http://a.example/write
    queue_config: { batch_send_deadline: 5ms }
  - url: http://b.example/write
    write_relabel_configs: [{ source_labels: [__name__], regex: secret.*, action: drop }]
    queue_config: { batch_send_deadline: 5ms }
`;

function setup(): { storage: WriteStorage; clients: RecordingClient[] } {
  const clients: RecordingClient[] = [];
  const storage = new WriteStorage({
    createClient: (config) => {
      const client = new RecordingClient(config.url);
      clients.push(client);
      return client;
    },
  });
  return { storage, clients };
}

test('the fanout queues exactly the samples the primary accepted and committed, for every endpoint', async () => {
  const { storage, clients } = setup();
  await storage.applyConfig(configs(twoEndpoints));
  const store = new FakeStore();
  const appendable = storage.fanout(store);
  const appender = appendable.appender();
  assert.equal(appender.append(Labels.fromRecord({ __name__: 'up' }), 10, 1), 'ok');
  assert.equal(appender.append(Labels.fromRecord({ __name__: 'up' }), -1, 1), 'out_of_bounds');
  assert.equal(appender.append(Labels.fromRecord({ __name__: 'secret_total' }), 10, 5), 'ok');
  assert.equal(clients[0]!.samples.length, 0, 'nothing leaves before the commit');
  await appender.commit();
  await eventually(() => clients[0]!.samples.length === 2 && clients[1]!.samples.length === 1, 'both endpoints');
  assert.deepEqual(clients[0]!.samples, [['up', 10, 1], ['secret_total', 10, 5]]);
  assert.deepEqual(clients[1]!.samples, [['up', 10, 1]], 'the second endpoint relabels secret_total away');
  assert.deepEqual(store.committed, [['up', 10, 1], ['secret_total', 10, 5]]);

  const rolledBack = appendable.appender();
  rolledBack.append(Labels.fromRecord({ __name__: 'never' }), 20, 1);
  rolledBack.rollback();
  store.failCommits = true;
  const failing = appendable.appender();
  failing.append(Labels.fromRecord({ __name__: 'never' }), 21, 1);
  await assert.rejects(failing.commit(), /disk full/);
  await storage.close();
  assert.deepEqual(clients[0]!.samples.map(([name]) => name), ['up', 'secret_total'], 'rolled-back and failed batches are not sent');
  const counters = storage.counters();
  assert.equal(counters.samplesIn, 2);
  assert.deepEqual(counters.queues, [], 'a closed storage has no queues');
  assert.ok(clients.every((client) => client.closed));
});

test('WriteStorage counts per queue and keeps unchanged queues across a reload', async () => {
  const { storage, clients } = setup();
  await storage.applyConfig(configs(twoEndpoints), Labels.fromRecord({ cluster: 'a' }));
  const appender = storage.fanout(new FakeStore()).appender();
  appender.append(Labels.fromRecord({ __name__: 'secret_x' }), 1, 1);
  await appender.commit();
  await eventually(() => storage.counters().queues.every((queue) => queue.samplesPending === 0 && queue.samplesIn === 1), 'the sample handled');
  const [first, second] = storage.counters().queues;
  assert.equal(first!.samplesSent, 1);
  assert.equal(second!.samplesDropped.relabel, 1);
  assert.match(first!.remoteName, /^[0-9a-f]{6}$/);
  assert.equal(first!.url, 'http://a.example/write');

  // Same first endpoint, changed second one: one new client.
  await storage.applyConfig(configs(twoEndpoints.replace('secret.*', 'hidden.*')), Labels.fromRecord({ cluster: 'a' }));
  assert.equal(clients.length, 3);
  assert.equal(clients[1]!.closed, true);
  assert.equal(clients[0]!.closed, false);
  assert.equal(storage.counters().queues[0]!.samplesSent, 1, 'the kept queue keeps its counters');
  // New external labels restart every queue.
  await storage.applyConfig(configs(twoEndpoints), Labels.fromRecord({ cluster: 'b' }));
  assert.equal(clients.length, 5);
  await storage.applyConfig([]);
  assert.equal(storage.active, false);
  assert.ok(clients.every((client) => client.closed));
  await storage.close();
  await assert.rejects(storage.applyConfig([]), { code: 'REMOTE_INVALID_ARGUMENT' });
});

test('the fanout buffers nothing while no endpoint is configured', async () => {
  const { storage } = setup();
  const store = new FakeStore();
  const appender = storage.fanout(store).appender();
  appender.append(Labels.fromRecord({ __name__: 'up' }), 1, 1);
  await appender.commit();
  assert.equal(store.committed.length, 1);
  assert.equal(storage.counters().samplesIn, 0);
  await storage.close();
});

test('WriteStorage.applyConfig refuses a bad configuration and keeps the queues it had', async () => {
  const { storage, clients } = setup();
  await storage.applyConfig(configs(twoEndpoints));
  const [first, named] = configs(`remote_write:
  - { url: http://a.example/write, queue_config: { batch_send_deadline: 5ms } }
  - { url: http://c.example/write, name: same }
`);
  // The parser refuses duplicate names itself; a hand-made list reaches WriteStorage's own check.
  await assert.rejects(storage.applyConfig([first!, named!, { ...named!, url: 'http://d.example/write' }]), { code: 'REMOTE_INVALID_OPTIONS', message: /Duplicate remote write queue name "same"/ });
  assert.equal(clients.length, 4, 'two new clients were made for the refused configuration');
  assert.deepEqual(clients.map((client) => client.closed), [false, false, true, true], 'the running queues are kept, the new ones stopped');
  assert.equal(storage.counters().queues.length, 2);
  await storage.close();
});
