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

/**
 * A series' points in time order, as two parallel arrays: no object per point (each would be three heap
 * objects in V8, the point and two boxed doubles), which is what a range query over thousands of series
 * produces by the million.
 *
 * @example
 * const points = new Points();
 * points.push(1_000, 42);
 * points.valueAt(0); // 42
 */
export class Points {
  readonly timestamps: number[] = [];
  readonly values: number[] = [];

  get length(): number {
    return this.timestamps.length;
  }

  push(timestampMs: number, value: number): void {
    this.timestamps.push(timestampMs);
    this.values.push(value);
  }

  timestampAt(index: number): number {
    return this.timestamps[index]!;
  }

  valueAt(index: number): number {
    return this.values[index]!;
  }

  /** The points as objects (for tests and tools; the engine never needs them). */
  toArray(): Point[] {
    return this.timestamps.map((timestampMs, index) => ({ timestampMs, value: this.values[index]! }));
  }

  static of(points: readonly Point[]): Points {
    const result = new Points();
    for (const point of points) result.push(point.timestampMs, point.value);
    return result;
  }
}

/** One series of a range vector (matrix), points in time order. */
export interface RangeSeries {
  readonly labels: Labels;
  readonly points: Points;
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
