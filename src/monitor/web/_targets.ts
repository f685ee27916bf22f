/**
 * `/api/v1/targets`, `/api/v1/metadata` and `/api/v1/targets/metadata`, from the scrape manager's
 * TargetsView, with Prometheus's field names and orders.
 */
import { hostname } from 'node:os';
import { formatDuration } from '../config/units.ts';
import type { MetricMetadataEntry, TargetStatus } from '../targets.ts';
import { compareStrings } from '../tsdb/labels.ts';
import type { ApiResult, HandlerContext } from './_context.ts';
import type { Matcher } from '../tsdb/index/matcher.ts';
import { invalidParameter } from './errors.ts';
import { parseMetricSelector, SelectorParseError } from './selector.ts';
import { formatRfc3339, goZeroTimeText, parseCountParameter } from './params.ts';

const localHosts: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Active and dropped targets; `state` is `active`, `dropped` or `any` (default), anything else lists none. */
export function targetsHandler(context: HandlerContext): ApiResult {
  const state = context.form.get('state').toLowerCase();
  const showActive = state === '' || state === 'any' || state === 'active';
  const showDropped = state === '' || state === 'any' || state === 'dropped';
  const { targets } = context.options;
  const active = showActive ? sortByPool(targets.activeTargets()).map((target) => activeTargetJson(target, context)) : [];
  const dropped = showDropped ? sortByPool(targets.droppedTargets()).map((target) => ({ discoveredLabels: sortedRecord(target.discoveredLabels) })) : [];
  return { data: { activeTargets: active, droppedTargets: dropped } };
}

function activeTargetJson(target: TargetStatus, context: HandlerContext): Record<string, unknown> {
  return {
    discoveredLabels: sortedRecord(target.discoveredLabels),
    labels: target.labels.toRecord(),
    scrapePool: target.scrapePool,
    scrapeUrl: target.scrapeUrl,
    globalUrl: globalUrl(target.scrapeUrl, context),
    lastError: target.lastError,
    lastScrape: target.lastScrapeMs === undefined ? goZeroTimeText : formatRfc3339(target.lastScrapeMs),
    lastScrapeDuration: target.lastScrapeDurationSeconds,
    health: target.health,
    scrapeInterval: formatDuration(target.scrapeIntervalMs),
    scrapeTimeout: formatDuration(target.scrapeTimeoutMs),
  };
}

/**
 * Prometheus's getGlobalURL: a target on this machine gets the external host name instead of a loopback
 * one (and this server's own address when it is this server), so a link works from another machine.
 */
function globalUrl(scrapeUrl: string, context: HandlerContext): string {
  let url: URL;
  try {
    url = new URL(scrapeUrl);
  } catch {
    return scrapeUrl;
  }
  if (!localHosts.has(url.hostname)) return scrapeUrl;
  url.hostname = context.options.externalHost ?? hostname();
  return url.toString();
}

/**
 * Metric metadata merged over all targets: `{ metric: [{type, help, unit}, ...] }` with each distinct
 * combination once. `metric` filters, `limit` bounds the metrics and `limit_per_metric` the entries of each.
 */
export function metadataHandler(context: HandlerContext): ApiResult {
  const limit = parseCountParameter(context.form, 'limit', 'limit must be a number');
  const limitPerMetric = parseCountParameter(context.form, 'limit_per_metric', 'limit_per_metric must be a number');
  const metric = context.form.get('metric');
  const byMetric = new Map<string, Map<string, { type: string; help: string; unit: string }>>();
  for (const entry of context.options.targets.metadata()) {
    if (metric !== '' && entry.metric !== metric) continue;
    let entries = byMetric.get(entry.metric);
    if (entries === undefined) byMetric.set(entry.metric, (entries = new Map()));
    const key = JSON.stringify([entry.type, entry.help, entry.unit]);
    if (limitPerMetric >= 0 && entries.size >= limitPerMetric && !entries.has(key)) continue;
    entries.set(key, { type: entry.type, help: entry.help, unit: entry.unit });
  }
  const data: Record<string, unknown[]> = {};
  for (const name of [...byMetric.keys()].sort(compareStrings)) {
    if (limit >= 0 && Object.keys(data).length >= limit) break;
    data[name] = [...byMetric.get(name)!.values()];
  }
  return { data };
}

/**
 * Per-target metadata: `match_target` selects targets by their labels, `metric` one metric, `limit` bounds
 * the entries.
 */
export function targetMetadataHandler(context: HandlerContext): ApiResult {
  const limit = parseCountParameter(context.form, 'limit', 'limit must be a number');
  const matchTarget = context.form.get('match_target');
  const matchers = matchTarget === '' ? [] : parseTargetMatchers(matchTarget);
  const metric = context.form.get('metric');
  const data: Record<string, unknown>[] = [];
  for (const entry of context.options.targets.metadata()) {
    if (limit >= 0 && data.length >= limit) break;
    if (metric !== '' && entry.metric !== metric) continue;
    if (!matchers.every((matcher) => matcher.matches(entry.target.get(matcher.name)))) continue;
    data.push(targetMetadataJson(entry, metric === ''));
  }
  return { data };
}

function parseTargetMatchers(selector: string): Matcher[] {
  try {
    return parseMetricSelector(selector);
  } catch (error) {
    if (error instanceof SelectorParseError) throw invalidParameter('match_target', error.message);
    throw error;
  }
}

function targetMetadataJson(entry: MetricMetadataEntry, withMetric: boolean): Record<string, unknown> {
  const json: Record<string, unknown> = { target: entry.target.toRecord() };
  if (withMetric) json.metric = entry.metric;
  return { ...json, type: entry.type, help: entry.help, unit: entry.unit };
}

function sortByPool<T extends { readonly scrapePool: string }>(targets: readonly T[]): T[] {
  // Stable: targets of one pool keep the manager's order.
  return [...targets].sort((left, right) => compareStrings(left.scrapePool, right.scrapePool));
}

function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(record).sort(compareStrings)) sorted[name] = record[name]!;
  return sorted;
}
