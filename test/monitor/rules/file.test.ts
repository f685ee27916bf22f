import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadRuleFile, parseRuleFile, RuleFileError } from '../../../src/monitor/rules/index.ts';

function problems(text: string): readonly string[] {
  try {
    parseRuleFile(text, 'rules.yml');
  } catch (error) {
    assert.ok(error instanceof RuleFileError, `expected a RuleFileError, got ${String(error)}`);
    assert.equal(error.message, error.problems.join('\n'));
    return error.problems;
  }
  assert.fail('the file was accepted');
}

test('parseRuleFile reads groups, intervals, limits and both kinds of rules', () => {
  const groups = parseRuleFile(`
groups:
  - name: first
    interval: 30s
    limit: 5
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels: { tier: "1" }
      - alert: Down
        expr: |
          up == 0
        for: 5m
        keep_firing_for: 1m
        labels: { severity: page }
        annotations: { summary: "{{ $labels.instance }} down" }
  - name: second
    rules: []
`, 'rules.yml');
  assert.equal(groups.length, 2);
  const [first, second] = groups;
  assert.deepEqual([first?.file, first?.name, first?.intervalMs, first?.limit], ['rules.yml', 'first', 30_000, 5]);
  assert.deepEqual([second?.intervalMs, second?.limit, second?.rules.length], [0, 0, 0]);
  const [record, alert] = first!.rules;
  assert.equal(record?.kind, 'recording');
  assert.deepEqual(record?.kind === 'recording' ? record.labels : undefined, [['tier', '1']]);
  assert.equal(alert?.kind, 'alerting');
  if (alert?.kind !== 'alerting') return;
  assert.deepEqual([alert.name, alert.query, alert.holdDurationMs, alert.keepFiringForMs], ['Down', 'up == 0', 300_000, 60_000]);
  assert.deepEqual(alert.annotations.map((annotation) => [annotation.name, annotation.text]), [['summary', '{{ $labels.instance }} down']]);
});

test('an empty file or one without groups has no groups', () => {
  assert.deepEqual(parseRuleFile('', 'a.yml'), []);
  assert.deepEqual(parseRuleFile('# nothing yet\n', 'a.yml'), []);
  assert.deepEqual(parseRuleFile('groups: []', 'a.yml'), []);
});

const invalidFiles: readonly (readonly [string, string, readonly string[]])[] = [
  ['a repeated group name', `
groups:
  - name: g
    rules: []
  - name: g
    rules: []
`, ['rules.yml: 5:5: groupname: "g" is repeated in the same file']],
  ['an empty group name', 'groups: [{rules: []}]', ['rules.yml: 1:10: Groupname must not be empty']],
  ['both record and alert', `
groups:
  - name: g
    rules:
      - record: a
        alert: B
        expr: up
`, ['rules.yml: 5:17: group "g", rule 1, "B": only one of \'record\' and \'alert\' must be set']],
  ['neither record nor alert', `
groups:
  - name: g
    rules:
      - expr: up
`, ['rules.yml: 5:9: group "g", rule 1, "": one of \'record\' or \'alert\' must be set']],
  ['no expression', `
groups:
  - name: g
    rules:
      - alert: A
`, ['rules.yml: 5:9: group "g", rule 1, "A": field \'expr\' must be set in rule']],
  ['an expression that does not parse', `
groups:
  - name: g
    rules:
      - alert: A
        expr: sum(up
`, ['rules.yml: 6:15: group "g", rule 1, "A": could not parse expression: 1:7: parse error: unclosed left parenthesis']],
  ['a range-vector expression', `
groups:
  - name: g
    rules:
      - record: a
        expr: up[5m]
`, ['rules.yml: 6:15: group "g", rule 1, "a": expression must evaluate to an instant vector or a scalar, got range vector']],
  ['a bad recording rule name', `
groups:
  - name: g
    rules:
      - record: 1bad
        expr: up
`, ['rules.yml: 5:17: group "g", rule 1, "1bad": invalid recording rule name: 1bad']],
  ['for, keep_firing_for and annotations on a recording rule', `
groups:
  - name: g
    rules:
      - record: a
        expr: up
        for: 1m
        keep_firing_for: 1m
        annotations: { x: y }
`, [
    'rules.yml: 5:17: group "g", rule 1, "a": invalid field \'annotations\' in recording rule',
    'rules.yml: 5:17: group "g", rule 1, "a": invalid field \'for\' in recording rule',
    'rules.yml: 5:17: group "g", rule 1, "a": invalid field \'keep_firing_for\' in recording rule',
  ]],
  ['bad label and annotation names', `
groups:
  - name: g
    rules:
      - alert: A
        expr: up
        labels: { "0x": a, __name__: b }
        annotations: { "bad-name": c }
`, [
    'rules.yml: 7:19: group "g", rule 1, "A": invalid label name: 0x',
    'rules.yml: 7:28: group "g", rule 1, "A": invalid label name: __name__',
    'rules.yml: 8:24: group "g", rule 1, "A": invalid annotation name: bad-name',
  ]],
  ['an unknown field in a rule', `
groups:
  - name: g
    rules:
      - alert: A
        expr: up
        severity: page
`, ['rules.yml: 7:9: field severity not found in type rulefmt.RuleNode']],
  ['an unknown field in a group', 'groups: [{name: g, rule: []}]', ['rules.yml: 1:20: field rule not found in type rulefmt.RuleGroup']],
  ['an unknown top-level field', 'group: []', ['rules.yml: 1:1: field group not found in type rulefmt.RuleGroups']],
  ['a bad duration', 'groups: [{name: g, interval: 5 minutes, rules: []}]', ['rules.yml: 1:30: not a valid duration string: "5 minutes"']],
  ['a negative limit', 'groups: [{name: g, limit: -1, rules: []}]', ['rules.yml: 1:27: group "g": limit must not be negative, got -1']],
  ['a template that does not parse', `
groups:
  - name: g
    rules:
      - alert: A
        expr: up
        annotations:
          summary: '{{ $labels.job'
          description: '{{ query "up" }}'
`, [
    'rules.yml: 9:24: group "g", rule 1, "A": annotation "description": template: __alert_A:1: function "query" is not supported by keel\'s template subset: templates cannot run queries in keel',
    'rules.yml: 8:20: group "g", rule 1, "A": annotation "summary": template: __alert_A:1: unclosed action',
  ]],
  ['a list where a map belongs', 'groups: [{name: g, rules: [[1]]}]', ['rules.yml: 1:28: cannot unmarshal !!seq into rulefmt.RuleNode']],
  ['broken YAML', 'groups: [', ['rules.yml: 1:10: yaml: Flow sequence in block collection must be sufficiently indented and end with a ]']],
];

for (const [what, text, expected] of invalidFiles) {
  test(`parseRuleFile refuses ${what}, naming the place`, () => {
    assert.deepEqual(problems(text), expected);
  });
}

test('every problem of a file is reported at once', () => {
  const found = problems(`
groups:
  - name: g
    rules:
      - record: bad name
        expr: up
      - alert: A
        expr: 'up =='
`);
  assert.equal(found.length, 2);
  assert.match(found[0]!, /rule 1, "bad name": invalid recording rule name: bad name$/);
  assert.match(found[1]!, /rule 2, "A": could not parse expression: 1:6: parse error: unexpected end of input$/);
});

test('loadRuleFile names an unreadable file', async () => {
  await assert.rejects(loadRuleFile('/nonexistent/rules.yml'), (error: unknown) => {
    assert.ok(error instanceof RuleFileError);
    assert.equal(error.code, 'RULE_FILE_READ_FAILED');
    assert.match(error.message, /^\/nonexistent\/rules\.yml: ENOENT/);
    return true;
  });
});

test('loadRuleFile names the file in every problem', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'keel-rules-'));
  try {
    const path = join(directory, 'bad.yml');
    await writeFile(path, 'groups: [{name: g, rules: [{alert: A}]}]');
    await assert.rejects(loadRuleFile(path), (error: unknown) => error instanceof RuleFileError && error.message.startsWith(`${path}: 1:28: group "g", rule 1, "A"`));
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});
