import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryStorage } from '../../../src/monitor/promql/index.ts';
import { AlertingRule, parseRuleFile, RuleFileError, RuleManager, RulesApiParameterError } from '../../../src/monitor/rules/index.ts';
import type { RuleGroup, RuleGroupDefinition } from '../../../src/monitor/rules/index.ts';
import { Labels, Matcher } from '../../../src/monitor/tsdb/index.ts';
import { harness, startMs, steady, waitFor } from './_helpers.ts';

async function withDirectory(body: (directory: string) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'keel-rule-manager-'));
  try {
    await body(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

const downRule = `
groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        for: 10s
`;

function onlyAlertingRule(manager: RuleManager): AlertingRule {
  const rule = manager.groups()[0]?.rules.find((candidate) => candidate instanceof AlertingRule);
  assert.ok(rule instanceof AlertingRule);
  return rule;
}

test('a reload with an unchanged group keeps it running as it is', async () => {
  await withDirectory(async (directory) => {
    const path = join(directory, 'rules.yml');
    await writeFile(path, downRule);
    const storage = new MemoryStorage();
    const manager = new RuleManager({ queryable: storage, appendable: storage });
    await manager.update({ files: [path], evaluationIntervalMs: 10_000 });
    const before = manager.groups()[0];
    await manager.update({ files: [path], evaluationIntervalMs: 10_000 });
    assert.equal(manager.groups()[0], before);
    await manager.update({ files: [path], evaluationIntervalMs: 20_000 });
    assert.notEqual(manager.groups()[0], before, 'a new default interval changes the group');
    assert.equal(manager.groups()[0]?.intervalMs, 20_000);
  });
});

test('a changed group takes over the alerts of the rules it kept', async () => {
  await withDirectory(async (directory) => {
    const path = join(directory, 'rules.yml');
    await writeFile(path, downRule);
    const storage = new MemoryStorage();
    const manager = new RuleManager({ queryable: storage, appendable: storage });
    await manager.update({ files: [path], evaluationIntervalMs: 10_000 });
    const appender = storage.appender();
    for (let seconds = 0; seconds <= 30; seconds += 10) appender.append(Labels.fromRecord({ __name__: 'up', instance: 'a' }), startMs + seconds * 1000, 0);
    await appender.commit();
    for (const seconds of [0, 10, 20]) await manager.evaluateAll(startMs + seconds * 1000);
    assert.equal(onlyAlertingRule(manager).state(), 'firing');

    await writeFile(path, `${downRule}      - record: up:count\n        expr: count(up)\n`);
    await manager.update({ files: [path], evaluationIntervalMs: 10_000 });
    assert.equal(manager.groups()[0]?.rules.length, 2);
    const [alert] = onlyAlertingRule(manager).activeAlerts();
    assert.equal(alert?.state, 'firing');
    assert.equal(alert?.activeAtMs, startMs, 'the alert kept its start');
  });
});

test('a reload that fails to load a file changes nothing and names the problems', async () => {
  await withDirectory(async (directory) => {
    const good = join(directory, 'good.yml');
    const bad = join(directory, 'bad.yml');
    await writeFile(good, downRule);
    await writeFile(bad, 'groups: [{name: b, rules: [{record: x}]}]');
    const storage = new MemoryStorage();
    const manager = new RuleManager({ queryable: storage, appendable: storage });
    await manager.update({ files: [good], evaluationIntervalMs: 10_000 });
    const before = manager.groups();
    await assert.rejects(manager.update({ files: [join(directory, '*.yml')], evaluationIntervalMs: 10_000 }), (error: unknown) => {
      assert.ok(error instanceof RuleFileError);
      assert.equal(error.code, 'RULE_FILE_INVALID');
      assert.deepEqual(error.problems, [`${bad}: 1:28: group "b", rule 1, "x": field 'expr' must be set in rule`]);
      return true;
    });
    assert.deepEqual(manager.groups(), before);
    await assert.rejects(manager.update({ files: [join(directory, 'missing.yml')], evaluationIntervalMs: 10_000 }), /rule file .*missing\.yml: ENOENT/);
  });
});

test('rule file globs load every matching file, groups sorted by file then name', async () => {
  await withDirectory(async (directory) => {
    await writeFile(join(directory, 'b.yml'), 'groups: [{name: z, rules: []}, {name: a, rules: []}]');
    await writeFile(join(directory, 'a.yml'), 'groups: [{name: m, rules: []}]');
    await writeFile(join(directory, 'a.txt'), 'not rules');
    const storage = new MemoryStorage();
    const manager = new RuleManager({ queryable: storage, appendable: storage });
    await manager.update({ files: [join(directory, '*.yml')], evaluationIntervalMs: 10_000 });
    assert.deepEqual(manager.groups().map((group) => `${group.file.slice(directory.length + 1)}:${group.name}`), ['a.yml:m', 'b.yml:a', 'b.yml:z']);
  });
});

test('series of a rule removed in a reload are marked stale at the next evaluation', async () => {
  const h = await harness(`
groups:
  - name: g
    rules:
      - record: kept
        expr: up
      - record: removed
        expr: up
`);
  await h.add(steady({ __name__: 'up', instance: 'a' }, 0, 60, 1));
  await h.evaluateAt(0);
  assert.deepEqual(await h.query('removed', 0), ['removed{instance="a"} 1']);
  const definitions: RuleGroupDefinition[] = h.manager.groups().map((group) => ({ ...group.definition, rules: group.definition.rules.slice(0, 1) }));
  await h.manager.loadGroups(definitions, { evaluationIntervalMs: 10_000 });
  await h.evaluateAt(10);
  assert.deepEqual(await h.query('removed', 10), []);
  assert.deepEqual(await h.query('kept', 10), ['kept{instance="a"} 1']);
});

test('/api/v1/rules data has Prometheus\'s shape and filters by type', async () => {
  const h = await harness(`
groups:
  - name: g
    interval: 30s
    limit: 10
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        for: 1m
        keep_firing_for: 30s
        labels: { severity: page }
        annotations: { summary: '{{ $labels.instance }} down' }
`);
  await h.add([[{ __name__: 'up', instance: 'a', job: 'j' }, 0, 0]]);
  await h.evaluateAt(0);
  const data = h.manager.rulesApiData();
  const group = data.groups[0]!;
  assert.ok(group.evaluationTime >= 0 && group.rules.every((rule) => rule.evaluationTime >= 0));
  const normalised = JSON.parse(JSON.stringify(data, (key, value: unknown) => (key === 'evaluationTime' ? 0 : key === 'lastEvaluation' ? 'T' : value))) as unknown;
  assert.deepEqual(normalised, {
    groups: [{
      name: 'g',
      file: 'test.yml',
      rules: [
        { name: 'job:up:sum', query: 'sum by (job) (up)', health: 'ok', evaluationTime: 0, lastEvaluation: 'T', type: 'recording' },
        {
          state: 'pending',
          name: 'Down',
          query: 'up == 0',
          duration: 60,
          keepFiringFor: 30,
          labels: { severity: 'page' },
          annotations: { summary: '{{ $labels.instance }} down' },
          alerts: [{
            labels: { alertname: 'Down', instance: 'a', job: 'j', severity: 'page' },
            annotations: { summary: 'a down' },
            state: 'pending',
            activeAt: '2023-11-14T22:13:20Z',
            value: '0e+00',
          }],
          health: 'ok',
          evaluationTime: 0,
          lastEvaluation: 'T',
          type: 'alerting',
        },
      ],
      interval: 30,
      limit: 10,
      evaluationTime: 0,
      lastEvaluation: 'T',
    }],
  });
  assert.deepEqual(h.manager.rulesApiData('record').groups[0]?.rules.map((rule) => rule.type), ['recording']);
  assert.deepEqual(h.manager.rulesApiData('ALERT').groups[0]?.rules.map((rule) => rule.type), ['alerting']);
  assert.throws(() => h.manager.rulesApiData('recording'), (error: unknown) => error instanceof RulesApiParameterError && error.parameter === 'type' && error.message === 'not supported value "recording"');
  assert.deepEqual(h.manager.alertsApiData().alerts.map((alert) => alert.labels.instance), ['a']);
});

test('a rule that was never evaluated reports unknown health and Go\'s zero time', async () => {
  const h = await harness(downRule);
  const rule = h.manager.rulesApiData().groups[0]?.rules[0];
  assert.equal(rule?.health, 'unknown');
  assert.equal(rule?.lastEvaluation, '0001-01-01T00:00:00Z');
  assert.equal(h.manager.rulesApiData().groups[0]?.lastEvaluation, '0001-01-01T00:00:00Z');
});

test('evaluation times are aligned to the interval with a per-group offset', async () => {
  const h = await harness('groups: [{name: a, rules: []}, {name: b, rules: []}]', { evaluationIntervalMs: 60_000 });
  const [first, second] = h.manager.groups() as [RuleGroup, RuleGroup];
  const now = startMs + 12_345;
  const aligned = first.evaluationTimestamp(now);
  assert.ok(aligned <= now && now - aligned < 60_000);
  assert.equal(first.evaluationTimestamp(aligned), aligned);
  assert.equal(first.evaluationTimestamp(aligned + 59_999), aligned);
  assert.equal(first.evaluationTimestamp(aligned + 60_000), aligned + 60_000);
  const offset = (time: number): number => ((time % 60_000) + 60_000) % 60_000;
  assert.equal(offset(first.evaluationTimestamp(now + 7 * 60_000)), offset(aligned), 'the same offset in every interval');
  assert.notEqual(offset(second.evaluationTimestamp(now)), offset(aligned), 'groups spread over the interval');
});

test('a started manager evaluates on schedule at aligned times and stops cleanly', async () => {
  const storage = new MemoryStorage();
  const manager = new RuleManager({ queryable: storage, appendable: storage });
  await manager.loadGroups(parseRuleFile('groups: [{name: live, interval: 50ms, rules: [{record: tick, expr: vector(1)}]}]', 'live.yml'), { evaluationIntervalMs: 50 });
  manager.start();
  const group = manager.groups()[0]!;
  const timestamps = (): number[] => {
    const querier = storage.querier(0, Date.now() + 1000);
    const series = querier.select([new Matcher('=', '__name__', 'tick')]);
    const times: number[] = [];
    for (const entry of series) for (const iterator = entry.iterator(); iterator.next();) times.push(iterator.timestampMs);
    querier.close();
    return times;
  };
  await waitFor(() => timestamps().length >= 3, 10_000, 'three scheduled evaluations');
  await manager.stop();
  const times = timestamps();
  const offset = group.evaluationTimestamp(times[0]!) - times[0]!;
  assert.equal(offset, 0, 'every evaluation time is an aligned time');
  for (let index = 1; index < times.length; index += 1) assert.equal((times[index]! - times[0]!) % 50, 0);
  const count = times.length;
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(timestamps().length, count, 'nothing runs after stop');
  assert.equal(group.statistics.evaluations, count);
});

test('a group removed from a running manager has its series marked stale two intervals later', async () => {
  const storage = new MemoryStorage();
  const manager = new RuleManager({ queryable: storage, appendable: storage });
  await manager.loadGroups(parseRuleFile('groups: [{name: gone, interval: 30ms, rules: [{record: gone_series, expr: vector(1)}]}]', 'x.yml'), { evaluationIntervalMs: 30 });
  manager.start();
  const lastValue = (): number | undefined => {
    const querier = storage.querier(0, Date.now() + 1000);
    let value: number | undefined;
    for (const entry of querier.select([new Matcher('=', '__name__', 'gone_series')])) for (const iterator = entry.iterator(); iterator.next();) value = iterator.value;
    querier.close();
    return value;
  };
  await waitFor(() => lastValue() === 1, 10_000, 'the first evaluation');
  await manager.loadGroups([], { evaluationIntervalMs: 30 });
  await waitFor(() => Number.isNaN(lastValue()), 10_000, 'the staleness marker');
  await manager.stop();
});
