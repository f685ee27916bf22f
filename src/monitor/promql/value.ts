/**
 * Query results: what `Engine.instantQuery` and `Engine.rangeQuery` return. json.ts turns them into the
 * `data` object of Prometheus's HTTP API.
 */
import type { Labels } from '../tsdb/labels.ts';

/** One value at one time. */
export interface Point {
  readonly timestampMs: number;
  readonly value: number;
}

/** One element of an instant vector. */
export interface Sample {
  readonly labels: Labels;
  readonly timestampMs: number;
  readonly value: number;
}

/** One series of a range vector (matrix), points in time order. */
export interface RangeSeries {
  readonly labels: Labels;
  readonly points: readonly Point[];
}

/**
 * A query's result, tagged like Prometheus's `resultType`. Instant vectors keep the engine's order (as
 * Prometheus does); range-query matrices are sorted by labels.
 */
export type QueryResult =
  | { readonly resultType: 'vector'; readonly result: readonly Sample[] }
  | { readonly resultType: 'matrix'; readonly result: readonly RangeSeries[] }
  | { readonly resultType: 'scalar'; readonly result: Point }
  | { readonly resultType: 'string'; readonly result: { readonly timestampMs: number; readonly value: string } };
