/**
 * The rule manager (Prometheus 2.42's rules.Manager): loads the configuration's rule files, runs one
 * schedule per group, and hands alerts to the notifier. A reload keeps a group that did not change
 * running untouched; a changed group takes over the old one's alerts and written series (rules matched by
 * name and labels); a removed group's series are marked stale two intervals later, so a renamed group can
 * write first. A reload that fails to load any file changes nothing.
 *
 * @example
 * const rules = new RuleManager({ queryable: db, appendable: db, notify: (alerts) => notifier.send(alerts) });
 * await rules.update({ files: ['rules/*.yml'], evaluationIntervalMs: 15_000 });
 * rules.start();
 * rules.alertsApiData(); // { alerts: [...] }
 * await rules.stop();
 */
import type { Logger } from '../../server/logger.ts';
import type { MonitorConfig } from '../config/types.ts';
import type { NotifierAlert } from '../notifier/alert.ts';
import { Engine } from '../promql/index.ts';
import type { Appendable, Queryable } from '../storage.ts';
import { assert, Labels } from '../tsdb/index.ts';
import type { Alert, AlertingRule } from './alerting.ts';
import type { RuleGroupDefinition } from './file.ts';
import { loadRuleFile, RuleFileError } from './file.ts';
import type { GroupEnvironment } from './group.ts';
import { groupKey, RuleGroup } from './group.ts';
import { alertsApiData, rulesApiData } from './api.ts';
import type { AlertDiscoveryJson, RuleDiscoveryJson } from './api.ts';
import { goQueryEscape } from './_template-functions.ts';
import { expandRuleFilePatterns } from './_glob.ts';

/** Prometheus's default --rules.alert.resend-delay. */
export const resendDelayMsDefault = 60_000;
/** Prometheus's default global.evaluation_interval. */
export const evaluationIntervalMsDefault = 60_000;
/** Most groups over all rule files. */
export const ruleGroupsMax = 10_000;

export interface RuleManagerOptions {
  readonly queryable: Queryable;
  readonly appendable: Appendable;
  /** Default: an engine with Prometheus's defaults. */
  readonly engine?: Engine;
  /** Receives every batch of alerts due for Alertmanager (the notifier's `send`). */
  readonly notify?: (alerts: readonly NotifierAlert[]) => void;
  /** This server's external URL (`http://host:9090`), for generator URLs and `$externalURL`. */
  readonly externalUrl?: string;
  readonly resendDelayMs?: number;
  readonly logger?: Logger;
  /** Wall clock in milliseconds; injected by tests. */
  readonly now?: () => number;
}

export interface RuleManagerUpdate {
  /** Rule file paths or globs (`*`, `?`, `[...]` in the last element). */
  readonly files: readonly string[];
  /** The interval of groups that set none. */
  readonly evaluationIntervalMs: number;
  readonly externalLabels?: Labels;
}

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

type MutableEnvironment = { -readonly [K in keyof GroupEnvironment]: GroupEnvironment[K] };

export class RuleManager {
  readonly #options: RuleManagerOptions;
  /** Shared by every group; the external labels change on reload. */
  readonly #environment: MutableEnvironment;
  /** Invariant: keyed by groupKey(file, name). */
  #groups = new Map<string, RuleGroup>();
  #started = false;
  #stopped = false;
  /** Removed groups waiting to have their series marked stale. */
  readonly #staleTimers = new Set<NodeJS.Timeout>();
  /** Serialises updates: a reload waits for the previous one. */
  #updating: Promise<void> = Promise.resolve();

  constructor(options: RuleManagerOptions) {
    const resendDelayMs = options.resendDelayMs ?? resendDelayMsDefault;
    assert(Number.isSafeInteger(resendDelayMs) && resendDelayMs > 0, 'the resend delay is a positive integer of milliseconds');
    this.#options = options;
    this.#environment = {
      engine: options.engine ?? new Engine(),
      queryable: options.queryable,
      appendable: options.appendable,
      externalLabels: Labels.empty,
      externalUrl: (options.externalUrl ?? '').replace(/\/$/, ''),
      resendDelayMs,
      notify: (rule, alerts) => this.#notify(rule, alerts),
      logger: options.logger ?? silentLogger,
      now: options.now ?? Date.now,
    };
  }

  /** Applies a monitor configuration's `rule_files`, evaluation interval and external labels. */
  applyConfig(config: MonitorConfig): Promise<void> {
    return this.update({ files: config.ruleFiles, evaluationIntervalMs: config.global.evaluationIntervalMs, externalLabels: config.global.externalLabels });
  }

  /** Loads the rule files and swaps the groups in. Rejects with a {@link RuleFileError}, changing nothing. */
  update(update: RuleManagerUpdate): Promise<void> {
    const next = this.#updating.then(() => this.#update(update));
    this.#updating = next.catch(() => undefined);
    return next;
  }

  async #update(update: RuleManagerUpdate): Promise<void> {
    let files: string[];
    try {
      files = await expandRuleFilePatterns(update.files);
    } catch (error) {
      throw new RuleFileError('RULE_FILE_READ_FAILED', update.files.join(', '), [(error as Error).message]);
    }
    const definitions: RuleGroupDefinition[] = [];
    const problems: string[] = [];
    for (const file of files) {
      try {
        definitions.push(...await loadRuleFile(file));
      } catch (error) {
        if (!(error instanceof RuleFileError)) throw error;
        problems.push(...error.problems);
      }
    }
    if (problems.length > 0) throw new RuleFileError('RULE_FILE_INVALID', files.join(', '), problems);
    await this.#setGroups(definitions, update);
  }

  /** Replaces the groups with already parsed ones (tests, embedders with rules from elsewhere). */
  loadGroups(definitions: readonly RuleGroupDefinition[], update: Omit<RuleManagerUpdate, 'files'>): Promise<void> {
    const next = this.#updating.then(() => this.#setGroups(definitions, { ...update, files: [] }));
    this.#updating = next.catch(() => undefined);
    return next;
  }

  async #setGroups(definitions: readonly RuleGroupDefinition[], update: RuleManagerUpdate): Promise<void> {
    assert(Number.isSafeInteger(update.evaluationIntervalMs) && update.evaluationIntervalMs > 0, 'the evaluation interval is a positive integer of milliseconds');
    if (definitions.length > ruleGroupsMax) throw new RuleFileError('RULE_FILE_TOO_LARGE', '', [`more than ${ruleGroupsMax} rule groups`]);
    const keys = new Set<string>();
    for (const definition of definitions) {
      const key = groupKey(definition.file, definition.name);
      if (keys.has(key)) throw new RuleFileError('RULE_FILE_INVALID', definition.file, [`${definition.file}: group "${definition.name}" is defined twice`]);
      keys.add(key);
    }
    this.#environment.externalLabels = update.externalLabels ?? Labels.empty;
    const previous = this.#groups;
    const next = new Map<string, RuleGroup>();
    const transitions: Promise<void>[] = [];
    for (const definition of definitions) {
      const key = groupKey(definition.file, definition.name);
      const old = previous.get(key);
      if (old !== undefined && old.sameAs(definition, update.evaluationIntervalMs)) {
        next.set(key, old);
        continue;
      }
      const group = new RuleGroup(definition, update.evaluationIntervalMs, this.#environment);
      next.set(key, group);
      transitions.push(this.#replace(old, group));
    }
    for (const [key, old] of previous) {
      if (!next.has(key)) transitions.push(this.#retire(old));
    }
    this.#groups = next;
    await Promise.all(transitions);
  }

  async #replace(old: RuleGroup | undefined, group: RuleGroup): Promise<void> {
    if (old !== undefined) {
      await old.stop();
      group.copyState(old);
    }
    if (this.#started && !this.#stopped) group.start();
  }

  /** Stops a removed group and marks its series stale two intervals later. */
  async #retire(group: RuleGroup): Promise<void> {
    await group.stop();
    if (!this.#started || this.#stopped) return;
    const stoppedAtMs = this.#environment.now();
    const timer = setTimeout(() => {
      this.#staleTimers.delete(timer);
      void group.markAllStale(stoppedAtMs);
    }, 2 * group.intervalMs);
    this.#staleTimers.add(timer);
  }

  /** Sets the external URL (known only once the web server listens); generator URLs and `$externalURL` use it. */
  setExternalUrl(url: string): void {
    this.#environment.externalUrl = url.replace(/\/$/, '');
  }

  /** Starts every group's schedule; groups loaded later start at once. */
  start(): void {
    assert(!this.#started, 'the rule manager starts once');
    this.#started = true;
    for (const group of this.#groups.values()) group.start();
  }

  /** Stops every schedule (waiting for evaluations in flight). No staleness markers are written. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#updating;
    for (const timer of this.#staleTimers) clearTimeout(timer);
    this.#staleTimers.clear();
    await Promise.all([...this.#groups.values()].map((group) => group.stop()));
  }

  /** The groups, sorted by file, then name (as Prometheus's RuleGroups). */
  groups(): RuleGroup[] {
    return [...this.#groups.values()].sort((left, right) => compareText(left.file, right.file) || compareText(left.name, right.name));
  }

  /** Evaluates every group once at `timeMs`, in `groups()` order (promtool-style runs and tests). */
  async evaluateAll(timeMs: number): Promise<void> {
    for (const group of this.groups()) await group.evaluate(timeMs);
  }

  /** `/api/v1/rules` data; `type` is '', 'alert' or 'record'. Throws a RulesApiParameterError for others. */
  rulesApiData(type = ''): RuleDiscoveryJson {
    return rulesApiData(this.groups(), type);
  }

  /** `/api/v1/alerts` data. */
  alertsApiData(): AlertDiscoveryJson {
    return alertsApiData(this.groups());
  }

  /** Prometheus's sendAlerts: firing alerts end at their validity, resolved ones at their resolution. */
  #notify(rule: AlertingRule, alerts: Alert[]): void {
    const notify = this.#options.notify;
    if (notify === undefined || alerts.length === 0) return;
    const generatorUrl = `${this.#environment.externalUrl}/graph?g0.expr=${goQueryEscape(rule.definition.query)}&g0.tab=1`;
    notify(alerts.map((alert) => ({
      labels: alert.labels,
      annotations: alert.annotations,
      startsAtMs: alert.firedAtMs,
      endsAtMs: alert.resolvedAtMs ?? alert.validUntilMs,
      generatorUrl,
    })));
  }
}

function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
