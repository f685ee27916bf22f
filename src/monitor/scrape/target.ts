/**
 * Targets from discovered label sets, as Prometheus's scrape.PopulateLabels (2.42): the job's defaults go
 * in as `job`, `__address__`'s companions `__scheme__`, `__metrics_path__`, `__scrape_interval__`,
 * `__scrape_timeout__` and `__param_<name>`; the relabelling rules run; a target without `__address__`
 * is dropped; a default port is added (`:80`/`:443`, as Prometheus 2 does); `__meta_*` labels go;
 * `instance` defaults to the address. Labels starting with `__` stay internal: they shape the scrape URL
 * but never reach a series.
 */
import type { TargetGroup } from '../config/types.ts';
import { formatDuration, parseDurationMs } from '../config/units.ts';
import { assert, Labels, TsdbError } from '../tsdb/index.ts';
import { relabelMap } from './relabel.ts';
import type { RelabelConfig } from './relabel.ts';

export const addressLabel = '__address__';
export const schemeLabel = '__scheme__';
export const metricsPathLabel = '__metrics_path__';
export const scrapeIntervalLabel = '__scrape_interval__';
export const scrapeTimeoutLabel = '__scrape_timeout__';
export const paramLabelPrefix = '__param_';
export const metaLabelPrefix = '__meta_';
export const reservedLabelPrefix = '__';

/** The parts of a job's configuration that shape its targets. */
export interface TargetSettings {
  readonly jobName: string;
  readonly scrapeIntervalMs: number;
  readonly scrapeTimeoutMs: number;
  readonly metricsPath: string;
  readonly scheme: string;
  readonly params: Readonly<Record<string, readonly string[]>>;
  readonly relabelConfigs: readonly RelabelConfig[];
}

/** A target to scrape. Immutable; a change of labels or URL makes a new target. */
export class Target {
  readonly scrapePool: string;
  /** Labels before relabelling, `__meta_*` included. */
  readonly discoveredLabels: Readonly<Record<string, string>>;
  /** Labels after relabelling without the `__` ones: what every scraped series of the target carries. */
  readonly labels: Labels;
  readonly url: string;
  readonly scrapeIntervalMs: number;
  /** Invariant: 0 < scrapeTimeoutMs ≤ scrapeIntervalMs. */
  readonly scrapeTimeoutMs: number;
  /** Identity within a pool: labels and URL, as Prometheus's target hash. */
  readonly key: string;

  /** `allLabels`: the relabelled set with its `__` labels, which the identity includes. */
  constructor(scrapePool: string, discoveredLabels: Readonly<Record<string, string>>, allLabels: Labels, url: string, timing: { intervalMs: number; timeoutMs: number }) {
    assert(timing.timeoutMs > 0 && timing.timeoutMs <= timing.intervalMs, 'a target times out within its interval');
    this.scrapePool = scrapePool;
    this.discoveredLabels = discoveredLabels;
    const reserved = [...allLabels].map((label) => label.name).filter((name) => name.startsWith(reservedLabelPrefix));
    this.labels = allLabels.without(...reserved);
    this.url = url;
    this.scrapeIntervalMs = timing.intervalMs;
    this.scrapeTimeoutMs = timing.timeoutMs;
    this.key = `${allLabels.toString()} ${url}`;
    assert(!this.labels.has(addressLabel), 'public labels hold no __ labels');
  }

  /**
   * Where in each interval this target is scraped: a stable offset from the target's identity and a
   * per-server seed, so that targets spread over the interval and keep their phase across restarts.
   */
  offsetMs(jitterSeed: number): number {
    return ((fnv1a32(this.key) ^ jitterSeed) >>> 0) % this.scrapeIntervalMs;
  }
}

/** What became of one discovered label set. */
export type TargetResult =
  | { readonly kind: 'active'; readonly target: Target }
  | { readonly kind: 'dropped'; readonly discoveredLabels: Readonly<Record<string, string>> }
  | { readonly kind: 'failed'; readonly discoveredLabels: Readonly<Record<string, string>>; readonly error: string };

/**
 * Builds the targets of one group: each target's labels, then the group's where the target lacks them.
 *
 * @example
 * const results = targetsFromGroup({ source: '0', targets: [{ __address__: 'db:9100' }], labels: {} }, settings);
 * results[0]?.kind; // 'active'
 */
export function targetsFromGroup(group: TargetGroup, settings: TargetSettings): TargetResult[] {
  return group.targets.map((targetLabels) => populateTarget({ ...group.labels, ...targetLabels }, settings));
}

/**
 * Turns one discovered label set into a target, a dropped target, or a failure with Prometheus's message
 * (`no address`, `"a/b" is not a valid hostname`, `scrape timeout cannot be greater than scrape interval`).
 */
export function populateTarget(discovered: Readonly<Record<string, string>>, settings: TargetSettings): TargetResult {
  const labels = new Map(Object.entries(discovered).filter(([, value]) => value !== ''));
  const defaults: [string, string][] = [
    ['job', settings.jobName],
    [scrapeIntervalLabel, formatDuration(settings.scrapeIntervalMs)],
    [scrapeTimeoutLabel, formatDuration(settings.scrapeTimeoutMs)],
    [metricsPathLabel, settings.metricsPath],
    [schemeLabel, settings.scheme],
  ];
  for (const [name, value] of defaults) if (!labels.has(name) && value !== '') labels.set(name, value);
  for (const [name, values] of Object.entries(settings.params)) if (values[0] !== undefined && values[0] !== '') labels.set(paramLabelPrefix + name, values[0]);
  const preRelabel = Object.fromEntries(labels);
  if (!relabelMap(labels, settings.relabelConfigs)) return { kind: 'dropped', discoveredLabels: preRelabel };
  const failure = finishLabels(labels);
  if (failure !== undefined) return { kind: 'failed', discoveredLabels: preRelabel, error: failure };
  const timing = readTiming(labels);
  if (typeof timing === 'string') return { kind: 'failed', discoveredLabels: preRelabel, error: timing };
  let all: Labels;
  try {
    all = Labels.fromPairs(labels);
  } catch (error) {
    if (!(error instanceof TsdbError)) throw error;
    return { kind: 'failed', discoveredLabels: preRelabel, error: error.message };
  }
  return { kind: 'active', target: new Target(settings.jobName, preRelabel, all, targetUrl(all, settings.params), timing) };
}

/** Adds the default port, checks the address, drops `__meta_*`, defaults `instance`; returns an error or undefined. */
function finishLabels(labels: Map<string, string>): string | undefined {
  let address = labels.get(addressLabel) ?? '';
  if (address === '') return 'no address';
  if (needsDefaultPort(address)) {
    const scheme = labels.get(schemeLabel) ?? '';
    if (scheme === 'http' || scheme === '') address += ':80';
    else if (scheme === 'https') address += ':443';
    else return `invalid scheme: ${JSON.stringify(scheme)}`;
    labels.set(addressLabel, address);
  }
  if (address.includes('/')) return `${JSON.stringify(address)} is not a valid hostname`;
  for (const name of [...labels.keys()]) if (name.startsWith(metaLabelPrefix)) labels.delete(name);
  if (!labels.has('instance')) labels.set('instance', address);
  return undefined;
}

/** Go's net.SplitHostPort fails only for a missing port when appending `:1234` would make it succeed. */
function needsDefaultPort(address: string): boolean {
  if (address.startsWith('[')) return /^\[[^\]]*\]$/.test(address);
  return !address.includes(':');
}

function readTiming(labels: ReadonlyMap<string, string>): { intervalMs: number; timeoutMs: number } | string {
  const intervalText = labels.get(scrapeIntervalLabel) ?? '';
  const timeoutText = labels.get(scrapeTimeoutLabel) ?? '';
  let intervalMs: number;
  let timeoutMs: number;
  try {
    intervalMs = parseDurationMs(intervalText);
  } catch (error) {
    return `error parsing scrape interval: ${(error as Error).message}`;
  }
  if (intervalMs === 0) return 'scrape interval cannot be 0';
  try {
    timeoutMs = parseDurationMs(timeoutText);
  } catch (error) {
    return `error parsing scrape timeout: ${(error as Error).message}`;
  }
  if (timeoutMs === 0) return 'scrape timeout cannot be 0';
  if (timeoutMs > intervalMs) return `scrape timeout cannot be greater than scrape interval (${JSON.stringify(timeoutText)} > ${JSON.stringify(intervalText)})`;
  return { intervalMs, timeoutMs };
}

/**
 * The scrape URL: `__scheme__://__address____metrics_path__?params`, where `__param_<name>` labels
 * override the job's first value of `name`. Query keys are sorted and escaped as Go's url.Values.Encode.
 */
export function targetUrl(labels: Labels, params: Readonly<Record<string, readonly string[]>>): string {
  const query = new Map<string, string[]>(Object.entries(params).map(([name, values]) => [name, [...values]]));
  for (const { name, value } of labels) {
    if (!name.startsWith(paramLabelPrefix)) continue;
    const key = name.slice(paramLabelPrefix.length);
    const values = query.get(key);
    if (values !== undefined && values.length > 0) values[0] = value;
    else query.set(key, [value]);
  }
  const pairs: string[] = [];
  for (const key of [...query.keys()].sort()) {
    for (const value of query.get(key)!) pairs.push(`${queryEscape(key)}=${queryEscape(value)}`);
  }
  const path = labels.get(metricsPathLabel);
  const slash = path.startsWith('/') || path === '' ? '' : '/';
  return `${labels.get(schemeLabel)}://${labels.get(addressLabel)}${slash}${encodeURI(path)}${pairs.length > 0 ? `?${pairs.join('&')}` : ''}`;
}

/** Go's url.QueryEscape: unreserved characters stay, space becomes `+`, the rest `%XX` of UTF-8. */
function queryEscape(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}

/** 32-bit FNV-1a over UTF-16 code units. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
