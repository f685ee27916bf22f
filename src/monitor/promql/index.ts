/**
 * keel's PromQL engine: Prometheus 2.42 semantics for every float function, operator and modifier.
 *
 * Public API (what the HTTP routes and the parity harness call):
 *
 * - `new Engine(options?)`: `{ lookbackDeltaMs = 5m, timeoutMs = 2m, maxSamples = 50,000,000,
 *   noStepSubqueryIntervalMs = 1m, clock }`. One engine serves any number of concurrent queries.
 * - `engine.instantQuery(queryable, query, timeMs, { lookbackDeltaMs }?)` → `Promise<QueryResult>` with
 *   `resultType` 'vector' | 'scalar' | 'string' | 'matrix' (a bare range selector or subquery).
 * - `engine.rangeQuery(queryable, query, startMs, endMs, stepMs, options?)` → `Promise<QueryResult>` with
 *   `resultType` 'matrix', series sorted by labels. At most 11,000 steps (Prometheus's API limit).
 * - `formatQueryResultJson(result)` → Prometheus's `data` object (values as strings, `"NaN"`, `"+Inf"`,
 *   timestamps in seconds); `formatQueryResultJsonText(result)` → the exact bytes Prometheus writes.
 * - Failures reject with `PromqlError { code, errorType }`: `errorType` is Prometheus's API error type —
 *   'bad_data' (parse errors as `ParseError`, bad parameters), 'timeout' (`query timed out in expression
 *   evaluation`), 'execution' (many-to-many matching, `query processing would load too many samples into
 *   memory in query execution`, ...). Map 'bad_data' to HTTP 400, 'execution' to 422, 'timeout' to 503.
 * - `parseExpr(query)` → typed AST (ast.ts), type-checked; `getFunction(name)` → a function's signature.
 * - `runTestFile(source, options?)` runs Prometheus's test language (see test-file.ts); `MemoryStorage` is
 *   a simple in-memory `Queryable` + `Appendable` for tests.
 *
 * Timestamps are integer milliseconds; a `Queryable` is the monitor's storage contract (../storage.ts).
 * Evaluation yields to the event loop every few milliseconds, so a long query does not block the process.
 *
 * @example
 * import { Engine, formatQueryResultJson } from './promql/index.ts';
 * const engine = new Engine();
 * const result = await engine.rangeQuery(tsdb, 'rate(keel_requests_total[1m])', start, end, 15_000);
 * response.end(JSON.stringify({ status: 'success', data: formatQueryResultJson(result) }));
 */
export { Engine, lookbackDeltaMsDefault, maxSamplesDefault, noStepSubqueryIntervalMsDefault, queryTimeoutMsDefault, rangeQueryStepsMax } from './engine.ts';
export type { EngineOptions, QueryOptions } from './engine.ts';
export { formatQueryResultJson, formatQueryResultJsonText, formatSampleValue, formatTimestampText } from './json.ts';
export type { JsonPoint, QueryResultJson } from './json.ts';
export { ParseError, PromqlError } from './errors.ts';
export type { ParseIssue, PromqlErrorCode, PromqlErrorType } from './errors.ts';
export { expressionDepthMax, parseDuration, parseExpr, queryLengthMax } from './parser.ts';
export { documentedType, typeOf } from './ast.ts';
export type {
  AggregateExpr, AggregateOp, BinaryExpr, BinaryOp, Call, Cardinality, Expr, MatrixSelector, NumberLiteral, ParenExpr,
  PositionRange, StepInvariantExpr, StringLiteral, SubqueryExpr, UnaryExpr, ValueType, VectorMatching, VectorSelector,
} from './ast.ts';
export { functionNames, getFunction } from './functions.ts';
export type { FunctionSignature } from './functions.ts';
export { almostEqual, parseTestFile, runTestFile, TestFileSyntaxError } from './test-file.ts';
export type { TestFileOptions, TestFileReport, TestStorage } from './test-file.ts';
export { MemoryStorage } from './test-storage.ts';
export { ArraySampleIterator } from './_sample-array.ts';
export type { IndexedValues } from './_sample-array.ts';
export { Points } from './value.ts';
export type { Point, QueryResult, RangeSeries, Sample } from './value.ts';
