/**
 * Prometheus's PromQL test language, runnable against keel's engine and any store that is both `Queryable`
 * and `Appendable`:
 *
 *     load 1m
 *       http_requests{job="api"} 0+10x10 _ stale 5 1-1x3
 *     eval instant at 5m sum(http_requests)
 *       {} 50
 *     eval_ordered instant at 5m sort_desc(http_requests)
 *     eval_fail instant at 0m foo +
 *       expected_fail_message 1:6: parse error: unexpected end of input
 *     eval range from 0 to 4m step 1m http_requests
 *       {__name__="http_requests", job="api"} 0+10x4
 *     clear
 *
 * Series values use the expanding notation: `a+bxn` (n+1 values from a, step b), `a-bxn`, `axn` (n+1
 * copies), `_` (no sample), `_xn` (n gaps), `stale` (a staleness marker). Sample i of a `load` block is at
 * i × interval from the Unix epoch. An `eval instant` expectation is `labels value` lines or one number for
 * a scalar; values compare with Prometheus's relative tolerance (1e-6) and NaN equals NaN.
 *
 * As in Prometheus, every passing `eval instant` is checked twice more: as a range query from t-1m to t+1m
 * (the middle step must match), and, when the query has no time-dependent function, with every selector
 * pinned by `@ t` and evaluated at other times. `eval range` is keel's extension (Prometheus added the same
 * syntax later): one expectation line per series, one value per step, `_` where the series has no point.
 *
 * @example
 * const report = await runTestFile(readFileSync('functions.test', 'utf8'));
 * assert.deepEqual(report.failures, []);
 */
import type { Appendable, Queryable } from '../storage.ts';
import { floatFromBits, staleMarkerHighBits, staleMarkerLowBits } from '../tsdb/value.ts';
import { Labels } from '../tsdb/labels.ts';
import type { Expr, SubqueryExpr, VectorSelector } from './ast.ts';
import { Engine } from './engine.ts';
import { PromqlError } from './errors.ts';
import { labelsKey } from './_labels.ts';
import { LiteralError, parseDurationMs, parseNumber, unquoteString } from './_literals.ts';
import { parseExpr } from './parser.ts';
import { MemoryStorage } from './test-storage.ts';
import type { Point, QueryResult } from './value.ts';

/** Most values one expanding-notation item may produce (`0+1x1000000`). */
export const seriesItemValuesMax = 1_000_000;
/** Most lines in one test file. */
export const testFileLinesMax = 100_000;
/** Prometheus's relative tolerance for sample values in test files. */
export const valueEpsilon = 0.000001;

/** A store the harness can load into and query. */
export type TestStorage = Queryable & Appendable;

export interface TestFileOptions {
  /** The engine under test. Default: Prometheus's test settings (maxSamples 10000, lookback 5m). */
  readonly engine?: Engine;
  /** Creates an empty store, at the start and at every `clear`. Default: a MemoryStorage. */
  readonly createStorage?: () => TestStorage | Promise<TestStorage>;
  /** Skips the extra `@` and range-mode checks of instant evaluations. */
  readonly skipDerivedChecks?: boolean;
}

export interface TestFileReport {
  /** Number of eval commands run. */
  readonly evalCount: number;
  /** One message per failed command, with its line number. */
  readonly failures: readonly string[];
}

/** A problem in the test file itself. */
export class TestFileSyntaxError extends Error {
  readonly line: number;

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'TestFileSyntaxError';
    this.line = line;
  }
}

/** One value of an expanding-notation sequence; undefined means "no sample here". */
type SequenceValue = number | undefined;

interface ExpectedSeries {
  readonly labels: Labels;
  readonly values: readonly SequenceValue[];
  /** 1-based position among the expectation lines, for eval_ordered. */
  readonly position: number;
}

type TestCommand =
  | { readonly kind: 'load'; readonly line: number; readonly intervalMs: number; readonly series: readonly ExpectedSeries[] }
  | { readonly kind: 'clear'; readonly line: number }
  | {
    readonly kind: 'eval';
    readonly line: number;
    readonly query: string;
    readonly mode: 'instant' | 'range';
    readonly startMs: number;
    readonly endMs: number;
    readonly stepMs: number;
    readonly fail: boolean;
    readonly ordered: boolean;
    readonly expectedScalar: number | undefined;
    readonly expected: readonly ExpectedSeries[];
    readonly expectedFailMessage: string | undefined;
    readonly expectedFailPattern: RegExp | undefined;
  };

const instantPattern = /^eval(?:_(fail|ordered))?\s+instant\s+(?:at\s+(\S+)\s+)?(.+)$/;
const rangePattern = /^eval(?:_(fail))?\s+range\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.+)$/;

/**
 * Parses a test file into commands. Throws {@link TestFileSyntaxError}.
 *
 * @example
 * parseTestFile('load 1m\n  up 1 1\n\neval instant at 1m up\n  up 1\n').length; // 2
 */
export function parseTestFile(source: string): TestCommand[] {
  const lines = source.split('\n').map((line) => (line.trim().startsWith('#') ? '' : line.trim()));
  if (lines.length > testFileLinesMax) throw new TestFileSyntaxError(testFileLinesMax, `a test file has at most ${testFileLinesMax} lines`);
  const commands: TestCommand[] = [];
  let index = 0;
  while (index < lines.length) {
    const line = lines[index]!;
    if (line === '') {
      index += 1;
      continue;
    }
    const block: string[] = [];
    let next = index + 1;
    // A block ends at a blank line or at the next command.
    while (next < lines.length && lines[next] !== '' && !/^(?:eval(?:_[a-z]+)?|load|clear)\b/i.test(lines[next]!)) block.push(lines[next++]!);
    commands.push(parseCommand(line, index + 1, block));
    index = next;
  }
  return commands;
}

function parseCommand(line: string, lineNumber: number, block: readonly string[]): TestCommand {
  const word = line.split(/\s+/, 1)[0]!.toLowerCase();
  if (word === 'clear') {
    if (block.length > 0) throw new TestFileSyntaxError(lineNumber + 1, 'clear takes no lines');
    return { kind: 'clear', line: lineNumber };
  }
  if (word === 'load') {
    const match = /^load\s+(\S+)$/.exec(line);
    if (match === null) throw new TestFileSyntaxError(lineNumber, 'invalid load command. (load <step:duration>)');
    const intervalMs = duration(match[1]!, lineNumber);
    const series = block.map((text, offset) => parseSeriesLine(text, lineNumber + 1 + offset, offset + 1));
    return { kind: 'load', line: lineNumber, intervalMs, series };
  }
  if (word.startsWith('eval')) return parseEval(line, lineNumber, block);
  throw new TestFileSyntaxError(lineNumber, `invalid command ${JSON.stringify(line)}`);
}

function parseEval(line: string, lineNumber: number, block: readonly string[]): TestCommand {
  const instant = instantPattern.exec(line);
  const range = instant === null ? rangePattern.exec(line) : null;
  if (instant === null && range === null) {
    throw new TestFileSyntaxError(lineNumber, 'invalid evaluation command. (eval[_fail|_ordered] instant [at <time>] <query> | eval[_fail] range from <time> to <time> step <duration> <query>)');
  }
  const modifier = (instant ?? range)![1];
  const query = instant !== null ? instant[3]! : range![5]!;
  const startMs = instant !== null ? duration(instant[2] ?? '0', lineNumber) : duration(range![2]!, lineNumber);
  const endMs = instant !== null ? startMs : duration(range![3]!, lineNumber);
  const stepMs = instant !== null ? 0 : duration(range![4]!, lineNumber);
  const fail = modifier === 'fail';
  let expectedScalar: number | undefined;
  let expectedFailMessage: string | undefined;
  let expectedFailPattern: RegExp | undefined;
  const expected: ExpectedSeries[] = [];
  block.forEach((text, offset) => {
    const failMessage = /^expected_fail_message\s+(.*)$/.exec(text);
    const failPattern = /^expected_fail_regexp\s+(.*)$/.exec(text);
    if (failMessage !== null || failPattern !== null) {
      if (!fail) throw new TestFileSyntaxError(lineNumber + 1 + offset, 'expected_fail_* needs eval_fail');
      if (failMessage !== null) expectedFailMessage = failMessage[1]!;
      else expectedFailPattern = new RegExp(failPattern![1]!);
      return;
    }
    const scalar = tryNumber(text);
    if (scalar !== undefined && instant !== null) {
      expectedScalar = scalar;
      return;
    }
    const series = parseSeriesLine(text, lineNumber + 1 + offset, expected.length + 1);
    if (instant !== null && series.values.length !== 1) throw new TestFileSyntaxError(lineNumber + 1 + offset, 'expecting multiple values in instant evaluation not allowed');
    expected.push(series);
  });
  return {
    kind: 'eval', line: lineNumber, query, mode: instant !== null ? 'instant' : 'range', startMs, endMs, stepMs, fail,
    ordered: modifier === 'ordered', expectedScalar, expected, expectedFailMessage, expectedFailPattern,
  };
}

function duration(text: string, lineNumber: number): number {
  try {
    return parseDurationMs(text);
  } catch (error) {
    if (error instanceof LiteralError) throw new TestFileSyntaxError(lineNumber, `invalid duration ${JSON.stringify(text)}: ${error.message}`);
    throw error;
  }
}

function tryNumber(text: string): number | undefined {
  const match = /^([+-]?)(.*)$/.exec(text)!;
  try {
    const value = parseNumber(match[2]!);
    return match[1] === '-' ? -value : value;
  } catch {
    return undefined;
  }
}

/** Parses `metric{label="value", ...} values...`. */
function parseSeriesLine(text: string, lineNumber: number, position: number): ExpectedSeries {
  const [labels, rest] = parseMetric(text, lineNumber);
  const values: SequenceValue[] = [];
  for (const item of rest.split(/\s+/).filter((part) => part !== '')) values.push(...expandItem(item, lineNumber));
  return { labels, values, position };
}

function parseMetric(text: string, lineNumber: number): [Labels, string] {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(text)?.[0] ?? '';
  let index = name.length;
  const pairs: [string, string][] = name === '' ? [] : [['__name__', name]];
  if (text[index] === '{') {
    index += 1;
    for (;;) {
      while (/[\s,]/.test(text[index] ?? '')) index += 1;
      if (text[index] === '}') break;
      const label = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/.exec(text.slice(index));
      if (label === null) throw new TestFileSyntaxError(lineNumber, `invalid label set in ${JSON.stringify(text)}`);
      pairs.push([label[1]!, unquoteString(label[2]!)]);
      index += label[0].length;
    }
    index += 1;
  }
  if (name === '' && index === 0) throw new TestFileSyntaxError(lineNumber, `expected a metric name or label set in ${JSON.stringify(text)}`);
  try {
    return [Labels.fromPairs(pairs), text.slice(index)];
  } catch (error) {
    throw new TestFileSyntaxError(lineNumber, (error as Error).message);
  }
}

const unsignedNumberText = '(?:0[xX][0-9a-fA-F]+|[iI][nN][fF]|[nN][aA][nN]|(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?)';
const itemPattern = new RegExp(`^([+-]?${unsignedNumberText}|stale)(?:([+-])(${unsignedNumberText}))?(?:x([0-9]+))?$`);

/** Expands one item of the expanding notation. */
function expandItem(item: string, lineNumber: number): SequenceValue[] {
  if (item === '_') return [undefined];
  const gaps = /^_x([0-9]+)$/.exec(item);
  if (gaps !== null) return new Array<SequenceValue>(repeatCount(gaps[1]!, lineNumber)).fill(undefined);
  const match = itemPattern.exec(item);
  if (match === null) throw new TestFileSyntaxError(lineNumber, `invalid series value ${JSON.stringify(item)}`);
  const start = match[1] === 'stale' ? floatFromBits(staleMarkerHighBits, staleMarkerLowBits) : tryNumber(match[1]!);
  if (start === undefined) throw new TestFileSyntaxError(lineNumber, `invalid number ${JSON.stringify(match[1])}`);
  if (match[4] === undefined) {
    if (match[2] !== undefined) throw new TestFileSyntaxError(lineNumber, `${JSON.stringify(item)} needs a repetition count (x<n>)`);
    return [start];
  }
  const count = repeatCount(match[4], lineNumber);
  const step = match[2] === undefined ? 0 : (match[2] === '-' ? -1 : 1) * tryNumber(match[3]!)!;
  const values: SequenceValue[] = [];
  let current = start;
  // n+1 values, each the previous plus the step (the same floating-point path as Prometheus).
  for (let index = 0; index <= count; index += 1) {
    values.push(current);
    if (match[2] !== undefined) current += step;
  }
  return values;
}

function repeatCount(text: string, lineNumber: number): number {
  const count = Number(text);
  if (count > seriesItemValuesMax) throw new TestFileSyntaxError(lineNumber, `a repetition yields at most ${seriesItemValuesMax} values`);
  return count;
}

/**
 * Runs a test file; never throws for a failing evaluation (it is reported), only for a malformed file.
 *
 * @example
 * const { evalCount, failures } = await runTestFile(source);
 */
export async function runTestFile(source: string, options: TestFileOptions = {}): Promise<TestFileReport> {
  const commands = parseTestFile(source);
  const engine = options.engine ?? new Engine({ maxSamples: 10_000, timeoutMs: 100_000 });
  const createStorage = options.createStorage ?? (() => new MemoryStorage());
  let storage = await createStorage();
  const failures: string[] = [];
  let evalCount = 0;
  for (const command of commands) {
    if (command.kind === 'clear') {
      storage = await createStorage();
      continue;
    }
    if (command.kind === 'load') {
      await load(storage, command.line, command.intervalMs, command.series);
      continue;
    }
    evalCount += 1;
    const failure = await runEval(engine, storage, command, options.skipDerivedChecks ?? false);
    if (failure !== undefined) failures.push(`line ${command.line}: ${command.query}: ${failure}`);
  }
  return { evalCount, failures };
}

/** Appends a load block in time order across its series, as a scraper would, so any store accepts it. */
async function load(storage: TestStorage, line: number, intervalMs: number, series: readonly ExpectedSeries[]): Promise<void> {
  const samples: { labels: Labels; timestampMs: number; value: number }[] = [];
  for (const entry of series) {
    entry.values.forEach((value, index) => {
      if (value !== undefined) samples.push({ labels: entry.labels, timestampMs: index * intervalMs, value });
    });
  }
  samples.sort((left, right) => left.timestampMs - right.timestampMs);
  const appender = storage.appender();
  for (const sample of samples) {
    const outcome = appender.append(sample.labels, sample.timestampMs, sample.value);
    if (outcome !== 'ok') throw new TestFileSyntaxError(line, `cannot load ${sample.labels.toString()} at ${sample.timestampMs}ms: ${outcome}`);
  }
  await appender.commit();
}

type EvalCommand = Extract<TestCommand, { kind: 'eval' }>;

async function runEval(engine: Engine, storage: TestStorage, command: EvalCommand, skipDerivedChecks: boolean): Promise<string | undefined> {
  let result: QueryResult;
  try {
    result = command.mode === 'instant'
      ? await engine.instantQuery(storage, command.query, command.startMs)
      : await engine.rangeQuery(storage, command.query, command.startMs, command.endMs, command.stepMs);
  } catch (error) {
    if (!(error instanceof PromqlError)) throw error;
    if (!command.fail) return `unexpected error: ${error.message}`;
    if (command.expectedFailMessage !== undefined && error.message !== command.expectedFailMessage) {
      return `expected error ${JSON.stringify(command.expectedFailMessage)}, got ${JSON.stringify(error.message)}`;
    }
    if (command.expectedFailPattern !== undefined && !command.expectedFailPattern.test(error.message)) {
      return `expected error matching ${String(command.expectedFailPattern)}, got ${JSON.stringify(error.message)}`;
    }
    return undefined;
  }
  if (command.fail) return 'expected an error, got a result';
  if (command.mode === 'range') return compareRange(command, result);
  const mismatch = compareInstant(command, result);
  if (mismatch !== undefined || skipDerivedChecks) return mismatch;
  return derivedChecks(engine, storage, command, result);
}

/** Prometheus's extra checks: range mode (middle step), then `@` pinned at other evaluation times. */
async function derivedChecks(engine: Engine, storage: TestStorage, command: EvalCommand, result: QueryResult): Promise<string | undefined> {
  if (result.resultType === 'string' || result.resultType === 'matrix') return undefined;
  if (!command.ordered) {
    const range = await engine.rangeQuery(storage, command.query, command.startMs - 60_000, command.startMs + 60_000, 60_000);
    const middle = middleStep(range, command.startMs, result.resultType === 'scalar');
    const mismatch = compareInstant(command, middle);
    if (mismatch !== undefined) return `range mode: ${mismatch}`;
  }
  const pinned = pinSelectors(parseExpr(command.query), command.startMs);
  if (pinned === undefined) return undefined;
  const timeMs = command.startMs;
  const evaluationTimes = timeMs === 0 ? [-1000, 0, 1000] : [-10 * timeMs, 0, Math.trunc(timeMs / 5), timeMs, 10 * timeMs];
  for (const evaluationTimeMs of evaluationTimes) {
    const pinnedResult = await engine.instantQuery(storage, pinned, evaluationTimeMs);
    const mismatch = compareInstant(command, pinnedResult);
    if (mismatch !== undefined) return `with @ ${timeMs / 1000} evaluated at ${evaluationTimeMs / 1000}s: ${mismatch}`;
  }
  return undefined;
}

function middleStep(range: QueryResult, timeMs: number, scalar: boolean): QueryResult {
  if (range.resultType !== 'matrix') return range;
  const samples = range.result.flatMap((series) => series.points.toArray().filter((point) => point.timestampMs === timeMs).map((point) => ({ labels: series.labels, timestampMs: timeMs, value: point.value })));
  if (scalar) return { resultType: 'scalar', result: { timestampMs: timeMs, value: samples[0]?.value ?? NaN } };
  return { resultType: 'vector', result: samples };
}

/**
 * The query with `@ timeMs` on every selector and subquery that has none (not descending into subqueries,
 * whose inside follows the subquery's time), or undefined when a function depends on the evaluation time.
 */
function pinSelectors(expr: Expr, timeMs: number): Expr | undefined {
  let timeDependent = false;
  const visit = (node: Expr): Expr => {
    switch (node.kind) {
      case 'VectorSelector':
        return pinned(node, timeMs);
      case 'MatrixSelector':
        return { ...node, vectorSelector: pinned(node.vectorSelector, timeMs) };
      case 'SubqueryExpr':
        return pinned(node, timeMs);
      case 'Call':
        if (node.func.dependsOnEvaluationTime) timeDependent = true;
        return { ...node, args: node.args.map(visit) };
      case 'AggregateExpr':
        return { ...node, expr: visit(node.expr), param: node.param === undefined ? undefined : visit(node.param) };
      case 'BinaryExpr':
        return { ...node, lhs: visit(node.lhs), rhs: visit(node.rhs) };
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'StepInvariantExpr':
        return { ...node, expr: visit(node.expr) };
      default:
        return node;
    }
  };
  const result = visit(expr);
  return timeDependent ? undefined : result;
}

function pinned<T extends VectorSelector | SubqueryExpr>(node: T, timeMs: number): T {
  if (node.timestampMs !== undefined || node.atPreprocessor !== undefined) return node;
  return { ...node, timestampMs: timeMs };
}

function compareInstant(command: EvalCommand, result: QueryResult): string | undefined {
  switch (result.resultType) {
    case 'matrix':
      return 'received range result on instant evaluation';
    case 'string':
      return 'received a string result; expectations support numbers only';
    case 'scalar':
      if (command.expectedScalar === undefined) return `expected a vector, got scalar ${result.result.value}`;
      return almostEqual(command.expectedScalar, result.result.value) ? undefined : `expected scalar ${command.expectedScalar} but got ${result.result.value}`;
    case 'vector':
      return compareVector(command, result.result.map((sample) => ({ labels: sample.labels, value: sample.value })));
  }
}

function compareVector(command: EvalCommand, samples: readonly { labels: Labels; value: number }[]): string | undefined {
  if (command.expectedScalar !== undefined) return `expected scalar ${command.expectedScalar}, got a vector of ${samples.length}`;
  const expectedByKey = new Map(command.expected.map((series) => [labelsKey(series.labels), series]));
  const seen = new Set<string>();
  for (let index = 0; index < samples.length; index += 1) {
    const sample = samples[index]!;
    const key = labelsKey(sample.labels);
    const expected = expectedByKey.get(key);
    if (expected === undefined) return `unexpected metric ${sample.labels.toString()} in result (value ${sample.value})`;
    if (command.ordered && expected.position !== index + 1) {
      return `expected metric ${sample.labels.toString()} at position ${expected.position} but was at ${index + 1}`;
    }
    if (!almostEqual(expected.values[0]!, sample.value)) return `expected ${expected.values[0]} for ${sample.labels.toString()} but got ${sample.value}`;
    seen.add(key);
  }
  for (const [key, expected] of expectedByKey) {
    if (!seen.has(key)) return `expected metric ${expected.labels.toString()} with ${expected.values[0]} not found`;
  }
  return undefined;
}

function compareRange(command: EvalCommand, result: QueryResult): string | undefined {
  if (result.resultType !== 'matrix') return `expected a matrix, got ${result.resultType}`;
  const steps: number[] = [];
  for (let timeMs = command.startMs; timeMs <= command.endMs; timeMs += command.stepMs) steps.push(timeMs);
  const expectedByKey = new Map(command.expected.map((series) => [labelsKey(series.labels), series]));
  for (const series of result.result) {
    const expected = expectedByKey.get(labelsKey(series.labels));
    if (expected === undefined) return `unexpected series ${series.labels.toString()} in result: ${formatPoints(series.points.toArray())}`;
    expectedByKey.delete(labelsKey(series.labels));
    if (expected.values.length !== steps.length) return `expected ${steps.length} values for ${series.labels.toString()}, the test gives ${expected.values.length}`;
    const byTime = new Map(series.points.toArray().map((point) => [point.timestampMs, point.value]));
    for (let index = 0; index < steps.length; index += 1) {
      const want = expected.values[index];
      const got = byTime.get(steps[index]!);
      const matches = want === undefined ? got === undefined : got !== undefined && almostEqual(want, got);
      if (!matches) return `${series.labels.toString()} at ${steps[index]! / 1000}s: expected ${want ?? '_'}, got ${got ?? '_'} (series: ${formatPoints(series.points.toArray())})`;
    }
  }
  const missing = [...expectedByKey.values()][0];
  return missing === undefined ? undefined : `expected series ${missing.labels.toString()} not found`;
}

function formatPoints(points: readonly Point[]): string {
  return points.map((point) => `${point.value}@${point.timestampMs / 1000}`).join(' ');
}

/** Prometheus's test comparison: NaN equals NaN; otherwise a relative error below 1e-6. */
export function almostEqual(expected: number, actual: number): boolean {
  if (Number.isNaN(expected) && Number.isNaN(actual)) return true;
  if (expected === actual) return true;
  const difference = Math.abs(expected - actual);
  const minNormal = 2.2250738585072014e-308;
  if (expected === 0 || actual === 0 || difference < minNormal) return difference < valueEpsilon * minNormal;
  return difference / (Math.abs(expected) + Math.abs(actual)) < valueEpsilon;
}
