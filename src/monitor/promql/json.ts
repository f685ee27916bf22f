/**
 * The `data` object of Prometheus's query API (`/api/v1/query`, `/api/v1/query_range`) for a query result.
 *
 * Prometheus 2.42 formats vector and matrix points with its own writer: timestamps as `sec.mmm` (`1.500`,
 * `0`), values as strings in Go's 'f' format, or 'e' format below 1e-6 or from 1e21 (`"1e-07"`), with
 * `"NaN"`, `"+Inf"`, `"-Inf"`. Scalars and strings go through encoding/json: the timestamp as a plain JSON
 * number and a scalar's value always in 'f' format. Label sets are objects sorted by name.
 *
 * {@link formatQueryResultJson} returns an object whose `JSON.stringify` parses to exactly what Prometheus
 * sends (numbers like `1.500` print as `1.5`); {@link formatQueryResultJsonText} returns Prometheus's exact
 * bytes, for callers that compare responses byte for byte.
 *
 * @example
 * const body = `{"status":"success","data":${formatQueryResultJsonText(result)}}`;
 */
import type { Labels } from '../tsdb/labels.ts';
import { formatFloat, formatFloatExponent } from './_literals.ts';
import type { Point, Points, QueryResult } from './value.ts';

/** A `[seconds, "value"]` pair. */
export type JsonPoint = [number, string];

export type QueryResultJson =
  | { resultType: 'vector'; result: { metric: Record<string, string>; value: JsonPoint }[] }
  | { resultType: 'matrix'; result: { metric: Record<string, string>; values: JsonPoint[] }[] }
  | { resultType: 'scalar'; result: JsonPoint }
  | { resultType: 'string'; result: [number, string] };

/**
 * Converts a query result to Prometheus's API `data` object.
 *
 * @example
 * JSON.stringify(formatQueryResultJson({ resultType: 'scalar', result: { timestampMs: 1500, value: 2 } })); // '{"resultType":"scalar","result":[1.5,"2"]}'
 */
export function formatQueryResultJson(result: QueryResult): QueryResultJson {
  switch (result.resultType) {
    case 'vector':
      return {
        resultType: 'vector',
        result: result.result.map((sample) => ({ metric: labelsObject(sample.labels), value: [sample.timestampMs / 1000, formatSampleValue(sample.value)] })),
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: result.result.map((series) => ({
          metric: labelsObject(series.labels),
          values: series.points.timestamps.map((timestampMs, index): JsonPoint => [timestampMs / 1000, formatSampleValue(series.points.valueAt(index))]),
        })),
      };
    case 'scalar':
      return { resultType: 'scalar', result: [result.result.timestampMs / 1000, formatFloat(result.result.value)] };
    case 'string':
      return { resultType: 'string', result: [result.result.timestampMs / 1000, result.result.value] };
  }
}

/**
 * The exact text Prometheus 2.42 writes for the `data` object.
 *
 * @example
 * formatQueryResultJsonText(vectorResult); // '{"resultType":"vector","result":[{"metric":{},"value":[1.500,"1"]}]}'
 */
export function formatQueryResultJsonText(result: QueryResult): string {
  switch (result.resultType) {
    case 'vector': {
      const samples = result.result.map((sample) => `{"metric":${labelsText(sample.labels)},"value":${pointText(sample)}}`);
      return `{"resultType":"vector","result":[${samples.join(',')}]}`;
    }
    case 'matrix': {
      const series = result.result.map((entry) => `{"metric":${labelsText(entry.labels)},"values":[${pointsText(entry.points)}]}`);
      return `{"resultType":"matrix","result":[${series.join(',')}]}`;
    }
    case 'scalar':
      return `{"resultType":"scalar","result":[${JSON.stringify(result.result.timestampMs / 1000)},${goJsonString(formatFloat(result.result.value))}]}`;
    case 'string':
      return `{"resultType":"string","result":[${JSON.stringify(result.result.timestampMs / 1000)},${goJsonString(result.result.value)}]}`;
  }
}

/** A vector or matrix sample value: Go 'f' format, or 'e' below 1e-6 and from 1e21. */
export function formatSampleValue(value: number): string {
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-6 || magnitude >= 1e21) ? formatFloatExponent(value) : formatFloat(value);
}

/** Prometheus's MarshalTimestamp: `-`, whole seconds, then `.mmm` when the milliseconds are not zero. */
export function formatTimestampText(timestampMs: number): string {
  const sign = timestampMs < 0 ? '-' : '';
  const magnitude = Math.abs(timestampMs);
  const fraction = magnitude % 1000;
  const seconds = (magnitude - fraction) / 1000;
  return fraction === 0 ? `${sign}${seconds}` : `${sign}${seconds}.${String(fraction).padStart(3, '0')}`;
}

function pointText(point: Point): string {
  return `[${formatTimestampText(point.timestampMs)},"${formatSampleValue(point.value)}"]`;
}

function pointsText(points: Points): string {
  let text = '';
  for (let index = 0; index < points.length; index += 1) {
    text += `${index === 0 ? '' : ','}[${formatTimestampText(points.timestampAt(index))},"${formatSampleValue(points.valueAt(index))}"]`;
  }
  return text;
}

function labelsObject(labels: Labels): Record<string, string> {
  // A null prototype keeps a label named __proto__ an ordinary key.
  const object = Object.create(null) as Record<string, string>;
  for (const { name, value } of labels) object[name] = value;
  return object;
}

/** Label sets' JSON by object: a block's label sets are shared between queries, so their text is too. */
const labelsTextCache = new WeakMap<Labels, string>();

function labelsText(labels: Labels): string {
  const cached = labelsTextCache.get(labels);
  if (cached !== undefined) return cached;
  const text = formatLabelsText(labels);
  labelsTextCache.set(labels, text);
  return text;
}

function formatLabelsText(labels: Labels): string {
  let text = '{';
  for (let index = 0; index < labels.size; index += 1) {
    // Label names are [a-zA-Z_][a-zA-Z0-9_]*: nothing to escape.
    text += `${index === 0 ? '' : ','}"${labels.nameAt(index)}":${goJsonString(labels.valueAt(index))}`;
  }
  return `${text}}`;
}

/** Characters Go's encoding/json writes as they are: printable ASCII but `"`, `\\`, `<`, `>` and `&`. */
const plainJsonText = /^[\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]*$/;

/** Go's encoding/json string: like JSON.stringify, but `<`, `>`, `&`, U+2028 and U+2029 are escaped too. */
export function goJsonString(text: string): string {
  if (plainJsonText.test(text)) return `"${text}"`;
  return JSON.stringify(text).replace(/[<>&\u2028\u2029]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
