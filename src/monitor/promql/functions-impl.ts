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
import type { VectorElement } from './_vector.ts';
import { TsdbError } from '../tsdb/errors.ts';
import { isValidLabelName, Labels, metricNameLabel } from '../tsdb/labels.ts';

/**
 * One series' samples inside one step's window, for a range-vector function: indices [first, first + count)
 * of `timestamps` and `values`. The evaluator reuses one input object (and its arrays) for every step and
 * series, so a function must not keep it.
 */
export interface RangeFunctionInput {
  /** Sample times; in [rangeStartMs, rangeEndMs], increasing, no staleness markers. */
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly first: number;
  /** At least one. */
  readonly count: number;
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
  const { timestamps, values, first, count } = input;
  if (count < 2) return undefined;
  const last = first + count - 1;
  const firstValue = values[first]!;
  let result = values[last]! - firstValue;
  if (isCounter) {
    let previous = firstValue;
    for (let index = first + 1; index <= last; index += 1) {
      const current = values[index]!;
      if (current < previous) result += previous;
      previous = current;
    }
  }
  let durationToStart = (timestamps[first]! - input.rangeStartMs) / 1000;
  const durationToEnd = (input.rangeEndMs - timestamps[last]!) / 1000;
  const sampledInterval = (timestamps[last]! - timestamps[first]!) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (count - 1);
  if (isCounter && result > 0 && firstValue >= 0) {
    // A counter cannot go below zero: do not extrapolate to before the point where it would reach zero.
    const durationToZero = sampledInterval * (firstValue / result);
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
  const { timestamps, values, first, count } = input;
  if (count < 2) return undefined;
  const last = first + count - 1;
  const lastValue = values[last]!;
  const previousValue = values[last - 1]!;
  let result = isRate && lastValue < previousValue ? lastValue : lastValue - previousValue;
  const sampledIntervalMs = timestamps[last]! - timestamps[last - 1]!;
  if (sampledIntervalMs === 0) return undefined;
  if (isRate) result /= sampledIntervalMs / 1000;
  return result;
}

/**
 * Neumaier's improved Kahan summation: `sum` and `compensation` updated in place (no tuple per step, as
 * these run once per sample).
 */
class KahanSum {
  sum = 0;
  compensation = 0;

  add(increment: number): void {
    const total = this.sum + increment;
    if (Math.abs(this.sum) >= Math.abs(increment)) this.compensation += this.sum - total + increment;
    else this.compensation += increment - total + this.sum;
    this.sum = total;
  }
}

/** Least-squares slope and intercept at `interceptTimeMs`. */
function linearRegression(input: RangeFunctionInput, interceptTimeMs: number): [number, number] {
  const { timestamps, values, first, count } = input;
  const sumX = new KahanSum();
  const sumY = new KahanSum();
  const sumXY = new KahanSum();
  const sumX2 = new KahanSum();
  const initialY = values[first]!;
  let constantY = true;
  for (let index = first; index < first + count; index += 1) {
    const value = values[index]!;
    if (constantY && index > first && value !== initialY) constantY = false;
    const x = (timestamps[index]! - interceptTimeMs) / 1e3;
    sumX.add(x);
    sumY.add(value);
    sumXY.add(x * value);
    sumX2.add(x * x);
  }
  if (constantY) {
    if (!Number.isFinite(initialY) && !Number.isNaN(initialY)) return [NaN, NaN];
    return [0, initialY];
  }
  const totalX = sumX.sum + sumX.compensation;
  const totalY = sumY.sum + sumY.compensation;
  const covarianceXY = sumXY.sum + sumXY.compensation - (totalX * totalY) / count;
  const varianceX = sumX2.sum + sumX2.compensation - (totalX * totalX) / count;
  const slope = covarianceXY / varianceX;
  return [slope, totalY / count - (slope * totalX) / count];
}

function holtWinters(input: RangeFunctionInput): number | undefined {
  const smoothing = input.scalarArgs[1]!;
  const trend = input.scalarArgs[2]!;
  // NaN passes both checks, as in Prometheus.
  if (smoothing <= 0 || smoothing >= 1) {
    throw executionError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${formatFloatFixed(smoothing)}`);
  }
  if (trend <= 0 || trend >= 1) throw executionError(`invalid trend factor. Expected: 0 < tf < 1, got: ${formatFloatFixed(trend)}`);
  const { values, first, count } = input;
  if (count < 2) return undefined;
  let previousSmoothed = 0;
  let smoothed = values[first]!;
  let trendValue = values[first + 1]! - values[first]!;
  for (let index = 1; index < count; index += 1) {
    const scaled = smoothing * values[first + index]!;
    // The trend at step index-1 (Prometheus's calcTrendValue).
    if (index - 1 !== 0) trendValue = trend * (smoothed - previousSmoothed) + (1 - trend) * trendValue;
    const fromHistory = (1 - smoothing) * (smoothed + trendValue);
    previousSmoothed = smoothed;
    smoothed = scaled + fromHistory;
  }
  return smoothed;
}

function averageOverTime(input: RangeFunctionInput): number {
  const { values, first, count } = input;
  const mean = new KahanSum();
  for (let index = 0; index < count; index += 1) {
    const value = values[first + index]!;
    const seen = index + 1;
    if (!Number.isFinite(mean.sum) && !Number.isNaN(mean.sum)) {
      if (!Number.isFinite(value) && !Number.isNaN(value) && (mean.sum > 0) === (value > 0)) continue;
      if (Number.isFinite(value)) continue;
    }
    mean.add(value / seen - mean.sum / seen);
  }
  return !Number.isFinite(mean.sum) && !Number.isNaN(mean.sum) ? mean.sum : mean.sum + mean.compensation;
}

function sumOverTime(input: RangeFunctionInput): number {
  const { values, first, count } = input;
  const sum = new KahanSum();
  for (let index = first; index < first + count; index += 1) sum.add(values[index]!);
  return !Number.isFinite(sum.sum) && !Number.isNaN(sum.sum) ? sum.sum : sum.sum + sum.compensation;
}

/** The population variance with Kahan-compensated Welford updates. */
function varianceOverTime(input: RangeFunctionInput): number {
  const { values, first, count } = input;
  const mean = new KahanSum();
  const aux = new KahanSum();
  for (let index = 0; index < count; index += 1) {
    const value = values[first + index]!;
    const delta = value - (mean.sum + mean.compensation);
    mean.add(delta / (index + 1));
    aux.add(delta * (value - (mean.sum + mean.compensation)));
  }
  return (aux.sum + aux.compensation) / count;
}

function extremeOverTime(input: RangeFunctionInput, isMax: boolean): number {
  const { values, first, count } = input;
  let extreme = values[first]!;
  for (let index = first; index < first + count; index += 1) {
    const value = values[index]!;
    if ((isMax ? value > extreme : value < extreme) || Number.isNaN(extreme)) extreme = value;
  }
  return extreme;
}

function countTransitions(input: RangeFunctionInput, isReset: boolean): number {
  const { values, first, count } = input;
  let transitions = 0;
  let previous = values[first]!;
  for (let index = first + 1; index < first + count; index += 1) {
    const current = values[index]!;
    if (isReset ? current < previous : current !== previous && !(Number.isNaN(current) && Number.isNaN(previous))) transitions += 1;
    previous = current;
  }
  return transitions;
}

export const rangeFunctions: ReadonlyMap<string, RangeFunction> = new Map<string, RangeFunction>([
  ['rate', (input) => extrapolatedRate(input, true, true)],
  ['increase', (input) => extrapolatedRate(input, true, false)],
  ['delta', (input) => extrapolatedRate(input, false, false)],
  ['irate', (input) => instantValue(input, true)],
  ['idelta', (input) => instantValue(input, false)],
  ['deriv', (input) => (input.count < 2 ? undefined : linearRegression(input, input.timestamps[input.first]!)[0])],
  ['predict_linear', (input) => {
    if (input.count < 2) return undefined;
    const [slope, intercept] = linearRegression(input, input.evaluationTimeMs);
    return slope * input.scalarArgs[1]! + intercept;
  }],
  ['holt_winters', holtWinters],
  ['avg_over_time', averageOverTime],
  ['count_over_time', (input) => input.count],
  ['last_over_time', (input) => input.values[input.first + input.count - 1]!],
  ['max_over_time', (input) => extremeOverTime(input, true)],
  ['min_over_time', (input) => extremeOverTime(input, false)],
  ['sum_over_time', sumOverTime],
  ['quantile_over_time', (input) => quantile(input.scalarArgs[0]!, Array.from(input.values.subarray(input.first, input.first + input.count)))],
  ['stddev_over_time', (input) => Math.sqrt(varianceOverTime(input))],
  ['stdvar_over_time', varianceOverTime],
  ['present_over_time', () => 1],
  ['absent_over_time', () => 1],
  ['changes', (input) => countTransitions(input, false)],
  ['resets', (input) => countTransitions(input, true)],
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
  const rewritten = rewrittenLabels(state);
  return args[0]!.map((element) => {
    let labels = rewritten.get(element.labels);
    if (labels === undefined) {
      const match = regex.exec(element.labels.get(source));
      labels = match === null ? element.labels : withLabel(element.labels, destination, expandGoTemplate(replacement, match));
      rewritten.set(element.labels, labels);
    }
    return labels === element.labels ? element : { labels, value: element.value };
  });
};

/**
 * The call's rewritten label sets by input label set: the same series comes back at every step, and one
 * output object per series lets the step loop find its series by identity.
 */
function rewrittenLabels(state: Map<string, unknown>): Map<Labels, Labels> {
  let rewritten = state.get('rewritten') as Map<Labels, Labels> | undefined;
  if (rewritten === undefined) {
    rewritten = new Map();
    state.set('rewritten', rewritten);
  }
  return rewritten;
}

const labelJoin: InstantFunction = (args, { call, state }) => {
  const destination = stringArg(call, 1);
  const separator = stringArg(call, 2);
  const sources: string[] = [];
  for (let index = 3; index < call.args.length; index += 1) {
    const source = stringArg(call, index);
    if (!isValidLabelName(source)) throw executionError(`invalid source label name in label_join(): ${source}`);
    sources.push(source);
  }
  if (!isValidLabelName(destination)) throw executionError(`invalid destination label name in label_join(): ${destination}`);
  const rewritten = rewrittenLabels(state);
  return args[0]!.map((element) => {
    let labels = rewritten.get(element.labels);
    if (labels === undefined) {
      labels = withLabel(element.labels, destination, sources.map((source) => element.labels.get(source)).join(separator));
      rewritten.set(element.labels, labels);
    }
    return { labels, value: element.value };
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
