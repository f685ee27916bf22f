/**
 * Quantile estimation with Prometheus 2.42's exact rules: `bucketQuantile` for classic histogram buckets
 * (histogram_quantile) and `quantile` for the `quantile` aggregation and `quantile_over_time`.
 */

/** One classic histogram bucket: cumulative count of observations ≤ upperBound. */
export interface Bucket {
  readonly upperBound: number;
  readonly count: number;
}

/**
 * The q-quantile of classic buckets, interpolating linearly inside a bucket. NaN for q = NaN, fewer than two
 * buckets, no +Inf bucket or no observations; -Inf for q < 0; +Inf for q > 1. A quantile in the +Inf bucket
 * returns the second-highest upper bound; a lowest bucket with upper bound ≤ 0 returns that bound.
 *
 * @example
 * bucketQuantile(0.5, [{ upperBound: 1, count: 5 }, { upperBound: Infinity, count: 10 }]); // 1
 */
export function bucketQuantile(q: number, input: readonly Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (input.length === 0) return NaN;
  const sorted = [...input].sort((left, right) => left.upperBound - right.upperBound);
  if (sorted[sorted.length - 1]!.upperBound !== Infinity) return NaN;
  const buckets = ensureMonotonic(coalesceBuckets(sorted));
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  // The first bucket (excluding the +Inf one) whose cumulative count reaches the rank.
  let index = 0;
  while (index < buckets.length - 1 && !(buckets[index]!.count >= rank)) index += 1;
  if (index === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (index === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[index]!.upperBound;
  let count = buckets[index]!.count;
  if (index > 0) {
    bucketStart = buckets[index - 1]!.upperBound;
    count -= buckets[index - 1]!.count;
    rank -= buckets[index - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

/** Merges buckets with equal upper bounds (their counts add up). */
function coalesceBuckets(sorted: readonly Bucket[]): Bucket[] {
  const merged: Bucket[] = [];
  for (const bucket of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.upperBound === bucket.upperBound) merged[merged.length - 1] = { upperBound: last.upperBound, count: last.count + bucket.count };
    else merged.push(bucket);
  }
  return merged;
}

/** Raises any count below an earlier one, so that cumulative counts never decrease. */
function ensureMonotonic(buckets: Bucket[]): Bucket[] {
  let max = buckets[0]!.count;
  for (let index = 1; index < buckets.length; index += 1) {
    const count = buckets[index]!.count;
    if (count > max) max = count;
    else if (count < max) buckets[index] = { upperBound: buckets[index]!.upperBound, count: max };
  }
  return buckets;
}

/**
 * The q-quantile of `values` (φ-quantile with linear interpolation between closest ranks). NaN for no
 * values or q = NaN; -Inf for q < 0; +Inf for q > 1. NaN values sort first, as in Prometheus.
 *
 * @example
 * quantile(0.5, [1, 2, 3, 4]); // 2.5
 */
export function quantile(q: number, values: readonly number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...values].sort((left, right) => {
    if (Number.isNaN(left)) return Number.isNaN(right) ? 0 : -1;
    if (Number.isNaN(right)) return 1;
    return left - right;
  });
  const count = sorted.length;
  const rank = q * (count - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(count - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lowerIndex]! * (1 - weight) + sorted[upperIndex]! * weight;
}
