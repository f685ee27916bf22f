/**
 * The step-wise evaluator, shaped like Prometheus 2.42's `evaluator`: every node evaluates to a matrix over the
 * evaluation steps [startMs, endMs] (one step for an instant query), and operators combine their inputs one
 * step at a time (`#rangeEval`). Range-vector functions slide a window over each series instead.
 *
 * Semantics follow 2.42: an instant selector takes the newest sample in [t - lookback, t] unless it is a
 * staleness marker; a range selector takes the samples in [t - range, t] (both ends inclusive in 2.42);
 * `offset` shifts t; `@` pins it (computed directly rather than by rewriting offsets as Prometheus does, with
 * the same results); subqueries evaluate on steps aligned to multiples of their resolution.
 *
 * The evaluator counts the samples it holds against `maxSamples` and checks the deadline between steps and
 * series; it also yields to the event loop every `evaluationSliceMsMax` so a long query does not starve the
 * coordination service sharing the process.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers';
import type { Series, SampleIterator } from '../storage.ts';
import { Labels, metricNameLabel } from '../tsdb/labels.ts';
import type {
  AggregateExpr, BinaryExpr, Call, Expr, MatrixSelector, StepInvariantExpr, SubqueryExpr, UnaryExpr, VectorSelector,
} from './ast.ts';
import { setOps, typeOf, unwrapArgument } from './ast.ts';
import { aggregate, GroupingCache } from './aggregations.ts';
import {
  ResultLabelsCache, scalarBinary, SignatureCache, vectorAnd, vectorBinary, vectorOr, vectorScalarBinary, vectorUnless,
} from './binary.ts';
import { assertPromql, timeoutError, tooManySamplesError } from './errors.ts';
import { instantFunctions, labelsForAbsent, rangeFunctions } from './functions-impl.ts';
import { dropMetricName, isStaleMarker, labelsKey } from './_labels.ts';
import { ArraySampleIterator } from './_sample-array.ts';
import { Points } from './value.ts';
import { assertUniqueLabelSets, duplicateLabelSetError } from './_vector.ts';
import type { EvalSeries, Matrix, StringValue, VectorElement } from './_vector.ts';

/** How long the evaluator runs before it lets other work on the event loop run. */
export const evaluationSliceMsMax = 10;

/** Samples held in memory by one query, against the engine's limit. */
export class SampleBudget {
  /** Invariant: 0 ≤ current (up to a transient overshoot that immediately throws). */
  current = 0;
  readonly max: number;

  constructor(max: number) {
    assertPromql(Number.isSafeInteger(max) && max > 0, 'maxSamples is a positive integer');
    this.max = max;
  }

  take(count: number): void {
    this.current += count;
    if (this.current > this.max) throw tooManySamplesError();
  }

  release(count: number): void {
    this.current -= count;
    assertPromql(this.current >= 0, 'sample budget never goes negative');
  }
}

/** The query deadline and cooperative yielding. */
export class EvaluationGuard {
  readonly #clock: () => number;
  readonly #deadlineMs: number;
  #lastYieldMs: number;

  constructor(clock: () => number, timeoutMs: number) {
    this.#clock = clock;
    this.#lastYieldMs = clock();
    this.#deadlineMs = this.#lastYieldMs + timeoutMs;
  }

  /**
   * Throws when the query is out of time. Returns a promise to await when the evaluator has run for a
   * slice and should let the event loop run, else undefined (so hot loops pay no await).
   */
  poll(): Promise<void> | undefined {
    const now = this.#clock();
    if (now > this.#deadlineMs) throw timeoutError('expression evaluation');
    if (now - this.#lastYieldMs < evaluationSliceMsMax) return undefined;
    return new Promise<void>((resolve) => {
      yieldToEventLoop(() => {
        this.#lastYieldMs = this.#clock();
        resolve();
      });
    });
  }
}

/** What every evaluator of one query shares. */
export interface EvaluationContext {
  readonly queryStartMs: number;
  readonly queryEndMs: number;
  readonly lookbackDeltaMs: number;
  readonly noStepSubqueryIntervalMs: number;
  /** The series each selector selected before evaluation. */
  readonly selected: ReadonlyMap<VectorSelector, readonly Series[]>;
  readonly budget: SampleBudget;
  readonly guard: EvaluationGuard;
}

type EvalValue = Matrix | StringValue;

/** An iterator that can judge staleness from the value's bits (the TSDB's iterators can). */
type BitsAwareIterator = SampleIterator & { isStaleMarker?: () => boolean };

/**
 * A pull cursor over a sample iterator with one sample of lookahead. Staleness is decided the moment a sample
 * is read, from the bits when the iterator offers them: a NaN's payload may not survive being stored by the
 * JavaScript engine (see tsdb/value.ts). The timestamp is copied into a field as the sample is read, because
 * the evaluator's loops compare it several times per sample and the iterator's getter may go through a chain
 * of merged iterators.
 */
class SampleCursor {
  readonly #iterator: BitsAwareIterator;
  hasSample: boolean;
  /** Whether the current sample is a staleness marker. */
  stale = false;
  /** The current sample's timestamp. Invariant: meaningful only while `hasSample`. */
  timestampMs = 0;

  constructor(iterator: SampleIterator) {
    this.#iterator = iterator;
    this.hasSample = iterator.next();
    this.#classify();
  }

  get value(): number {
    return this.#iterator.value;
  }

  advance(): void {
    this.hasSample = this.#iterator.next();
    this.#classify();
  }

  seek(timestampMs: number): void {
    this.hasSample = this.#iterator.seek(timestampMs);
    this.#classify();
  }

  /** Lets the iterator release its buffers; the cursor is then exhausted. */
  close(): void {
    this.#iterator.close?.();
    this.hasSample = false;
    this.stale = false;
  }

  #classify(): void {
    if (!this.hasSample) {
      this.stale = false;
      return;
    }
    this.timestampMs = this.#iterator.timestampMs;
    if (this.#iterator.isStaleMarker !== undefined) this.stale = this.#iterator.isStaleMarker();
    else this.stale = isStaleMarker(this.#iterator.value);
  }
}

/**
 * The samples of one series inside a window that only moves forward: indices [first, end) of two typed
 * arrays, compacted or grown when the end reaches their capacity. One window serves every series of a
 * range function in turn (`reset`), so a query allocates its arrays once, not per series or per sample.
 */
class SlidingWindow {
  timestamps = new Float64Array(64);
  values = new Float64Array(64);
  /** Invariant: 0 ≤ first ≤ end ≤ capacity; samples in [first, end) are counted in the budget. */
  first = 0;
  end = 0;
  #cursor: SampleCursor | undefined;
  readonly #budget: SampleBudget;

  constructor(budget: SampleBudget) {
    this.#budget = budget;
  }

  get count(): number {
    return this.end - this.first;
  }

  /** Starts over on another series (releasing the previous one's samples and buffers). */
  reset(iterator: SampleIterator): void {
    this.release();
    this.#cursor = new SampleCursor(iterator);
  }

  /** Moves the window to [startMs, endMs]; staleness markers never enter it. */
  advance(startMs: number, endMs: number): void {
    let first = this.first;
    const timestamps = this.timestamps;
    while (first < this.end && timestamps[first]! < startMs) first += 1;
    if (first > this.first) {
      this.#budget.release(first - this.first);
      this.first = first;
    }
    if (this.first === this.end) this.first = this.end = 0;
    const cursor = this.#cursor!;
    if (cursor.hasSample && cursor.timestampMs < startMs) cursor.seek(startMs);
    while (cursor.hasSample && cursor.timestampMs <= endMs) {
      if (!cursor.stale) {
        this.#budget.take(1);
        this.#push(cursor.timestampMs, cursor.value);
      }
      cursor.advance();
    }
  }

  /** Releases the window's samples from the budget and its source's buffers. */
  release(): void {
    this.#budget.release(this.end - this.first);
    this.first = this.end = 0;
    this.#closeCursor();
  }

  /** The window's samples as points (they stay counted in the budget: they become part of a result). */
  takePoints(): Points {
    const points = new Points();
    for (let index = this.first; index < this.end; index += 1) points.push(this.timestamps[index]!, this.values[index]!);
    this.first = this.end = 0;
    this.#closeCursor();
    return points;
  }

  #closeCursor(): void {
    this.#cursor?.close();
    this.#cursor = undefined;
  }

  #push(timestampMs: number, value: number): void {
    if (this.end === this.timestamps.length) {
      if (this.first > 0) {
        this.timestamps.copyWithin(0, this.first, this.end);
        this.values.copyWithin(0, this.first, this.end);
        this.end -= this.first;
        this.first = 0;
      } else {
        const timestamps = new Float64Array(this.timestamps.length * 2);
        const values = new Float64Array(this.values.length * 2);
        timestamps.set(this.timestamps);
        values.set(this.values);
        this.timestamps = timestamps;
        this.values = values;
      }
    }
    this.timestamps[this.end] = timestampMs;
    this.values[this.end] = value;
    this.end += 1;
  }
}

/** The reused argument of range functions (see RangeFunctionInput). */
interface MutableRangeInput {
  timestamps: Float64Array;
  values: Float64Array;
  first: number;
  count: number;
  rangeStartMs: number;
  rangeEndMs: number;
  rangeMs: number;
  evaluationTimeMs: number;
  scalarArgs: (number | undefined)[];
}

/** Evaluates expressions over the steps startMs, startMs + intervalMs, ..., ≤ endMs. */
export class Evaluator {
  readonly #context: EvaluationContext;
  readonly #startMs: number;
  readonly #endMs: number;
  readonly #intervalMs: number;

  constructor(context: EvaluationContext, startMs: number, endMs: number, intervalMs: number) {
    assertPromql(intervalMs > 0, 'evaluation interval is positive');
    this.#context = context;
    this.#startMs = startMs;
    this.#endMs = endMs;
    this.#intervalMs = intervalMs;
  }

  get #stepCount(): number {
    return this.#endMs < this.#startMs ? 0 : Math.floor((this.#endMs - this.#startMs) / this.#intervalMs) + 1;
  }

  async eval(expr: Expr): Promise<EvalValue> {
    await this.#poll();
    switch (expr.kind) {
      case 'NumberLiteral':
        return this.#rangeEval([], () => [{ labels: Labels.empty, value: expr.value }]);
      case 'StringLiteral':
        return { kind: 'string', value: expr.value };
      case 'ParenExpr':
        return this.eval(expr.expr);
      case 'UnaryExpr':
        return this.#unary(expr);
      case 'BinaryExpr':
        return this.#binary(expr);
      case 'AggregateExpr':
        return this.#aggregate(expr);
      case 'Call':
        return this.#call(expr);
      case 'VectorSelector':
        return this.#vectorSelector(expr, false);
      case 'MatrixSelector':
        return this.#matrixSelector(expr);
      case 'SubqueryExpr':
        return this.#subquery(expr);
      case 'StepInvariantExpr':
        return this.#stepInvariant(expr);
    }
  }

  /** Checks the deadline and yields when due. */
  async #poll(): Promise<void> {
    const pause = this.#context.guard.poll();
    if (pause !== undefined) await pause;
  }

  async #evalMatrix(expr: Expr): Promise<Matrix> {
    const value = await this.eval(expr);
    assertPromql(Array.isArray(value), 'a non-string expression evaluates to a matrix');
    return value;
  }

  /**
   * Evaluates `inputs` (undefined or string-typed inputs are skipped), then calls `compute` once per step
   * with each input's vector at that step, and collects the results into series.
   */
  async #rangeEval(
    inputs: readonly (Expr | undefined)[],
    compute: (vectors: readonly (readonly VectorElement[])[], timestampMs: number) => VectorElement[],
  ): Promise<Matrix> {
    const baseSamples = this.#context.budget.current;
    const matrices: (Matrix | undefined)[] = [];
    for (const input of inputs) matrices.push(input === undefined || typeOf(input) === 'string' ? undefined : await this.#evalMatrix(input));
    return this.#stepLoop(matrices, compute, baseSamples);
  }

  async #stepLoop(
    matrices: readonly (Matrix | undefined)[],
    compute: (vectors: readonly (readonly VectorElement[])[], timestampMs: number) => VectorElement[],
    baseSamples: number,
  ): Promise<Matrix> {
    const budget = this.#context.budget;
    const cursors = matrices.map((matrix) => new Array<number>(matrix?.length ?? 0).fill(0));
    // Output series by label set: first by object (steps usually hand back the same Labels objects), then
    // by content.
    const byLabels = new Map<Labels, EvalSeries>();
    const byKey = new Map<string, EvalSeries>();
    let heldSamples = budget.current;
    for (let timestampMs = this.#startMs; timestampMs <= this.#endMs; timestampMs += this.#intervalMs) {
      const pause = this.#context.guard.poll();
      if (pause !== undefined) await pause;
      budget.current = heldSamples;
      const vectors = matrices.map((matrix, index) => this.#vectorAt(matrix, cursors[index]!, timestampMs));
      const result = compute(vectors, timestampMs);
      budget.take(result.length);
      heldSamples += result.length;
      for (const element of result) {
        let series = byLabels.get(element.labels);
        if (series === undefined) {
          const key = labelsKey(element.labels);
          series = byKey.get(key);
          if (series === undefined) {
            series = { labels: element.labels, points: new Points() };
            byKey.set(key, series);
          }
          byLabels.set(element.labels, series);
        }
        // Two elements of one step with the same label set (Prometheus's duplicate check, done here for free).
        const points = series.points;
        if (points.length > 0 && points.timestampAt(points.length - 1) === timestampMs) throw duplicateLabelSetError();
        points.push(timestampMs, element.value);
      }
    }
    const matrix = [...byKey.values()];
    budget.current = baseSamples + countPoints(matrix);
    return matrix;
  }

  /** The elements of `matrix` that have a point at `timestampMs`; advances the per-series cursors. */
  #vectorAt(matrix: Matrix | undefined, cursors: number[], timestampMs: number): VectorElement[] {
    if (matrix === undefined) return [];
    const vector: VectorElement[] = [];
    for (let index = 0; index < matrix.length; index += 1) {
      const series = matrix[index]!;
      const cursor = cursors[index]!;
      const points = series.points;
      if (cursor >= points.length || points.timestampAt(cursor) !== timestampMs) continue;
      cursors[index] = cursor + 1;
      this.#context.budget.take(1);
      vector.push({ labels: series.labels, value: points.valueAt(cursor) });
    }
    return vector;
  }

  async #unary(expr: UnaryExpr): Promise<Matrix> {
    const matrix = await this.#evalMatrix(expr.expr);
    if (expr.op === '+') return matrix;
    const negated = matrix.map((series) => ({
      labels: dropMetricName(series.labels),
      points: negatedPoints(series.points),
    }));
    assertUniqueLabelSets(negated);
    return negated;
  }

  async #binary(expr: BinaryExpr): Promise<Matrix> {
    const lhsType = typeOf(expr.lhs);
    const rhsType = typeOf(expr.rhs);
    const { op, returnBool } = expr;
    if (lhsType === 'scalar' && rhsType === 'scalar') {
      return this.#rangeEval([expr.lhs, expr.rhs], ([lhs, rhs]) => [{ labels: Labels.empty, value: scalarBinary(op, lhs![0]!.value, rhs![0]!.value) }]);
    }
    if (lhsType === 'vector' && rhsType === 'vector') {
      const matching = expr.matching ?? { cardinality: setOps.has(op) ? 'many-to-many' : 'one-to-one', on: false, matchingLabels: [], include: [] };
      const signatures = new SignatureCache(matching);
      const resultLabels = new ResultLabelsCache();
      return this.#rangeEval([expr.lhs, expr.rhs], ([lhs, rhs]) => {
        if (op === 'and') return vectorAnd(lhs!, rhs!, signatures);
        if (op === 'or') return vectorOr(lhs!, rhs!, signatures);
        if (op === 'unless') return vectorUnless(lhs!, rhs!, signatures);
        return vectorBinary(op, lhs!, rhs!, { matching, returnBool, signatures, resultLabels });
      });
    }
    const scalarOnLeft = lhsType === 'scalar';
    return this.#rangeEval([expr.lhs, expr.rhs], ([lhs, rhs]) => {
      const [vector, scalar] = scalarOnLeft ? [rhs!, lhs![0]!.value] : [lhs!, rhs![0]!.value];
      return vectorScalarBinary(op, vector, scalar, { scalarOnLeft, returnBool });
    });
  }

  async #aggregate(expr: AggregateExpr): Promise<Matrix> {
    const spec = { op: expr.op, grouping: expr.grouping, without: expr.without };
    const cache = new GroupingCache(spec);
    const param = expr.param === undefined ? undefined : unwrapArgument(expr.param);
    if (param !== undefined && param.kind === 'StringLiteral') {
      return this.#rangeEval([expr.expr], ([vector]) => aggregate(spec, vector!, param.value, cache));
    }
    return this.#rangeEval([expr.param, expr.expr], ([parameter, vector]) => aggregate(spec, vector!, parameter![0]?.value, cache));
  }

  async #call(expr: Call): Promise<Matrix> {
    const name = expr.func.name;
    const firstArg = expr.args[0] === undefined ? undefined : unwrapArgument(expr.args[0]);
    if (name === 'timestamp' && firstArg?.kind === 'VectorSelector') {
      // The sample's own timestamp, not the step's.
      const baseSamples = this.#context.budget.current;
      const matrix = await this.#vectorSelector(firstArg, true);
      return this.#stepLoop([matrix], ([vector]) => vector!.map((element) => ({ labels: dropMetricName(element.labels), value: element.value })), baseSamples);
    }
    const rangeIndex = expr.args.findIndex((arg) => {
      const unwrapped = unwrapArgument(arg);
      return unwrapped.kind === 'MatrixSelector' || unwrapped.kind === 'SubqueryExpr';
    });
    if (rangeIndex >= 0) return this.#rangeFunctionCall(expr, rangeIndex);
    const implementation = instantFunctions.get(name);
    assertPromql(implementation !== undefined, `function ${name} has an implementation`);
    const state = new Map<string, unknown>();
    return this.#rangeEval(expr.args, (vectors, timestampMs) =>
      implementation(expr.args.map((arg, index) => (typeOf(arg) === 'string' ? undefined : vectors[index])), { call: expr, evaluationTimeMs: timestampMs, state }));
  }

  /** A function of a range vector: one sliding window per series, one value per step. */
  async #rangeFunctionCall(expr: Call, rangeIndex: number): Promise<Matrix> {
    const implementation = rangeFunctions.get(expr.func.name);
    assertPromql(implementation !== undefined, `function ${expr.func.name} has a range implementation`);
    const budget = this.#context.budget;
    const scalarMatrices: (Matrix | undefined)[] = [];
    for (let index = 0; index < expr.args.length; index += 1) {
      const arg = expr.args[index]!;
      scalarMatrices.push(index === rangeIndex || typeOf(arg) === 'string' ? undefined : await this.#evalMatrix(arg));
    }
    const source = await this.#rangeSource(unwrapArgument(expr.args[rangeIndex]!));
    const output: Matrix = [];
    const window = new SlidingWindow(budget);
    const input: MutableRangeInput = {
      timestamps: window.timestamps, values: window.values, first: 0, count: 0,
      rangeStartMs: 0, rangeEndMs: 0, rangeMs: source.rangeMs, evaluationTimeMs: 0, scalarArgs: scalarMatrices.map(() => undefined),
    };
    const compute = (timestampMs: number, step: number): number | undefined => {
      input.timestamps = window.timestamps;
      input.values = window.values;
      input.first = window.first;
      input.count = window.count;
      input.rangeEndMs = source.windowEndMs(timestampMs);
      input.rangeStartMs = input.rangeEndMs - source.rangeMs;
      input.evaluationTimeMs = timestampMs;
      for (let index = 0; index < scalarMatrices.length; index += 1) input.scalarArgs[index] = scalarMatrices[index]?.[0]?.points.values[step];
      return implementation(input);
    };
    for (const series of source.series) {
      window.reset(series.iterator());
      const points = await this.#slideWindow(window, source, compute);
      if (points.length === 0) continue;
      budget.take(points.length);
      output.push({ labels: expr.func.name === 'last_over_time' ? series.labels : dropMetricName(series.labels), points });
    }
    window.release();
    budget.release(source.heldSamples);
    if (expr.func.name === 'absent_over_time') return this.#absentOverTime(output, expr);
    // The source's label sets are distinct, so dropping `__name__` can only make two equal when their names differ.
    if (expr.func.name !== 'last_over_time' && !sameMetricName(source.series)) assertUniqueLabelSets(output);
    return output;
  }

  /** Runs `compute` on each step's window of the window's series (after `reset`); returns the defined results as points. */
  async #slideWindow(
    window: SlidingWindow,
    source: RangeSource,
    compute: (timestampMs: number, step: number) => number | undefined,
  ): Promise<Points> {
    const points = new Points();
    let step = 0;
    for (let timestampMs = this.#startMs; timestampMs <= this.#endMs; timestampMs += this.#intervalMs, step += 1) {
      const pause = this.#context.guard.poll();
      if (pause !== undefined) await pause;
      const endMs = source.windowEndMs(timestampMs);
      window.advance(endMs - source.rangeMs, endMs);
      if (window.count === 0) continue;
      const value = compute(timestampMs, step);
      if (value !== undefined) points.push(timestampMs, value);
    }
    return points;
  }

  /**
   * The series a range function reads and where its window ends at each step. A pinned range is normally
   * evaluated once, under a step-invariant wrapper (a single step, so the pinned time is exact). When the
   * call is not step-invariant (predict_linear, or a parameter that varies), this reproduces Prometheus 2.42,
   * which turns `@` into an offset relative to the evaluator's first step: the window moves with the step.
   */
  async #rangeSource(arg: Expr): Promise<RangeSource> {
    const windowEnd = (pinnedMs: number | undefined, offsetMs: number) => (timestampMs: number): number => {
      if (pinnedMs === undefined) return timestampMs - offsetMs;
      return pinnedMs - offsetMs + (timestampMs - this.#startMs);
    };
    if (arg.kind === 'MatrixSelector') {
      const selector = arg.vectorSelector;
      return {
        series: this.#selectedSeries(selector),
        rangeMs: arg.rangeMs,
        windowEndMs: windowEnd(this.#pinnedTime(selector), selector.offsetMs),
        heldSamples: 0,
      };
    }
    assertPromql(arg.kind === 'SubqueryExpr', 'a range argument is a matrix selector or a subquery');
    const matrix = await this.#subquery(arg);
    return {
      series: matrix.map((series) => ({ labels: series.labels, iterator: () => pointsIterator(series.points) })),
      rangeMs: arg.rangeMs,
      windowEndMs: windowEnd(this.#pinnedTime(arg), arg.offsetMs),
      heldSamples: countPoints(matrix),
    };
  }

  /** absent_over_time: one label set, with 1 at the steps where no series had samples. */
  #absentOverTime(present: Matrix, expr: Call): Matrix {
    const covered = new Set<number>();
    for (const series of present) for (const timestampMs of series.points.timestamps) covered.add(timestampMs);
    const points = new Points();
    for (let timestampMs = this.#startMs; timestampMs <= this.#endMs; timestampMs += this.#intervalMs) {
      if (!covered.has(timestampMs)) points.push(timestampMs, 1);
    }
    if (points.length === 0) return [];
    const arg = unwrapArgument(expr.args[0]!);
    this.#context.budget.take(points.length);
    return [{ labels: arg.kind === 'MatrixSelector' ? labelsForAbsent(arg) : Labels.empty, points }];
  }

  #selectedSeries(selector: VectorSelector): readonly Series[] {
    const series = this.#context.selected.get(selector);
    assertPromql(series !== undefined, 'every selector was selected before evaluation');
    return series;
  }

  /** The time an `@` modifier pins a selector or subquery to, if any. */
  #pinnedTime(node: VectorSelector | SubqueryExpr): number | undefined {
    if (node.timestampMs !== undefined) return node.timestampMs;
    if (node.atPreprocessor === 'start') return this.#context.queryStartMs;
    if (node.atPreprocessor === 'end') return this.#context.queryEndMs;
    return undefined;
  }

  /**
   * An instant selector over the steps: the newest sample in [t - lookback, t] at each step, none if it is a
   * staleness marker. With `sampleTimestamps`, the values are the samples' timestamps in seconds.
   */
  async #vectorSelector(selector: VectorSelector, sampleTimestamps: boolean): Promise<Matrix> {
    const { budget, lookbackDeltaMs } = this.#context;
    const pinnedMs = this.#pinnedTime(selector);
    const matrix: Matrix = [];
    for (const series of this.#selectedSeries(selector)) {
      await this.#poll();
      const cursor = new SampleCursor(series.iterator());
      // The newest sample read so far (no object per sample: this loop runs once per stored sample).
      let hasLast = false;
      let lastTimestampMs = 0;
      let lastValue = 0;
      let lastStale = false;
      const points = new Points();
      for (let timestampMs = this.#startMs; timestampMs <= this.#endMs; timestampMs += this.#intervalMs) {
        const referenceMs = (pinnedMs ?? timestampMs) - selector.offsetMs;
        if (cursor.hasSample && cursor.timestampMs < referenceMs - lookbackDeltaMs) {
          cursor.seek(referenceMs - lookbackDeltaMs);
          hasLast = false;
        }
        while (cursor.hasSample && cursor.timestampMs <= referenceMs) {
          hasLast = true;
          lastTimestampMs = cursor.timestampMs;
          lastStale = cursor.stale;
          // A marker's value is never used.
          if (!lastStale) lastValue = cursor.value;
          cursor.advance();
        }
        if (!hasLast || lastTimestampMs < referenceMs - lookbackDeltaMs || lastStale) continue;
        budget.take(1);
        points.push(timestampMs, sampleTimestamps ? lastTimestampMs / 1000 : lastValue);
      }
      cursor.close();
      if (points.length > 0) matrix.push({ labels: series.labels, points });
    }
    return matrix;
  }

  /** A range selector as a query result (instant queries only): the raw samples in [t - range, t]. */
  async #matrixSelector(expr: MatrixSelector): Promise<Matrix> {
    assertPromql(this.#startMs === this.#endMs, 'a range selector is evaluated only in an instant query');
    const selector = expr.vectorSelector;
    const endMs = (this.#pinnedTime(selector) ?? this.#startMs) - selector.offsetMs;
    const matrix: Matrix = [];
    const window = new SlidingWindow(this.#context.budget);
    for (const series of this.#selectedSeries(selector)) {
      await this.#poll();
      window.reset(series.iterator());
      window.advance(endMs - expr.rangeMs, endMs);
      // The points stay counted: they are part of the result.
      if (window.count > 0) matrix.push({ labels: series.labels, points: window.takePoints() });
    }
    window.release();
    return matrix;
  }

  /** A subquery: the inner expression on steps aligned to multiples of the resolution. */
  async #subquery(expr: SubqueryExpr): Promise<Matrix> {
    const intervalMs = expr.stepMs > 0 ? expr.stepMs : this.#context.noStepSubqueryIntervalMs;
    const pinnedMs = this.#pinnedTime(expr);
    // A pinned subquery spans as many steps past its time as the evaluator has (Prometheus's offset rewrite);
    // under a step-invariant wrapper that is none.
    const endMs = (pinnedMs === undefined ? this.#endMs : pinnedMs + this.#endMs - this.#startMs) - expr.offsetMs;
    const earliestMs = (pinnedMs ?? this.#startMs) - expr.offsetMs - expr.rangeMs;
    const startMs = Math.ceil(earliestMs / intervalMs) * intervalMs;
    const inner = new Evaluator(this.#context, startMs, endMs, intervalMs);
    return (await inner.eval(expr.expr)) as Matrix;
  }

  /** Evaluates a step-invariant subtree once, at the first step, and repeats instant results at every step. */
  async #stepInvariant(expr: StepInvariantExpr): Promise<EvalValue> {
    const inner = expr.expr;
    if (inner.kind === 'NumberLiteral' || inner.kind === 'StringLiteral') return this.eval(inner);
    const once = new Evaluator(this.#context, this.#startMs, this.#startMs, this.#intervalMs);
    const value = await once.eval(inner);
    const unwrapped = unwrapArgument(inner);
    if (!Array.isArray(value) || unwrapped.kind === 'MatrixSelector' || unwrapped.kind === 'SubqueryExpr' || this.#stepCount <= 1) return value;
    for (const series of value) {
      assertPromql(series.points.length === 1, 'a step-invariant instant value has one point');
      const value = series.points.valueAt(0);
      for (let timestampMs = this.#startMs + this.#intervalMs; timestampMs <= this.#endMs; timestampMs += this.#intervalMs) {
        this.#context.budget.take(1);
        series.points.push(timestampMs, value);
      }
    }
    return value;
  }
}

interface RangeSource {
  readonly series: readonly { readonly labels: Labels; iterator(): SampleIterator }[];
  readonly rangeMs: number;
  /** The end of the window [end - range, end] at the step `timestampMs`. */
  readonly windowEndMs: (timestampMs: number) => number;
  /** Samples of a subquery result, released when the function is done. */
  readonly heldSamples: number;
}

function pointsIterator(points: Points): SampleIterator {
  return new ArraySampleIterator(points.timestamps, points.values, -Infinity, Infinity);
}

function negatedPoints(points: Points): Points {
  const negated = new Points();
  for (let index = 0; index < points.length; index += 1) negated.push(points.timestampAt(index), -points.valueAt(index));
  return negated;
}

/** Whether every series has the same `__name__` (or none has one). */
function sameMetricName(series: readonly { readonly labels: Labels }[]): boolean {
  const name = series[0]?.labels.get(metricNameLabel);
  for (let index = 1; index < series.length; index += 1) if (series[index]!.labels.get(metricNameLabel) !== name) return false;
  return true;
}

function countPoints(matrix: Matrix): number {
  let count = 0;
  for (const series of matrix) count += series.points.length;
  return count;
}
