/**
 * An alerting rule's state machine, as Prometheus 2.42's rules/alerting.go: every evaluation turns the
 * expression's result into alerts (the result's labels without `__name__`, the rule's expanded labels,
 * `alertname`), one per label set. A new alert is pending; after `for` it fires. When its result goes
 * away a pending alert is dropped, a firing one keeps firing for `keep_firing_for` and then resolves; a
 * resolved alert is kept (and re-sent to Alertmanager) for 15 minutes. Each evaluation writes
 * `ALERTS{alertname, alertstate, ...}` = 1 and `ALERTS_FOR_STATE{alertname, ...}` = active-since seconds
 * for every pending and firing alert.
 */
import { isWellFormedLabelValue, Labels, metricNameLabel } from '../tsdb/index.ts';
import type { AlertingRuleDefinition, TemplatedLabel } from './file.ts';
import type { AlertTemplateData } from './template.ts';
import { RuleEvaluationError, RuleState } from './_rule-state.ts';
import type { RuleSample } from './_rule-state.ts';

/** How long a resolved alert is kept, and re-sent, so Alertmanager learns it ended (Prometheus's resolvedRetention). */
export const resolvedRetentionMs = 15 * 60_000;
/** The series every pending or firing alert writes. */
export const alertMetricName = 'ALERTS';
/** The series holding each active alert's start time, for restoring `for` state. */
export const alertForStateMetricName = 'ALERTS_FOR_STATE';
/** The label naming the alert. */
export const alertNameLabel = 'alertname';
/** The label of ALERTS holding the state. */
export const alertStateLabel = 'alertstate';

export type AlertState = 'inactive' | 'pending' | 'firing';

const stateRank: Readonly<Record<AlertState, number>> = { inactive: 0, pending: 1, firing: 2 };

/** One alert of a rule. Times are milliseconds since the epoch; undefined means "never". */
export interface Alert {
  state: AlertState;
  readonly labels: Labels;
  annotations: Labels;
  value: number;
  readonly activeAtMs: number;
  firedAtMs: number | undefined;
  resolvedAtMs: number | undefined;
  lastSentAtMs: number | undefined;
  validUntilMs: number | undefined;
  keepFiringSinceMs: number | undefined;
}

/** What templates and labels need besides the result. */
export interface AlertingContext {
  readonly externalLabels: Labels;
  readonly externalUrl: string;
  /** Most pending and firing alerts; 0 for no limit. */
  readonly limit: number;
  /** Called once per template that fails to expand (Prometheus logs a warning and uses an error text). */
  readonly onTemplateError?: (error: Error) => void;
}

export class AlertingRule extends RuleState {
  readonly definition: AlertingRuleDefinition;
  /** Invariant: keyed by the alert's label set (its canonical text); every alert's labels hold `alertname`. */
  #active = new Map<string, Alert>();
  /** The ALERTS and ALERTS_FOR_STATE label sets of each active alert, built once per state; same keys as #active. */
  #seriesLabels = new Map<string, { state: AlertState; alerts: Labels; forState: Labels }>();

  constructor(definition: AlertingRuleDefinition) {
    super();
    this.definition = definition;
  }

  get name(): string {
    return this.definition.name;
  }

  /**
   * Applies one evaluation's result at `timeMs` and returns the ALERTS and ALERTS_FOR_STATE samples.
   * Throws a {@link RuleEvaluationError} when two results give one label set, or past the limit (which
   * also forgets every alert, as Prometheus does).
   */
  evaluate(results: readonly RuleSample[], timeMs: number, context: AlertingContext): RuleSample[] {
    const current = new Map<string, Alert>();
    for (const sample of results) {
      const alert = this.#newAlert(sample, timeMs, context);
      const key = alert.labels.toString();
      if (current.has(key)) throw new RuleEvaluationError('vector contains metrics with the same labelset after applying alert labels');
      current.set(key, alert);
    }
    for (const [key, alert] of current) {
      const existing = this.#active.get(key);
      if (existing !== undefined && existing.state !== 'inactive') {
        existing.value = alert.value;
        existing.annotations = alert.annotations;
      } else {
        this.#active.set(key, alert);
      }
    }
    const samples: RuleSample[] = [];
    let activeCount = 0;
    for (const [key, alert] of this.#active) {
      if (!current.has(key)) {
        if (!this.#stillFiring(key, alert, timeMs)) continue;
      } else {
        alert.keepFiringSinceMs = undefined;
      }
      activeCount += 1;
      if (alert.state === 'pending' && timeMs - alert.activeAtMs >= this.definition.holdDurationMs) {
        alert.state = 'firing';
        alert.firedAtMs = timeMs;
      }
      const series = this.#seriesLabelsOf(key, alert);
      samples.push({ labels: series.alerts, value: 1 }, { labels: series.forState, value: Math.floor(alert.activeAtMs / 1000) });
    }
    for (const key of this.#seriesLabels.keys()) if (!this.#active.has(key)) this.#seriesLabels.delete(key);
    if (context.limit > 0 && activeCount > context.limit) {
      this.#active = new Map();
      this.#seriesLabels = new Map();
      throw new RuleEvaluationError(`exceeded limit of ${context.limit} with ${activeCount} alerts`);
    }
    return samples;
  }

  /**
   * An alert whose result went away: dropped if pending or resolved long enough ago, kept firing within
   * keep_firing_for, resolved otherwise. Returns whether it still counts as active.
   */
  #stillFiring(key: string, alert: Alert, timeMs: number): boolean {
    let keepFiring = false;
    if (alert.state === 'firing' && this.definition.keepFiringForMs > 0) {
      alert.keepFiringSinceMs ??= timeMs;
      keepFiring = timeMs - alert.keepFiringSinceMs < this.definition.keepFiringForMs;
    }
    if (alert.state === 'pending' || (alert.resolvedAtMs !== undefined && timeMs - alert.resolvedAtMs > resolvedRetentionMs)) {
      this.#active.delete(key);
    }
    if (alert.state !== 'inactive' && !keepFiring) {
      alert.state = 'inactive';
      alert.resolvedAtMs = timeMs;
    }
    return keepFiring;
  }

  #newAlert(sample: RuleSample, timeMs: number, context: AlertingContext): Alert {
    // Templates see the result's labels as they are, metric name included (Prometheus's smpl.Metric.Map()).
    const data: AlertTemplateData = { labels: sample.labels, externalLabels: context.externalLabels, externalUrl: context.externalUrl, value: sample.value };
    const expand = (label: TemplatedLabel): string => {
      const { text, error } = label.template.expandOrDescribeError(data);
      if (error !== undefined) context.onTemplateError?.(error);
      if (!isWellFormedLabelValue(text)) throw new RuleEvaluationError(`${label.name}: the template expanded to text that is not valid UTF-8`);
      return text;
    };
    const labels = new Map<string, string>();
    for (const label of sample.labels) if (label.name !== metricNameLabel) labels.set(label.name, label.value);
    for (const label of this.definition.labels) {
      const value = expand(label);
      if (value === '') labels.delete(label.name);
      else labels.set(label.name, value);
    }
    labels.set(alertNameLabel, this.definition.name);
    const annotations = this.definition.annotations.map((annotation) => [annotation.name, expand(annotation)] as const);
    return {
      state: 'pending',
      labels: Labels.fromPairs(labels),
      annotations: Labels.fromPairs(annotations),
      value: sample.value,
      activeAtMs: timeMs,
      firedAtMs: undefined,
      resolvedAtMs: undefined,
      lastSentAtMs: undefined,
      validUntilMs: undefined,
      keepFiringSinceMs: undefined,
    };
  }

  /** `ALERTS{alertname, alertstate, ...}` and `ALERTS_FOR_STATE{alertname, ...}` of an alert, cached per state. */
  #seriesLabelsOf(key: string, alert: Alert): { state: AlertState; alerts: Labels; forState: Labels } {
    const cached = this.#seriesLabels.get(key);
    if (cached !== undefined && cached.state === alert.state) return cached;
    const pairs: [string, string][] = [];
    for (const label of alert.labels) {
      if (label.name !== metricNameLabel && label.name !== alertNameLabel && label.name !== alertStateLabel) pairs.push([label.name, label.value]);
    }
    pairs.push([alertNameLabel, this.definition.name]);
    const series = {
      state: alert.state,
      alerts: Labels.fromPairs([...pairs, [metricNameLabel, alertMetricName], [alertStateLabel, alert.state]]),
      forState: Labels.fromPairs([...pairs, [metricNameLabel, alertForStateMetricName], ...(alert.labels.has(alertStateLabel) ? [[alertStateLabel, alert.labels.get(alertStateLabel)] as [string, string]] : [])]),
    };
    this.#seriesLabels.set(key, series);
    return series;
  }

  /**
   * The alerts to hand to the notifier at `timeMs` (copies), marking them sent: firing and resolved ones
   * not sent within `resendDelayMs`, and any resolved since its last send. A firing alert is valid until
   * four times the larger of the resend delay and the group interval, so two lost sends or evaluations do
   * not resolve it in Alertmanager.
   */
  alertsToSend(timeMs: number, resendDelayMs: number, intervalMs: number): Alert[] {
    const due: Alert[] = [];
    for (const alert of this.#active.values()) {
      if (!needsSending(alert, timeMs, resendDelayMs)) continue;
      alert.lastSentAtMs = timeMs;
      alert.validUntilMs = timeMs + 4 * Math.max(resendDelayMs, intervalMs);
      due.push({ ...alert });
    }
    return due;
  }

  /** Pending and firing alerts (copies), as the alerts API lists them. */
  activeAlerts(): Alert[] {
    return [...this.#active.values()].filter((alert) => alert.resolvedAtMs === undefined).map((alert) => ({ ...alert }));
  }

  /** Every alert kept, resolved ones included (copies). */
  currentAlerts(): Alert[] {
    return [...this.#active.values()].map((alert) => ({ ...alert }));
  }

  /** The highest state of the rule's alerts: firing > pending > inactive. */
  state(): AlertState {
    let highest: AlertState = 'inactive';
    for (const alert of this.#active.values()) if (stateRank[alert.state] > stateRank[highest]) highest = alert.state;
    return highest;
  }

  /** Takes over another rule's alerts (a reload that kept this rule). */
  copyAlertsFrom(other: AlertingRule): void {
    for (const [key, alert] of other.#active) this.#active.set(key, alert);
    for (const [key, series] of other.#seriesLabels) this.#seriesLabels.set(key, series);
  }
}

function needsSending(alert: Alert, timeMs: number, resendDelayMs: number): boolean {
  if (alert.state === 'pending') return false;
  if (alert.resolvedAtMs !== undefined && (alert.lastSentAtMs === undefined || alert.resolvedAtMs > alert.lastSentAtMs)) return true;
  // Go's zero LastSentAt plus the delay is still before any real time.
  return alert.lastSentAtMs === undefined || alert.lastSentAtMs + resendDelayMs < timeMs;
}

/** Orders rules as Prometheus lists them: higher state first, then by name. */
export function compareAlertingRules(left: AlertingRule, right: AlertingRule): number {
  const byState = stateRank[right.state()] - stateRank[left.state()];
  if (byState !== 0) return byState;
  return left.name < right.name ? -1 : left.name > right.name ? 1 : 0;
}
