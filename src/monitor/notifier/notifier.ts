/**
 * The notifier (Prometheus 2.42's notifier.Manager): alerts from the rule manager get the external
 * labels they lack, go through `alert_relabel_configs`, and wait in one bounded queue (when full, the
 * oldest are dropped and counted). A send loop takes batches of at most 64 alerts and posts each batch
 * to every discovered Alertmanager at once, each request bounded by its set's timeout; a batch no
 * Alertmanager accepted counts as dropped. There are no retries: the rule manager re-sends firing and
 * resolved alerts every resend delay, and their `endsAt` outlives a few lost sends.
 *
 * @example
 * const notifier = new Notifier();
 * await notifier.applyConfig(config);
 * notifier.start();
 * notifier.send(alerts);
 * await notifier.stop();
 */
import type { Logger } from '../../server/logger.ts';
import type { AlertmanagerConfig, MonitorConfig } from '../config/types.ts';
import type { DiscoveryProvider, RelabelConfig } from '../scrape/index.ts';
import { relabel } from '../scrape/index.ts';
import { assert, Labels } from '../tsdb/index.ts';
import type { NotifierAlert } from './alert.ts';
import { toPostableAlerts } from './alert.ts';
import type { AlertmanagerTarget } from './alertmanagers.ts';
import { alertmanagerProviders, alertmanagersFromGroups } from './alertmanagers.ts';

/** Prometheus's default --alertmanager.notification-queue-capacity. */
export const notificationQueueCapacityDefault = 10_000;
/** Most alerts in one request (Prometheus's maxBatchSize). */
export const notificationBatchAlertsMax = 64;
/** Prometheus's default Alertmanager `timeout`. */
export const alertmanagerTimeoutMsDefault = 10_000;
/** Most bytes of an Alertmanager's answer read (it is discarded); the rest is cancelled. */
export const alertmanagerResponseBytesMax = 64 * 1024;
/** Shortest refresh of file-discovered Alertmanagers, whatever the configuration says. */
export const alertmanagerRefreshMsMin = 1000;

export interface NotifierOptions {
  /** Most alerts waiting; default 10,000. */
  readonly queueCapacity?: number;
  /** Injected by tests; default the global fetch. */
  readonly fetch?: typeof fetch;
  readonly userAgent?: string;
  readonly logger?: Logger;
}

/** Per-Alertmanager counters, as Prometheus's prometheus_notifications_{sent,errors}_total. */
export interface AlertmanagerStatistics {
  sent: number;
  errors: number;
  /** Seconds the last request took. */
  lastLatencySeconds: number;
}

export interface NotifierStatistics {
  readonly queueLength: number;
  readonly queueCapacity: number;
  /** Alerts dropped: queue overflow, relabelling aside, and batches no Alertmanager accepted. */
  readonly dropped: number;
  readonly alertmanagersDiscovered: number;
  readonly alertmanagers: ReadonlyMap<string, Readonly<AlertmanagerStatistics>>;
}

/** One `alertmanagers` entry, with its discovery and what it found. */
interface AlertmanagerSet {
  readonly config: AlertmanagerConfig;
  readonly providers: readonly DiscoveryProvider[];
  active: AlertmanagerTarget[];
  dropped: AlertmanagerTarget[];
  refreshTimer: NodeJS.Timeout | undefined;
}

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export class Notifier {
  readonly #queueCapacity: number;
  readonly #fetch: typeof fetch;
  readonly #userAgent: string;
  readonly #logger: Logger;
  /** Invariant: length ≤ #queueCapacity; oldest first. */
  #queue: NotifierAlert[] = [];
  #externalLabels = Labels.empty;
  #relabelConfigs: readonly RelabelConfig[] = [];
  #sets: AlertmanagerSet[] = [];
  #dropped = 0;
  readonly #statistics = new Map<string, AlertmanagerStatistics>();
  readonly #stop = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: NotifierOptions = {}) {
    this.#queueCapacity = options.queueCapacity ?? notificationQueueCapacityDefault;
    assert(Number.isSafeInteger(this.#queueCapacity) && this.#queueCapacity >= notificationBatchAlertsMax, 'the queue holds at least one batch');
    this.#fetch = options.fetch ?? fetch;
    this.#userAgent = options.userAgent ?? 'keel-monitor';
    this.#logger = options.logger ?? silentLogger;
  }

  /** Applies `global.external_labels` and the `alerting` section; discovery of the new sets starts at once. */
  async applyConfig(config: MonitorConfig): Promise<void> {
    const sets = config.alerting.alertmanagers.map((entry) => ({ config: entry, providers: alertmanagerProviders(entry), active: [], dropped: [], refreshTimer: undefined }));
    await Promise.all(sets.map((set) => this.#refresh(set)));
    for (const old of this.#sets) if (old.refreshTimer !== undefined) clearTimeout(old.refreshTimer);
    this.#externalLabels = config.global.externalLabels;
    this.#relabelConfigs = config.alerting.alertRelabelConfigs;
    this.#sets = sets;
    for (const set of sets) this.#scheduleRefresh(set);
  }

  #scheduleRefresh(set: AlertmanagerSet): void {
    const intervals = set.providers.map((provider) => provider.refreshIntervalMs).filter((interval) => interval > 0);
    if (intervals.length === 0 || this.#stop.signal.aborted) return;
    set.refreshTimer = setTimeout(() => {
      void this.#refresh(set).then(() => this.#scheduleRefresh(set));
    }, Math.max(alertmanagerRefreshMsMin, Math.min(...intervals)));
    set.refreshTimer.unref();
  }

  async #refresh(set: AlertmanagerSet): Promise<void> {
    const groups = [];
    for (const provider of set.providers) {
      try {
        groups.push(...await provider.refresh(this.#stop.signal));
      } catch (error) {
        this.#logger.warn('discovering Alertmanagers failed', { provider: provider.name, error: (error as Error).message });
      }
    }
    try {
      const found = alertmanagersFromGroups(set.config, groups);
      set.active = found.active;
      set.dropped = found.dropped;
      for (const target of found.active) if (!this.#statistics.has(target.url)) this.#statistics.set(target.url, { sent: 0, errors: 0, lastLatencySeconds: 0 });
    } catch (error) {
      this.#logger.warn('creating discovered Alertmanagers failed', { error: (error as Error).message });
    }
  }

  /** Queues alerts for every Alertmanager. Never blocks: past the capacity the oldest are dropped. */
  send(alerts: readonly NotifierAlert[]): void {
    let prepared: NotifierAlert[] = [];
    for (const alert of alerts) {
      const labels = this.#withExternalLabels(alert.labels);
      const relabelled = this.#relabelConfigs.length === 0 ? labels : relabel(labels, this.#relabelConfigs);
      if (relabelled !== undefined && relabelled.size > 0) prepared.push({ ...alert, labels: relabelled });
    }
    if (prepared.length === 0) return;
    const overBatch = prepared.length - this.#queueCapacity;
    if (overBatch > 0) {
      prepared = prepared.slice(overBatch);
      this.#dropped += overBatch;
      this.#logger.warn('alert batch larger than queue capacity, dropping alerts', { dropped: overBatch });
    }
    const overQueue = this.#queue.length + prepared.length - this.#queueCapacity;
    if (overQueue > 0) {
      this.#queue.splice(0, overQueue);
      this.#dropped += overQueue;
      this.#logger.warn('alert notification queue full, dropping alerts', { dropped: overQueue });
    }
    this.#queue.push(...prepared);
    assert(this.#queue.length <= this.#queueCapacity, 'the queue stays within its capacity');
    this.#wake?.();
  }

  #withExternalLabels(labels: Labels): Labels {
    let result = labels;
    for (const label of this.#externalLabels) if (!labels.has(label.name)) result = result.with(label.name, label.value);
    return result;
  }

  /** Starts the send loop. */
  start(): void {
    assert(this.#loop === undefined, 'the notifier starts once');
    this.#loop = this.#run();
  }

  /** Stops sending (requests in flight are cancelled) and discovery. Queued alerts are not sent. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    for (const set of this.#sets) if (set.refreshTimer !== undefined) clearTimeout(set.refreshTimer);
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      if (this.#queue.length === 0) {
        await new Promise<void>((resolve) => { this.#wake = resolve; });
        this.#wake = undefined;
        continue;
      }
      const batch = this.#queue.splice(0, notificationBatchAlertsMax);
      if (!(await this.#sendAll(batch))) this.#dropped += batch.length;
    }
  }

  /** Posts one batch to every Alertmanager; true if at least one accepted it. */
  async #sendAll(batch: readonly NotifierAlert[]): Promise<boolean> {
    const body = JSON.stringify(toPostableAlerts(batch));
    const started = performance.now();
    let successes = 0;
    const requests: Promise<void>[] = [];
    for (const set of this.#sets) {
      for (const target of set.active) {
        requests.push(this.#post(target.url, body, set.config.timeoutMs).then(
          () => { successes += 1; },
          (error: unknown) => {
            this.#count(target.url).errors += 1;
            if (!this.#stop.signal.aborted) this.#logger.error('error sending alerts', { alertmanager: target.url, count: batch.length, error: (error as Error).message });
          },
        ).finally(() => {
          const statistics = this.#count(target.url);
          statistics.sent += batch.length;
          statistics.lastLatencySeconds = (performance.now() - started) / 1000;
        }));
      }
    }
    await Promise.all(requests);
    return successes > 0;
  }

  async #post(url: string, body: string, timeoutMs: number): Promise<void> {
    const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(timeoutMs > 0 ? timeoutMs : alertmanagerTimeoutMsDefault)]);
    const response = await this.#fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': this.#userAgent },
      body,
      signal,
    });
    await discardBody(response);
    if (Math.floor(response.status / 100) !== 2) throw new Error(`bad response status ${response.status} ${response.statusText}`);
  }

  #count(url: string): AlertmanagerStatistics {
    let statistics = this.#statistics.get(url);
    if (statistics === undefined) {
      statistics = { sent: 0, errors: 0, lastLatencySeconds: 0 };
      this.#statistics.set(url, statistics);
    }
    return statistics;
  }

  /** Counters and sizes, as Prometheus's prometheus_notifications_* metrics report them. */
  statistics(): NotifierStatistics {
    return {
      queueLength: this.#queue.length,
      queueCapacity: this.#queueCapacity,
      dropped: this.#dropped,
      alertmanagersDiscovered: this.#sets.reduce((count, set) => count + set.active.length, 0),
      alertmanagers: new Map([...this.#statistics].map(([url, statistics]) => [url, { ...statistics }])),
    };
  }

  /** `/api/v1/alertmanagers` data: push URLs of the active and the dropped Alertmanagers. */
  alertmanagersApiData(): { activeAlertmanagers: { url: string }[]; droppedAlertmanagers: { url: string }[] } {
    return {
      activeAlertmanagers: this.#sets.flatMap((set) => set.active.map((target) => ({ url: target.url }))),
      droppedAlertmanagers: this.#sets.flatMap((set) => set.dropped.map((target) => ({ url: target.url }))),
    };
  }
}

/** Reads and discards an answer, at most alertmanagerResponseBytesMax of it. */
async function discardBody(response: Response): Promise<void> {
  const reader = response.body?.getReader();
  if (reader === undefined) return;
  let received = 0;
  try {
    while (received <= alertmanagerResponseBytesMax) {
      const { done, value } = await reader.read();
      if (done) return;
      received += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // A broken answer body after the status line changes nothing: the status decides.
  }
}
