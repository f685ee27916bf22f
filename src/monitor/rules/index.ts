/**
 * Recording and alerting rules, as Prometheus 2.42 runs them: rule files (file.ts), alert templates
 * (template.ts), the alert state machine (alerting.ts), recording rules (recording.ts), groups on aligned
 * schedules (group.ts), the manager with reloads (manager.ts) and the rules and alerts API data (api.ts).
 *
 * @example
 * import { RuleManager } from './rules/index.ts';
 * const rules = new RuleManager({ queryable: db, appendable: db, notify: (alerts) => notifier.send(alerts) });
 * await rules.applyConfig(config);
 * rules.start();
 */
export { alertForStateMetricName, alertMetricName, alertNameLabel, AlertingRule, alertStateLabel, resolvedRetentionMs } from './alerting.ts';
export type { Alert, AlertingContext, AlertState } from './alerting.ts';
export { alertJson, alertsApiData, rulesApiData, RulesApiParameterError } from './api.ts';
export type { AlertDiscoveryJson, AlertingRuleJson, AlertJson, RecordingRuleJson, RuleDiscoveryJson, RuleGroupJson } from './api.ts';
export { loadRuleFile, parseRuleFile, ruleFileBytesMax, RuleFileError, ruleGroupsPerFileMax, ruleLabels, ruleLabelsMax, rulesPerGroupMax } from './file.ts';
export type { AlertingRuleDefinition, RecordingRuleDefinition, RuleDefinition, RuleFileErrorCode, RuleGroupDefinition, TemplatedLabel } from './file.ts';
export { groupKey, RuleGroup } from './group.ts';
export type { GroupEnvironment, GroupStatistics, Rule } from './group.ts';
export { evaluationIntervalMsDefault, resendDelayMsDefault, RuleManager, ruleGroupsMax } from './manager.ts';
export type { RuleManagerOptions, RuleManagerUpdate } from './manager.ts';
export { RecordingRule } from './recording.ts';
export {
  AlertTemplate, TemplateExecutionError, templateCharactersMax, templateIterationsMax, templateNestingMax, templateOutputCharactersMax,
  TemplateSyntaxError, templateTokensMax,
} from './template.ts';
export type { AlertTemplateData } from './template.ts';
export { RuleEvaluationError } from './_rule-state.ts';
export type { RuleHealth, RuleSample } from './_rule-state.ts';
export { ruleFilesMatchedMax } from './_glob.ts';
export { ruleFileNodesMax } from './_yaml.ts';
