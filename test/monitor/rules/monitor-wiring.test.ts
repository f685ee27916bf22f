import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Monitor } from '../../../src/monitor/monitor.ts';
import { waitFor } from './_helpers.ts';

interface Envelope {
  status: string;
  data?: unknown;
  errorType?: string;
  error?: string;
}

async function get(url: string): Promise<{ status: number; body: Envelope }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Envelope };
}

test('the monitor loads rule_files, evaluates them, and serves /api/v1/rules and /api/v1/alerts', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'keel-monitor-rules-'));
  await writeFile(join(directory, 'rules.yml'), `
groups:
  - name: always
    rules:
      - record: answer
        expr: vector(42)
      - alert: AlwaysFiring
        expr: vector(1)
        labels: { severity: none }
        annotations: { summary: 'value {{ $value }} at {{ $externalLabels.cluster }}' }
`);
  const configPath = join(directory, 'monitor.yml');
  await writeFile(configPath, 'global: {evaluation_interval: 100ms, external_labels: {cluster: wiring}}\nrule_files: [rules.yml]\n');
  const monitor = await Monitor.start({ storagePath: join(directory, 'data'), config: configPath, listenAddress: '127.0.0.1:0' });
  try {
    await waitFor(async () => ((await get(`${monitor.url}/api/v1/alerts`)).body.data as { alerts: unknown[] }).alerts.length > 0, 10_000, 'the alert');
    const alerts = (await get(`${monitor.url}/api/v1/alerts`)).body.data as { alerts: { labels: Record<string, string>; annotations: Record<string, string>; state: string }[] };
    assert.deepEqual(alerts.alerts.map((alert) => [alert.labels, alert.annotations, alert.state]), [[{ alertname: 'AlwaysFiring', severity: 'none' }, { summary: 'value 1 at wiring' }, 'firing']]);

    const recording = (await get(`${monitor.url}/api/v1/rules?type=record`)).body.data as { groups: { name: string; file: string; interval: number; rules: { name: string; health: string }[] }[] };
    assert.deepEqual(recording.groups.map((group) => [group.name, group.file, group.interval, group.rules.map((rule) => [rule.name, rule.health])]), [['always', join(directory, 'rules.yml'), 0.1, [['answer', 'ok']]]]);
    const bad = await get(`${monitor.url}/api/v1/rules?type=bogus`);
    assert.deepEqual([bad.status, bad.body.errorType, bad.body.error], [400, 'bad_data', 'invalid parameter "type": not supported value "bogus"']);

    const answer = await get(`${monitor.url}/api/v1/query?query=answer`);
    assert.deepEqual((answer.body.data as { result: { metric: unknown; value: [number, string] }[] }).result.map((sample) => [sample.metric, sample.value[1]]), [[{ __name__: 'answer' }, '42']]);

    await writeFile(join(directory, 'rules.yml'), 'groups: [{name: always, rules: [{record: answer}]}]');
    const reload = await fetch(`${monitor.url}/-/reload`, { method: 'POST' });
    assert.equal(reload.status, 500, 'a broken rule file fails the reload');
    assert.match(await reload.text(), /field 'expr' must be set in rule/);
  } finally {
    await monitor.stop();
    await rm(directory, { recursive: true, force: true });
  }
});
