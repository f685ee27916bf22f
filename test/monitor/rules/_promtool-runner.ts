/**
 * Runs Prometheus rule unit-test files (`promtool test rules` format) through keel's rule manager and
 * PromQL engine, with promtool 2.42's procedure: input series loaded at their interval from time 0, every
 * group evaluated in file order at 0, 1×, 2× ... the evaluation interval up to the largest eval_time, the
 * firing alerts compared at each alert test's eval_time (with the evaluation at or just before it), and the
 * PromQL tests queried at the end. Returns the failures as text; an empty list means every test passed.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDurationMs } from '../../../src/monitor/config/units.ts';
import { Engine, MemoryStorage } from '../../../src/monitor/promql/index.ts';
import { AlertingRule, loadRuleFile, RuleManager } from '../../../src/monitor/rules/index.ts';
import type { RuleGroupDefinition } from '../../../src/monitor/rules/index.ts';
import { floatFromBits, Labels, staleMarkerHighBits, staleMarkerLowBits } from '../../../src/monitor/tsdb/index.ts';

interface AlertExpectation {
  readonly exp_labels?: Record<string, string>;
  readonly exp_annotations?: Record<string, string>;
}

interface TestGroup {
  readonly name?: string;
  readonly interval?: string;
  readonly input_series?: readonly { readonly series: string; readonly values: string }[];
  readonly alert_rule_test?: readonly { readonly eval_time: string; readonly alertname: string; readonly exp_alerts?: readonly AlertExpectation[] | null }[];
  readonly promql_expr_test?: readonly { readonly expr: string; readonly eval_time: string; readonly exp_samples?: readonly { readonly labels: string; readonly value: number }[] | null }[];
  readonly external_labels?: Record<string, string>;
  readonly external_url?: string;
}

interface TestFile {
  readonly rule_files: readonly string[];
  readonly evaluation_interval?: string;
  readonly group_eval_order?: readonly string[];
  readonly tests: readonly TestGroup[];
}

/** Runs every test group of `path`; returns one message per failure. */
export async function runRuleTestFile(path: string): Promise<string[]> {
  const file = parseYaml(await readFile(path, 'utf8')) as TestFile;
  const directory = dirname(resolve(path));
  const definitions: RuleGroupDefinition[] = [];
  for (const ruleFile of file.rule_files) definitions.push(...await loadRuleFile(resolve(directory, ruleFile)));
  const order = file.group_eval_order ?? [];
  definitions.sort((left, right) => rank(order, left.name) - rank(order, right.name));
  const evaluationIntervalMs = parseDurationMs(file.evaluation_interval ?? '1m');
  const failures: string[] = [];
  for (const group of file.tests) {
    for (const failure of await runTestGroup(group, definitions, evaluationIntervalMs)) failures.push(`${group.name ?? '(unnamed)'}: ${failure}`);
  }
  return failures;
}

function rank(order: readonly string[], name: string): number {
  const index = order.indexOf(name);
  return index < 0 ? order.length : index;
}

async function runTestGroup(test: TestGroup, definitions: readonly RuleGroupDefinition[], evaluationIntervalMs: number): Promise<string[]> {
  const inputIntervalMs = parseDurationMs(test.interval ?? '1m');
  const storage = new MemoryStorage();
  await loadSeries(storage, test.input_series ?? [], inputIntervalMs);
  const engine = new Engine();
  const manager = new RuleManager({ queryable: storage, appendable: storage, engine, externalUrl: test.external_url ?? '' });
  await manager.loadGroups(definitions, { evaluationIntervalMs: inputIntervalMs, externalLabels: Labels.fromRecord(test.external_labels ?? {}) });
  const groups = definitions.map((definition) => manager.groups().find((group) => group.name === definition.name && group.file === definition.file)!);
  const alertTests = (test.alert_rule_test ?? []).map((alertTest) => ({ ...alertTest, evalTimeMs: parseDurationMs(alertTest.eval_time) }));
  const promqlTests = (test.promql_expr_test ?? []).map((promqlTest) => ({ ...promqlTest, evalTimeMs: parseDurationMs(promqlTest.eval_time) }));
  const maxEvalTimeMs = Math.max(0, ...alertTests.map((alertTest) => alertTest.evalTimeMs), ...promqlTests.map((promqlTest) => promqlTest.evalTimeMs));
  const failures: string[] = [];
  for (let timeMs = 0; timeMs <= maxEvalTimeMs; timeMs += evaluationIntervalMs) {
    for (const group of groups) await group.evaluate(timeMs);
    for (const group of groups) {
      for (const rule of group.rules) if (rule.lastError !== '') return [`rule: ${rule.name}, time: ${timeMs / 1000}s, err: ${rule.lastError}`];
    }
    for (const alertTest of alertTests) {
      if (alertTest.evalTimeMs < timeMs || alertTest.evalTimeMs >= timeMs + evaluationIntervalMs) continue;
      const got: string[] = [];
      for (const group of groups) {
        for (const rule of group.rules) {
          if (!(rule instanceof AlertingRule) || rule.name !== alertTest.alertname) continue;
          for (const alert of rule.activeAlerts()) if (alert.state === 'firing') got.push(describeAlert(alert.labels, alert.annotations));
        }
      }
      const expected = (alertTest.exp_alerts ?? []).map((alert) => describeAlert(
        Labels.fromRecord({ ...stringRecord(alert.exp_labels), alertname: alertTest.alertname }),
        Labels.fromRecord(stringRecord(alert.exp_annotations)),
      ));
      if (JSON.stringify(got.sort()) !== JSON.stringify(expected.sort())) {
        failures.push(`alertname: ${alertTest.alertname}, time: ${alertTest.eval_time},\n  exp: ${JSON.stringify(expected)}\n  got: ${JSON.stringify(got)}`);
      }
    }
  }
  for (const promqlTest of promqlTests) failures.push(...await checkExpression(engine, storage, promqlTest));
  return failures;
}

async function checkExpression(engine: Engine, storage: MemoryStorage, test: { expr: string; eval_time: string; evalTimeMs: number; exp_samples?: readonly { labels: string; value: number }[] | null }): Promise<string[]> {
  const result = await engine.instantQuery(storage, test.expr, test.evalTimeMs);
  const got = result.resultType === 'vector' ? result.result.map((sample) => `${sample.labels.toString()} ${sample.value}`) : result.resultType === 'scalar' ? [`{} ${result.result.value}`] : [];
  const expected = (test.exp_samples ?? []).map((sample) => `${parseSeriesDescription(sample.labels).toString()} ${sample.value}`);
  if (JSON.stringify(got.sort()) === JSON.stringify(expected.sort())) return [];
  return [`expr: ${JSON.stringify(test.expr)}, time: ${test.eval_time},\n  exp: ${JSON.stringify(expected)}\n  got: ${JSON.stringify(got)}`];
}

function describeAlert(labels: Labels, annotations: Labels): string {
  return `${labels.toString()} ${annotations.toString()}`;
}

function stringRecord(record: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(record ?? {}).map(([name, value]) => [name, String(value)]));
}

async function loadSeries(storage: MemoryStorage, series: readonly { series: string; values: string }[], intervalMs: number): Promise<void> {
  const appender = storage.appender();
  for (const entry of series) {
    const labels = parseSeriesDescription(entry.series);
    expandSeriesValues(String(entry.values)).forEach((value, index) => {
      if (value !== undefined) appender.append(labels, index * intervalMs, value);
    });
  }
  await appender.commit();
}

/** promql's series notation: `a+bxn` (n+1 values), `axn`, `_`, `_xn` (n gaps), `stale`, plain numbers. */
export function expandSeriesValues(text: string): (number | undefined)[] {
  const values: (number | undefined)[] = [];
  for (const item of text.trim().split(/\s+/)) {
    if (item === '') continue;
    if (item === 'stale') {
      values.push(floatFromBits(staleMarkerHighBits, staleMarkerLowBits));
      continue;
    }
    const blanks = /^_(?:x(\d+))?$/.exec(item);
    if (blanks !== null) {
      for (let index = 0; index < Number(blanks[1] ?? 1); index += 1) values.push(undefined);
      continue;
    }
    const sequence = /^([+-]?(?:[\d.]+(?:e[+-]?\d+)?|Inf|NaN))(?:([+-])([\d.]+(?:e[+-]?\d+)?))?x(\d+)$/i.exec(item);
    if (sequence !== null) {
      const start = Number(sequence[1]!.replace(/inf/i, 'Infinity'));
      const step = sequence[2] === undefined ? 0 : Number(sequence[3]) * (sequence[2] === '-' ? -1 : 1);
      for (let index = 0; index <= Number(sequence[4]); index += 1) values.push(start + index * step);
      continue;
    }
    const value = Number(item.replace(/inf/i, 'Infinity'));
    if (Number.isNaN(value) && !/^[+-]?nan$/i.test(item)) throw new Error(`bad series value ${JSON.stringify(item)}`);
    values.push(value);
  }
  return values;
}

/** `name{a="b", c="d"}` or `{__name__="x", ...}` to a label set. */
export function parseSeriesDescription(text: string): Labels {
  const match = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$/s.exec(text);
  if (match === null) throw new Error(`bad series description ${JSON.stringify(text)}`);
  const pairs: [string, string][] = match[1] === undefined ? [] : [['__name__', match[1]]];
  const body = match[2] ?? '';
  const pairPattern = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/gy;
  let consumed = 0;
  for (let pair = pairPattern.exec(body); pair !== null && pair[0] !== ''; pair = pairPattern.exec(body)) {
    pairs.push([pair[1]!, JSON.parse(`"${pair[2]!}"`) as string]);
    consumed = pairPattern.lastIndex;
  }
  if (body.slice(consumed).trim() !== '') throw new Error(`bad series description ${JSON.stringify(text)}`);
  return Labels.fromPairs(pairs);
}
