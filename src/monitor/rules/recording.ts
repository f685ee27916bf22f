/**
 * A recording rule (Prometheus 2.42's rules/recording.go): the expression's result, renamed to the rule's
 * metric name and with the rule's labels set, written back as new series at the evaluation's timestamp.
 */
import { Labels, metricNameLabel } from '../tsdb/index.ts';
import type { RecordingRuleDefinition } from './file.ts';
import { RuleEvaluationError, RuleState } from './_rule-state.ts';
import type { RuleSample } from './_rule-state.ts';

export class RecordingRule extends RuleState {
  readonly definition: RecordingRuleDefinition;

  constructor(definition: RecordingRuleDefinition) {
    super();
    this.definition = definition;
  }

  get name(): string {
    return this.definition.name;
  }

  /**
   * The samples to write for one result. Throws a {@link RuleEvaluationError} when two results end up
   * with one label set, or when there are more than `limit` (0 for no limit).
   *
   * @example
   * rule.evaluate([{ labels: Labels.fromRecord({ __name__: 'up', job: 'a' }), value: 1 }], 0); // job:up:sum{job="a"} if so named
   */
  evaluate(results: readonly RuleSample[], limit: number): RuleSample[] {
    const seen = new Set<string>();
    const samples: RuleSample[] = [];
    for (const sample of results) {
      const labels = new Map<string, string>();
      for (const label of sample.labels) labels.set(label.name, label.value);
      labels.set(metricNameLabel, this.definition.name);
      for (const [name, value] of this.definition.labels) {
        if (value === '') labels.delete(name);
        else labels.set(name, value);
      }
      const renamed = Labels.fromPairs(labels);
      const key = renamed.toString();
      if (seen.has(key)) throw new RuleEvaluationError('vector contains metrics with the same labelset after applying rule labels');
      seen.add(key);
      samples.push({ labels: renamed, value: sample.value });
    }
    if (limit > 0 && samples.length > limit) throw new RuleEvaluationError(`exceeded limit of ${limit} with ${samples.length} series`);
    return samples;
  }
}
