/**
 * A scrape pool: one job's discovery providers, its targets and their loops. Every discovery update
 * re-derives the targets and reconciles the loops: unchanged targets keep their loop, new ones start, a
 * target whose public labels and URL stay but whose settings changed hands its staleness state to a new
 * loop, and a target that went away is stopped with staleness markers.
 */
import type { ScrapeConfig, TargetGroup } from '../config/types.ts';
import type { DroppedTarget, TargetStatus } from '../targets.ts';
import { assert } from '../tsdb/index.ts';
import type { DiscoveryProvider } from './discovery.ts';
import { ScrapeError } from './errors.ts';
import { ScrapeLoop } from './loop.ts';
import type { LoopEnvironment, LoopSettings, LoopState } from './loop.ts';
import type { RelabelConfig } from './relabel.ts';
import { targetsFromGroup } from './target.ts';
import type { Target, TargetSettings } from './target.ts';

/** Most active targets one job may have, whatever its target_limit; the rest are dropped. */
export const poolTargetsMax = 10_000;
/** Most dropped targets remembered per job for `/api/v1/targets`. */
export const droppedTargetsMax = 10_000;

export interface PoolEnvironment extends LoopEnvironment {
  /** Takes a loop stopped with 'stale' whose staleness markers are still pending. */
  readonly retire: (loop: ScrapeLoop) => void;
  /** Told about every loop that stopped for good (its counters move to the manager's totals). */
  readonly finished: (loop: ScrapeLoop) => void;
}

/** Runs one provider: a first refresh, then one every refresh interval; keeps the last good groups. */
class ProviderRunner {
  readonly provider: DiscoveryProvider;
  groups: readonly TargetGroup[] = [];
  lastError = '';
  readonly #abort = new AbortController();
  readonly #onUpdate: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(provider: DiscoveryProvider, onUpdate: () => void) {
    this.provider = provider;
    this.#onUpdate = onUpdate;
  }

  /** Starts refreshing; the promise settles after the first refresh. */
  start(): Promise<void> {
    const first = this.#refresh();
    void first.then(() => this.#scheduleNext());
    return first;
  }

  stop(): void {
    this.#abort.abort();
    clearTimeout(this.#timer);
  }

  #scheduleNext(): void {
    if (this.#abort.signal.aborted || this.provider.refreshIntervalMs === 0) return;
    this.#timer = setTimeout(() => {
      void this.#refresh().then(() => this.#scheduleNext());
    }, this.provider.refreshIntervalMs);
  }

  async #refresh(): Promise<void> {
    try {
      this.groups = await this.provider.refresh(this.#abort.signal);
      this.lastError = (this.provider.problems?.() ?? []).join('; ');
    } catch (error) {
      // Keep the last good groups, as Prometheus's discoverers do when a refresh fails.
      this.lastError = `${this.provider.name} discovery: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (!this.#abort.signal.aborted) this.#onUpdate();
  }
}

export class ScrapePool {
  #config: ScrapeConfig;
  #runners: ProviderRunner[] = [];
  readonly #environment: PoolEnvironment;
  /** Invariant: keyed by Target.key; at most poolTargetsMax entries. */
  readonly #loops = new Map<string, ScrapeLoop>();
  #dropped: DroppedTarget[] = [];
  #syncChain: Promise<void> = Promise.resolve();
  #restartLoops = false;
  #stopped = false;

  constructor(config: ScrapeConfig, environment: PoolEnvironment) {
    this.#config = config;
    this.#environment = environment;
  }

  get config(): ScrapeConfig {
    return this.#config;
  }

  /** Starts the providers; resolves once local ones have been read and their targets started. */
  async start(providers: readonly DiscoveryProvider[]): Promise<void> {
    await this.#startProviders(providers);
    await this.#scheduleSync();
  }

  /**
   * Applies a changed configuration of the same job. `providers` replaces discovery when its
   * configuration changed; undefined keeps the running providers and their groups.
   */
  async reload(config: ScrapeConfig, providers: readonly DiscoveryProvider[] | undefined): Promise<void> {
    assert(config.jobName === this.#config.jobName, 'a pool keeps its job');
    this.#restartLoops ||= loopSignature(config) !== loopSignature(this.#config);
    this.#config = config;
    if (providers !== undefined) {
      for (const runner of this.#runners) runner.stop();
      await this.#startProviders(providers);
    }
    await this.#scheduleSync();
  }

  /** Stops discovery and every loop; 'stale' writes staleness markers for the targets (the job went away). */
  async stop(mode: 'stale' | 'shutdown'): Promise<void> {
    this.#stopped = true;
    for (const runner of this.#runners) runner.stop();
    await this.#syncChain;
    const loops = [...this.#loops.values()];
    this.#loops.clear();
    await Promise.all(loops.map((loop) => this.#stopLoop(loop, mode)));
  }

  statuses(): TargetStatus[] {
    return [...this.#loops.values()].map((loop) => loop.status());
  }

  dropped(): readonly DroppedTarget[] {
    return this.#dropped;
  }

  loops(): IterableIterator<ScrapeLoop> {
    return this.#loops.values();
  }

  /** Discovery problems of the last refreshes, one per provider that had any. */
  discoveryErrors(): string[] {
    return this.#runners.map((runner) => runner.lastError).filter((error) => error !== '');
  }

  async #startProviders(providers: readonly DiscoveryProvider[]): Promise<void> {
    this.#runners = providers.map((provider) => new ProviderRunner(provider, () => void this.#scheduleSync()));
    const firsts = this.#runners.map((runner) => runner.start());
    await Promise.all(firsts.filter((_, index) => this.#runners[index]!.provider.awaitFirstRefresh));
  }

  #scheduleSync(): Promise<void> {
    this.#syncChain = this.#syncChain.then(() => (this.#stopped ? undefined : this.#sync()));
    return this.#syncChain;
  }

  /** Re-derives the targets from every provider's groups and reconciles the loops with them. */
  async #sync(): Promise<void> {
    const { active, dropped } = this.#deriveTargets();
    this.#dropped = dropped;
    const restart = this.#restartLoops;
    this.#restartLoops = false;
    const byIdentity = new Map([...active.values()].map((target) => [identity(target), target]));
    const claimed = new Set<string>();
    const changes: Promise<void>[] = [];
    for (const [key, loop] of [...this.#loops]) {
      const same = active.get(key);
      if (same !== undefined && !restart) {
        claimed.add(key);
        continue;
      }
      this.#loops.delete(key);
      const successor = same ?? byIdentity.get(identity(loop.target));
      if (successor !== undefined && !this.#loops.has(successor.key) && !claimed.has(successor.key)) {
        claimed.add(successor.key);
        changes.push(loop.stop('handover').then((state) => {
          this.#environment.finished(loop);
          this.#startLoop(successor, state);
        }));
      } else {
        changes.push(this.#stopLoop(loop, 'stale'));
      }
    }
    await Promise.all(changes);
    for (const [key, target] of active) if (!this.#loops.has(key) && !claimed.has(key)) this.#startLoop(target, undefined);
    this.#applyTargetLimit(active.size);
    assert(this.#loops.size <= poolTargetsMax, 'a pool runs a bounded number of loops');
  }

  #deriveTargets(): { active: Map<string, Target>; dropped: DroppedTarget[] } {
    const settings = targetSettings(this.#config);
    const active = new Map<string, Target>();
    const dropped: DroppedTarget[] = [];
    const drop = (discoveredLabels: Readonly<Record<string, string>>): void => {
      if (dropped.length < droppedTargetsMax) dropped.push({ scrapePool: this.#config.jobName, discoveredLabels });
    };
    for (const runner of this.#runners) {
      for (const group of runner.groups) {
        for (const result of targetsFromGroup(group, settings)) {
          if (result.kind !== 'active') drop(result.discoveredLabels);
          else if (active.size < poolTargetsMax || active.has(result.target.key)) active.set(result.target.key, result.target);
          else drop(result.target.discoveredLabels);
        }
      }
    }
    return { active, dropped };
  }

  #startLoop(target: Target, inherited: LoopState | undefined): void {
    if (this.#stopped) return;
    const loop = new ScrapeLoop(target, loopSettings(this.#config), this.#environment, inherited);
    this.#loops.set(target.key, loop);
    loop.start();
  }

  async #stopLoop(loop: ScrapeLoop, mode: 'stale' | 'shutdown'): Promise<void> {
    await loop.stop(mode);
    if (mode === 'stale' && loop.staleness !== undefined) this.#environment.retire(loop);
    else this.#environment.finished(loop);
  }

  /** Prometheus's target_limit: with more targets than the limit, every scrape of the job fails. */
  #applyTargetLimit(targetCount: number): void {
    const limit = this.#config.targetLimit;
    const error = limit > 0 && targetCount > limit
      ? new ScrapeError('SCRAPE_TARGET_LIMIT', `target_limit exceeded (number of targets: ${targetCount}, limit: ${limit})`)
      : undefined;
    for (const loop of this.#loops.values()) loop.setForcedError(error);
  }
}

/** A target's public identity: what its series carry and where it is scraped. */
function identity(target: Target): string {
  return `${target.labels.toString()} ${target.url}`;
}

export function targetSettings(config: ScrapeConfig): TargetSettings {
  return {
    jobName: config.jobName,
    scrapeIntervalMs: config.scrapeIntervalMs,
    scrapeTimeoutMs: config.scrapeTimeoutMs,
    metricsPath: config.metricsPath,
    scheme: config.scheme,
    params: config.params,
    relabelConfigs: config.relabelConfigs,
  };
}

export function loopSettings(config: ScrapeConfig): LoopSettings {
  return {
    honorLabels: config.honorLabels,
    honorTimestamps: config.honorTimestamps,
    metricRelabelConfigs: config.metricRelabelConfigs,
    sampleLimit: config.sampleLimit,
    labelLimit: config.labelLimit,
    labelNameLengthLimit: config.labelNameLengthLimit,
    labelValueLengthLimit: config.labelValueLengthLimit,
    bodySizeLimitBytes: config.bodySizeLimitBytes,
  };
}

/** A comparable rendering of a relabelling rule (compiled regexes and bigints do not compare by value). */
function relabelSignature(rule: RelabelConfig): string {
  return JSON.stringify([rule.action, rule.sourceLabels, rule.separator, rule.regex.source, rule.modulus.toString(), rule.targetLabel, rule.replacement]);
}

/** Settings a running loop uses; a change restarts the job's loops. */
export function loopSignature(config: ScrapeConfig): string {
  const settings = loopSettings(config);
  return JSON.stringify({ ...settings, metricRelabelConfigs: settings.metricRelabelConfigs.map(relabelSignature) });
}

/** Everything that shapes the job's targets, discovery aside. */
export function targetSignature(config: ScrapeConfig): string {
  const settings = targetSettings(config);
  return JSON.stringify({ ...settings, relabelConfigs: settings.relabelConfigs.map(relabelSignature), targetLimit: config.targetLimit });
}

/** The discovery part of a job's configuration. */
export function discoverySignature(config: ScrapeConfig): string {
  return JSON.stringify([config.staticConfigs, config.fileSdConfigs, config.keelSdConfigs]);
}
