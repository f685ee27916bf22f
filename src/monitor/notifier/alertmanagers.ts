/**
 * Which Alertmanagers to send to: one set per `alerting.alertmanagers` entry, its targets from
 * `static_configs` and `file_sd_configs` (re-read every refresh interval), each target labelled with
 * `__scheme__` and `__alerts_path__` (`<path_prefix>/api/<version>/alerts`), then `relabel_configs`, as
 * Prometheus's notifier.AlertmanagerFromGroup does. URLs are deduplicated within a set.
 */
import { posix } from 'node:path';
import type { AlertmanagerConfig, TargetGroup } from '../config/types.ts';
import { FileDiscovery, relabel, staticProvider } from '../scrape/index.ts';
import type { DiscoveryProvider } from '../scrape/index.ts';
import { Labels } from '../tsdb/index.ts';

/** Most Alertmanagers one set may discover; more are dropped with a warning. */
export const alertmanagersPerSetMax = 1000;

/** Prometheus's label holding the push path of a discovered Alertmanager. */
export const alertsPathLabel = '__alerts_path__';

/** One discovered Alertmanager. */
export interface AlertmanagerTarget {
  /** The push URL, e.g. `http://127.0.0.1:9093/api/v2/alerts`. */
  readonly url: string;
  /** The labels after relabelling (or before, for a dropped one). */
  readonly labels: Labels;
}

/** Prometheus's postPath: path.Join("/", prefix, "/api/<version>/alerts"). */
export function alertsPushPath(pathPrefix: string, apiVersion: 'v1' | 'v2'): string {
  return posix.join('/', pathPrefix, `/api/${apiVersion}/alerts`);
}

/**
 * The Alertmanagers of target groups under one configuration: kept (relabelled, deduplicated by URL) and
 * dropped (by relabelling). Throws when a kept target's address holds a path (`host:port/x`).
 *
 * @example
 * alertmanagersFromGroups(config, config.staticConfigs).active[0]?.url; // 'http://127.0.0.1:9093/api/v2/alerts'
 */
export function alertmanagersFromGroups(config: AlertmanagerConfig, groups: readonly TargetGroup[]): { active: AlertmanagerTarget[]; dropped: AlertmanagerTarget[] } {
  const active: AlertmanagerTarget[] = [];
  const dropped: AlertmanagerTarget[] = [];
  const seen = new Set<string>();
  for (const group of groups) {
    for (const target of group.targets) {
      const pairs = new Map<string, string>(Object.entries(target));
      pairs.set('__scheme__', config.scheme);
      pairs.set(alertsPathLabel, alertsPushPath(config.pathPrefix, config.apiVersion));
      for (const [name, value] of Object.entries(group.labels)) if (!(name in target)) pairs.set(name, value);
      const original = Labels.fromPairs(pairs);
      const relabelled = relabel(original, config.relabelConfigs);
      if (relabelled === undefined) {
        dropped.push({ url: targetUrl(original), labels: original });
        continue;
      }
      const address = relabelled.get('__address__');
      if (address.includes('/')) throw new Error(`${JSON.stringify(address)} is not a valid hostname`);
      const url = targetUrl(relabelled);
      if (seen.has(url) || active.length >= alertmanagersPerSetMax) continue;
      seen.add(url);
      active.push({ url, labels: relabelled });
    }
  }
  return { active, dropped };
}

function targetUrl(labels: Labels): string {
  return `${labels.get('__scheme__')}://${labels.get('__address__')}${labels.get(alertsPathLabel)}`;
}

/** The discovery providers of one set: static groups first, then each file_sd_config. */
export function alertmanagerProviders(config: AlertmanagerConfig): DiscoveryProvider[] {
  const providers: DiscoveryProvider[] = [];
  if (config.staticConfigs.length > 0) providers.push(staticProvider(config.staticConfigs));
  for (const fileConfig of config.fileSdConfigs) providers.push(new FileDiscovery(fileConfig));
  return providers;
}
