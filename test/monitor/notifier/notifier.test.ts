import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseMonitorConfig } from '../../../src/monitor/config.ts';
import { alertsPushPath, notificationBatchAlertsMax, Notifier } from '../../../src/monitor/notifier/index.ts';
import type { NotifierAlert, PostableAlertJson } from '../../../src/monitor/notifier/index.ts';
import { Labels } from '../../../src/monitor/tsdb/index.ts';
import { waitFor } from '../rules/_helpers.ts';

interface Received {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly alerts: PostableAlertJson[];
}

/** A fake Alertmanager: records every post; `answer` decides the status (or holds the request). */
class FakeAlertmanager {
  readonly received: Received[] = [];
  answer: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => response.writeHead(200).end();
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<FakeAlertmanager> {
    const holder: { fake?: FakeAlertmanager } = {};
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const fake = holder.fake!;
        fake.received.push({ path: request.url ?? '', contentType: request.headers['content-type'], alerts: JSON.parse(Buffer.concat(chunks).toString('utf8')) as PostableAlertJson[] });
        fake.answer(request, response);
      });
    });
    const fake = new FakeAlertmanager(server);
    holder.fake = fake;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get address(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  get alertNames(): string[] {
    return this.received.flatMap((request) => request.alerts.map((alert) => alert.labels.alertname ?? ''));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

function alert(name: string, labels: Record<string, string> = {}): NotifierAlert {
  return {
    labels: Labels.fromRecord({ alertname: name, ...labels }),
    annotations: Labels.fromRecord({ summary: `${name} happened` }),
    startsAtMs: 1_700_000_000_000,
    endsAtMs: 1_700_000_240_000,
    generatorUrl: 'http://monitor:9090/graph?g0.expr=up&g0.tab=1',
  };
}

function config(alerting: string, global = ''): ReturnType<typeof parseMonitorConfig> {
  return parseMonitorConfig(`${global}\nalerting:\n${alerting}`);
}

async function withNotifier(body: (notifier: Notifier, managers: FakeAlertmanager[]) => Promise<void>, count = 1, options: { queueCapacity?: number } = {}): Promise<void> {
  const managers = await Promise.all(Array.from({ length: count }, () => FakeAlertmanager.start()));
  const notifier = new Notifier(options);
  try {
    await body(notifier, managers);
  } finally {
    await notifier.stop();
    await Promise.all(managers.map((manager) => manager.close()));
  }
}

test('alerts are posted to /api/v2/alerts in Alertmanager\'s JSON, with the external labels they lack', async () => {
  await withNotifier(async (notifier, [manager]) => {
    await notifier.applyConfig(config(`  alertmanagers: [{static_configs: [{targets: ['${manager!.address}']}]}]`, 'global: {external_labels: {region: eu, alertname: never}}'));
    notifier.start();
    notifier.send([alert('Down', { instance: 'a' })]);
    await waitFor(() => manager!.received.length === 1, 10_000, 'the post');
    const [request] = manager!.received;
    assert.equal(request?.path, '/api/v2/alerts');
    assert.equal(request?.contentType, 'application/json');
    assert.deepEqual(request?.alerts, [{
      annotations: { summary: 'Down happened' },
      endsAt: '2023-11-14T22:17:20.000Z',
      startsAt: '2023-11-14T22:13:20.000Z',
      generatorURL: 'http://monitor:9090/graph?g0.expr=up&g0.tab=1',
      labels: { alertname: 'Down', instance: 'a', region: 'eu' },
    }]);
    // The fake records the post before it answers; the notifier counts once the answer is in.
    await waitFor(() => notifier.statistics().alertmanagers.get(`http://${manager!.address}/api/v2/alerts`)?.sent === 1, 10_000, 'the sent count');
    assert.equal(notifier.statistics().dropped, 0);
  });
});

test('a large send goes out in batches of at most 64 alerts', async () => {
  await withNotifier(async (notifier, [manager]) => {
    await notifier.applyConfig(config(`  alertmanagers: [{static_configs: [{targets: ['${manager!.address}']}]}]`));
    notifier.send(Array.from({ length: 150 }, (_, index) => alert(`A${index}`)));
    notifier.start();
    await waitFor(() => manager!.alertNames.length === 150, 10_000, 'every alert');
    assert.deepEqual(manager!.received.map((request) => request.alerts.length), [notificationBatchAlertsMax, notificationBatchAlertsMax, 22]);
    assert.deepEqual(manager!.alertNames, Array.from({ length: 150 }, (_, index) => `A${index}`), 'in order');
  });
});

test('a full queue drops the oldest alerts and counts them', async () => {
  await withNotifier(async (notifier, [manager]) => {
    const held: ServerResponse[] = [];
    manager!.answer = (_request, response) => held.push(response);
    await notifier.applyConfig(config(`  alertmanagers: [{static_configs: [{targets: ['${manager!.address}']}]}]`));
    notifier.start();
    notifier.send(Array.from({ length: 64 }, (_, index) => alert(`first${index}`)));
    await waitFor(() => held.length === 1, 10_000, 'the first batch in flight');
    notifier.send(Array.from({ length: 100 }, (_, index) => alert(`second${index}`)));
    assert.equal(notifier.statistics().dropped, 36, 'a batch larger than the queue keeps its newest 64');
    notifier.send(Array.from({ length: 10 }, (_, index) => alert(`third${index}`)));
    assert.equal(notifier.statistics().dropped, 46);
    assert.equal(notifier.statistics().queueLength, 64);
    manager!.answer = (_request, response) => response.writeHead(200).end();
    held[0]!.writeHead(200).end();
    await waitFor(() => manager!.alertNames.length === 128, 10_000, 'the rest');
    const delivered = manager!.alertNames.slice(64);
    assert.deepEqual(delivered, [...Array.from({ length: 54 }, (_, index) => `second${index + 46}`), ...Array.from({ length: 10 }, (_, index) => `third${index}`)]);
  }, 1, { queueCapacity: 64 });
});

test('errors are counted per Alertmanager; a batch is dropped only when no Alertmanager took it', async () => {
  await withNotifier(async (notifier, [healthy, failing]) => {
    failing!.answer = (_request, response) => response.writeHead(500, 'Internal Server Error').end('boom');
    await notifier.applyConfig(config(`  alertmanagers: [{static_configs: [{targets: ['${healthy!.address}', '${failing!.address}']}]}]`));
    notifier.start();
    notifier.send([alert('One')]);
    await waitFor(() => healthy!.received.length === 1 && failing!.received.length === 1, 10_000, 'both posts');
    await waitFor(() => notifier.statistics().alertmanagers.get(`http://${failing!.address}/api/v2/alerts`)?.errors === 1, 10_000, 'the error count');
    assert.equal(notifier.statistics().alertmanagers.get(`http://${healthy!.address}/api/v2/alerts`)?.errors, 0);
    assert.equal(notifier.statistics().dropped, 0);

    healthy!.answer = failing!.answer;
    notifier.send([alert('Two'), alert('Three')]);
    await waitFor(() => notifier.statistics().dropped === 2, 10_000, 'the dropped batch');
  }, 2);
});

test('an Alertmanager that does not answer within the timeout counts as an error', async () => {
  await withNotifier(async (notifier, [manager]) => {
    manager!.answer = () => {};
    await notifier.applyConfig(config(`  alertmanagers: [{timeout: 100ms, static_configs: [{targets: ['${manager!.address}']}]}]`));
    notifier.start();
    notifier.send([alert('Slow')]);
    await waitFor(() => notifier.statistics().dropped === 1, 10_000, 'the timeout');
    assert.equal(notifier.statistics().alertmanagers.get(`http://${manager!.address}/api/v2/alerts`)?.errors, 1);
  });
});

test('without Alertmanagers every alert sent is dropped', async () => {
  const notifier = new Notifier();
  notifier.start();
  notifier.send([alert('Nowhere')]);
  await waitFor(() => notifier.statistics().dropped === 1, 10_000, 'the drop');
  await notifier.stop();
});

test('alert_relabel_configs rewrite and drop alerts before they are queued', async () => {
  await withNotifier(async (notifier, [manager]) => {
    await notifier.applyConfig(config(`
  alert_relabel_configs:
    - {source_labels: [severity], regex: info, action: drop}
    - {source_labels: [instance], regex: '(.*):\\d+', target_label: host}
  alertmanagers: [{static_configs: [{targets: ['${manager!.address}']}]}]`));
    notifier.start();
    notifier.send([alert('Quiet', { severity: 'info' }), alert('Loud', { severity: 'page', instance: 'db1:9100' })]);
    await waitFor(() => manager!.received.length === 1, 10_000, 'the post');
    assert.deepEqual(manager!.received[0]?.alerts.map((posted) => posted.labels), [{ alertname: 'Loud', host: 'db1', instance: 'db1:9100', severity: 'page' }]);
  });
});

test('Alertmanagers are discovered from static and file configs, with path prefix, API version and relabelling', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'keel-notifier-'));
  try {
    const file = join(directory, 'ams.json');
    await writeFile(file, JSON.stringify([{ targets: ['am-file:9093'] }]));
    const notifier = new Notifier();
    await notifier.applyConfig(parseMonitorConfig(`
alerting:
  alertmanagers:
    - path_prefix: /am/
      static_configs: [{targets: ['am1:9093', 'am2:9093', 'am1:9093']}]
      relabel_configs: [{source_labels: [__address__], regex: 'am2:.*', action: drop}]
    - api_version: v1
      scheme: https
      file_sd_configs: [{files: ['${file}']}]
`));
    assert.deepEqual(notifier.alertmanagersApiData(), {
      activeAlertmanagers: [{ url: 'http://am1:9093/am/api/v2/alerts' }, { url: 'https://am-file:9093/api/v1/alerts' }],
      droppedAlertmanagers: [{ url: 'http://am2:9093/am/api/v2/alerts' }],
    });
    assert.equal(notifier.statistics().alertmanagersDiscovered, 2);
    await notifier.stop();
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

test('the push path joins the prefix as Go\'s path.Join does', () => {
  assert.equal(alertsPushPath('', 'v2'), '/api/v2/alerts');
  assert.equal(alertsPushPath('/prefix/', 'v2'), '/prefix/api/v2/alerts');
  assert.equal(alertsPushPath('prefix//deep', 'v1'), '/prefix/deep/api/v1/alerts');
});
