/**
 * The PromQL type checker, following Prometheus 2.42's `checkAST`: argument and parameter types, function
 * arity, operator/operand rules, vector matching rules and selector rules, with Prometheus's messages. All
 * problems are collected in Prometheus's order; the first one is reported, as Prometheus's API does.
 */
import type { BinaryExpr, Expr, PositionRange, ValueType } from './ast.ts';
import { comparisonOps, documentedType, setOps, typeOf } from './ast.ts';
import { ParseError } from './errors.ts';
import type { ParseIssue } from './errors.ts';
import { metricNameLabel } from '../tsdb/labels.ts';

/**
 * Checks `expr` and returns it with vector matching normalised: set operators become many-to-many, and the
 * matching clause is dropped unless both sides are instant vectors. Throws a ParseError for the first issue.
 *
 * @example
 * checkAst(tree, 'rate(x)'); // throws '1:6: parse error: expected type range vector in call to function "rate", got instant vector'
 */
export function checkAst(expr: Expr, query: string): Expr {
  const checker = new Checker(query);
  checker.check(expr);
  // Prometheus's API reports the first problem only.
  if (checker.issues.length > 0) throw new ParseError(query, checker.issues.slice(0, 1));
  return normalizeMatching(expr);
}

class Checker {
  readonly issues: ParseIssue[] = [];
  readonly #query: string;

  constructor(query: string) {
    this.#query = query;
  }

  #report(position: PositionRange, message: string): void {
    this.issues.push({ position, message });
  }

  #expectType(node: Expr, want: ValueType, context: string): void {
    const type = this.check(node);
    if (type !== want) this.#report(node.position, `expected type ${documentedType(want)} in ${context}, got ${documentedType(type)}`);
  }

  /** Checks `node` and its children; returns the node's type. */
  check(node: Expr): ValueType {
    const type = typeOf(node);
    switch (node.kind) {
      case 'AggregateExpr':
        this.#expectType(node.expr, 'vector', 'aggregation expression');
        if (node.op === 'topk' || node.op === 'bottomk' || node.op === 'quantile') this.#expectType(node.param!, 'scalar', 'aggregation parameter');
        if (node.op === 'count_values') this.#expectType(node.param!, 'string', 'aggregation parameter');
        break;
      case 'BinaryExpr':
        this.#checkBinary(node);
        break;
      case 'Call':
        this.#checkCall(node);
        break;
      case 'ParenExpr':
      case 'StepInvariantExpr':
        this.check(node.expr);
        break;
      case 'UnaryExpr': {
        const operandType = this.check(node.expr);
        if (operandType !== 'scalar' && operandType !== 'vector') {
          this.#report(node.position, `unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(documentedType(operandType))}`);
        }
        break;
      }
      case 'SubqueryExpr': {
        const innerType = this.check(node.expr);
        if (innerType !== 'vector') this.#report(node.position, `subquery is only allowed on instant vector, got ${innerType} instead`);
        break;
      }
      case 'MatrixSelector':
        this.check(node.vectorSelector);
        break;
      case 'VectorSelector':
        this.#checkVectorSelector(node);
        break;
      case 'NumberLiteral':
      case 'StringLiteral':
        break;
    }
    return type;
  }

  #checkBinary(node: BinaryExpr): void {
    const lhsType = this.check(node.lhs);
    const rhsType = this.check(node.rhs);
    const operatorRange = this.#operatorRange(node);
    if (node.returnBool && !comparisonOps.has(node.op)) this.#report(operatorRange, 'bool modifier can only be used on comparison operators');
    if (comparisonOps.has(node.op) && !node.returnBool && lhsType === 'scalar' && rhsType === 'scalar') {
      this.#report(operatorRange, 'comparisons between scalars must use BOOL modifier');
    }
    const matching = node.matching;
    if (matching !== undefined && matching.on) {
      for (const label of matching.matchingLabels) {
        if (matching.include.includes(label)) this.#report(operatorRange, `label ${JSON.stringify(label)} must not occur in ON and GROUP clause at once`);
      }
    }
    if (lhsType !== 'scalar' && lhsType !== 'vector') this.#report(node.lhs.position, 'binary expression must contain only scalar and instant vector types');
    if (rhsType !== 'scalar' && rhsType !== 'vector') this.#report(node.rhs.position, 'binary expression must contain only scalar and instant vector types');
    if (lhsType !== 'vector' || rhsType !== 'vector') {
      if (matching !== undefined && matching.matchingLabels.length > 0) this.#report(node.position, 'vector matching only allowed between instant vectors');
    } else if (setOps.has(node.op) && matching !== undefined) {
      if (matching.cardinality === 'one-to-many' || matching.cardinality === 'many-to-one') {
        this.#report(node.position, `no grouping allowed for ${JSON.stringify(node.op)} operation`);
      }
    }
    if ((lhsType === 'scalar' || rhsType === 'scalar') && setOps.has(node.op)) {
      this.#report(node.position, `set operator ${JSON.stringify(node.op)} not allowed in binary scalar expression`);
    }
  }

  /** The operator and its modifiers, without surrounding space, as Prometheus positions operator errors. */
  #operatorRange(node: BinaryExpr): PositionRange {
    let start = node.lhs.position.end;
    while (start < this.#query.length && /\s/.test(this.#query[start]!)) start += 1;
    // A rewritten `-2 ^ 2` has no text between its operands' recorded ends; fall back to the operator token.
    return start <= node.operatorPosition.start ? { start, end: node.rhs.position.start } : node.operatorPosition;
  }

  #checkCall(node: Extract<Expr, { kind: 'Call' }>): void {
    const { func, args } = node;
    const argCount = func.argTypes.length;
    if (func.variadic === 0) {
      if (argCount !== args.length) this.#report(node.position, `expected ${argCount} argument(s) in call to ${JSON.stringify(func.name)}, got ${args.length}`);
    } else {
      const required = argCount - 1;
      if (required > args.length) {
        this.#report(node.position, `expected at least ${required} argument(s) in call to ${JSON.stringify(func.name)}, got ${args.length}`);
      } else if (func.variadic > 0 && required + func.variadic < args.length) {
        this.#report(node.position, `expected at most ${required + func.variadic} argument(s) in call to ${JSON.stringify(func.name)}, got ${args.length}`);
      }
    }
    for (let index = 0; index < args.length; index += 1) {
      let typeIndex = index;
      if (index >= argCount) {
        if (func.variadic === 0) break;
        typeIndex = argCount - 1;
      }
      this.#expectType(args[index]!, func.argTypes[typeIndex]!, `call to function ${JSON.stringify(func.name)}`);
    }
  }

  #checkVectorSelector(node: Extract<Expr, { kind: 'VectorSelector' }>): void {
    if (node.name !== '') {
      // The last matcher is the one for the name written outside the braces.
      for (const matcher of node.matchers.slice(0, -1)) {
        if (matcher.name === metricNameLabel) {
          this.#report(node.position, `metric name must not be set twice: ${JSON.stringify(node.name)} or ${JSON.stringify(matcher.value)}`);
        }
      }
      return;
    }
    if (!node.matchers.some((matcher) => !matcher.matchesEmpty)) this.#report(node.position, 'vector selector must contain at least one non-empty matcher');
  }
}

function normalizeMatching(expr: Expr): Expr {
  switch (expr.kind) {
    case 'BinaryExpr': {
      const lhs = normalizeMatching(expr.lhs);
      const rhs = normalizeMatching(expr.rhs);
      const bothVectors = typeOf(lhs) === 'vector' && typeOf(rhs) === 'vector';
      let matching = bothVectors ? expr.matching : undefined;
      if (matching !== undefined && setOps.has(expr.op)) matching = { ...matching, cardinality: 'many-to-many' };
      return { ...expr, lhs, rhs, matching };
    }
    case 'AggregateExpr':
      return { ...expr, expr: normalizeMatching(expr.expr), param: expr.param === undefined ? undefined : normalizeMatching(expr.param) };
    case 'Call':
      return { ...expr, args: expr.args.map(normalizeMatching) };
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'SubqueryExpr':
    case 'StepInvariantExpr':
      return { ...expr, expr: normalizeMatching(expr.expr) };
    default:
      return expr;
  }
}
