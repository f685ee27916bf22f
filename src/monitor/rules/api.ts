/**
 * The `data` of Prometheus's `/api/v1/rules` and `/api/v1/alerts`, field for field as Prometheus 2.42's
 * web/api/v1 builds it (field order included, so a JSON encoder that keeps insertion order writes the
 * same text): durations in seconds, times as Go's RFC 3339 JSON, alert values as Go's `%e` shortest text.
 *
 * @example
 * const data = rulesApiData(manager.groups(), 'alert');
 * data.groups[0]?.rules[0]?.type; // 'alerting'
 */
import type { Alert } from './alerting.ts';
import { AlertingRule, compareAlertingRules } from './alerting.ts';
import { ruleLabels } from './file.ts';
import type { Rule, RuleGroup } from './group.ts';
import type { RuleHealth } from './_rule-state.ts';
import { formatGoExponent, formatGoJsonTime, goZeroJsonTime } from './_go-format.ts';

export interface AlertJson {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: string;
  readonly activeAt: string;
  readonly keepFiringSince?: string;
  readonly value: string;
}

export interface AlertingRuleJson {
  readonly state: string;
  readonly name: string;
  readonly query: string;
  readonly duration: number;
  readonly keepFiringFor: number;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly alerts: AlertJson[];
  readonly health: RuleHealth;
  readonly lastError?: string;
  readonly evaluationTime: number;
  readonly lastEvaluation: string;
  readonly type: 'alerting';
}

export interface RecordingRuleJson {
  readonly name: string;
  readonly query: string;
  readonly labels?: Record<string, string>;
  readonly health: RuleHealth;
  readonly lastError?: string;
  readonly evaluationTime: number;
  readonly lastEvaluation: string;
  readonly type: 'recording';
}

export interface RuleGroupJson {
  readonly name: string;
  readonly file: string;
  readonly rules: (AlertingRuleJson | RecordingRuleJson)[];
  readonly interval: number;
  readonly limit: number;
  readonly evaluationTime: number;
  readonly lastEvaluation: string;
}

export interface RuleDiscoveryJson {
  readonly groups: RuleGroupJson[];
}

export interface AlertDiscoveryJson {
  readonly alerts: AlertJson[];
}

/** A bad query parameter; the HTTP layer answers `invalid parameter "type": ...` (bad_data). */
export class RulesApiParameterError extends Error {
  readonly code = 'RULES_API_BAD_PARAMETER';
  readonly parameter: string;

  constructor(parameter: string, message: string) {
    super(message);
    this.name = 'RulesApiParameterError';
    this.parameter = parameter;
  }
}

const time = (timeMs: number | undefined): string => (timeMs === undefined ? goZeroJsonTime : formatGoJsonTime(Math.floor(timeMs)));

/** One alert as `/api/v1/alerts` and the rules' `alerts` list it. */
export function alertJson(alert: Alert): AlertJson {
  const json: { -readonly [K in keyof AlertJson]: AlertJson[K] } = {
    labels: alert.labels.toRecord(),
    annotations: alert.annotations.toRecord(),
    state: alert.state,
    activeAt: time(alert.activeAtMs),
    value: formatGoExponent(alert.value),
  };
  if (alert.keepFiringSinceMs !== undefined) {
    // Go writes keepFiringSince between activeAt and value.
    return { labels: json.labels, annotations: json.annotations, state: json.state, activeAt: json.activeAt, keepFiringSince: time(alert.keepFiringSinceMs), value: json.value };
  }
  return json;
}

function ruleJson(rule: Rule): AlertingRuleJson | RecordingRuleJson {
  const lastError = rule.lastError === '' ? {} : { lastError: rule.lastError };
  const labels = ruleLabels(rule.definition).toRecord();
  if (rule instanceof AlertingRule) {
    const definition = rule.definition;
    return {
      state: rule.state(),
      name: rule.name,
      query: definition.query,
      duration: definition.holdDurationMs / 1000,
      keepFiringFor: definition.keepFiringForMs / 1000,
      labels,
      annotations: Object.fromEntries(definition.annotations.map((annotation) => [annotation.name, annotation.text])),
      alerts: rule.activeAlerts().map(alertJson),
      health: rule.health,
      ...lastError,
      evaluationTime: rule.evaluationDurationMs / 1000,
      lastEvaluation: time(rule.lastEvaluationMs),
      type: 'alerting',
    };
  }
  return {
    name: rule.name,
    query: rule.definition.query,
    ...(Object.keys(labels).length === 0 ? {} : { labels }),
    health: rule.health,
    ...lastError,
    evaluationTime: rule.evaluationDurationMs / 1000,
    lastEvaluation: time(rule.lastEvaluationMs),
    type: 'recording',
  };
}

/**
 * `/api/v1/rules` data. `type` filters: '' for every rule, 'alert' or 'record' (case-insensitive).
 * Throws a {@link RulesApiParameterError} for any other value.
 */
export function rulesApiData(groups: readonly RuleGroup[], type = ''): RuleDiscoveryJson {
  const wanted = type.toLowerCase();
  if (wanted !== '' && wanted !== 'alert' && wanted !== 'record') throw new RulesApiParameterError('type', `not supported value ${JSON.stringify(type)}`);
  return {
    groups: groups.map((group) => ({
      name: group.name,
      file: group.file,
      rules: group.rules
        .filter((rule) => wanted === '' || (wanted === 'alert') === (rule instanceof AlertingRule))
        .map(ruleJson),
      interval: group.intervalMs / 1000,
      limit: group.limit,
      evaluationTime: group.evaluationDurationMs / 1000,
      lastEvaluation: time(group.lastEvaluationMs),
    })),
  };
}

/** `/api/v1/alerts` data: every pending and firing alert, rules ordered as Prometheus orders them. */
export function alertsApiData(groups: readonly RuleGroup[]): AlertDiscoveryJson {
  const rules: AlertingRule[] = [];
  for (const group of groups) for (const rule of group.rules) if (rule instanceof AlertingRule) rules.push(rule);
  return { alerts: rules.sort(compareAlertingRules).flatMap((rule) => rule.activeAlerts().map(alertJson)) };
}
