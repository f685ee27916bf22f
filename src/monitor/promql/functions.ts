/**
 * The table of PromQL function signatures (Prometheus 2.42's `parser.Functions`): argument types, how many
 * optional or repeated arguments follow, and the return type. The parser type-checks calls against it; the
 * implementations live apart, in functions-impl.ts, keyed by the same names.
 */
import type { ValueType } from './ast.ts';

export interface FunctionSignature {
  readonly name: string;
  readonly argTypes: readonly ValueType[];
  /**
   * 0: exactly `argTypes.length` arguments. n > 0: the last n argument types are optional. -1: the last type
   * repeats any number of times.
   */
  readonly variadic: number;
  readonly returnType: ValueType;
  /**
   * Whether the result can change with the evaluation time even when every argument is fixed by `@`, so the
   * engine must not evaluate the call only once (Prometheus's AtModifierUnsafeFunctions).
   */
  readonly dependsOnEvaluationTime: boolean;
}

const v: ValueType = 'vector';
const m: ValueType = 'matrix';
const s: ValueType = 'scalar';
const str: ValueType = 'string';

type Row = readonly [name: string, argTypes: readonly ValueType[], returnType: ValueType, variadic?: number];

const rows: readonly Row[] = [
  ['abs', [v], v], ['absent', [v], v], ['absent_over_time', [m], v], ['acos', [v], v], ['acosh', [v], v],
  ['asin', [v], v], ['asinh', [v], v], ['atan', [v], v], ['atanh', [v], v], ['avg_over_time', [m], v],
  ['ceil', [v], v], ['changes', [m], v], ['clamp', [v, s, s], v], ['clamp_max', [v, s], v], ['clamp_min', [v, s], v],
  ['cos', [v], v], ['cosh', [v], v], ['count_over_time', [m], v], ['days_in_month', [v], v, 1],
  ['day_of_month', [v], v, 1], ['day_of_week', [v], v, 1], ['day_of_year', [v], v, 1], ['deg', [v], v],
  ['delta', [m], v], ['deriv', [m], v], ['exp', [v], v], ['floor', [v], v], ['histogram_count', [v], v],
  ['histogram_sum', [v], v], ['histogram_fraction', [s, s, v], v], ['histogram_quantile', [s, v], v],
  ['holt_winters', [m, s, s], v], ['hour', [v], v, 1], ['idelta', [m], v], ['increase', [m], v], ['irate', [m], v],
  ['label_replace', [v, str, str, str, str], v], ['label_join', [v, str, str, str], v, -1],
  ['last_over_time', [m], v], ['ln', [v], v], ['log10', [v], v], ['log2', [v], v], ['max_over_time', [m], v],
  ['min_over_time', [m], v], ['minute', [v], v, 1], ['month', [v], v, 1], ['pi', [], s],
  ['predict_linear', [m, s], v], ['present_over_time', [m], v], ['quantile_over_time', [s, m], v], ['rad', [v], v],
  ['rate', [m], v], ['resets', [m], v], ['round', [v, s], v, 1], ['scalar', [v], s], ['sgn', [v], v], ['sin', [v], v],
  ['sinh', [v], v], ['sort', [v], v], ['sort_desc', [v], v], ['sqrt', [v], v], ['stddev_over_time', [m], v],
  ['stdvar_over_time', [m], v], ['sum_over_time', [m], v], ['tan', [v], v], ['tanh', [v], v], ['time', [], s],
  ['timestamp', [v], v], ['vector', [s], v], ['year', [v], v, 1],
];

const timeDependent = new Set([
  'days_in_month', 'day_of_month', 'day_of_week', 'day_of_year', 'hour', 'minute', 'month', 'year',
  'predict_linear', 'time', 'timestamp',
]);

const signatures: ReadonlyMap<string, FunctionSignature> = new Map(
  rows.map(([name, argTypes, returnType, variadic]) => [
    name,
    { name, argTypes, returnType, variadic: variadic ?? 0, dependsOnEvaluationTime: timeDependent.has(name) },
  ]),
);

/**
 * The signature of a PromQL function, or undefined for an unknown name.
 *
 * @example
 * getFunction('rate')?.argTypes; // ['matrix']
 */
export function getFunction(name: string): FunctionSignature | undefined {
  return signatures.get(name);
}

/** Every function name, sorted. */
export function functionNames(): string[] {
  return [...signatures.keys()].sort();
}
