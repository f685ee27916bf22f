/**
 * What the scrape manager tells the rest of the monitor about its targets: their health for
 * `/api/v1/targets`, and the metric metadata they expose for `/api/v1/metadata`. The scrape manager
 * implements `TargetsView`; the HTTP API and the diagnosis read it.
 */
import type { Labels } from './tsdb/labels.ts';

export type TargetHealth = 'up' | 'down' | 'unknown';

export interface TargetStatus {
  /** The job's name (Prometheus's scrapePool). */
  readonly scrapePool: string;
  /** Labels before relabelling, including `__address__`, `__scheme__`, `__metrics_path__` and `__meta_*`. */
  readonly discoveredLabels: Readonly<Record<string, string>>;
  /** Labels after relabelling: the ones every scraped series of the target carries. */
  readonly labels: Labels;
  readonly scrapeUrl: string;
  readonly health: TargetHealth;
  /** Empty when the last scrape succeeded; otherwise why it failed (refused, timeout, body too large...). */
  readonly lastError: string;
  /** When the last scrape started, or undefined before the first one. */
  readonly lastScrapeMs: number | undefined;
  readonly lastScrapeDurationSeconds: number;
  readonly scrapeIntervalMs: number;
  readonly scrapeTimeoutMs: number;
}

export interface DroppedTarget {
  readonly scrapePool: string;
  readonly discoveredLabels: Readonly<Record<string, string>>;
}

export interface MetricMetadataEntry {
  /** The target's labels (after relabelling). */
  readonly target: Labels;
  /** The metric family name (for a histogram: without `_bucket`/`_sum`/`_count`). */
  readonly metric: string;
  /** counter, gauge, histogram, gaugehistogram, summary, info, stateset or unknown. */
  readonly type: string;
  readonly help: string;
  readonly unit: string;
}

export interface TargetsView {
  activeTargets(): TargetStatus[];
  droppedTargets(): DroppedTarget[];
  metadata(): MetricMetadataEntry[];
}
