/**
 * The typed PromQL syntax tree, shaped like Prometheus's `parser` package. Nodes are plain immutable objects
 * discriminated by `kind`; positions are UTF-16 offsets into the query text. The parser builds the tree from
 * Lezer's concrete tree and type-checks it; the engine evaluates it.
 */
import type { Matcher } from '../tsdb/index/matcher.ts';
import type { FunctionSignature } from './functions.ts';

/** The four PromQL value types. */
export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

/** A half-open range [start, end) of the query text. */
export interface PositionRange {
  readonly start: number;
  readonly end: number;
}

export type AggregateOp =
  | 'sum' | 'avg' | 'min' | 'max' | 'count' | 'group' | 'stddev' | 'stdvar' | 'topk' | 'bottomk' | 'quantile' | 'count_values';

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

/** Which side of a vector match may have several series per match group. */
export type Cardinality = 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';

/** The `on`/`ignoring` and `group_left`/`group_right` clause of a binary expression between two vectors. */
export interface VectorMatching {
  readonly cardinality: Cardinality;
  /** `on(...)` when true, `ignoring(...)` (or no clause) when false. */
  readonly on: boolean;
  readonly matchingLabels: readonly string[];
  /** Labels copied from the "one" side by `group_left(...)`/`group_right(...)`. */
  readonly include: readonly string[];
}

export interface NumberLiteral {
  readonly kind: 'NumberLiteral';
  readonly value: number;
  readonly position: PositionRange;
}

export interface StringLiteral {
  readonly kind: 'StringLiteral';
  readonly value: string;
  readonly position: PositionRange;
}

/** `@ start()` / `@ end()`: resolved to the query's start or end time at evaluation. */
export type AtPreprocessor = 'start' | 'end';

export interface VectorSelector {
  readonly kind: 'VectorSelector';
  /** The metric name written before the braces, '' when absent. */
  readonly name: string;
  /** Every matcher, including `__name__="name"` for a written name (last, as in Prometheus). */
  readonly matchers: readonly Matcher[];
  /** `offset` in milliseconds; negative offsets look ahead. */
  readonly offsetMs: number;
  /** `@ <time>` in milliseconds, when given. */
  readonly timestampMs: number | undefined;
  readonly atPreprocessor: AtPreprocessor | undefined;
  readonly position: PositionRange;
}

export interface MatrixSelector {
  readonly kind: 'MatrixSelector';
  readonly vectorSelector: VectorSelector;
  readonly rangeMs: number;
  readonly position: PositionRange;
}

export interface SubqueryExpr {
  readonly kind: 'SubqueryExpr';
  readonly expr: Expr;
  readonly rangeMs: number;
  /** The resolution; 0 means the engine's default subquery step. */
  readonly stepMs: number;
  readonly offsetMs: number;
  readonly timestampMs: number | undefined;
  readonly atPreprocessor: AtPreprocessor | undefined;
  readonly position: PositionRange;
}

export interface Call {
  readonly kind: 'Call';
  readonly func: FunctionSignature;
  readonly args: readonly Expr[];
  readonly position: PositionRange;
}

export interface AggregateExpr {
  readonly kind: 'AggregateExpr';
  readonly op: AggregateOp;
  readonly expr: Expr;
  /** The parameter of topk, bottomk, quantile and count_values. */
  readonly param: Expr | undefined;
  /** Sorted, duplicate-free. */
  readonly grouping: readonly string[];
  readonly without: boolean;
  readonly position: PositionRange;
}

export interface BinaryExpr {
  readonly kind: 'BinaryExpr';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly returnBool: boolean;
  /** Set only when both sides are instant vectors. */
  readonly matching: VectorMatching | undefined;
  readonly position: PositionRange;
  /** The operator token, for error positions. */
  readonly operatorPosition: PositionRange;
}

export interface UnaryExpr {
  readonly kind: 'UnaryExpr';
  readonly op: '-' | '+';
  readonly expr: Expr;
  readonly position: PositionRange;
}

export interface ParenExpr {
  readonly kind: 'ParenExpr';
  readonly expr: Expr;
  readonly position: PositionRange;
}

/** Wraps a subtree whose value is the same at every step; the engine evaluates it once. Never parsed. */
export interface StepInvariantExpr {
  readonly kind: 'StepInvariantExpr';
  readonly expr: Expr;
  readonly position: PositionRange;
}

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | Call
  | AggregateExpr
  | BinaryExpr
  | UnaryExpr
  | ParenExpr
  | StepInvariantExpr;

export const arithmeticOps: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['+', '-', '*', '/', '%', '^', 'atan2']);
export const comparisonOps: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['==', '!=', '>', '<', '>=', '<=']);
export const setOps: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['and', 'or', 'unless']);

/**
 * The value type an expression evaluates to.
 *
 * @example
 * typeOf(parseExpr('rate(x[5m])')); // 'vector'
 */
export function typeOf(expr: Expr): ValueType {
  switch (expr.kind) {
    case 'NumberLiteral':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    case 'VectorSelector':
    case 'AggregateExpr':
      return 'vector';
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'Call':
      return expr.func.returnType;
    case 'BinaryExpr':
      return typeOf(expr.lhs) === 'scalar' && typeOf(expr.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'UnaryExpr':
    case 'ParenExpr':
    case 'StepInvariantExpr':
      return typeOf(expr.expr);
  }
}

/**
 * Prometheus's user-facing type names: "instant vector", "range vector", "scalar", "string".
 *
 * @example
 * documentedType('matrix'); // 'range vector'
 */
export function documentedType(type: ValueType): string {
  if (type === 'vector') return 'instant vector';
  if (type === 'matrix') return 'range vector';
  return type;
}

/** Removes any number of enclosing parentheses. */
export function unwrapParens(expr: Expr): Expr {
  let current = expr;
  while (current.kind === 'ParenExpr') current = current.expr;
  return current;
}

/** Removes parentheses and a step-invariant wrapper, as Prometheus does before looking at a function argument. */
export function unwrapArgument(expr: Expr): Expr {
  let current = unwrapParens(expr);
  if (current.kind === 'StepInvariantExpr') current = unwrapParens(current.expr);
  return current;
}

/** The direct children of a node, in source order. */
export function childrenOf(expr: Expr): readonly Expr[] {
  switch (expr.kind) {
    case 'NumberLiteral':
    case 'StringLiteral':
    case 'VectorSelector':
      return [];
    case 'MatrixSelector':
      return [expr.vectorSelector];
    case 'SubqueryExpr':
    case 'UnaryExpr':
    case 'ParenExpr':
    case 'StepInvariantExpr':
      return [expr.expr];
    case 'Call':
      return expr.args;
    case 'AggregateExpr':
      return expr.param === undefined ? [expr.expr] : [expr.param, expr.expr];
    case 'BinaryExpr':
      return [expr.lhs, expr.rhs];
  }
}
