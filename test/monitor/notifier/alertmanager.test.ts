/**
 * End to end against a real Alertmanager (Debian's prometheus-alertmanager 0.25, which .ci/run
 * installs): a rule manager evaluating every 100 ms makes an alert pending, then firing, then resolved,
 * and the notifier delivers it. Alertmanager's own API must show the alert with its labels and
 * annotations while it fires, and stop listing it once the resolution arrived (minutes before the
 * firing alert's endsAt would have expired it).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseMonitorConfig } from '../../../src/monitor/config.ts';
import { Notifier } from '../../../src/monitor/notifier/index.ts';
import { MemoryStorage } from '../../../src/monitor/promql/index.ts';
import { parseRuleFile, RuleManager } from '../../../src/monitor/rules/index.ts';
import { Labels } from '../../../src/monitor/tsdb/index.ts';
import { waitFor } from '../rules/_helpers.ts';
import { alertmanagerBinary as binary, alertmanagerMissing as binaryMissing, alertsIn, startAlertmanager } from '../../_alertmanager.ts';

test('an alert reaches a real Alertmanager when it fires and leaves it when it resolves', { skip: binaryMissing && `${binary} is not installed (.ci/run installs the prometheus-alertmanager package)` }, async () => {
  const directory = await mkdtemp(join(tmpdir(), 'keel-alertmanager-'));
  const alertmanager = await startAlertmanager(directory);
  const storage = new MemoryStorage();
  const notifier = new Notifier();
  const rules = new RuleManager({
    queryable: storage,
    appendable: storage,
    notify: (alerts) => notifier.send(alerts),
    externalUrl: 'http://keel-monitor.test:9090',
  });
  const setLoad = async (value: number): Promise<void> => {
    const appender = storage.appender();
    appender.append(Labels.fromRecord({ __name__: 'load', instance: 'db-1', job: 'node' }), Date.now(), value);
    await appender.commit();
  };
  try {
    const config = parseMonitorConfig(`
global: {external_labels: {cluster: test}}
alerting:
  alertmanagers: [{static_configs: [{targets: ['${alertmanager.base.slice('http://'.length)}']}]}]
`);
    await notifier.applyConfig(config);
    notifier.start();
    await rules.loadGroups(parseRuleFile(`
groups:
  - name: load
    interval: 100ms
    rules:
      - alert: HighLoad
        expr: load > 1
        for: 2s
        labels:
          severity: page
        annotations:
          summary: '{{ $labels.instance }} has load {{ $value }}'
`, 'load.yml'), { evaluationIntervalMs: 100, externalLabels: config.global.externalLabels });

    await setLoad(5);
    rules.start();
    await waitFor(() => rules.alertsApiData().alerts.some((alert) => alert.state === 'pending'), 10_000, 'the alert to be pending');
    assert.deepEqual(await alertsIn(alertmanager.base), [], 'a pending alert is not sent');

    await waitFor(async () => (await alertsIn(alertmanager.base)).length > 0, 15_000, 'the firing alert in Alertmanager');
    const [firing] = await alertsIn(alertmanager.base);
    assert.deepEqual(firing?.labels, { alertname: 'HighLoad', cluster: 'test', instance: 'db-1', job: 'node', severity: 'page' });
    assert.deepEqual(firing?.annotations, { summary: 'db-1 has load 5' });
    assert.equal(firing?.status.state, 'active');
    assert.equal(firing?.generatorURL, 'http://keel-monitor.test:9090/graph?g0.expr=load+%3E+1&g0.tab=1');
    assert.ok(Date.parse(firing.endsAt) > Date.now() + 60_000, 'a firing alert is valid for minutes');
    assert.equal(rules.alertsApiData().alerts[0]?.state, 'firing');

    await setLoad(0);
    await waitFor(async () => (await alertsIn(alertmanager.base)).length === 0, 15_000, 'Alertmanager to see the resolution');
    assert.deepEqual(rules.alertsApiData().alerts, []);
    // Alertmanager has the resolution before the notifier has its answer and counts the send.
    const counters = () => [...notifier.statistics().alertmanagers.values()];
    await waitFor(() => (counters()[0]?.sent ?? 0) >= 2, 10_000, 'the firing alert and its resolution to be counted');
    assert.equal(counters().length, 1);
    assert.equal(counters()[0]?.errors, 0, alertmanager.stderr());
  } finally {
    await rules.stop();
    await notifier.stop();
    const exited = new Promise((resolve) => alertmanager.child.once('exit', resolve));
    alertmanager.child.kill('SIGTERM');
    await exited;
    await rm(directory, { recursive: true, force: true });
  }
});
