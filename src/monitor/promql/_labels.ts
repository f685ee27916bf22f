/**
 * Label-set helpers for the engine: canonical string keys (for maps and duplicate checks), metric-name
 * dropping, and the label subsets used by vector matching and grouping. Results are cached per `Labels`
 * object, because the same input series reappears at every step of a range evaluation.
 */
import { floatHighBits, floatLowBits, staleMarkerHighBits, staleMarkerLowBits } from '../tsdb/value.ts';
import { Labels, metricNameLabel } from '../tsdb/labels.ts';

const keyCache = new WeakMap<Labels, string>();
const withoutNameCache = new WeakMap<Labels, Labels>();

/**
 * A string that identifies a label set exactly (names and values cannot contain the separators' roles
 * ambiguously: every name and value is length-prefixed).
 *
 * @example
 * labelsKey(Labels.fromRecord({ a: 'b' })) === labelsKey(Labels.fromRecord({ a: 'b' })); // true
 */
export function labelsKey(labels: Labels): string {
  let key = keyCache.get(labels);
  if (key !== undefined) return key;
  key = '';
  for (const { name, value } of labels) key += `${name.length}:${name}${value.length}:${value}`;
  keyCache.set(labels, key);
  return key;
}

/** The labels without `__name__`. */
export function dropMetricName(labels: Labels): Labels {
  let dropped = withoutNameCache.get(labels);
  if (dropped !== undefined) return dropped;
  dropped = labels.has(metricNameLabel) ? labels.without(metricNameLabel) : labels;
  withoutNameCache.set(labels, dropped);
  return dropped;
}

/** The labels restricted to `names` (Prometheus's `Keep`). */
export function keepLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  const pairs: [string, string][] = [];
  for (const { name, value } of labels) if (names.has(name)) pairs.push([name, value]);
  return pairs.length === labels.size ? labels : Labels.fromPairs(pairs);
}

/** The labels without `names` (Prometheus's `Del`). */
export function removeLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  let found = false;
  for (const { name } of labels) if (names.has(name)) found = true;
  return found ? labels.without(...names) : labels;
}

/**
 * A key over the label values selected by `on(names)` (only those names) or `ignoring(names)` (every label
 * except those names and `__name__`); used for vector matching and `by`/`without` grouping.
 */
export function matchingKey(labels: Labels, on: boolean, names: ReadonlySet<string>): string {
  let key = '';
  for (const { name, value } of labels) {
    const selected = on ? names.has(name) : !names.has(name) && name !== metricNameLabel;
    if (selected) key += `${name.length}:${name}${value.length}:${value}`;
  }
  return key;
}

/** The labels selected the same way as {@link matchingKey}. */
export function matchingLabels(labels: Labels, on: boolean, names: ReadonlySet<string>): Labels {
  return on ? keepLabels(labels, names) : removeLabels(labels, new Set([...names, metricNameLabel]));
}

/**
 * Go's `labels.Labels.String()`, used in Prometheus's error messages: `{__name__="up", job="a"}`.
 *
 * @example
 * formatLabelsForError(Labels.fromRecord({ __name__: 'up' })); // '{__name__="up"}'
 */
export function formatLabelsForError(labels: Labels): string {
  const parts: string[] = [];
  for (const { name, value } of labels) parts.push(`${name}=${JSON.stringify(value)}`);
  return `{${parts.join(', ')}}`;
}

/**
 * Whether `value` is Prometheus's staleness marker. V8 may set the quiet bit of the signalling NaN
 * 0x7ff0000000000002 when it stores it, so both 0x7ff0… and 0x7ff8… with payload 2 count.
 */
export function isStaleMarker(value: number): boolean {
  if (!Number.isNaN(value) || floatLowBits(value) !== staleMarkerLowBits) return false;
  const high = floatHighBits(value);
  return high === staleMarkerHighBits || high === (staleMarkerHighBits | 0x0008_0000);
}
