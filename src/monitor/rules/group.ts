/**
 * A rule group (Prometheus 2.42's rules.Group): rules evaluated in order at one timestamp every interval.
 * Evaluation times are aligned like Prometheus's: `base + offset`, where the offset is a hash of the
 * group's file and name modulo the interval, so groups spread over the interval and a restarted server
 * evaluates at the same instants. Series a rule wrote at its last evaluation and not at this one get a
 * staleness marker; a failed evaluation writes nothing and marks nothing stale.
 */
import type { Logger } from '../../server/logger.ts';
import type { Engine } from '../promql/index.ts';
import type { Appendable, AppendOutcome, Queryable } from '../storage.ts';
import { assert, floatFromBits, Labels, staleMarkerHighBits, staleMarkerLowBits } from '../tsdb/index.ts';
import type { Alert } from './alerting.ts';
import { AlertingRule } from './alerting.ts';
import type { RuleDefinition, RuleGroupDefinition } from './file.ts';
import { ruleLabels } from './file.ts';
import { RecordingRule } from './recording.ts';
import type { RuleSample } from './_rule-state.ts';
import { RuleEvaluationError } from './_rule-state.ts';

export type Rule = RecordingRule | AlertingRule;

/** What a group needs from the manager; one object shared by every group. */
export interface GroupEnvironment {
  readonly engine: Engine;
  readonly queryable: Queryable;
  readonly appendable: Appendable;
  readonly externalLabels: Labels;
  readonly externalUrl: string;
  /** Prometheus's --rules.alert.resend-delay. */
  readonly resendDelayMs: number;
  /** Hands alerts due for sending to the notifier. */
  readonly notify: (rule: AlertingRule, alerts: Alert[]) => void;
  readonly logger: Logger;
  /** Wall clock, milliseconds since the epoch. */
  readonly now: () => number;
}

/** Prometheus's storage errors, as a rule's last error reads when its sample is refused. */
const appendErrors: Readonly<Record<Exclude<AppendOutcome, 'ok'>, string>> = {
  out_of_order: 'out of order sample',
  duplicate_sample: 'duplicate sample for timestamp',
  out_of_bounds: 'out of bounds',
  too_old: 'too old sample',
};

/** Counters of a group's work, as Prometheus exports them per group. */
export interface GroupStatistics {
  iterationsScheduled: number;
  iterationsMissed: number;
  evaluations: number;
  evaluationFailures: number;
  /** Samples the last evaluation wrote. */
  lastSamples: number;
}

export class RuleGroup {
  readonly file: string;
  readonly name: string;
  /** Invariant: > 0. */
  readonly intervalMs: number;
  readonly limit: number;
  readonly rules: readonly Rule[];
  readonly definition: RuleGroupDefinition;
  readonly statistics: GroupStatistics = { iterationsScheduled: 0, iterationsMissed: 0, evaluations: 0, evaluationFailures: 0, lastSamples: 0 };
  /** Wall-clock start of the last evaluation; undefined before the first. */
  lastEvaluationMs: number | undefined = undefined;
  evaluationDurationMs = 0;
  readonly #environment: GroupEnvironment;
  /** Invariant: one map per rule, label-set text to labels, of the series the rule wrote last time. */
  #seriesInPreviousEvaluation: Map<string, Labels>[];
  /** The timestamp of the last evaluation that ran (not its wall-clock start). */
  #lastEvaluationTimestampMs = -Infinity;
  /** Series of rules gone in a reload, marked stale at the next evaluation. */
  #staleSeries: Labels[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(definition: RuleGroupDefinition, defaultIntervalMs: number, environment: GroupEnvironment) {
    const intervalMs = definition.intervalMs > 0 ? definition.intervalMs : defaultIntervalMs;
    assert(Number.isSafeInteger(intervalMs) && intervalMs > 0, 'a group interval is a positive integer of milliseconds');
    this.definition = definition;
    this.file = definition.file;
    this.name = definition.name;
    this.intervalMs = intervalMs;
    this.limit = definition.limit;
    this.rules = definition.rules.map(newRule);
    this.#environment = environment;
    this.#seriesInPreviousEvaluation = this.rules.map(() => new Map());
  }

  /** `file;name`, unique among the manager's groups. */
  get key(): string {
    return groupKey(this.file, this.name);
  }

  /** The aligned evaluation time at or before `nowMs` (Prometheus's EvalTimestamp). */
  evaluationTimestamp(nowMs: number): number {
    const offset = Labels.fromRecord({ name: this.name, file: this.file }).hash() % this.intervalMs;
    const adjusted = nowMs - offset;
    const base = adjusted - (((adjusted % this.intervalMs) + this.intervalMs) % this.intervalMs);
    return base + offset;
  }

  /** Evaluates every rule, in order, at `timeMs`, writes the results and hands due alerts to the notifier. */
  async evaluate(timeMs: number): Promise<void> {
    this.#lastEvaluationTimestampMs = Math.max(this.#lastEvaluationTimestampMs, timeMs);
    let samples = 0;
    for (let index = 0; index < this.rules.length; index += 1) {
      if (this.#stopped) return;
      samples += await this.#evaluateRule(index, timeMs);
    }
    this.statistics.lastSamples = samples;
    await this.#writeStaleMarkers(this.#staleSeries, timeMs, () => { this.#staleSeries = []; });
  }

  async #evaluateRule(index: number, timeMs: number): Promise<number> {
    const rule = this.rules[index]!;
    const environment = this.#environment;
    const startedMs = environment.now();
    const started = performance.now();
    this.statistics.evaluations += 1;
    try {
      let samples: RuleSample[];
      try {
        samples = await this.#run(rule, timeMs);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        rule.setOutcome(message);
        this.statistics.evaluationFailures += 1;
        environment.logger.warn('evaluating rule failed', { group: this.name, file: this.file, rule: rule.name, index, error: message });
        return 0;
      }
      rule.setOutcome(undefined);
      if (rule instanceof AlertingRule) environment.notify(rule, rule.alertsToSend(timeMs, environment.resendDelayMs, this.intervalMs));
      await this.#write(index, rule, samples, timeMs);
      return samples.length;
    } finally {
      rule.evaluationDurationMs = performance.now() - started;
      rule.lastEvaluationMs = startedMs;
    }
  }

  async #run(rule: Rule, timeMs: number): Promise<RuleSample[]> {
    const environment = this.#environment;
    const result = await environment.engine.instantQuery(environment.queryable, rule.definition.expr, timeMs);
    let vector: readonly RuleSample[];
    if (result.resultType === 'vector') vector = result.result;
    else if (result.resultType === 'scalar') vector = [{ labels: Labels.empty, value: result.result.value }];
    else throw new RuleEvaluationError('rule result is not a vector or scalar');
    if (rule instanceof RecordingRule) return rule.evaluate(vector, this.limit);
    return rule.evaluate(vector, timeMs, {
      externalLabels: environment.externalLabels,
      externalUrl: environment.externalUrl,
      limit: this.limit,
      onTemplateError: (error) => environment.logger.warn('expanding alert template failed', { rule: rule.name, error: error.message }),
    });
  }

  async #write(index: number, rule: Rule, samples: readonly RuleSample[], timeMs: number): Promise<void> {
    const appender = this.#environment.appendable.appender();
    const returned = new Map<string, Labels>();
    for (const sample of samples) {
      const outcome = appender.append(sample.labels, timeMs, sample.value);
      if (outcome === 'ok') returned.set(sample.labels.toString(), sample.labels);
      else rule.setOutcome(appendErrors[outcome]);
    }
    const stale = staleMarkerValue();
    for (const [key, labels] of this.#seriesInPreviousEvaluation[index]!) {
      // Refusals are expected here (a renamed rule wrote first) and ignored, as Prometheus does.
      if (!returned.has(key)) appender.append(labels, timeMs, stale);
    }
    try {
      await appender.commit();
      this.#seriesInPreviousEvaluation[index] = returned;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      rule.setOutcome(message);
      this.statistics.evaluationFailures += 1;
      this.#environment.logger.warn('rule sample appending failed', { group: this.name, rule: rule.name, error: message });
    }
  }

  async #writeStaleMarkers(series: readonly Labels[], timeMs: number, onCommitted: () => void): Promise<void> {
    if (series.length === 0) return;
    const appender = this.#environment.appendable.appender();
    const stale = staleMarkerValue();
    for (const labels of series) appender.append(labels, timeMs, stale);
    try {
      await appender.commit();
      onCommitted();
    } catch (error) {
      this.#environment.logger.warn('writing staleness markers failed', { group: this.name, error: error instanceof Error ? error.message : String(error) });
    }
  }

  /**
   * Marks every series the group wrote last stale (the group was removed from the configuration), at
   * `timeMs` or just after the last evaluation, whichever is later, so the marker is never refused as a
   * second sample at the same time.
   */
  async markAllStale(timeMs: number): Promise<void> {
    const series = [...this.#staleSeries, ...this.#seriesInPreviousEvaluation.flatMap((map) => [...map.values()])];
    await this.#writeStaleMarkers(series, Math.max(timeMs, this.#lastEvaluationTimestampMs + 1), () => {
      this.#staleSeries = [];
      this.#seriesInPreviousEvaluation = this.rules.map(() => new Map());
    });
  }

  /**
   * Takes over the state of the group this one replaces in a reload (Prometheus's CopyState): timings, each
   * kept rule's written series and alerts (rules match by name and labels, in order), and the series of
   * rules that are gone, to be marked stale at the next evaluation.
   */
  copyState(from: RuleGroup): void {
    this.lastEvaluationMs = from.lastEvaluationMs;
    this.evaluationDurationMs = from.evaluationDurationMs;
    const unmatched = new Map<string, number[]>();
    from.rules.forEach((rule, index) => {
      const key = ruleIdentity(rule);
      unmatched.set(key, [...(unmatched.get(key) ?? []), index]);
    });
    this.rules.forEach((rule, index) => {
      const candidates = unmatched.get(ruleIdentity(rule));
      const fromIndex = candidates?.shift();
      if (fromIndex === undefined) return;
      this.#seriesInPreviousEvaluation[index] = from.#seriesInPreviousEvaluation[fromIndex]!;
      const fromRule = from.rules[fromIndex]!;
      if (rule instanceof AlertingRule && fromRule instanceof AlertingRule) rule.copyAlertsFrom(fromRule);
    });
    this.#staleSeries = [...from.#staleSeries];
    for (const indexes of unmatched.values()) {
      for (const fromIndex of indexes) this.#staleSeries.push(...from.#seriesInPreviousEvaluation[fromIndex]!.values());
    }
  }

  /** Whether `other` would evaluate exactly the same way (a reload keeps the running group then). */
  sameAs(other: RuleGroupDefinition, defaultIntervalMs: number): boolean {
    const intervalMs = other.intervalMs > 0 ? other.intervalMs : defaultIntervalMs;
    return other.name === this.name && other.file === this.file && intervalMs === this.intervalMs && other.limit === this.limit
      && other.rules.length === this.rules.length && other.rules.every((rule, index) => describeRule(rule) === describeRule(this.rules[index]!.definition));
  }

  /** Starts evaluating every interval, first at the next aligned time. */
  start(): void {
    assert(this.#timer === undefined && !this.#stopped, 'a group starts once');
    const first = this.evaluationTimestamp(this.#environment.now()) + this.intervalMs;
    this.#schedule(first);
  }

  /** Stops the schedule and waits for an evaluation in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(evaluationMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#iteration(evaluationMs);
    }, Math.max(0, evaluationMs - this.#environment.now()));
  }

  async #iteration(evaluationMs: number): Promise<void> {
    this.statistics.iterationsScheduled += 1;
    const startedMs = this.#environment.now();
    const started = performance.now();
    try {
      await this.evaluate(evaluationMs);
    } catch (error) {
      // evaluate() handles rule failures; anything here is a bug, logged so the schedule survives it.
      this.#environment.logger.error('rule group evaluation failed', { group: this.name, error: error instanceof Error ? error.stack ?? error.message : String(error) });
    }
    this.evaluationDurationMs = performance.now() - started;
    this.lastEvaluationMs = startedMs;
    // Iterations the evaluation overran are skipped, not queued, as Prometheus's ticker does.
    const behind = Math.floor((this.#environment.now() - evaluationMs) / this.intervalMs);
    const missed = Math.max(0, behind - 1);
    this.statistics.iterationsMissed += missed;
    this.statistics.iterationsScheduled += missed;
    this.#schedule(evaluationMs + (missed + 1) * this.intervalMs);
  }
}

function newRule(definition: RuleDefinition): Rule {
  return definition.kind === 'recording' ? new RecordingRule(definition) : new AlertingRule(definition);
}

function ruleIdentity(rule: Rule): string {
  return `${rule.name}${ruleLabels(rule.definition).toString()}`;
}

/** A canonical text of everything that affects a rule's evaluation. */
function describeRule(rule: RuleDefinition): string {
  if (rule.kind === 'recording') return JSON.stringify(['recording', rule.name, rule.query, rule.labels]);
  const texts = (labels: typeof rule.labels): [string, string][] => labels.map((label) => [label.name, label.text]);
  return JSON.stringify(['alerting', rule.name, rule.query, rule.holdDurationMs, rule.keepFiringForMs, texts(rule.labels), texts(rule.annotations)]);
}

/** The key of a group among the manager's groups. */
export function groupKey(file: string, name: string): string {
  return `${file};${name}`;
}

/** Prometheus's staleness marker as a number (see tsdb/value.ts on NaN payloads). */
function staleMarkerValue(): number {
  return floatFromBits(staleMarkerHighBits, staleMarkerLowBits);
}
