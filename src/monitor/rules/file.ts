/**
 * Prometheus rule files (`groups: [{name, interval, limit, rules: [...]}]`), parsed and checked with
 * Prometheus 2.42's rules (model/rulefmt) and messages: a group needs a unique, non-empty name; a rule
 * sets exactly one of `record` and `alert` and an `expr` that parses; a recording rule's name is a valid
 * metric name and it has no `for`, `keep_firing_for` or annotations; label and annotation names are
 * valid; alert templates parse. Every problem is reported, each naming the file, line and column, group,
 * rule number (from 1) and rule name.
 *
 * keel is stricter than Prometheus in two places, both of which Prometheus only finds at every
 * evaluation: an expression must be an instant vector or a scalar, and `limit` must not be negative.
 *
 * @example
 * const groups = parseRuleFile('groups: [{name: g, rules: [{alert: Down, expr: up == 0, for: 5m}]}]', 'a.yml');
 * groups[0]?.rules[0]?.kind; // 'alerting'
 */
import { readFile, stat } from 'node:fs/promises';
import { parseDurationMs } from '../config/units.ts';
import { documentedType, parseExpr, typeOf } from '../promql/index.ts';
import type { Expr } from '../promql/index.ts';
import { isValidLabelName, isValidMetricName, isWellFormedLabelValue, Labels, metricNameLabel } from '../tsdb/index.ts';
import { AlertTemplate } from './template.ts';
import type { RuleYamlNode } from './_yaml.ts';
import { readYaml, YamlProblem } from './_yaml.ts';

/** Largest rule file read, in bytes. */
export const ruleFileBytesMax = 16 * 1024 * 1024;
/** Most groups in one file. */
export const ruleGroupsPerFileMax = 10_000;
/** Most rules in one group. */
export const rulesPerGroupMax = 10_000;
/** Most labels or annotations on one rule. */
export const ruleLabelsMax = 1000;

export type RuleFileErrorCode =
  /** The file could not be read. */
  | 'RULE_FILE_READ_FAILED'
  /** The file is larger than {@link ruleFileBytesMax} or holds too many groups or rules. */
  | 'RULE_FILE_TOO_LARGE'
  /** The file is not valid YAML or breaks a rule of the format; `problems` lists every finding. */
  | 'RULE_FILE_INVALID';

/** A rule file that cannot be loaded. `message` holds every problem, one per line. */
export class RuleFileError extends Error {
  readonly code: RuleFileErrorCode;
  readonly fileName: string;
  readonly problems: readonly string[];

  constructor(code: RuleFileErrorCode, fileName: string, problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'RuleFileError';
    this.code = code;
    this.fileName = fileName;
    this.problems = problems;
  }
}

/** A label or annotation of an alerting rule: its text and the compiled template. */
export interface TemplatedLabel {
  readonly name: string;
  readonly text: string;
  readonly template: AlertTemplate;
}

export interface RecordingRuleDefinition {
  readonly kind: 'recording';
  /** The metric name written. */
  readonly name: string;
  /** The expression as written (trimmed). */
  readonly query: string;
  readonly expr: Expr;
  /** Labels set on every result (an empty value removes the label). */
  readonly labels: readonly (readonly [string, string])[];
}

export interface AlertingRuleDefinition {
  readonly kind: 'alerting';
  readonly name: string;
  readonly query: string;
  readonly expr: Expr;
  /** `for`: how long a result must persist before the alert fires. */
  readonly holdDurationMs: number;
  /** `keep_firing_for`: how long a firing alert stays firing after its result disappears. */
  readonly keepFiringForMs: number;
  /** Sorted by name. */
  readonly labels: readonly TemplatedLabel[];
  /** Sorted by name. */
  readonly annotations: readonly TemplatedLabel[];
}

export type RuleDefinition = RecordingRuleDefinition | AlertingRuleDefinition;

export interface RuleGroupDefinition {
  readonly file: string;
  readonly name: string;
  /** 0 when the file sets none: the manager's default (global.evaluation_interval) applies. */
  readonly intervalMs: number;
  /** 0 for no limit. */
  readonly limit: number;
  readonly rules: readonly RuleDefinition[];
}

const groupFields = ['name', 'interval', 'limit', 'rules'];
const ruleFields = ['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'];

/**
 * Parses a rule file's text; `fileName` names it in errors and in every group. Throws a
 * {@link RuleFileError} listing every problem.
 */
export function parseRuleFile(text: string, fileName: string): RuleGroupDefinition[] {
  const problems: string[] = [];
  const at = (node: RuleYamlNode): string => {
    const { line, column } = node.position();
    return `${fileName}: ${line}:${column}:`;
  };
  try {
    const root = readYaml(text);
    const groupsNode = root.fields('rulefmt.RuleGroups', ['groups']).get('groups');
    const groupNodes = groupsNode?.items('[]rulefmt.RuleGroup') ?? [];
    if (groupNodes.length > ruleGroupsPerFileMax) throw new RuleFileError('RULE_FILE_TOO_LARGE', fileName, [`${fileName}: more than ${ruleGroupsPerFileMax} groups`]);
    const names = new Set<string>();
    const groups: RuleGroupDefinition[] = [];
    for (const groupNode of groupNodes) {
      const group = parseGroup(groupNode, fileName, problems, at);
      if (group.name === '') problems.push(`${at(groupNode)} Groupname must not be empty`);
      else if (names.has(group.name)) problems.push(`${at(groupNode)} groupname: "${group.name}" is repeated in the same file`);
      names.add(group.name);
      groups.push(group);
    }
    if (problems.length > 0) throw new RuleFileError('RULE_FILE_INVALID', fileName, problems);
    return groups;
  } catch (error) {
    if (error instanceof YamlProblem) throw new RuleFileError('RULE_FILE_INVALID', fileName, [...problems, `${fileName}: ${error.line}:${error.column}: ${error.message}`]);
    throw error;
  }
}

/**
 * Reads and parses one rule file. Throws a {@link RuleFileError}.
 *
 * @example
 * const groups = await loadRuleFile('rules/keel.yml');
 */
export async function loadRuleFile(path: string): Promise<RuleGroupDefinition[]> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.size > ruleFileBytesMax) throw new RuleFileError('RULE_FILE_TOO_LARGE', path, [`${path}: the file is larger than ${ruleFileBytesMax} bytes`]);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof RuleFileError) throw error;
    throw new RuleFileError('RULE_FILE_READ_FAILED', path, [`${path}: ${(error as Error).message}`]);
  }
  return parseRuleFile(text, path);
}

function parseGroup(node: RuleYamlNode, fileName: string, problems: string[], at: (node: RuleYamlNode) => string): RuleGroupDefinition {
  const fields = node.fields('rulefmt.RuleGroup', groupFields);
  const name = fields.get('name')?.scalar('string') ?? '';
  const intervalNode = fields.get('interval');
  const intervalMs = intervalNode === undefined ? 0 : duration(intervalNode);
  const limitNode = fields.get('limit');
  const limit = limitNode?.integer('int') ?? 0;
  if (limit < 0) limitNode!.fail(`group "${name}": limit must not be negative, got ${limit}`);
  const ruleNodes = fields.get('rules')?.items('[]rulefmt.RuleNode') ?? [];
  if (ruleNodes.length > rulesPerGroupMax) node.fail(`group "${name}" has more than ${rulesPerGroupMax} rules`);
  const rules: RuleDefinition[] = [];
  ruleNodes.forEach((ruleNode, index) => {
    const ruleProblems: { node: RuleYamlNode; message: string }[] = [];
    const rule = parseRule(ruleNode, ruleProblems);
    for (const problem of ruleProblems) problems.push(`${at(problem.node)} group "${name}", rule ${index + 1}, "${rule.displayName}": ${problem.message}`);
    if (rule.definition !== undefined) rules.push(rule.definition);
  });
  return { file: fileName, name, intervalMs, limit, rules };
}

function duration(node: RuleYamlNode): number {
  const text = node.scalar('model.Duration');
  if (text === '') return 0;
  try {
    return parseDurationMs(text);
  } catch {
    return node.fail(`not a valid duration string: ${JSON.stringify(text)}`);
  }
}

type Problems = { node: RuleYamlNode; message: string }[];

function parseRule(node: RuleYamlNode, problems: Problems): { displayName: string; definition: RuleDefinition | undefined } {
  const fields = node.fields('rulefmt.RuleNode', ruleFields);
  const recordNode = fields.get('record');
  const alertNode = fields.get('alert');
  const record = recordNode?.scalar('string') ?? '';
  const alert = alertNode?.scalar('string') ?? '';
  const displayName = alert !== '' ? alert : record;
  const report = (where: RuleYamlNode | undefined, message: string): void => {
    problems.push({ node: where ?? node, message });
  };
  if (record !== '' && alert !== '') report(recordNode, 'only one of \'record\' and \'alert\' must be set');
  if (record === '' && alert === '') report(recordNode ?? alertNode, 'one of \'record\' or \'alert\' must be set');
  const expression = parseExpression(fields.get('expr'), node, report);
  const holdDurationMs = fields.has('for') ? duration(fields.get('for')!) : 0;
  const keepFiringForMs = fields.has('keep_firing_for') ? duration(fields.get('keep_firing_for')!) : 0;
  const labels = stringMap(fields.get('labels'), 'label', report);
  const annotations = stringMap(fields.get('annotations'), 'annotation', report);
  for (const [name, value, key, where] of labels) {
    if (!isValidLabelName(name) || name === metricNameLabel) report(key, `invalid label name: ${name}`);
    if (!isWellFormedLabelValue(value)) report(where, `invalid label value: ${value}`);
  }
  for (const [name, , key] of annotations) if (!isValidLabelName(name)) report(key, `invalid annotation name: ${name}`);
  if (record !== '') {
    if (annotations.length > 0) report(recordNode, 'invalid field \'annotations\' in recording rule');
    if (holdDurationMs !== 0) report(recordNode, 'invalid field \'for\' in recording rule');
    if (keepFiringForMs !== 0) report(recordNode, 'invalid field \'keep_firing_for\' in recording rule');
    if (!isValidMetricName(record)) report(recordNode, `invalid recording rule name: ${record}`);
  }
  const templates = alert === '' || record !== '' ? undefined : {
    labels: compileTemplates(labels, 'label', alert, report),
    annotations: compileTemplates(annotations, 'annotation', alert, report),
  };
  if (problems.length > 0 || expression === undefined) return { displayName, definition: undefined };
  if (templates === undefined) {
    return { displayName, definition: { kind: 'recording', name: record, ...expression, labels: labels.map(([name, value]) => [name, value] as const) } };
  }
  return { displayName, definition: { kind: 'alerting', name: alert, ...expression, holdDurationMs, keepFiringForMs, ...templates } };
}

function parseExpression(node: RuleYamlNode | undefined, ruleNode: RuleYamlNode, report: (where: RuleYamlNode | undefined, message: string) => void): { query: string; expr: Expr } | undefined {
  const query = node?.scalar('string').trim() ?? '';
  if (query === '') {
    report(node ?? ruleNode, 'field \'expr\' must be set in rule');
    return undefined;
  }
  let expr: Expr;
  try {
    expr = parseExpr(query);
  } catch (error) {
    report(node, `could not parse expression: ${(error as Error).message}`);
    return undefined;
  }
  const type = typeOf(expr);
  if (type !== 'vector' && type !== 'scalar') {
    report(node, `expression must evaluate to an instant vector or a scalar, got ${documentedType(type)}`);
    return undefined;
  }
  return { query, expr };
}

/** A `map[string]string` field: [name, value, key node (for name errors), value node (for value errors)], sorted by name. */
type StringEntry = readonly [string, string, RuleYamlNode, RuleYamlNode];

function stringMap(node: RuleYamlNode | undefined, what: string, report: (where: RuleYamlNode | undefined, message: string) => void): StringEntry[] {
  if (node === undefined) return [];
  const entries = node.pairs('map[string]string', 'any').map(({ name, key, value }): StringEntry => [name, value.scalar('string'), key, value]);
  if (entries.length > ruleLabelsMax) report(node, `more than ${ruleLabelsMax} ${what}s`);
  return entries.sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
}

function compileTemplates(entries: readonly StringEntry[], what: string, alertName: string, report: (where: RuleYamlNode | undefined, message: string) => void): TemplatedLabel[] {
  const compiled: TemplatedLabel[] = [];
  for (const [name, text, , where] of entries) {
    try {
      compiled.push({ name, text, template: AlertTemplate.compile(text, alertName) });
    } catch (error) {
      report(where, `${what} ${JSON.stringify(name)}: ${(error as Error).message}`);
    }
  }
  return compiled;
}

/** The labels of a rule as a label set (empty values dropped), for the rules API. */
export function ruleLabels(definition: RuleDefinition): Labels {
  const pairs: [string, string][] = definition.kind === 'recording'
    ? definition.labels.map(([name, value]) => [name, value])
    : definition.labels.map((label) => [label.name, label.text]);
  return Labels.fromPairs(pairs);
}
