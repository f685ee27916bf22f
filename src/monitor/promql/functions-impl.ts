/**
 * The implementations of PromQL's float functions, keyed by the names in functions.ts (Prometheus keeps the
 * same split between `parser.Functions` and `promql.FunctionCalls`). Range-vector functions see one series'
 * samples in one window at a time; instant-vector functions see one step's vectors.
 */
import type { Call, Expr } from './ast.ts';
import { unwrapArgument } from './ast.ts';
import { compareAscendingNaNLast, compareDescendingNaNLast } from './aggregations.ts';
import { executionError } from './errors.ts';
import { compileAnchoredGoRegex, expandGoTemplate, UnsupportedRegexError } from './_go-regex.ts';
import { civilTime } from './_go-time.ts';
import type { CivilTime } from './_go-time.ts';
import { dropMetricName, labelsKey } from './_labels.ts';
import { formatFloatFixed, LiteralError, parseNumber } from './_literals.ts';
import { bucketQuantile, quantile } from './quantile.ts';
import type { Bucket } from './quantile.ts';
import type { Point } from './value.ts';
import type { VectorElement } from './_vector.ts';
import { TsdbError } from '../tsdb/errors.ts';
import { isValidLabelName, Labels, metricNameLabel } from '../tsdb/labels.ts';

/** One series' samples inside one step's window, for a range-vector function. */
export interface RangeFunctionInput {
  /** Samples in [rangeStartMs, rangeEndMs], time order, at least one, no staleness markers. */
  readonly points: readonly Point[];
  readonly rangeStartMs: number;
  readonly rangeEndMs: number;
  readonly rangeMs: number;
  /** The step's evaluation time (predict_linear extrapolates from it). */
  readonly evaluationTimeMs: number;
  /** Values of the scalar arguments at this step, by argument index (undefined at the range argument). */
  readonly scalarArgs: readonly (number | undefined)[];
}

/** Returns the function's value, or undefined to drop the series at this step. */
export type RangeFunction = (input: RangeFunctionInput) => number | undefined;

export interface InstantFunctionContext {
  readonly call: Call;
  readonly evaluationTimeMs: number;
  /** Per-call state that lives across steps (compiled regexes). */
  readonly state: Map<string, unknown>;
}

/** `args[i]` is the vector (a one-element vector for a scalar) of argument i, or undefined for a string. */
export type InstantFunction = (args: readonly (readonly VectorElement[] | undefined)[], context: InstantFunctionContext) => VectorElement[];

/** Go's `Ln2 / Ln10`, a constant expression rounded once (JavaScript's Math.LN2 / Math.LN10 is one ulp off). */
const ln2OverLn10 = 0.3010299956639812;
/** Go's `1 / Ln2`. */
const oneOverLn2 = 1.4426950408889634;

// ---------------------------------------------------------------------------------------------------------
// Range-vector functions.

/** Prometheus's extrapolatedRate, for rate, increase and delta. */
function extrapolatedRate(input: RangeFunctionInput, isCounter: boolean, isRate: boolean): number | undefined {
  const { points } = input;
  if (points.length < 2) return undefined;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  let result = last.value - first.value;
  if (isCounter) {
    let previous = first.value;
    for (let index = 1; index < points.length; index += 1) {
      const current = points[index]!.value;
      if (current < previous) result += previous;
      previous = current;
    }
  }
  let durationToStart = (first.timestampMs - input.rangeStartMs) / 1000;
  const durationToEnd = (input.rangeEndMs - last.timestampMs) / 1000;
  const sampledInterval = (last.timestampMs - first.timestampMs) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (points.length - 1);
  if (isCounter && result > 0 && first.value >= 0) {
    // A counter cannot go below zero: do not extrapolate to before the point where it would reach zero.
    const durationToZero = sampledInterval * (first.value / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  extrapolateToInterval += durationToStart < extrapolationThreshold ? durationToStart : averageDurationBetweenSamples / 2;
  extrapolateToInterval += durationToEnd < extrapolationThreshold ? durationToEnd : averageDurationBetweenSamples / 2;
  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= input.rangeMs / 1000;
  return result * factor;
}

/** irate and idelta: the last two samples. */
function instantValue(input: RangeFunctionInput, isRate: boolean): number | undefined {
  const { points } = input;
  if (points.length < 2) return undefined;
  const last = points[points.length - 1]!;
  const previous = points[points.length - 2]!;
  let result = isRate && last.value < previous.value ? last.value : last.value - previous.value;
  const sampledIntervalMs = last.timestampMs - previous.timestampMs;
  if (sampledIntervalMs === 0) return undefined;
  if (isRate) result /= sampledIntervalMs / 1000;
  return result;
}

/** Neumaier's improved Kahan summation step: returns the new sum and compensation. */
function kahanSumInc(increment: number, sum: number, compensation: number): [number, number] {
  const total = sum + increment;
  if (Math.abs(sum) >= Math.abs(increment)) compensation += sum - total + increment;
  else compensation += increment - total + sum;
  return [total, compensation];
}

/** Least-squares slope and intercept at `interceptTimeMs`. */
function linearRegression(points: readonly Point[], interceptTimeMs: number): [number, number] {
  let count = 0;
  let [sumX, compensationX, sumY, compensationY] = [0, 0, 0, 0];
  let [sumXY, compensationXY, sumX2, compensationX2] = [0, 0, 0, 0];
  const initialY = points[0]!.value;
  let constantY = true;
  for (let index = 0; index < points.length; index += 1) {
    const point = points[index]!;
    if (constantY && index > 0 && point.value !== initialY) constantY = false;
    count += 1;
    const x = (point.timestampMs - interceptTimeMs) / 1e3;
    [sumX, compensationX] = kahanSumInc(x, sumX, compensationX);
    [sumY, compensationY] = kahanSumInc(point.value, sumY, compensationY);
    [sumXY, compensationXY] = kahanSumInc(x * point.value, sumXY, compensationXY);
    [sumX2, compensationX2] = kahanSumInc(x * x, sumX2, compensationX2);
  }
  if (constantY) {
    if (!Number.isFinite(initialY) && !Number.isNaN(initialY)) return [NaN, NaN];
    return [0, initialY];
  }
  sumX += compensationX;
  sumY += compensationY;
  sumXY += compensationXY;
  sumX2 += compensationX2;
  const covarianceXY = sumXY - (sumX * sumY) / count;
  const varianceX = sumX2 - (sumX * sumX) / count;
  const slope = covarianceXY / varianceX;
  return [slope, sumY / count - (slope * sumX) / count];
}

function holtWinters(input: RangeFunctionInput): number | undefined {
  const smoothing = input.scalarArgs[1]!;
  const trend = input.scalarArgs[2]!;
  // NaN passes both checks, as in Prometheus.
  if (smoothing <= 0 || smoothing >= 1) {
    throw executionError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${formatFloatFixed(smoothing)}`);
  }
  if (trend <= 0 || trend >= 1) throw executionError(`invalid trend factor. Expected: 0 < tf < 1, got: ${formatFloatFixed(trend)}`);
  const { points } = input;
  if (points.length < 2) return undefined;
  let previousSmoothed = 0;
  let smoothed = points[0]!.value;
  let trendValue = points[1]!.value - points[0]!.value;
  for (let index = 1; index < points.length; index += 1) {
    const scaled = smoothing * points[index]!.value;
    // The trend at step index-1 (Prometheus's calcTrendValue).
    if (index - 1 !== 0) trendValue = trend * (smoothed - previousSmoothed) + (1 - trend) * trendValue;
    const fromHistory = (1 - smoothing) * (smoothed + trendValue);
    previousSmoothed = smoothed;
    smoothed = scaled + fromHistory;
  }
  return smoothed;
}

function averageOverTime(points: readonly Point[]): number {
  let mean = 0;
  let count = 0;
  let compensation = 0;
  for (const { value } of points) {
    count += 1;
    if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
      if (!Number.isFinite(value) && !Number.isNaN(value) && (mean > 0) === (value > 0)) continue;
      if (Number.isFinite(value)) continue;
    }
    [mean, compensation] = kahanSumInc(value / count - mean / count, mean, compensation);
  }
  return !Number.isFinite(mean) && !Number.isNaN(mean) ? mean : mean + compensation;
}

function sumOverTime(points: readonly Point[]): number {
  let sum = 0;
  let compensation = 0;
  for (const { value } of points) [sum, compensation] = kahanSumInc(value, sum, compensation);
  return !Number.isFinite(sum) && !Number.isNaN(sum) ? sum : sum + compensation;
}

/** The population variance with Kahan-compensated Welford updates. */
function varianceOverTime(points: readonly Point[]): number {
  let count = 0;
  let [mean, compensationMean, aux, compensationAux] = [0, 0, 0, 0];
  for (const { value } of points) {
    count += 1;
    const delta = value - (mean + compensationMean);
    [mean, compensationMean] = kahanSumInc(delta / count, mean, compensationMean);
    [aux, compensationAux] = kahanSumInc(delta * (value - (mean + compensationMean)), aux, compensationAux);
  }
  return (aux + compensationAux) / count;
}

function extremeOverTime(points: readonly Point[], isMax: boolean): number {
  let extreme = points[0]!.value;
  for (const { value } of points) {
    if ((isMax ? value > extreme : value < extreme) || Number.isNaN(extreme)) extreme = value;
  }
  return extreme;
}

function countTransitions(points: readonly Point[], isReset: boolean): number {
  let count = 0;
  let previous = points[0]!.value;
  for (let index = 1; index < points.length; index += 1) {
    const current = points[index]!.value;
    if (isReset ? current < previous : current !== previous && !(Number.isNaN(current) && Number.isNaN(previous))) count += 1;
    previous = current;
  }
  return count;
}

export const rangeFunctions: ReadonlyMap<string, RangeFunction> = new Map<string, RangeFunction>([
  ['rate', (input) => extrapolatedRate(input, true, true)],
  ['increase', (input) => extrapolatedRate(input, true, false)],
  ['delta', (input) => extrapolatedRate(input, false, false)],
  ['irate', (input) => instantValue(input, true)],
  ['idelta', (input) => instantValue(input, false)],
  ['deriv', (input) => (input.points.length < 2 ? undefined : linearRegression(input.points, input.points[0]!.timestampMs)[0])],
  ['predict_linear', (input) => {
    if (input.points.length < 2) return undefined;
    const [slope, intercept] = linearRegression(input.points, input.evaluationTimeMs);
    return slope * input.scalarArgs[1]! + intercept;
  }],
  ['holt_winters', holtWinters],
  ['avg_over_time', (input) => averageOverTime(input.points)],
  ['count_over_time', (input) => input.points.length],
  ['last_over_time', (input) => input.points[input.points.length - 1]!.value],
  ['max_over_time', (input) => extremeOverTime(input.points, true)],
  ['min_over_time', (input) => extremeOverTime(input.points, false)],
  ['sum_over_time', (input) => sumOverTime(input.points)],
  ['quantile_over_time', (input) => quantile(input.scalarArgs[0]!, input.points.map((point) => point.value))],
  ['stddev_over_time', (input) => Math.sqrt(varianceOverTime(input.points))],
  ['stdvar_over_time', (input) => varianceOverTime(input.points)],
  ['present_over_time', () => 1],
  ['absent_over_time', () => 1],
  ['changes', (input) => countTransitions(input.points, false)],
  ['resets', (input) => countTransitions(input.points, true)],
]);

// ---------------------------------------------------------------------------------------------------------
// Instant-vector functions.

/** Applies `transform` to every element and drops the metric name. */
function simpleFunction(transform: (value: number) => number): InstantFunction {
  return (args) => args[0]!.map((element) => ({ labels: dropMetricName(element.labels), value: transform(element.value) }));
}

/** Go's math.Frexp-based Log2: exact for powers of two. */
function goLog2(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return Math.log2(value);
  let exponent = Math.floor(Math.log2(value));
  let fraction = value / 2 ** exponent;
  // Normalise to [0.5, 1) as Frexp does; Math.log2 may be off by one near powers of two.
  while (fraction >= 1) [fraction, exponent] = [fraction / 2, exponent + 1];
  while (fraction < 0.5) [fraction, exponent] = [fraction * 2, exponent - 1];
  if (fraction === 0.5) return exponent - 1;
  return Math.log(fraction) * oneOverLn2 + exponent;
}

function scalarArg(args: readonly (readonly VectorElement[] | undefined)[], index: number): number {
  return args[index]![0]!.value;
}

function stringArg(call: Call, index: number): string {
  const arg: Expr = unwrapArgument(call.args[index]!);
  if (arg.kind !== 'StringLiteral') throw executionError(`expected a string literal as argument ${index + 1} of ${call.func.name}()`);
  return arg.value;
}

/** Sets a label, turning keel's label validation failures into execution errors. */
function withLabel(labels: Labels, name: string, value: string): Labels {
  try {
    return labels.with(name, value);
  } catch (error) {
    if (error instanceof TsdbError) throw executionError(error.message);
    throw error;
  }
}

const labelReplace: InstantFunction = (args, { call, state }) => {
  const destination = stringArg(call, 1);
  const replacement = stringArg(call, 2);
  const source = stringArg(call, 3);
  const pattern = stringArg(call, 4);
  let regex = state.get('regex') as RegExp | undefined;
  if (regex === undefined) {
    try {
      regex = compileAnchoredGoRegex(pattern);
    } catch (error) {
      if (error instanceof TsdbError) throw executionError(`invalid regular expression in label_replace(): ${pattern}`);
      if (error instanceof UnsupportedRegexError) throw executionError(`unsupported regular expression in label_replace(): ${pattern}: ${error.message}`);
      throw error;
    }
    if (!isValidLabelName(destination)) throw executionError(`invalid destination label name in label_replace(): ${destination}`);
    state.set('regex', regex);
  }
  return args[0]!.map((element) => {
    const match = regex.exec(element.labels.get(source));
    if (match === null) return element;
    return { labels: withLabel(element.labels, destination, expandGoTemplate(replacement, match)), value: element.value };
  });
};

const labelJoin: InstantFunction = (args, { call }) => {
  const destination = stringArg(call, 1);
  const separator = stringArg(call, 2);
  const sources: string[] = [];
  for (let index = 3; index < call.args.length; index += 1) {
    const source = stringArg(call, index);
    if (!isValidLabelName(source)) throw executionError(`invalid source label name in label_join(): ${source}`);
    sources.push(source);
  }
  if (!isValidLabelName(destination)) throw executionError(`invalid destination label name in label_join(): ${destination}`);
  return args[0]!.map((element) => {
    const joined = sources.map((source) => element.labels.get(source)).join(separator);
    return { labels: withLabel(element.labels, destination, joined), value: element.value };
  });
};

/** The labels absent() reports: the equality matchers of a selector argument, except `__name__`. */
export function labelsForAbsent(arg: Expr): Labels {
  let selector: Expr = arg;
  while (selector.kind === 'ParenExpr') selector = selector.expr;
  if (selector.kind === 'MatrixSelector') selector = selector.vectorSelector;
  if (selector.kind !== 'VectorSelector') return Labels.empty;
  const pairs = new Map<string, string>();
  const seen = new Set<string>();
  for (const matcher of selector.matchers) {
    if (matcher.name === metricNameLabel) continue;
    // A label matched twice (or by anything but equality) is left out, as in Prometheus.
    if (matcher.type === '=' && !seen.has(matcher.name)) {
      pairs.set(matcher.name, matcher.value);
      seen.add(matcher.name);
    } else {
      pairs.delete(matcher.name);
    }
  }
  return Labels.fromPairs(pairs);
}

/** Date functions: of each element's value as Unix seconds, or of the evaluation time without arguments. */
function dateFunction(field: (time: CivilTime) => number): InstantFunction {
  return (args, { evaluationTimeMs }) => {
    if (args.length === 0) return [{ labels: Labels.empty, value: field(civilTime(Math.trunc(evaluationTimeMs / 1000))) }];
    return args[0]!.map((element) => ({ labels: dropMetricName(element.labels), value: field(civilTime(element.value)) }));
  };
}

/** A bucket series' bound and group, by its labels; undefined bound for a missing or malformed `le`. */
interface BucketIdentity {
  readonly upperBound: number | undefined;
  /** The key of the labels without `le`. */
  readonly groupKey: string;
  /** The group's result labels: without `le` and `__name__`. */
  readonly groupLabels: Labels;
}

/** Per label set: a range query meets the same bucket series at every step. */
const bucketIdentities = new WeakMap<Labels, BucketIdentity>();

function bucketIdentity(labels: Labels): BucketIdentity {
  let identity = bucketIdentities.get(labels);
  if (identity === undefined) {
    const withoutBound = labels.without('le');
    identity = { upperBound: parseBucketBound(labels.get('le')), groupKey: labelsKey(withoutBound), groupLabels: dropMetricName(withoutBound) };
    bucketIdentities.set(labels, identity);
  }
  return identity;
}

const histogramQuantile: InstantFunction = (args) => {
  const q = scalarArg(args, 0);
  const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (const element of args[1]!) {
    const { upperBound, groupKey, groupLabels } = bucketIdentity(element.labels);
    if (upperBound === undefined) continue;
    let group = groups.get(groupKey);
    if (group === undefined) {
      group = { labels: groupLabels, buckets: [] };
      groups.set(groupKey, group);
    }
    group.buckets.push({ upperBound, count: element.value });
  }
  return [...groups.values()].map((group) => ({ labels: group.labels, value: bucketQuantile(q, group.buckets) }));
};

/** Go's strconv.ParseFloat of an `le` label, or undefined when it is missing or malformed. */
function parseBucketBound(text: string): number | undefined {
  if (text === '') return undefined;
  try {
    const sign = text.startsWith('-') ? -1 : 1;
    const unsigned = text.replace(/^[+-]/, '');
    // ParseFloat reads digits as decimal (no octal), and hex needs a p exponent that bucket bounds never have.
    if (/^0[xX]/.test(unsigned)) return undefined;
    if (/^[0-9]+$/.test(unsigned)) return sign * Number(unsigned);
    return sign * parseNumber(unsigned);
  } catch (error) {
    if (error instanceof LiteralError) return undefined;
    throw error;
  }
}

export const instantFunctions: ReadonlyMap<string, InstantFunction> = new Map<string, InstantFunction>([
  ['abs', simpleFunction(Math.abs)],
  ['ceil', simpleFunction(Math.ceil)],
  ['floor', simpleFunction(Math.floor)],
  ['exp', simpleFunction(Math.exp)],
  ['sqrt', simpleFunction(Math.sqrt)],
  ['ln', simpleFunction(Math.log)],
  ['log2', simpleFunction(goLog2)],
  ['log10', simpleFunction((value) => goLog2(value) * ln2OverLn10)],
  ['sin', simpleFunction(Math.sin)],
  ['cos', simpleFunction(Math.cos)],
  ['tan', simpleFunction(Math.tan)],
  ['asin', simpleFunction(Math.asin)],
  ['acos', simpleFunction(Math.acos)],
  ['atan', simpleFunction(Math.atan)],
  ['sinh', simpleFunction(Math.sinh)],
  ['cosh', simpleFunction(Math.cosh)],
  ['tanh', simpleFunction(Math.tanh)],
  ['asinh', simpleFunction(Math.asinh)],
  ['acosh', simpleFunction(Math.acosh)],
  ['atanh', simpleFunction(Math.atanh)],
  ['rad', simpleFunction((value) => (value * Math.PI) / 180)],
  ['deg', simpleFunction((value) => (value * 180) / Math.PI)],
  ['sgn', simpleFunction((value) => (value < 0 ? -1 : value > 0 ? 1 : value))],
  ['round', (args) => {
    const toNearestInverse = 1 / (args.length >= 2 ? scalarArg(args, 1) : 1);
    return args[0]!.map((element) => ({
      labels: dropMetricName(element.labels),
      value: Math.floor(element.value * toNearestInverse + 0.5) / toNearestInverse,
    }));
  }],
  ['clamp', (args) => {
    const [min, max] = [scalarArg(args, 1), scalarArg(args, 2)];
    if (max < min) return [];
    return args[0]!.map((element) => ({ labels: dropMetricName(element.labels), value: Math.max(min, Math.min(max, element.value)) }));
  }],
  ['clamp_max', (args) => args[0]!.map((element) => ({ labels: dropMetricName(element.labels), value: Math.min(scalarArg(args, 1), element.value) }))],
  ['clamp_min', (args) => args[0]!.map((element) => ({ labels: dropMetricName(element.labels), value: Math.max(scalarArg(args, 1), element.value) }))],
  ['time', (_args, { evaluationTimeMs }) => [{ labels: Labels.empty, value: evaluationTimeMs / 1000 }]],
  ['pi', () => [{ labels: Labels.empty, value: Math.PI }]],
  ['vector', (args) => [{ labels: Labels.empty, value: scalarArg(args, 0) }]],
  ['scalar', (args) => [{ labels: Labels.empty, value: args[0]!.length === 1 ? args[0]![0]!.value : NaN }]],
  ['timestamp', (args, { evaluationTimeMs }) => args[0]!.map((element) => ({ labels: dropMetricName(element.labels), value: evaluationTimeMs / 1000 }))],
  ['sort', (args) => [...args[0]!].sort(compareAscendingNaNLast)],
  ['sort_desc', (args) => [...args[0]!].sort(compareDescendingNaNLast)],
  ['absent', (args, { call }) => (args[0]!.length > 0 ? [] : [{ labels: labelsForAbsent(call.args[0]!), value: 1 }])],
  ['label_replace', labelReplace],
  ['label_join', labelJoin],
  ['days_in_month', dateFunction((time) => time.daysInMonth)],
  ['day_of_month', dateFunction((time) => time.day)],
  ['day_of_week', dateFunction((time) => time.weekday)],
  ['day_of_year', dateFunction((time) => time.yearDay)],
  ['hour', dateFunction((time) => time.hour)],
  ['minute', dateFunction((time) => time.minute)],
  ['month', dateFunction((time) => time.month)],
  ['year', dateFunction((time) => time.year)],
  ['histogram_quantile', histogramQuantile],
  // Native-histogram functions: keel stores only floats, and Prometheus skips float samples here.
  ['histogram_count', () => []],
  ['histogram_sum', () => []],
  ['histogram_fraction', () => []],
]);
