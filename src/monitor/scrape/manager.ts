/**
 * The scrape manager: one pool per job of the configuration, applied again on every reload. A job whose
 * configuration did not change is left alone; a changed job keeps the loops of its unchanged targets;
 * a removed job's targets get staleness markers. Also the monitor's {@link TargetsView}: target health
 * for `/api/v1/targets` and metric metadata for `/api/v1/metadata`.
 *
 * Bounds: at most `scrapesConcurrentMax` scrapes run at once (one HTTP agent socket each), at most
 * {@link poolTargetsMax} targets per job (less with `target_limit`), bodies and samples per scrape are
 * bounded by the loop.
 */
import http from 'node:http';
import https from 'node:https';
import { hostname } from 'node:os';
import type { MonitorConfig, ScrapeConfig } from '../config/types.ts';
import type { Appendable, AppendOutcome } from '../storage.ts';
import type { DroppedTarget, MetricMetadataEntry, TargetsView, TargetStatus } from '../targets.ts';
import { assert } from '../tsdb/index.ts';
import { listKeelMembers, providersForScrapeConfig } from './discovery.ts';
import type { DiscoveryProvider, KeelMemberLister } from './discovery.ts';
import { ScrapePool, discoverySignature, loopSignature, targetSignature } from './_pool.ts';
import type { PoolEnvironment } from './_pool.ts';
import { ScrapeSlots } from './_slots.ts';
import type { ScrapeLoop } from './loop.ts';

/** Default bound on scrapes in flight at once. */
export const scrapesConcurrentMaxDefault = 64;
/** Most scrapes that may wait for a free slot; more fail at once rather than queue without bound. */
export const scrapeWaitersMax = 100_000;

export interface ScrapeManagerOptions {
  /** Scrapes in flight at once; default {@link scrapesConcurrentMaxDefault}. */
  readonly scrapesConcurrentMax?: number;
  /** Wall clock in milliseconds (timestamps of samples); default Date.now. */
  readonly now?: () => number;
  /** Spreads scrape offsets per server; default a hash of the host name and external labels, as Prometheus. */
  readonly jitterSeed?: number;
  /** Lists a keel cluster's members for keel_sd_configs; default the keel client. */
  readonly listKeelMembers?: KeelMemberLister;
  /** Replaces discovery for every job (embedders and tests); default static, file and keel providers. */
  readonly discoveryProviders?: (config: ScrapeConfig) => DiscoveryProvider[];
}

/**
 * Scrapes every target of a configuration into `appendable`.
 *
 * @example
 * const manager = new ScrapeManager(db);
 * await manager.applyConfig(await loadMonitorConfig('prometheus.yml'));
 * manager.activeTargets().map((target) => target.health);
 * await manager.stop();
 */
export class ScrapeManager implements TargetsView {
  readonly #appendable: Appendable;
  readonly #options: ScrapeManagerOptions;
  readonly #pools = new Map<string, ScrapePool>();
  /** Loops stopped because their target went away, until their staleness markers are written. */
  readonly #retiring = new Set<ScrapeLoop>();
  readonly #finishedOutcomes = new Map<AppendOutcome, number>();
  readonly #agents: { readonly http: http.Agent; readonly https: https.Agent };
  readonly #slots: ScrapeSlots;
  #applyChain: Promise<void> = Promise.resolve();
  #jitterSeed: number | undefined;
  #stopped = false;

  constructor(appendable: Appendable, options: ScrapeManagerOptions = {}) {
    const concurrency = options.scrapesConcurrentMax ?? scrapesConcurrentMaxDefault;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`scrapesConcurrentMax must be a positive integer, got ${concurrency}`);
    this.#appendable = appendable;
    this.#options = options;
    this.#slots = new ScrapeSlots(concurrency, scrapeWaitersMax);
    const agentOptions = { keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency };
    this.#agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  }

  /**
   * Applies a configuration: starts new jobs, reloads changed ones, stops removed ones. Resolves once
   * static and file targets are known and their loops started (keel discovery continues in the
   * background). Calls are applied one at a time, in order.
   */
  applyConfig(config: MonitorConfig): Promise<void> {
    const applied = this.#applyChain.then(() => this.#apply(config));
    this.#applyChain = applied.catch(() => undefined);
    return applied;
  }

  /** Stops every job without staleness markers (the next start carries on) and closes connections. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#applyChain;
    await Promise.all([...this.#pools.values()].map((pool) => pool.stop('shutdown')));
    this.#pools.clear();
    for (const loop of this.#retiring) loop.cancelStaleness();
    await Promise.all([...this.#retiring].map((loop) => loop.staleness));
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  activeTargets(): TargetStatus[] {
    return [...this.#pools.values()].flatMap((pool) => pool.statuses());
  }

  droppedTargets(): DroppedTarget[] {
    return [...this.#pools.values()].flatMap((pool) => [...pool.dropped()]);
  }

  metadata(): MetricMetadataEntry[] {
    const entries: MetricMetadataEntry[] = [];
    for (const pool of this.#pools.values()) {
      for (const loop of pool.loops()) {
        for (const family of loop.metadata()) {
          entries.push({ target: loop.target.labels, metric: family.family, type: family.type, help: family.help, unit: family.unit });
        }
      }
    }
    return entries;
  }

  /** Samples the store refused, per reason, over the manager's life (Prometheus counts these too). */
  appendOutcomes(): Map<AppendOutcome, number> {
    const totals = new Map(this.#finishedOutcomes);
    const loops = [...this.#retiring, ...[...this.#pools.values()].flatMap((pool) => [...pool.loops()])];
    for (const loop of loops) addOutcomes(totals, loop.appendOutcomes());
    return totals;
  }

  /** Discovery problems (unreadable files, unreachable clusters) of each job's last refreshes. */
  discoveryErrors(): { scrapePool: string; error: string }[] {
    return [...this.#pools.values()].flatMap((pool) => pool.discoveryErrors().map((error) => ({ scrapePool: pool.config.jobName, error })));
  }

  async #apply(config: MonitorConfig): Promise<void> {
    if (this.#stopped) throw new Error('the scrape manager is stopped');
    this.#jitterSeed ??= this.#options.jitterSeed ?? fnv1a32(`${hostname()}${config.global.externalLabels.toString()}`);
    const jobs = new Map(config.scrapeConfigs.map((scrapeConfig) => [scrapeConfig.jobName, scrapeConfig]));
    assert(jobs.size === config.scrapeConfigs.length, 'job names are unique in a parsed configuration');
    const removed = [...this.#pools].filter(([jobName]) => !jobs.has(jobName));
    for (const [jobName] of removed) this.#pools.delete(jobName);
    await Promise.all(removed.map(([, pool]) => pool.stop('stale')));
    await Promise.all([...jobs.values()].map((scrapeConfig) => this.#applyJob(scrapeConfig)));
  }

  async #applyJob(config: ScrapeConfig): Promise<void> {
    const pool = this.#pools.get(config.jobName);
    if (pool === undefined) {
      const created = new ScrapePool(config, this.#poolEnvironment());
      this.#pools.set(config.jobName, created);
      await created.start(this.#providers(config));
      return;
    }
    const old = pool.config;
    const discoveryChanged = discoverySignature(old) !== discoverySignature(config);
    if (!discoveryChanged && loopSignature(old) === loopSignature(config) && targetSignature(old) === targetSignature(config)) return;
    await pool.reload(config, discoveryChanged ? this.#providers(config) : undefined);
  }

  #providers(config: ScrapeConfig): DiscoveryProvider[] {
    if (this.#options.discoveryProviders !== undefined) return this.#options.discoveryProviders(config);
    return providersForScrapeConfig(config, this.#options.listKeelMembers ?? listKeelMembers);
  }

  #poolEnvironment(): PoolEnvironment {
    return {
      appendable: this.#appendable,
      slots: this.#slots,
      agents: this.#agents,
      now: this.#options.now ?? Date.now,
      jitterSeed: this.#jitterSeed ?? 0,
      retire: (loop) => {
        this.#retiring.add(loop);
        void loop.staleness?.finally(() => {
          this.#retiring.delete(loop);
          addOutcomes(this.#finishedOutcomes, loop.appendOutcomes());
        });
      },
      finished: (loop) => addOutcomes(this.#finishedOutcomes, loop.appendOutcomes()),
    };
  }
}

function addOutcomes(totals: Map<AppendOutcome, number>, counts: ReadonlyMap<AppendOutcome, number>): void {
  for (const [outcome, count] of counts) totals.set(outcome, (totals.get(outcome) ?? 0) + count);
}

function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
