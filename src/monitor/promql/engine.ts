/**
 * The PromQL engine: parses a query, marks its step-invariant parts, selects every series the query can
 * touch through one `Querier` over the needed time range (as Prometheus's `populateSeries` does), evaluates,
 * and shapes the result like Prometheus's `Result`.
 *
 * @example
 * const engine = new Engine({ timeoutMs: 30_000 });
 * const result = await engine.instantQuery(storage, 'sum by (job) (rate(http_requests_total[5m]))', Date.now());
 * if (result.resultType === 'vector') for (const sample of result.result) console.log(String(sample.labels), sample.value);
 */
import type { Queryable, Querier, Series } from '../storage.ts';
import { TsdbError } from '../tsdb/errors.ts';
import { Labels } from '../tsdb/labels.ts';
import type { Expr, SubqueryExpr, VectorSelector } from './ast.ts';
import { childrenOf, documentedType, typeOf } from './ast.ts';
import { executionError, PromqlError } from './errors.ts';
import { EvaluationGuard, Evaluator, SampleBudget } from './_evaluator.ts';
import type { EvaluationContext } from './_evaluator.ts';
import { parseExpr } from './parser.ts';
import { wrapStepInvariant } from './_step-invariant.ts';
import type { QueryResult } from './value.ts';
import type { Matrix } from './_vector.ts';

/** Prometheus's default `--query.lookback-delta`. */
export const lookbackDeltaMsDefault = 5 * 60_000;
/** Prometheus's default `--query.timeout`. */
export const queryTimeoutMsDefault = 2 * 60_000;
/** Prometheus's default `--query.max-samples`. */
export const maxSamplesDefault = 50_000_000;
/** The resolution of `expr[range:]`: Prometheus uses the global evaluation interval, 1m by default. */
export const noStepSubqueryIntervalMsDefault = 60_000;
/** Prometheus's API limit on points per series in a range query. */
export const rangeQueryStepsMax = 11_000;

export interface EngineOptions {
  /** How far back an instant selector looks for a sample. Default 5m. */
  readonly lookbackDeltaMs?: number;
  /** Wall-clock budget of one query. Default 2m. */
  readonly timeoutMs?: number;
  /** Most samples one query may hold in memory at once. Default 50,000,000. */
  readonly maxSamples?: number;
  /** Resolution of subqueries written without a step (`x[5m:]`). Default 1m. */
  readonly noStepSubqueryIntervalMs?: number;
  /** Milliseconds from a monotonic clock; injected by tests. Default `performance.now`. */
  readonly clock?: () => number;
}

export interface QueryOptions {
  /** Overrides the engine's lookback delta for this query (values ≤ 0 keep the default, as in Prometheus). */
  readonly lookbackDeltaMs?: number;
}

interface EvaluationRequest {
  readonly startMs: number;
  readonly endMs: number;
  readonly intervalMs: number;
  readonly lookbackDeltaMs: number;
}

/** Evaluates PromQL queries against any `Queryable`. Holds no per-query state; safe to share. */
export class Engine {
  readonly #lookbackDeltaMs: number;
  readonly #timeoutMs: number;
  readonly #maxSamples: number;
  readonly #noStepSubqueryIntervalMs: number;
  readonly #clock: () => number;

  constructor(options: EngineOptions = {}) {
    this.#lookbackDeltaMs = positiveInteger(options.lookbackDeltaMs ?? lookbackDeltaMsDefault, 'lookbackDeltaMs');
    this.#timeoutMs = positiveInteger(options.timeoutMs ?? queryTimeoutMsDefault, 'timeoutMs');
    this.#maxSamples = positiveInteger(options.maxSamples ?? maxSamplesDefault, 'maxSamples');
    this.#noStepSubqueryIntervalMs = positiveInteger(options.noStepSubqueryIntervalMs ?? noStepSubqueryIntervalMsDefault, 'noStepSubqueryIntervalMs');
    this.#clock = options.clock ?? (() => performance.now());
  }

  /**
   * Evaluates `query` (text or an already parsed tree) at one instant. Rejects with a {@link PromqlError}.
   *
   * @example
   * await engine.instantQuery(storage, 'up == 0', 1_700_000_000_000);
   */
  async instantQuery(queryable: Queryable, query: string | Expr, timeMs: number, options: QueryOptions = {}): Promise<QueryResult> {
    timestampArgument(timeMs, 'time');
    const expr = typeof query === 'string' ? parseExpr(query) : query;
    const request = { startMs: timeMs, endMs: timeMs, intervalMs: 1, lookbackDeltaMs: this.#lookback(options) };
    const value = await this.#evaluate(queryable, expr, request);
    return instantResult(expr, value, timeMs);
  }

  /**
   * Evaluates `query` at startMs, startMs + stepMs, ... ≤ endMs. The result is always a matrix, sorted by
   * labels. Rejects with a {@link PromqlError}.
   *
   * @example
   * await engine.rangeQuery(storage, 'rate(x[1m])', start, start + 3_600_000, 15_000);
   */
  async rangeQuery(queryable: Queryable, query: string | Expr, startMs: number, endMs: number, stepMs: number, options: QueryOptions = {}): Promise<QueryResult> {
    timestampArgument(startMs, 'start');
    timestampArgument(endMs, 'end');
    if (endMs < startMs) throw badQuery('end timestamp must not be before start time');
    if (!(stepMs > 0) || !Number.isSafeInteger(stepMs)) throw badQuery('zero or negative query resolution step widths are not accepted. Try a positive integer');
    if ((endMs - startMs) / stepMs > rangeQueryStepsMax) {
      throw badQuery('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    }
    const expr = typeof query === 'string' ? parseExpr(query) : query;
    const type = typeOf(expr);
    if (type !== 'vector' && type !== 'scalar') {
      throw badQuery(`invalid expression type ${JSON.stringify(documentedType(type))} for range query, must be Scalar or instant Vector`);
    }
    const value = await this.#evaluate(queryable, expr, { startMs, endMs, intervalMs: stepMs, lookbackDeltaMs: this.#lookback(options) });
    const matrix = [...(value as Matrix)].sort((left, right) => Labels.compare(left.labels, right.labels));
    return { resultType: 'matrix', result: matrix };
  }

  #lookback(options: QueryOptions): number {
    const requested = options.lookbackDeltaMs;
    if (requested === undefined || requested <= 0) return this.#lookbackDeltaMs;
    return positiveInteger(requested, 'lookbackDeltaMs');
  }

  async #evaluate(queryable: Queryable, parsed: Expr, request: EvaluationRequest): Promise<Matrix | { kind: 'string'; value: string }> {
    const expr = wrapStepInvariant(parsed);
    const guard = new EvaluationGuard(this.#clock, this.#timeoutMs);
    const selectors = collectSelectors(expr, request);
    let querier: Querier | undefined;
    try {
      const selected = new Map<VectorSelector, readonly Series[]>();
      if (selectors.length > 0) {
        let minTimeMs = Infinity;
        let maxTimeMs = -Infinity;
        for (const entry of selectors) {
          minTimeMs = Math.min(minTimeMs, entry.minTimeMs);
          maxTimeMs = Math.max(maxTimeMs, entry.maxTimeMs);
        }
        querier = queryable.querier(minTimeMs, maxTimeMs);
        for (const { selector } of selectors) selected.set(selector, querier.select(selector.matchers));
      }
      const context: EvaluationContext = {
        queryStartMs: request.startMs,
        queryEndMs: request.endMs,
        lookbackDeltaMs: request.lookbackDeltaMs,
        noStepSubqueryIntervalMs: this.#noStepSubqueryIntervalMs,
        selected,
        budget: new SampleBudget(this.#maxSamples),
        guard,
      };
      return await new Evaluator(context, request.startMs, request.endMs, request.intervalMs).eval(expr);
    } catch (error) {
      if (error instanceof TsdbError) throw executionError(error.message);
      throw error;
    } finally {
      querier?.close();
    }
  }
}

function instantResult(expr: Expr, value: Matrix | { kind: 'string'; value: string }, timeMs: number): QueryResult {
  if (!Array.isArray(value)) return { resultType: 'string', result: { timestampMs: timeMs, value: value.value } };
  switch (typeOf(expr)) {
    case 'scalar':
      return { resultType: 'scalar', result: { timestampMs: timeMs, value: value[0]?.points.values[0] ?? NaN } };
    case 'vector':
      return { resultType: 'vector', result: value.map((series) => ({ labels: series.labels, timestampMs: timeMs, value: series.points.valueAt(0) })) };
    default:
      return { resultType: 'matrix', result: value };
  }
}

interface SelectorRange {
  readonly selector: VectorSelector;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
}

/** Every vector selector with the time range it can read (Prometheus's getTimeRangesForSelector). */
function collectSelectors(expr: Expr, request: EvaluationRequest): SelectorRange[] {
  const found: SelectorRange[] = [];
  const visit = (node: Expr, subqueries: readonly SubqueryExpr[], rangeMs: number): void => {
    if (node.kind === 'VectorSelector') {
      found.push({ selector: node, ...selectorRange(node, subqueries, rangeMs, request) });
      return;
    }
    if (node.kind === 'MatrixSelector') {
      visit(node.vectorSelector, subqueries, node.rangeMs);
      return;
    }
    const path = node.kind === 'SubqueryExpr' ? [...subqueries, node] : subqueries;
    for (const child of childrenOf(node)) visit(child, path, 0);
  };
  visit(expr, [], 0);
  return found;
}

function selectorRange(selector: VectorSelector, subqueries: readonly SubqueryExpr[], rangeMs: number, request: EvaluationRequest): { minTimeMs: number; maxTimeMs: number } {
  const pinned = (node: VectorSelector | SubqueryExpr): number | undefined =>
    node.timestampMs ?? (node.atPreprocessor === 'start' ? request.startMs : node.atPreprocessor === 'end' ? request.endMs : undefined);
  let startMs = request.startMs;
  let endMs = request.endMs;
  let subqueryOffsetMs = 0;
  let subqueryRangeMs = 0;
  for (const subquery of subqueries) {
    subqueryOffsetMs += subquery.offsetMs;
    subqueryRangeMs += subquery.rangeMs;
    const subqueryTime = pinned(subquery);
    if (subqueryTime !== undefined) {
      // `@` on a subquery resets what the outer subqueries added.
      subqueryOffsetMs = subquery.offsetMs;
      subqueryRangeMs = subquery.rangeMs;
      startMs = subqueryTime;
      endMs = subqueryTime;
    }
  }
  const selectorTime = pinned(selector);
  if (selectorTime !== undefined) {
    startMs = selectorTime;
    endMs = selectorTime;
  } else {
    startMs -= subqueryOffsetMs + subqueryRangeMs;
    endMs -= subqueryOffsetMs;
  }
  startMs -= rangeMs === 0 ? request.lookbackDeltaMs : rangeMs;
  return { minTimeMs: startMs - selector.offsetMs, maxTimeMs: endMs - selector.offsetMs };
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw badQuery(`${name} must be a positive integer, got ${value}`);
  return value;
}

function timestampArgument(value: number, name: string): void {
  if (!Number.isSafeInteger(value)) throw badQuery(`invalid ${name} timestamp ${value}: must be an integer number of milliseconds`);
}

function badQuery(message: string): PromqlError {
  return new PromqlError('PROMQL_BAD_QUERY', 'bad_data', message);
}
