/**
 * What happens to a scraped sample between the parser and the store, as Prometheus's scrape loop does:
 * the target's labels are attached (`honor_labels: false` renames a clashing exposed label to
 * `exported_<name>`; `true` keeps the exposed value), metric relabelling runs, then the label limits
 * and the sample limit apply. Any limit broken fails the whole scrape.
 *
 * Relabelling every sample on every scrape is the costly part, so results are cached per exposed series
 * and reused while the series keeps appearing.
 */
import { assert, Labels, TsdbError } from '../tsdb/index.ts';
import type { ParsedSample } from './parse-sample.ts';
import { ScrapeError } from './errors.ts';
import { relabelMap } from './relabel.ts';
import type { RelabelConfig } from './relabel.ts';

/** Scrapes a cached relabelling result survives without its series appearing. */
export const mutationCacheIterationsMax = 10;
/** Most cached relabelling results per target; beyond it the cache restarts empty. */
export const mutationCacheEntriesMax = 1_000_000;

const exportedLabelPrefix = 'exported_';

export interface SampleSettings {
  readonly honorLabels: boolean;
  readonly metricRelabelConfigs: readonly RelabelConfig[];
  /** 0 means no limit, for this and the three label limits. */
  readonly sampleLimit: number;
  readonly labelLimit: number;
  readonly labelNameLengthLimit: number;
  readonly labelValueLengthLimit: number;
}

/** A sample ready to append. */
export interface ProcessedSample {
  readonly labels: Labels;
  readonly value: number;
  readonly timestampMs: number | undefined;
}

export interface ProcessResult {
  readonly samples: ProcessedSample[];
  /** Samples in the exposition (`scrape_samples_scraped`). */
  readonly total: number;
  /** Samples left after metric relabelling (`scrape_samples_post_metric_relabeling`). */
  readonly postRelabel: number;
  /** Set when a limit or an invalid series failed the scrape. */
  readonly error: ScrapeError | undefined;
}

interface CacheEntry {
  readonly exposed: Labels;
  /** undefined: metric relabelling dropped the series. */
  readonly result: Labels | undefined;
  lastIteration: number;
}

/** Per-target cache of label mutation results, keyed by the exposed series' hash. */
export class MutationCache {
  readonly #entries = new Map<number, CacheEntry[]>();
  #size = 0;
  #iteration = 0;

  /** The target's labels after relabelling, or undefined when the sample is dropped. */
  mutate(exposed: Labels, targetLabels: Labels, settings: SampleSettings): Labels | undefined {
    const hash = exposed.hash();
    const bucket = this.#entries.get(hash);
    const hit = bucket?.find((entry) => entry.exposed.equals(exposed));
    if (hit !== undefined) {
      hit.lastIteration = this.#iteration;
      return hit.result;
    }
    // Kept across scrapes, so detached from this scrape's body (see Labels.detached).
    const result = mutateSampleLabels(exposed, targetLabels, settings)?.detached();
    if (this.#size >= mutationCacheEntriesMax) this.#clear();
    const entry: CacheEntry = { exposed: exposed.detached(), result, lastIteration: this.#iteration };
    if (bucket === undefined) this.#entries.set(hash, [entry]);
    else bucket.push(entry);
    this.#size += 1;
    return result;
  }

  /** Ends a scrape: forgets series unseen for {@link mutationCacheIterationsMax} scrapes. */
  finishIteration(): void {
    this.#iteration += 1;
    const oldest = this.#iteration - mutationCacheIterationsMax;
    for (const [hash, bucket] of this.#entries) {
      if (bucket.every((entry) => entry.lastIteration >= oldest)) continue; // The common case allocates nothing.
      const kept = bucket.filter((entry) => entry.lastIteration >= oldest);
      this.#size -= bucket.length - kept.length;
      if (kept.length === 0) this.#entries.delete(hash);
      else if (kept.length !== bucket.length) this.#entries.set(hash, kept);
    }
    assert(this.#size >= 0, 'the cache counts its entries');
  }

  #clear(): void {
    this.#entries.clear();
    this.#size = 0;
  }
}

/**
 * Applies label mutation, relabelling and limits to a parsed exposition. Never throws for bad input: a
 * broken limit or invalid series comes back as `error`, with the samples processed so far.
 *
 * @example
 * const result = processSamples(parsed.samples, target.labels, settings, new MutationCache());
 * result.error?.code; // undefined when every sample passed
 */
export function processSamples(parsed: readonly ParsedSample[], targetLabels: Labels, settings: SampleSettings, cache: MutationCache): ProcessResult {
  const samples: ProcessedSample[] = [];
  let error: ScrapeError | undefined;
  for (const sample of parsed) {
    let labels: Labels | undefined;
    try {
      labels = cache.mutate(sample.labels, targetLabels, settings);
    } catch (caught) {
      if (!(caught instanceof TsdbError)) throw caught;
      error = new ScrapeError('SCRAPE_INVALID_SERIES', `invalid metric name or label names after relabeling: ${caught.message}`);
      break;
    }
    if (labels === undefined) continue;
    error = checkSeries(labels, settings);
    if (error !== undefined) break;
    samples.push({ labels, value: sample.value, timestampMs: sample.timestampMs });
  }
  if (error === undefined && settings.sampleLimit > 0 && samples.length > settings.sampleLimit) {
    error = new ScrapeError('SCRAPE_SAMPLE_LIMIT', `sample limit exceeded (${samples.length} samples after relabeling, limit ${settings.sampleLimit})`);
  }
  return { samples, total: parsed.length, postRelabel: samples.length, error };
}

/** The target's labels joined to an exposed series, then metric relabelling; undefined when dropped. */
export function mutateSampleLabels(exposed: Labels, targetLabels: Labels, settings: SampleSettings): Labels | undefined {
  const labels = new Map<string, string>();
  for (const { name, value } of exposed) labels.set(name, value);
  if (settings.honorLabels) {
    for (const { name, value } of targetLabels) if (!labels.has(name)) labels.set(name, value);
  } else {
    const conflicts: { name: string; value: string }[] = [];
    for (const { name, value } of targetLabels) {
      const exposedValue = labels.get(name);
      if (exposedValue !== undefined) conflicts.push({ name, value: exposedValue });
      labels.set(name, value);
    }
    if (conflicts.length > 0) renameConflicts(labels, exposed, targetLabels, conflicts);
  }
  if (!relabelMap(labels, settings.metricRelabelConfigs)) return undefined;
  return Labels.fromPairs(labels);
}

/**
 * Prometheus's resolveConflictingExposedLabels: shortest names first, each gets `exported_` prepended
 * until the name is free among the exposed labels, the target labels and the names already chosen.
 */
function renameConflicts(labels: Map<string, string>, exposed: Labels, targetLabels: Labels, conflicts: { name: string; value: string }[]): void {
  conflicts.sort((left, right) => left.name.length - right.name.length);
  const chosen = new Set<string>();
  for (const conflict of conflicts) {
    let name = exportedLabelPrefix + conflict.name;
    while (exposed.has(name) || targetLabels.has(name) || chosen.has(name)) name = exportedLabelPrefix + name;
    chosen.add(name);
    labels.set(name, conflict.value);
  }
}

/** A series without a metric name, or one breaking a label limit, fails the scrape (Prometheus's messages). */
function checkSeries(labels: Labels, settings: SampleSettings): ScrapeError | undefined {
  const metric = labels.metricName();
  if (metric === '') return new ScrapeError('SCRAPE_INVALID_SERIES', `missing metric name (__name__ label) in ${labels.toString()}`);
  if (settings.labelLimit > 0 && labels.size > settings.labelLimit) {
    return new ScrapeError('SCRAPE_LABEL_LIMIT', `label_limit exceeded (metric: ${metric.slice(0, 50)}, number of labels: ${labels.size}, limit: ${settings.labelLimit})`);
  }
  if (settings.labelNameLengthLimit === 0 && settings.labelValueLengthLimit === 0) return undefined;
  for (const { name, value } of labels) {
    if (settings.labelNameLengthLimit > 0 && name.length > settings.labelNameLengthLimit) {
      return new ScrapeError('SCRAPE_LABEL_LIMIT', `label_name_length_limit exceeded (metric: ${metric.slice(0, 50)}, label name: ${name.slice(0, 50)}, length: ${name.length}, limit: ${settings.labelNameLengthLimit})`);
    }
    const valueLength = settings.labelValueLengthLimit > 0 ? [...value].length : 0;
    if (valueLength > settings.labelValueLengthLimit) {
      return new ScrapeError('SCRAPE_LABEL_LIMIT', `label_value_length_limit exceeded (metric: ${metric.slice(0, 50)}, label name: ${name.slice(0, 50)}, value: ${JSON.stringify(value.slice(0, 50))}, length: ${valueLength}, limit: ${settings.labelValueLengthLimit})`);
    }
  }
  return undefined;
}
