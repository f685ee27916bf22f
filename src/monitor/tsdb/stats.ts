/**
 * Cardinality statistics of the head's index, the lists Prometheus's `/api/v1/status/tsdb` shows: series
 * per metric name, values per label name, bytes of values per label name, and series per label pair.
 */
import type { MemoryIndex } from './index/index.ts';
import { compareStrings, metricNameLabel } from './labels.ts';

export interface NameCount {
  readonly name: string;
  readonly value: number;
}

export interface CardinalityStats {
  readonly labelPairCount: number;
  readonly seriesCountByMetricName: readonly NameCount[];
  readonly labelValueCountByLabelName: readonly NameCount[];
  readonly memoryInBytesByLabelName: readonly NameCount[];
  readonly seriesCountByLabelValuePair: readonly NameCount[];
}

/** The largest `limit` entries of each list, ties broken by name. */
export function headCardinality(index: MemoryIndex, limit: number): CardinalityStats {
  const byMetricName: NameCount[] = [];
  const valueCounts: NameCount[] = [];
  const bytesByName: NameCount[] = [];
  const byPair: NameCount[] = [];
  let labelPairCount = 0;
  for (const name of index.labelNames()) {
    const values = index.labelValues(name);
    labelPairCount += values.length;
    valueCounts.push({ name, value: values.length });
    let bytes = 0;
    for (const value of values) {
      const seriesCount = index.postings(name, value).length;
      bytes += Buffer.byteLength(value, 'utf8') * seriesCount;
      byPair.push({ name: `${name}=${value}`, value: seriesCount });
      if (name === metricNameLabel) byMetricName.push({ name: value, value: seriesCount });
    }
    bytesByName.push({ name, value: bytes });
  }
  return {
    labelPairCount,
    seriesCountByMetricName: top(byMetricName, limit),
    labelValueCountByLabelName: top(valueCounts, limit),
    memoryInBytesByLabelName: top(bytesByName, limit),
    seriesCountByLabelValuePair: top(byPair, limit),
  };
}

function top(entries: NameCount[], limit: number): NameCount[] {
  return entries.sort((left, right) => right.value - left.value || compareStrings(left.name, right.name)).slice(0, limit);
}
