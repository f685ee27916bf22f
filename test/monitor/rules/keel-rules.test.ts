/**
 * keel's own rules (rules/keel.yml): promtool accepts them and passes their unit tests
 * (rules/keel.test.yml), and keel's rule manager passes the very same unit tests, so both fire the same
 * alerts with the same labels and annotations at the same times.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { loadRuleFile } from '../../../src/monitor/rules/index.ts';
import { runRuleTestFile } from './_promtool-runner.ts';

const rulesPath = 'rules/keel.yml';
const testsPath = 'rules/keel.test.yml';
const run = promisify(execFile);
const promtoolMissing = await run('promtool', ['--version']).then(() => false, () => true);
const skipWithoutPromtool = { skip: promtoolMissing && 'promtool is not installed (.ci/run installs the prometheus package)' };

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  return run('promtool', args).then(
    (result) => ({ code: 0, output: result.stdout + result.stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, output: (error.stdout ?? '') + (error.stderr ?? '') }),
  );
}

/** Copies keel.yml and keel.test.yml to a temporary directory, each text changed by `edit`. */
async function withEditedCopy(edit: { rules?: (text: string) => string; tests?: (text: string) => string }, body: (testsFile: string) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'keel-rules-'));
  try {
    await writeFile(join(directory, 'keel.yml'), (edit.rules ?? ((text) => text))(await readFile(rulesPath, 'utf8')));
    await writeFile(join(directory, 'keel.test.yml'), (edit.tests ?? ((text) => text))(await readFile(testsPath, 'utf8')));
    await body(join(directory, 'keel.test.yml'));
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

test('promtool check rules accepts rules/keel.yml', skipWithoutPromtool, async () => {
  const result = await promtool('check', 'rules', rulesPath);
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, /SUCCESS: 14 rules found/);
});

test('promtool test rules passes rules/keel.test.yml', skipWithoutPromtool, async () => {
  const result = await promtool('test', 'rules', testsPath);
  assert.equal(result.code, 0, result.output);
});

test('keel\'s rule manager passes rules/keel.test.yml too', async () => {
  assert.deepEqual(await runRuleTestFile(testsPath), []);
});

test('a wrong expectation fails in promtool and in keel alike', async () => {
  await withEditedCopy({ tests: (text) => text.replace('summary: keel member m1:2379 is down', 'summary: keel member m1:2379 is up') }, async (testsFile) => {
    const failures = await runRuleTestFile(testsFile);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /alertname: KeelMemberDown, time: 5m/);
    if (!promtoolMissing) assert.notEqual((await promtool('test', 'rules', testsFile)).code, 0);
  });
});

test('a changed rule fails the unit tests in promtool and in keel alike', async () => {
  await withEditedCopy({ rules: (text) => text.replace('expr: up{job=~".*keel.*"} == 0\n        for: 3m', 'expr: up{job=~".*keel.*"} == 0\n        for: 4m') }, async (testsFile) => {
    const failures = await runRuleTestFile(testsFile);
    assert.deepEqual(failures.map((failure) => /alertname: (\w+), time: (\w+)/.exec(failure)?.slice(1).join(' ')), ['KeelMemberDown 5m']);
    if (!promtoolMissing) assert.notEqual((await promtool('test', 'rules', testsFile)).code, 0);
  });
});

test('every alert in rules/keel.yml has a for, a severity, a summary, a description and a runbook hint', async () => {
  const groups = await loadRuleFile(rulesPath);
  const alerts = groups.flatMap((group) => group.rules).filter((rule) => rule.kind === 'alerting');
  assert.equal(alerts.length, 10);
  for (const rule of alerts) {
    assert.ok(rule.holdDurationMs > 0, `${rule.name} has a for`);
    assert.deepEqual(rule.labels.map((label) => label.name), ['severity'], rule.name);
    assert.match(rule.labels[0]!.text, /^(warning|critical)$/, rule.name);
    assert.deepEqual(rule.annotations.map((annotation) => annotation.name), ['description', 'runbook', 'summary'], rule.name);
  }
});

test('the unit tests cover every alert of rules/keel.yml', async () => {
  const groups = await loadRuleFile(rulesPath);
  const tests = await readFile(testsPath, 'utf8');
  for (const rule of groups.flatMap((group) => group.rules)) {
    if (rule.kind === 'alerting') assert.match(tests, new RegExp(`alertname: ${rule.name}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `${rule.name} fires in some test`);
  }
});
