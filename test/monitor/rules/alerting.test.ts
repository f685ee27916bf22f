import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlertingRule, RecordingRule, resolvedRetentionMs } from '../../../src/monitor/rules/index.ts';
import type { Alert } from '../../../src/monitor/rules/index.ts';
import { harness, startMs, steady } from './_helpers.ts';

const highLoad = `
groups:
  - name: load
    rules:
      - alert: HighLoad
        expr: load > 1
        for: 20s
        labels:
          severity: page
          team: '{{ $labels.job }}-oncall'
        annotations:
          summary: '{{ $labels.instance }} has load {{ $value }}'
`;

function alertingRule(group: { rules: readonly unknown[] }, index = 0): AlertingRule {
  const rule = group.rules[index];
  assert.ok(rule instanceof AlertingRule);
  return rule;
}

function brief(alert: Alert): string {
  return `${alert.state} ${alert.labels.toString()} ${alert.annotations.toString()}`;
}

test('an alert goes pending, fires after `for`, resolves, and ALERTS follows with staleness markers', async () => {
  const h = await harness(highLoad);
  await h.add([...steady({ __name__: 'load', instance: 'a', job: 'db' }, 0, 20, 2), ...steady({ __name__: 'load', instance: 'a', job: 'db' }, 30, 60, 0.5)]);
  const rule = alertingRule(h.group());

  await h.evaluateAt(0);
  assert.deepEqual(rule.activeAlerts().map(brief), ['pending {alertname="HighLoad", instance="a", job="db", severity="page", team="db-oncall"} {summary="a has load 2"}']);
  assert.deepEqual(await h.query('ALERTS', 0), ['ALERTS{alertname="HighLoad", alertstate="pending", instance="a", job="db", severity="page", team="db-oncall"} 1']);
  assert.deepEqual(await h.query('ALERTS_FOR_STATE', 0), [`ALERTS_FOR_STATE{alertname="HighLoad", instance="a", job="db", severity="page", team="db-oncall"} ${startMs / 1000}`]);
  assert.equal(h.sent.length, 0, 'pending alerts are not sent');

  await h.evaluateAt(10);
  assert.equal(rule.state(), 'pending');
  await h.evaluateAt(20);
  assert.equal(rule.state(), 'firing');
  // The pending series got a staleness marker, so only the firing one is left.
  assert.deepEqual(await h.query('ALERTS', 20), ['ALERTS{alertname="HighLoad", alertstate="firing", instance="a", job="db", severity="page", team="db-oncall"} 1']);
  assert.equal(h.sent.length, 1);
  const fired = h.sent[0]![0]!;
  assert.equal(fired.startsAtMs, startMs + 20_000);
  assert.equal(fired.endsAtMs, startMs + 20_000 + 4 * 60_000, 'valid for four resend delays');
  assert.equal(fired.generatorUrl, 'http://monitor.example:9090/graph?g0.expr=load+%3E+1&g0.tab=1');

  await h.evaluateAt(30);
  assert.equal(rule.state(), 'inactive');
  assert.deepEqual(rule.activeAlerts(), [], 'a resolved alert is not active');
  assert.equal(rule.currentAlerts().length, 1, 'but it is kept for re-sending');
  assert.deepEqual(await h.query('ALERTS', 30), []);
  assert.equal(h.sent.length, 2, 'the resolution is sent at once');
  assert.equal(h.sent[1]![0]!.endsAtMs, startMs + 30_000);
});

test('firing and resolved alerts are re-sent after the resend delay, not before', async () => {
  const h = await harness(highLoad, { resendDelayMs: 30_000 });
  await h.add([...steady({ __name__: 'load', instance: 'a', job: 'db' }, 0, 60, 2), ...steady({ __name__: 'load', instance: 'a', job: 'db' }, 70, 200, 0)]);
  for (let seconds = 0; seconds <= 130; seconds += 10) await h.evaluateAt(seconds);
  const sentAt = h.sent.map((batch) => batch.map((alert) => `${(alert.endsAtMs! - startMs) / 1000}`).join());
  // Fired at 20 (valid to 20 + 4×30), re-sent at 60 (> 20 + 30); resolved at 70, re-sent at 110 (> 70 + 30).
  assert.deepEqual(sentAt, ['140', '180', '70', '70']);
});

test('a resolved alert is forgotten after 15 minutes; a pending one at once', async () => {
  const h = await harness(highLoad);
  await h.add([...steady({ __name__: 'load', instance: 'a', job: 'db' }, 0, 20, 2), ...steady({ __name__: 'load', instance: 'b', job: 'db' }, 20, 20, 2)]);
  const rule = alertingRule(h.group());
  for (const seconds of [0, 10, 20]) await h.evaluateAt(seconds);
  assert.deepEqual(rule.currentAlerts().map((alert) => `${alert.labels.get('instance')} ${alert.state}`).sort(), ['a firing', 'b pending']);
  await h.evaluateAt(30 + 300);
  assert.equal(rule.currentAlerts().length, 1, 'b was pending and is gone; a resolved and is kept');
  const resolvedAt = 30 + 300;
  await h.evaluateAt(resolvedAt + resolvedRetentionMs / 1000);
  assert.equal(rule.currentAlerts().length, 1, 'kept up to the retention');
  await h.evaluateAt(resolvedAt + resolvedRetentionMs / 1000 + 10);
  assert.equal(rule.currentAlerts().length, 0);
});

test('keep_firing_for keeps a firing alert firing after its result goes away', async () => {
  const h = await harness(`
groups:
  - name: g
    rules:
      - alert: Flappy
        expr: up == 0
        keep_firing_for: 20s
`);
  await h.add([...steady({ __name__: 'up', instance: 'a' }, 0, 10, 0), ...steady({ __name__: 'up', instance: 'a' }, 20, 60, 1)]);
  const rule = alertingRule(h.group());
  await h.evaluateAt(0);
  assert.equal(rule.state(), 'firing', 'no `for`: fires at once');
  await h.evaluateAt(20);
  assert.equal(rule.state(), 'firing');
  assert.equal(rule.activeAlerts()[0]!.keepFiringSinceMs, startMs + 20_000);
  const api = h.manager.alertsApiData();
  assert.equal(api.alerts[0]!.keepFiringSince, '2023-11-14T22:13:40Z');
  await h.evaluateAt(30);
  assert.equal(rule.state(), 'firing');
  await h.evaluateAt(40);
  assert.equal(rule.state(), 'inactive', '20 s after the result went away');
});

test('an alert that comes back after resolving starts pending again with a new active time', async () => {
  const h = await harness(highLoad);
  await h.add([
    ...steady({ __name__: 'load', instance: 'a', job: 'db' }, 0, 20, 2),
    ...steady({ __name__: 'load', instance: 'a', job: 'db' }, 30, 30, 0),
    ...steady({ __name__: 'load', instance: 'a', job: 'db' }, 40, 60, 3),
  ]);
  const rule = alertingRule(h.group());
  for (const seconds of [0, 10, 20, 30, 40]) await h.evaluateAt(seconds);
  const [alert] = rule.activeAlerts();
  assert.equal(alert?.state, 'pending');
  assert.equal(alert?.activeAtMs, startMs + 40_000);
  assert.equal(alert?.value, 3);
});

test('the value and annotations of an active alert follow the latest result', async () => {
  const h = await harness(highLoad);
  await h.add([[{ __name__: 'load', instance: 'a', job: 'db' }, 0, 2], [{ __name__: 'load', instance: 'a', job: 'db' }, 10, 7]]);
  await h.evaluateAt(0);
  await h.evaluateAt(10);
  const [alert] = alertingRule(h.group()).activeAlerts();
  assert.equal(alert?.value, 7);
  assert.equal(alert?.annotations.get('summary'), 'a has load 7');
  assert.equal(alert?.activeAtMs, startMs);
});

test('a rule whose results collide after its labels are applied fails with Prometheus\'s message', async () => {
  const h = await harness(`
groups:
  - name: g
    rules:
      - alert: Collide
        expr: '{__name__=~"a|b"} > 0'
`);
  await h.add([[{ __name__: 'a', job: 'x' }, 0, 1], [{ __name__: 'b', job: 'x' }, 0, 1]]);
  await h.evaluateAt(0);
  const rule = alertingRule(h.group());
  assert.equal(rule.health, 'err');
  assert.equal(rule.lastError, 'vector contains metrics with the same labelset after applying alert labels');
  assert.deepEqual(await h.query('ALERTS', 0), [], 'a failed evaluation writes nothing');
});

test('a group limit drops every alert of a rule over it and reports the count', async () => {
  const h = await harness(`
groups:
  - name: g
    limit: 1
    rules:
      - alert: Many
        expr: up == 0
`);
  await h.add([[{ __name__: 'up', instance: 'a' }, 0, 0], [{ __name__: 'up', instance: 'b' }, 0, 0]]);
  await h.evaluateAt(0);
  const rule = alertingRule(h.group());
  assert.equal(rule.lastError, 'exceeded limit of 1 with 2 alerts');
  assert.deepEqual(rule.currentAlerts(), []);
});

test('a template that fails at run time puts Prometheus\'s error text in the annotation', async () => {
  const h = await harness(`
groups:
  - name: g
    rules:
      - alert: Broken
        expr: up == 0
        annotations:
          summary: '{{ humanize $labels.instance }}'
`);
  await h.add([[{ __name__: 'up', instance: 'not-a-number' }, 0, 0]]);
  await h.evaluateAt(0);
  const rule = alertingRule(h.group());
  assert.equal(rule.health, 'ok', 'a template error does not fail the rule');
  assert.equal(
    rule.activeAlerts()[0]?.annotations.get('summary'),
    '<error expanding template: error executing template __alert_Broken: template: __alert_Broken:1:115: executing "__alert_Broken" at <humanize $labels.instance>: error calling humanize: strconv.ParseFloat: parsing "not-a-number": invalid syntax>',
  );
});

test('external labels and URL reach templates', async () => {
  const h = await harness(`
groups:
  - name: g
    rules:
      - alert: WithExternal
        expr: up == 0
        annotations:
          where: '{{ $externalLabels.region }} {{ $externalURL }}'
`, { externalLabels: { region: 'eu-1' } });
  await h.add([[{ __name__: 'up', instance: 'a' }, 0, 0]]);
  await h.evaluateAt(0);
  assert.equal(alertingRule(h.group()).activeAlerts()[0]?.annotations.get('where'), 'eu-1 http://monitor.example:9090');
});

test('a recording rule writes renamed series with its labels, and staleness markers when they vanish', async () => {
  const h = await harness(`
groups:
  - name: g
    rules:
      - record: job:requests:sum
        expr: sum by (job) (requests)
        labels:
          env: prod
`);
  await h.add([[{ __name__: 'requests', job: 'a', instance: '1' }, 0, 2], [{ __name__: 'requests', job: 'a', instance: '2' }, 0, 3], [{ __name__: 'requests', job: 'b', instance: '1' }, 0, 4]]);
  await h.add([[{ __name__: 'requests', job: 'a', instance: '1' }, 10, 5]]);
  await h.evaluateAt(0);
  assert.deepEqual(await h.query('job:requests:sum', 0), ['job:requests:sum{env="prod", job="a"} 5', 'job:requests:sum{env="prod", job="b"} 4']);
  // At 10 s the inputs of job b are still within the lookback, so drop them with a staleness-free trick:
  // evaluate far later, when only the re-added series of job a is recent.
  await h.add([[{ __name__: 'requests', job: 'a', instance: '1' }, 400, 6]]);
  await h.evaluateAt(400);
  assert.deepEqual(await h.query('job:requests:sum', 400), ['job:requests:sum{env="prod", job="a"} 6']);
  assert.deepEqual(await h.query('job:requests:sum{job="b"}', 401), [], 'job b was marked stale at 400, not left to the lookback');
  const rule = h.group().rules[0];
  assert.ok(rule instanceof RecordingRule);
  assert.equal(rule.health, 'ok');
});

test('a recording rule over its limit or with colliding results fails without writing', async () => {
  const h = await harness(`
groups:
  - name: g
    limit: 1
    rules:
      - record: all_up
        expr: up
      - record: collide
        expr: up
        labels:
          instance: same
`);
  await h.add([[{ __name__: 'up', instance: 'a' }, 0, 1], [{ __name__: 'up', instance: 'b' }, 0, 1]]);
  await h.evaluateAt(0);
  const [limited, colliding] = h.group().rules;
  assert.equal(limited?.lastError, 'exceeded limit of 1 with 2 series');
  assert.equal(colliding?.lastError, 'vector contains metrics with the same labelset after applying rule labels');
  assert.deepEqual(await h.query('all_up', 0), []);
});

test('a scalar result is recorded as one series named by the rule', async () => {
  const h = await harness(`
groups:
  - name: g
    rules:
      - record: answer
        expr: '42'
`);
  await h.evaluateAt(0);
  assert.deepEqual(await h.query('answer', 0), ['answer 42']);
});
