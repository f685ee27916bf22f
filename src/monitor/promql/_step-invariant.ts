/**
 * Marks the parts of a query whose value does not change from step to step (everything under `@`, literals,
 * and functions of them), as Prometheus's `PreprocessExpr` does. The engine evaluates a
 * `StepInvariantExpr` once and repeats its value at every step.
 */
import type { Expr } from './ast.ts';

/**
 * Returns `expr` with its step-invariant subtrees wrapped.
 *
 * @example
 * wrapStepInvariant(parseExpr('sum(x @ 100)')).kind; // 'StepInvariantExpr'
 */
export function wrapStepInvariant(expr: Expr): Expr {
  const [rewritten, invariant] = visit(expr);
  return invariant ? wrap(rewritten) : rewritten;
}

function wrap(expr: Expr): Expr {
  return { kind: 'StepInvariantExpr', expr, position: expr.position };
}

/** Returns the rewritten node and whether it is step-invariant as a whole (then the parent decides). */
function visit(expr: Expr): [Expr, boolean] {
  switch (expr.kind) {
    case 'VectorSelector':
      return [expr, expr.timestampMs !== undefined || expr.atPreprocessor !== undefined];
    case 'MatrixSelector':
      return [expr, visit(expr.vectorSelector)[1]];
    case 'NumberLiteral':
    case 'StringLiteral':
      return [expr, true];
    case 'ParenExpr':
    case 'UnaryExpr': {
      const [inner, invariant] = visit(expr.expr);
      return [{ ...expr, expr: inner }, invariant];
    }
    case 'AggregateExpr': {
      // Like Prometheus, only the aggregated expression decides; a parameter is evaluated at every step.
      const [inner, invariant] = visit(expr.expr);
      return [{ ...expr, expr: inner }, invariant];
    }
    case 'BinaryExpr': {
      const [lhs, lhsInvariant] = visit(expr.lhs);
      const [rhs, rhsInvariant] = visit(expr.rhs);
      if (lhsInvariant && rhsInvariant) return [{ ...expr, lhs, rhs }, true];
      return [{ ...expr, lhs: lhsInvariant ? wrap(lhs) : lhs, rhs: rhsInvariant ? wrap(rhs) : rhs }, false];
    }
    case 'Call': {
      const visited = expr.args.map(visit);
      const invariant = !expr.func.dependsOnEvaluationTime && visited.every(([, argInvariant]) => argInvariant);
      if (invariant) return [{ ...expr, args: visited.map(([arg]) => arg) }, true];
      return [{ ...expr, args: visited.map(([arg, argInvariant]) => (argInvariant ? wrap(arg) : arg)) }, false];
    }
    case 'SubqueryExpr': {
      // The inside is wrapped on its own, and the subquery is invariant only with its own `@`.
      const [inner, innerInvariant] = visit(expr.expr);
      return [{ ...expr, expr: innerInvariant ? wrap(inner) : inner }, expr.timestampMs !== undefined || expr.atPreprocessor !== undefined];
    }
    case 'StepInvariantExpr':
      return [expr, true];
  }
}
