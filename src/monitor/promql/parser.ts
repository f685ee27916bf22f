/**
 * The PromQL parser: Prometheus's own Lezer grammar (`@prometheus-io/lezer-promql`, pinned to the 2.42 release)
 * produces a concrete, error-tolerant tree; this file walks it into the typed AST of ast.ts, reports the
 * first error with Prometheus's wording and position, and type-checks the result (check.ts).
 *
 * Two places where the 2.42 Lezer grammar and Prometheus's yacc grammar disagree are corrected here:
 * - Postfix modifiers (`offset`, `@`, `[range]`, `[range:step]`) bind tighter than any operator in Prometheus
 *   (`a + b offset 5m` offsets `b`), but Lezer applies them to the whole binary or unary expression on their
 *   left. The walker pushes them down to the rightmost operand.
 * - Lezer reads `-2` in `-2 ^ 2` as one signed literal; Prometheus applies `^` first (result -4). The walker
 *   turns a signed literal on the left of `^` back into a unary minus around the power.
 */
import { parser as lezerParser } from '@prometheus-io/lezer-promql';
import { TsdbError } from '../tsdb/errors.ts';
import { Matcher } from '../tsdb/index/matcher.ts';
import type { MatchType } from '../tsdb/index/matcher.ts';
import { metricNameLabel } from '../tsdb/labels.ts';
import type {
  AggregateExpr, AggregateOp, AtPreprocessor, BinaryExpr, BinaryOp, Call, Expr, MatrixSelector, PositionRange,
  SubqueryExpr, VectorMatching, VectorSelector,
} from './ast.ts';
import { checkAst } from './check.ts';
import { ParseError } from './errors.ts';
import { getFunction } from './functions.ts';
import { findLexicalError } from './_lexical-check.ts';
import { formatFloatFixed, LiteralError, parseDurationMs, parseNumber, unquoteString } from './_literals.ts';

type SyntaxNode = ReturnType<typeof lezerParser.parse>['topNode'];

/** Longest query text accepted, in UTF-16 units. Prometheus has no such limit; keel bounds parser memory. */
export const queryLengthMax = 1 << 20;
/** Deepest nesting of expressions; the walker, checker and evaluator recurse once per level. */
export const expressionDepthMax = 1000;

const aggregateOps: ReadonlySet<string> = new Set<AggregateOp>([
  'sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values',
]);
const aggregatorsWithParam: ReadonlySet<AggregateOp> = new Set<AggregateOp>(['topk', 'bottomk', 'quantile', 'count_values']);

const binaryOpByNode: Readonly<Record<string, BinaryOp>> = {
  Pow: '^', Mul: '*', Div: '/', Mod: '%', Atan2: 'atan2', Add: '+', Sub: '-', Eql: '==', Gte: '>=', Gtr: '>',
  Lte: '<=', Lss: '<', Neq: '!=', And: 'and', Or: 'or', Unless: 'unless',
};
const matchTypeByNode: Readonly<Record<string, MatchType>> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

/**
 * Parses and type-checks a PromQL expression. Throws a {@link ParseError} (errorType `bad_data`) with
 * Prometheus's message, e.g. `1:5: parse error: unexpected identifier "bar"`.
 *
 * @example
 * const expr = parseExpr('sum by (job) (rate(http_requests_total[5m]))');
 * expr.kind; // 'AggregateExpr'
 */
export function parseExpr(query: string): Expr {
  if (query.length > queryLengthMax) {
    throw new ParseError(query, [{ position: { start: 0, end: 0 }, message: `query is longer than ${queryLengthMax} characters` }]);
  }
  if (query.replace(/#[^\n]*/g, '').trim() === '') throw new ParseError(query, [{ position: { start: 0, end: 0 }, message: 'no expression found in input' }]);
  const tree = lezerParser.parse(query);
  const syntaxError = findSyntaxError(tree.topNode, query);
  const lexicalError = findLexicalError(query);
  if (lexicalError !== undefined && (syntaxError === undefined || lexicalError.position <= syntaxError.position)) {
    const reported = lexicalError.reportedPosition ?? lexicalError.position;
    throw new ParseError(query, [{ position: { start: reported, end: reported }, message: lexicalError.message }]);
  }
  if (syntaxError !== undefined) {
    throw new ParseError(query, [{ position: { start: syntaxError.position, end: syntaxError.position }, message: syntaxError.message }]);
  }
  const expr = new AstBuilder(query).build(tree.topNode);
  return checkAst(expr, query);
}

/** Parses a duration such as `5m` or `1h30m` into milliseconds, as the `[...]` and `offset` syntax does. */
export function parseDuration(text: string): number {
  try {
    return parseDurationMs(text);
  } catch (error) {
    if (error instanceof LiteralError) throw new ParseError(text, [{ position: { start: 0, end: text.length }, message: error.message }]);
    throw error;
  }
}

interface SyntaxError {
  readonly position: number;
  readonly message: string;
}

function findSyntaxError(top: SyntaxNode, query: string): SyntaxError | undefined {
  let errorNode: SyntaxNode | undefined;
  top.cursor().iterate((node) => {
    if (errorNode !== undefined) return false;
    if (node.type.isError) {
      errorNode = node.node;
      return false;
    }
    return true;
  });
  if (errorNode === undefined) return undefined;
  return { position: skipSpace(query, errorNode.from), message: describeUnexpected(query, skipSpace(query, errorNode.from)) };
}

function skipSpace(query: string, position: number): number {
  let index = position;
  while (index < query.length && /\s/.test(query[index]!)) index += 1;
  return index;
}

const keywordWords = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'atan2',
  'start', 'end', ...aggregateOps,
]);

/** Prometheus's `unexpected <item>` description of the token at `position`, with a context where it helps. */
function describeUnexpected(query: string, position: number): string {
  const previousWord = /([a-zA-Z_@]+)\s*-?\s*$/.exec(query.slice(0, position))?.[1]?.toLowerCase() ?? '';
  const rest = query.slice(position);
  let item: string;
  if (rest === '') item = 'end of input';
  else if (/^[0-9]+(?:ms|[ywdhms])/.test(rest) && /^[0-9]+(?:(?:ms|[ywdhms])[0-9]*)+/.exec(rest)![0] === /^[0-9a-z]+/.exec(rest)![0]) item = `duration ${JSON.stringify(/^[0-9a-z]+/.exec(rest)![0])}`;
  else if (/^(?:0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)/.test(rest)) item = `number ${JSON.stringify(/^(?:0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)/.exec(rest)![0])}`;
  else if (/^["'`]/.test(rest)) item = `string ${JSON.stringify(/^("(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|`[^`]*`?)/.exec(rest)![0])}`;
  else if (/^[a-zA-Z_:]/.test(rest)) {
    const word = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(rest)![0];
    item = keywordWords.has(word.toLowerCase()) ? `<${word.toLowerCase()}>` : `identifier ${JSON.stringify(word)}`;
  } else {
    item = JSON.stringify(/^(?:==|!=|>=|<=|=~|!~|.)/.exec(rest)![0]);
  }
  const braceContext = labelMatchingContext(query, position);
  if (braceContext !== undefined) return `unexpected ${item} in label matching, expected ${braceContext}`;
  if (previousWord === 'offset') return `unexpected ${item} in offset, expected duration`;
  if (query.slice(0, position).trimEnd().endsWith('@')) return `unexpected ${item} in @, expected timestamp`;
  if (['by', 'without', 'on', 'ignoring'].includes(previousWord) && !rest.startsWith('(')) return `unexpected ${item} in grouping opts, expected "("`;
  return `unexpected ${item}`;
}

/** What Prometheus expects next when a syntax error falls inside `{...}`, or undefined outside braces. */
function labelMatchingContext(query: string, position: number): string | undefined {
  const before = query.slice(0, position);
  const braceStart = before.lastIndexOf('{');
  if (braceStart < 0 || before.lastIndexOf('}') > braceStart) return undefined;
  const inside = before.slice(braceStart + 1).replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' S ').trim();
  if (inside === '' || inside.endsWith(',')) return 'identifier or "}"';
  if (/(?:=~|!=|!~|=)$/.test(inside)) return 'string';
  if (inside.endsWith(' S')) return '"," or "}"';
  return 'label matching operator';
}

/** What a postfix modifier does to the selector or subquery it applies to. */
type PostfixModifier = (operand: Expr, operatorPosition: number) => Expr;

/** Walks a Lezer tree that has no error nodes into the AST. Throws ParseError for semantic problems. */
class AstBuilder {
  readonly #query: string;
  #depth = 0;

  constructor(query: string) {
    this.#query = query;
  }

  build(top: SyntaxNode): Expr {
    const expressions = expressionChildren(top);
    if (expressions.length !== 1) this.#fail({ start: 0, end: this.#query.length }, 'no expression found in input');
    return this.#expr(expressions[0]!);
  }

  #expr(node: SyntaxNode): Expr {
    this.#depth += 1;
    if (this.#depth > expressionDepthMax) this.#fail(rangeOf(node), `expression nests deeper than ${expressionDepthMax} levels`);
    try {
      return this.#exprOfKind(node);
    } finally {
      this.#depth -= 1;
    }
  }

  #exprOfKind(node: SyntaxNode): Expr {
    const position = rangeOf(node);
    switch (node.name) {
      case 'NumberLiteral':
        return { kind: 'NumberLiteral', value: this.#signedNumber(node), position };
      case 'StringLiteral':
        return { kind: 'StringLiteral', value: this.#string(node), position };
      case 'ParenExpr':
        return { kind: 'ParenExpr', expr: this.#expr(this.#onlyExpression(node)), position };
      case 'UnaryExpr':
        return this.#unary(node);
      case 'BinaryExpr':
        return this.#binary(node);
      case 'VectorSelector':
        return this.#vectorSelector(node);
      case 'MatrixSelector':
        return this.#matrixSelector(node);
      case 'SubqueryExpr':
        return this.#subquery(node);
      case 'OffsetExpr':
        return this.#offset(node);
      case 'StepInvariantExpr':
        return this.#at(node);
      case 'FunctionCall':
        return this.#call(node);
      case 'AggregateExpr':
        return this.#aggregate(node);
      default:
        return this.#fail(position, `unexpected ${node.name}`);
    }
  }

  #text(node: SyntaxNode): string {
    return this.#query.slice(node.from, node.to);
  }

  #fail(position: PositionRange, message: string): never {
    throw new ParseError(this.#query, [{ position, message }]);
  }

  #onlyExpression(node: SyntaxNode): SyntaxNode {
    const expressions = expressionChildren(node);
    if (expressions.length !== 1) this.#fail(rangeOf(node), `expected one expression in ${node.name}`);
    return expressions[0]!;
  }

  #signedNumber(node: SyntaxNode): number {
    const text = this.#text(node).replace(/\s+/g, '');
    const negative = text.startsWith('-');
    const unsigned = text.replace(/^[+-]/, '');
    try {
      const value = parseNumber(unsigned);
      return negative ? -value : value;
    } catch (error) {
      if (error instanceof LiteralError) return this.#fail(rangeOf(node), `error parsing number: ${error.message}`);
      throw error;
    }
  }

  #string(node: SyntaxNode): string {
    try {
      return unquoteString(this.#text(node));
    } catch (error) {
      if (error instanceof LiteralError) return this.#fail(rangeOf(node), error.message);
      throw error;
    }
  }

  #duration(node: SyntaxNode): number {
    let durationMs: number;
    try {
      durationMs = parseDurationMs(this.#text(node));
    } catch (error) {
      if (error instanceof LiteralError) return this.#fail(rangeOf(node), error.message);
      throw error;
    }
    if (durationMs === 0) this.#fail(rangeOf(node), 'duration must be greater than 0');
    return durationMs;
  }

  #unary(node: SyntaxNode): Expr {
    const operator = node.getChild('UnaryOp');
    const operand = this.#expr(this.#onlyExpression(node));
    const op = operator !== null && this.#text(operator) === '-' ? '-' : '+';
    // Prometheus folds a sign into a number literal.
    if (operand.kind === 'NumberLiteral') {
      return { kind: 'NumberLiteral', value: op === '-' ? -operand.value : operand.value, position: rangeOf(node) };
    }
    return { kind: 'UnaryExpr', op, expr: operand, position: rangeOf(node) };
  }

  #binary(node: SyntaxNode): Expr {
    const [lhsNode, rhsNode] = expressionChildren(node);
    let opNode: SyntaxNode | null = null;
    for (let child = node.firstChild; child !== null; child = child.nextSibling) {
      if (binaryOpByNode[child.name] !== undefined && !child.type.is('Expr')) opNode = child;
    }
    if (lhsNode === undefined || rhsNode === undefined || opNode === null) return this.#fail(rangeOf(node), 'malformed binary expression');
    const op = binaryOpByNode[opNode.name]!;
    const returnBool = node.getChild('BoolModifier') !== null;
    const matching = this.#matching(node.getChild('MatchingModifierClause'));
    const rhs = this.#expr(rhsNode);
    const signedBase = op === '^' && lhsNode.name === 'NumberLiteral' && /^[+-]/.test(this.#text(lhsNode));
    const lhs = this.#expr(lhsNode);
    const base: BinaryExpr = {
      kind: 'BinaryExpr',
      op,
      lhs: signedBase && lhs.kind === 'NumberLiteral' ? { ...lhs, value: Math.abs(lhs.value), position: { start: lhsNode.from + 1, end: lhsNode.to } } : lhs,
      rhs,
      returnBool,
      matching,
      position: rangeOf(node),
      operatorPosition: rangeOf(opNode),
    };
    if (!signedBase) return base;
    // `-2 ^ 2` is `-(2 ^ 2)` in Prometheus.
    const sign = this.#text(lhsNode).trimStart()[0] === '-' ? '-' : '+';
    return { kind: 'UnaryExpr', op: sign, expr: { ...base, position: { start: lhsNode.from + 1, end: node.to } }, position: rangeOf(node) };
  }

  #matching(clause: SyntaxNode | null): VectorMatching {
    if (clause === null) return { cardinality: 'one-to-one', on: false, matchingLabels: [], include: [] };
    const groupings = clause.getChildren('GroupingLabels');
    const on = clause.getChild('On') !== null;
    const groupLeft = clause.getChild('GroupLeft') !== null;
    const groupRight = clause.getChild('GroupRight') !== null;
    return {
      cardinality: groupLeft ? 'many-to-one' : groupRight ? 'one-to-many' : 'one-to-one',
      on,
      matchingLabels: groupings[0] === undefined ? [] : this.#labelNames(groupings[0]),
      include: groupings[1] === undefined ? [] : this.#labelNames(groupings[1]),
    };
  }

  #labelNames(grouping: SyntaxNode): string[] {
    return grouping.getChildren('LabelName').map((child) => this.#text(child));
  }

  #vectorSelector(node: SyntaxNode): VectorSelector {
    const identifier = node.getChild('Identifier');
    const name = identifier === null ? '' : this.#text(identifier);
    const matchers: Matcher[] = [];
    const list = node.getChild('LabelMatchers');
    for (const matcherNode of list === null ? [] : list.getChildren('LabelMatcher')) matchers.push(this.#labelMatcher(matcherNode));
    if (name !== '') matchers.push(new Matcher('=', metricNameLabel, name));
    return { kind: 'VectorSelector', name, matchers, offsetMs: 0, timestampMs: undefined, atPreprocessor: undefined, position: rangeOf(node) };
  }

  #labelMatcher(node: SyntaxNode): Matcher {
    const nameNode = node.getChild('LabelName');
    const opNode = node.getChild('MatchOp')?.firstChild ?? null;
    const valueNode = node.getChild('StringLiteral');
    if (nameNode === null || opNode === null || valueNode === null) return this.#fail(rangeOf(node), 'malformed label matcher');
    const type = matchTypeByNode[opNode.name];
    if (type === undefined) return this.#fail(rangeOf(opNode), `unexpected match operator ${this.#text(opNode)}`);
    try {
      return new Matcher(type, this.#text(nameNode), this.#string(valueNode));
    } catch (error) {
      if (error instanceof TsdbError) return this.#fail(rangeOf(node), error.message);
      throw error;
    }
  }

  #matrixSelector(node: SyntaxNode): Expr {
    const inner = this.#expr(this.#onlyExpression(node));
    const rangeMs = this.#duration(this.#durationNodes(node)[0]!);
    const bracket = this.#query.indexOf('[', expressionChildren(node)[0]!.to);
    return this.#applyPostfix(inner, bracket, (operand, bracketPosition) => {
      const errorRange = { start: bracketPosition, end: node.to };
      if (operand.kind !== 'VectorSelector') return this.#fail(errorRange, 'ranges only allowed for vector selectors');
      if (operand.offsetMs !== 0) return this.#fail(errorRange, 'no offset modifiers allowed before range');
      if (operand.timestampMs !== undefined || operand.atPreprocessor !== undefined) return this.#fail(errorRange, 'no @ modifiers allowed before range');
      const selector: MatrixSelector = { kind: 'MatrixSelector', vectorSelector: operand, rangeMs, position: { start: operand.position.start, end: node.to } };
      return selector;
    });
  }

  #subquery(node: SyntaxNode): Expr {
    const inner = this.#expr(this.#onlyExpression(node));
    const durations = this.#durationNodes(node);
    const rangeMs = this.#duration(durations[0]!);
    const stepMs = durations[1] === undefined ? 0 : this.#duration(durations[1]);
    const bracket = this.#query.indexOf('[', expressionChildren(node)[0]!.to);
    return this.#applyPostfix(inner, bracket, (operand) => {
      const subquery: SubqueryExpr = {
        kind: 'SubqueryExpr', expr: operand, rangeMs, stepMs, offsetMs: 0, timestampMs: undefined, atPreprocessor: undefined,
        position: { start: operand.position.start, end: node.to },
      };
      return subquery;
    });
  }

  #durationNodes(node: SyntaxNode): SyntaxNode[] {
    return node.getChildren('Duration');
  }

  #offset(node: SyntaxNode): Expr {
    const inner = this.#expr(this.#onlyExpression(node));
    const durationNode = node.getChild('Duration');
    if (durationNode === null) return this.#fail(rangeOf(node), 'unexpected end of input in offset, expected duration');
    const magnitudeMs = this.#duration(durationNode);
    const offsetMs = node.getChild('Sub') !== null ? -magnitudeMs : magnitudeMs;
    const keyword = node.getChild('Offset')!;
    return this.#applyPostfix(inner, keyword.from, (operand) => {
      const errorRange = { start: operand.position.start, end: node.to };
      const end = node.to;
      switch (operand.kind) {
        case 'VectorSelector':
          if (operand.offsetMs !== 0) return this.#fail(errorRange, 'offset may not be set multiple times');
          return { ...operand, offsetMs, position: { start: operand.position.start, end } };
        case 'MatrixSelector':
          if (operand.vectorSelector.offsetMs !== 0) return this.#fail(errorRange, 'offset may not be set multiple times');
          return { ...operand, vectorSelector: { ...operand.vectorSelector, offsetMs }, position: { start: operand.position.start, end } };
        case 'SubqueryExpr':
          if (operand.offsetMs !== 0) return this.#fail(errorRange, 'offset may not be set multiple times');
          return { ...operand, offsetMs, position: { start: operand.position.start, end } };
        default:
          return this.#fail(errorRange, 'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery');
      }
    });
  }

  #at(node: SyntaxNode): Expr {
    // The first expression child is the operand; a second one is the timestamp literal.
    const inner = this.#expr(expressionChildren(node)[0]!);
    const preprocessorNode = node.getChild('AtModifierPreprocessors');
    let timestampMs: number | undefined;
    let atPreprocessor: AtPreprocessor | undefined;
    if (preprocessorNode !== null) {
      atPreprocessor = preprocessorNode.getChild('Start') !== null ? 'start' : 'end';
    } else {
      const numberNode = node.getChild('NumberLiteral');
      if (numberNode === null) return this.#fail(rangeOf(node), 'unexpected end of input in @, expected timestamp');
      const seconds = this.#signedNumber(numberNode);
      if (!Number.isFinite(seconds) || seconds >= 2 ** 63 || seconds <= -(2 ** 63)) {
        this.#fail({ start: inner.position.start, end: node.to }, `timestamp out of bounds for @ modifier: ${formatFloatFixed(seconds)}`);
      }
      timestampMs = Math.round(seconds * 1000);
    }
    const atSign = node.getChild('At')!;
    return this.#applyPostfix(inner, atSign.from, (operand) => {
      const errorRange = { start: operand.position.start, end: node.to };
      const end = node.to;
      const target = operand.kind === 'MatrixSelector' ? operand.vectorSelector : operand;
      if (target.kind !== 'VectorSelector' && target.kind !== 'SubqueryExpr') {
        return this.#fail(errorRange, '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery');
      }
      if (target.timestampMs !== undefined || target.atPreprocessor !== undefined) return this.#fail(errorRange, '@ <timestamp> may not be set multiple times');
      if (operand.kind === 'MatrixSelector') {
        return { ...operand, vectorSelector: { ...operand.vectorSelector, timestampMs, atPreprocessor }, position: { start: operand.position.start, end } };
      }
      return { ...target, timestampMs, atPreprocessor, position: { start: target.position.start, end } };
    });
  }

  /**
   * Applies a postfix modifier to the rightmost operand of unparenthesised binary and unary expressions, so
   * that `a + b offset 5m` offsets `b` as in Prometheus.
   */
  #applyPostfix(operand: Expr, operatorPosition: number, modifier: PostfixModifier): Expr {
    if (operand.kind === 'BinaryExpr') {
      const rhs = this.#applyPostfix(operand.rhs, operatorPosition, modifier);
      return { ...operand, rhs, position: { start: operand.position.start, end: rhs.position.end } };
    }
    if (operand.kind === 'UnaryExpr') {
      const inner = this.#applyPostfix(operand.expr, operatorPosition, modifier);
      return { ...operand, expr: inner, position: { start: operand.position.start, end: inner.position.end } };
    }
    return modifier(operand, operatorPosition);
  }

  #call(node: SyntaxNode): Call {
    const identifier = node.getChild('FunctionIdentifier');
    const body = node.getChild('FunctionCallBody');
    if (identifier === null || body === null) return this.#fail(rangeOf(node), 'malformed function call');
    const name = this.#text(identifier);
    const func = getFunction(name);
    if (func === undefined) return this.#fail(rangeOf(identifier), `unknown function with name ${JSON.stringify(name)}`);
    const args = expressionChildren(body).map((child) => this.#expr(child));
    return { kind: 'Call', func, args, position: rangeOf(node) };
  }

  #aggregate(node: SyntaxNode): AggregateExpr {
    const opNode = node.getChild('AggregateOp');
    const body = node.getChild('FunctionCallBody');
    if (opNode === null || body === null) return this.#fail(rangeOf(node), 'malformed aggregation');
    const op = this.#text(opNode).toLowerCase() as AggregateOp;
    const modifier = node.getChild('AggregateModifier');
    const groupingNode = modifier?.getChild('GroupingLabels') ?? null;
    const grouping = groupingNode === null ? [] : [...new Set(this.#labelNames(groupingNode))].sort();
    const without = modifier?.getChild('Without') !== null && modifier !== null;
    const args = expressionChildren(body).map((child) => this.#expr(child));
    const position = rangeOf(node);
    if (args.length === 0) return this.#fail(position, 'no arguments for aggregate expression provided');
    const desiredArgs = aggregatorsWithParam.has(op) ? 2 : 1;
    if (args.length !== desiredArgs) {
      return this.#fail(position, `wrong number of arguments for aggregate expression provided, expected ${desiredArgs}, got ${args.length}`);
    }
    return { kind: 'AggregateExpr', op, expr: args[desiredArgs - 1]!, param: desiredArgs === 2 ? args[0] : undefined, grouping, without, position };
  }
}

function expressionChildren(node: SyntaxNode): SyntaxNode[] {
  const children: SyntaxNode[] = [];
  for (let child = node.firstChild; child !== null; child = child.nextSibling) {
    if (child.type.is('Expr')) children.push(child);
  }
  return children;
}

function rangeOf(node: SyntaxNode): PositionRange {
  return { start: node.from, end: node.to };
}
