// End to end: three real members, a `keel monitor` scraping them with keel's own rules/keel.yml and a real
// Alertmanager. A member is stopped; KeelMemberDown goes pending, then (after its `for: 3m`) fires and
// reaches Alertmanager naming the stopped member. This test takes about four minutes, by design: the rule
// file is used as shipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertmanagerMissing, alertsIn, startAlertmanager } from '../_alertmanager.ts';
import { GrpcClient, KeelCluster, freePort, keel, sleep } from './_harness.ts';

const rulesFile = join(import.meta.dirname, '..', '..', 'rules', 'keel.yml');

async function until<T>(what: string, probe: () => Promise<T | null>, limitMs: number): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

interface ApiAlert { labels: Record<string, string>; state: string }

test('a stopped member fires KeelMemberDown from rules/keel.yml into a real Alertmanager', {
  timeout: 420_000, skip: alertmanagerMissing ? 'prometheus-alertmanager is not installed' : false,
}, async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-alert-e2e-'));
  const cluster = new KeelCluster(join(root, 'cluster'), { size: 3 });
  const client = new GrpcClient();
  const alertmanager = await startAlertmanager(root);
  let monitor: ChildProcess | null = null;
  try {
    await cluster.init();
    for (const node of cluster.nodes) cluster.start(node);
    await cluster.leader(client);

    const monitorPort = await freePort();
    const config = join(root, 'monitor.yml');
    await writeFile(config, [
      'global:', '  scrape_interval: 2s', '  evaluation_interval: 2s',
      'rule_files:', `  - ${JSON.stringify(rulesFile)}`,
      'alerting:', '  alertmanagers:', '    - static_configs:', `        - targets: ['127.0.0.1:${alertmanager.port}']`,
      'scrape_configs:', '  - job_name: keel', '    static_configs:',
      ...cluster.nodes.map((node) => `      - targets: ['127.0.0.1:${node.clientPort}']`), '',
    ].join('\n'));
    monitor = spawn(process.execPath, [keel, 'monitor', '--config.file', config, '--storage.tsdb.path', join(root, 'monitor'),
      '--web.listen-address', `127.0.0.1:${monitorPort}`], { stdio: ['ignore', 'ignore', 'inherit'] });
    const api = `http://127.0.0.1:${monitorPort}`;
    await until('three members scraped up', async () => {
      const body = await (await fetch(`${api}/api/v1/targets`)).json() as { data: { activeTargets: { health: string }[] } };
      return body.data.activeTargets.filter((target) => target.health === 'up').length === 3 ? true : null;
    }, 60_000);
    const series = await (await fetch(`${api}/api/v1/series?match[]=keel_raft_term`)).json() as { data: unknown[] };
    assert.equal(series.data.length, 3, 'one keel_raft_term series per member');

    const victim = cluster.nodes[2]!;
    const instance = `127.0.0.1:${victim.clientPort}`;
    await cluster.kill(victim);
    const pending = await until('KeelMemberDown pending in keel', async () => {
      const body = await (await fetch(`${api}/api/v1/alerts`)).json() as { data: { alerts: ApiAlert[] } };
      return body.data.alerts.find((alert) => alert.labels['alertname'] === 'KeelMemberDown') ?? null;
    }, 60_000);
    assert.equal(pending.labels['instance'], instance);
    assert.equal(pending.state, 'pending');
    assert.deepEqual(await alertsIn(alertmanager.base), [], 'nothing reaches Alertmanager before `for` has passed');

    const delivered = await until('KeelMemberDown in Alertmanager', async () => {
      const alerts = await alertsIn(alertmanager.base);
      return alerts.find((alert) => alert.labels['alertname'] === 'KeelMemberDown') ?? null;
    }, 300_000);
    assert.equal(delivered.labels['instance'], instance);
    assert.equal(delivered.labels['severity'], 'warning');
    assert.equal(delivered.annotations['summary'], `keel member ${instance} is down`);
    assert.equal(delivered.status.state, 'active');
    const firing = await (await fetch(`${api}/api/v1/alerts`)).json() as { data: { alerts: ApiAlert[] } };
    assert.ok(firing.data.alerts.some((alert) => alert.labels['alertname'] === 'KeelMemberDown' && alert.state === 'firing'));
  } finally {
    if (monitor !== null && monitor.exitCode === null) {
      const exited = new Promise((resolve) => monitor!.once('exit', resolve));
      monitor.kill('SIGTERM');
      await exited;
    }
    alertmanager.child.kill('SIGTERM');
    client.close();
    await cluster.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});
