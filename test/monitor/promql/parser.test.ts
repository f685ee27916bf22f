import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError, parseDuration, parseExpr, typeOf } from '../../../src/monitor/promql/index.ts';
import type { Expr } from '../../../src/monitor/promql/index.ts';

/** A compact rendering of the tree, to compare shapes. */
function shape(expr: Expr): string {
  switch (expr.kind) {
    case 'NumberLiteral':
      return String(expr.value);
    case 'StringLiteral':
      return JSON.stringify(expr.value);
    case 'VectorSelector': {
      const matchers = expr.matchers.filter((matcher) => !(matcher.name === '__name__' && matcher.value === expr.name && matcher.type === '='));
      const braces = matchers.length > 0 ? `{${matchers.map(String).join(',')}}` : '';
      const at = expr.timestampMs !== undefined ? ` @${expr.timestampMs}` : expr.atPreprocessor !== undefined ? ` @${expr.atPreprocessor}` : '';
      return `${expr.name}${braces}${expr.offsetMs !== 0 ? ` offset ${expr.offsetMs}` : ''}${at}`;
    }
    case 'MatrixSelector':
      return `${shape(expr.vectorSelector)}[${expr.rangeMs}]`;
    case 'SubqueryExpr':
      return `${shape(expr.expr)}[${expr.rangeMs}:${expr.stepMs}]${expr.offsetMs !== 0 ? ` offset ${expr.offsetMs}` : ''}${expr.timestampMs !== undefined ? ` @${expr.timestampMs}` : ''}`;
    case 'Call':
      return `${expr.func.name}(${expr.args.map(shape).join(', ')})`;
    case 'AggregateExpr':
      return `${expr.op} ${expr.without ? 'without' : 'by'}(${expr.grouping.join(',')}) (${expr.param === undefined ? '' : `${shape(expr.param)}, `}${shape(expr.expr)})`;
    case 'BinaryExpr': {
      const matching = expr.matching === undefined ? '' : ` ${expr.matching.cardinality}${expr.matching.on ? ' on' : ' ignoring'}(${expr.matching.matchingLabels.join(',')})${expr.matching.include.length > 0 ? `(${expr.matching.include.join(',')})` : ''}`;
      return `(${shape(expr.lhs)} ${expr.op}${expr.returnBool ? ' bool' : ''}${matching} ${shape(expr.rhs)})`;
    }
    case 'UnaryExpr':
      return `${expr.op}(${shape(expr.expr)})`;
    case 'ParenExpr':
      return `paren(${shape(expr.expr)})`;
    case 'StepInvariantExpr':
      return `invariant(${shape(expr.expr)})`;
  }
}

test('operators follow Prometheus precedence and associativity', () => {
  assert.equal(shape(parseExpr('1 + 2 * 3')), '(1 + (2 * 3))');
  assert.equal(shape(parseExpr('1 - 2 - 3')), '((1 - 2) - 3)');
  assert.equal(shape(parseExpr('2 ^ 3 ^ 2')), '(2 ^ (3 ^ 2))');
  assert.equal(shape(parseExpr('a or b and c')), '(a or many-to-many ignoring() (b and many-to-many ignoring() c))');
  assert.equal(shape(parseExpr('a unless b or c')), '((a unless many-to-many ignoring() b) or many-to-many ignoring() c)');
  assert.equal(shape(parseExpr('a > b == c')), '((a > one-to-one ignoring() b) == one-to-one ignoring() c)');
  assert.equal(shape(parseExpr('2 * 3 atan2 4')), '((2 * 3) atan2 4)');
});

test('unary minus binds weaker than ^ and folds into number literals', () => {
  assert.equal(shape(parseExpr('-2 ^ 2')), '-((2 ^ 2))');
  assert.equal(shape(parseExpr('-2 ^ 3 ^ 2')), '-((2 ^ (3 ^ 2)))');
  assert.equal(shape(parseExpr('-x ^ 2')), '-((x ^ 2))');
  assert.equal(shape(parseExpr('-2')), '-2');
  assert.equal(shape(parseExpr('- 2')), '-2');
  assert.equal(shape(parseExpr('-(2)')), '-(paren(2))');
  assert.equal(shape(parseExpr('1 - -2')), '(1 - -2)');
  assert.equal(shape(parseExpr('2 ^ -1')), '(2 ^ -1)');
});

test('postfix modifiers apply to the operand on their left, not the whole expression', () => {
  assert.equal(shape(parseExpr('a + b offset 5m')), '(a + one-to-one ignoring() b offset 300000)');
  const sum = parseExpr('a + b offset 5m');
  assert.equal(sum.kind, 'BinaryExpr');
  if (sum.kind !== 'BinaryExpr') return;
  assert.equal(shape(sum.lhs), 'a');
  assert.equal(shape(sum.rhs), 'b offset 300000');
  const negated = parseExpr('-a offset 1m');
  assert.equal(shape(negated), '-(a offset 60000)');
  const mixed = parseExpr('a * b @ 10 offset 1m');
  assert.ok(mixed.kind === 'BinaryExpr');
  if (mixed.kind === 'BinaryExpr') assert.equal(shape(mixed.rhs), 'b offset 60000 @10000');
  // The range applies to `b` alone, which makes the binary expression ill-typed, as in Prometheus.
  assert.throws(() => parseExpr('a + b[10m:1m]'), { message: '1:5: parse error: binary expression must contain only scalar and instant vector types' });
  assert.throws(() => parseExpr('-a[5m]'), { message: '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"' });
});

test('selectors carry matchers, offsets, @ and ranges', () => {
  assert.equal(shape(parseExpr('foo{a="b", c!="d", e=~"f.*", g!~"h"}')), 'foo{a="b",c!="d",e=~"f.*",g!~"h"}');
  assert.equal(shape(parseExpr('{__name__="foo"}')), '{__name__="foo"}');
  assert.equal(shape(parseExpr('foo offset -1m30s')), 'foo offset -90000');
  assert.equal(shape(parseExpr('foo @ 1.5')), 'foo @1500');
  assert.equal(shape(parseExpr('foo @ -100')), 'foo @-100000');
  assert.equal(shape(parseExpr('foo @ start()')), 'foo @start');
  assert.equal(shape(parseExpr('foo @ end() offset 1m')), 'foo offset 60000 @end');
  assert.equal(shape(parseExpr('foo[1h30m] offset 1d')), 'foo offset 86400000[5400000]');
  assert.equal(shape(parseExpr('foo[5m:]')), 'foo[300000:0]');
  assert.equal(shape(parseExpr('foo[5m:30s] offset 1w @ 100')), 'foo[300000:30000] offset 604800000 @100000');
  assert.equal(shape(parseExpr('foo[500ms]')), 'foo[500]');
  assert.equal(shape(parseExpr('foo[1y]')), 'foo[31536000000]');
  assert.equal(shape(parseExpr("foo{a='b', c=`d\\e`}")), 'foo{a="b",c="d\\\\e"}');
  assert.equal(shape(parseExpr('foo{a="\\x41\\u00e9\\101\\n"}')), 'foo{a="AéA\\n"}');
  assert.equal(shape(parseExpr('node:cpu:rate5m')), 'node:cpu:rate5m');
  assert.equal(shape(parseExpr('sum')), 'sum');
});

test('aggregations sort and deduplicate grouping labels; parameters are kept', () => {
  assert.equal(shape(parseExpr('sum by (b, a, b) (x)')), 'sum by(a,b) (x)');
  assert.equal(shape(parseExpr('sum(x) without (z)')), 'sum without(z) (x)');
  assert.equal(shape(parseExpr('topk(3, x)')), 'topk by() (3, x)');
  assert.equal(shape(parseExpr('count_values("v", x)')), 'count_values by() ("v", x)');
  assert.equal(shape(parseExpr('SUM BY (a) (x)')), 'sum by(a) (x)');
  assert.equal(shape(parseExpr('sum by (on, sum, offset) (x)')), 'sum by(offset,on,sum) (x)');
});

test('vector matching is recorded and normalised', () => {
  assert.equal(shape(parseExpr('a / on(b) group_left(c) d')), '(a / many-to-one on(b)(c) d)');
  assert.equal(shape(parseExpr('a + ignoring(b) group_right d')), '(a + one-to-many ignoring(b) d)');
  assert.equal(shape(parseExpr('a > bool b')), '(a > bool one-to-one ignoring() b)');
  assert.equal(shape(parseExpr('a and on(x) b')), '(a and many-to-many on(x) b)');
  assert.equal(shape(parseExpr('a + 1')), '(a + 1)');
  assert.equal(shape(parseExpr('1 == bool 1')), '(1 == bool 1)');
});

test('number literals follow Go: hex, octal, Inf, NaN, exponents', () => {
  const value = (query: string): number => {
    const expr = parseExpr(query);
    assert.equal(expr.kind, 'NumberLiteral');
    return expr.kind === 'NumberLiteral' ? expr.value : NaN;
  };
  assert.equal(value('0x1f'), 31);
  assert.equal(value('010'), 8);
  assert.equal(value('09'), 9);
  assert.equal(value('1e3'), 1000);
  assert.equal(value('.5'), 0.5);
  assert.equal(value('5.'), 5);
  assert.equal(value('Inf'), Infinity);
  assert.equal(value('-inf'), -Infinity);
  assert.ok(Number.isNaN(value('NaN')));
  assert.equal(value('9223372036854775807'), 2 ** 63);
  assert.equal(value('99999999999999999999'), 1e20);
});

test('types follow the operands', () => {
  assert.equal(typeOf(parseExpr('1 + 1')), 'scalar');
  assert.equal(typeOf(parseExpr('x + 1')), 'vector');
  assert.equal(typeOf(parseExpr('x[5m]')), 'matrix');
  assert.equal(typeOf(parseExpr('x[5m:]')), 'matrix');
  assert.equal(typeOf(parseExpr('"s"')), 'string');
  assert.equal(typeOf(parseExpr('scalar(x)')), 'scalar');
  assert.equal(typeOf(parseExpr('time()')), 'scalar');
  assert.equal(typeOf(parseExpr('(rate(x[1m]))')), 'vector');
});

// Messages and positions checked against Prometheus 2.42's HTTP API.
const errorCases: readonly (readonly [string, string])[] = [
  ['', '1:1: parse error: no expression found in input'],
  ['# only a comment', '1:1: parse error: no expression found in input'],
  ['1 +', '1:4: parse error: unexpected end of input'],
  ['1 + + ', '1:7: parse error: unexpected end of input'],
  ['foo(bar)', '1:1: parse error: unknown function with name "foo"'],
  ['Rate(x[5m])', '1:1: parse error: unknown function with name "Rate"'],
  ['foo bar', '1:5: parse error: unexpected identifier "bar"'],
  ['1 2', '1:3: parse error: unexpected number "2"'],
  ['x "a"', '1:3: parse error: unexpected string "\\"a\\""'],
  ['sum by (a) (x) by (b)', '1:16: parse error: unexpected <by>'],
  ['foo{a="b"', '1:10: parse error: unexpected end of input inside braces'],
  ['foo{a="b"}}', "1:11: parse error: unexpected character: '}'"],
  ['foo{a}', '1:6: parse error: unexpected "}" in label matching, expected label matching operator'],
  ['foo{a=}', '1:7: parse error: unexpected "}" in label matching, expected string'],
  ['foo{=', '1:5: parse error: unexpected "=" in label matching, expected identifier or "}"'],
  ['x{a="b" c="d"}', '1:9: parse error: unexpected identifier "c" in label matching, expected "," or "}"'],
  ['foo{a=1}', "1:7: parse error: unexpected character inside braces: '1'"],
  ['(1', '1:3: parse error: unclosed left parenthesis'],
  ['sum(1,', '1:7: parse error: unclosed left parenthesis'],
  [') 1', "1:2: parse error: unexpected right parenthesis ')'"],
  ['x[5m', '1:5: parse error: unclosed left bracket'],
  ['x[5m]]', "1:6: parse error: unexpected right bracket ']'"],
  ['$', "1:1: parse error: unexpected character: '$'"],
  ['1_000', '1:1: parse error: bad number or duration syntax: "1"'],
  ['5m', '1:1: parse error: unexpected duration "5m"'],
  ['x[1.5m]', '1:3: parse error: not a valid duration string: "1.5m"'],
  ['foo[5]', '1:5: parse error: missing unit character in duration'],
  ['foo[0s]', '1:5: parse error: duration must be greater than 0'],
  ['foo offset 0s', '1:12: parse error: duration must be greater than 0'],
  ['foo offset', '1:11: parse error: unexpected end of input in offset, expected duration'],
  ['x offset a', '1:10: parse error: unexpected identifier "a" in offset, expected duration'],
  ['foo @', '1:6: parse error: unexpected end of input in @, expected timestamp'],
  ['x @ foo', '1:5: parse error: unexpected identifier "foo" in @, expected timestamp'],
  ['sum by', '1:7: parse error: unexpected end of input in grouping opts, expected "("'],
  ['"abc', '1:1: parse error: unterminated quoted string'],
  ['"a\\q"', "1:1: parse error: unknown escape sequence U+0071 'q'"],
  ["'a\\\"b'", "1:1: parse error: unknown escape sequence U+0022 '\"'"],
  ['1e400', '1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e400": value out of range'],
  ['sum(x, y)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2'],
  ['topk(x)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1'],
  ['rate(x)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
  ['rate(x[5m], 1)', '1:1: parse error: expected 1 argument(s) in call to "rate", got 2'],
  ['label_join(x, "a")', '1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 2'],
  ['day_of_month(x, y)', '1:1: parse error: expected at most 1 argument(s) in call to "day_of_month", got 2'],
  ['{a=""}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['{}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['x{__name__="y"}', '1:1: parse error: metric name must not be set twice: "x" or "y"'],
  ['foo[5m][5m]', '1:8: parse error: ranges only allowed for vector selectors'],
  ['(foo)[5m]', '1:6: parse error: ranges only allowed for vector selectors'],
  ['x offset 5m[1m]', '1:12: parse error: no offset modifiers allowed before range'],
  ['foo offset 1m offset 2m', '1:1: parse error: offset may not be set multiple times'],
  ['sum(x) offset 1m', '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
  ['foo @ 1 @ 2', '1:1: parse error: @ <timestamp> may not be set multiple times'],
  ['time() @ 1', '1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
  ['x @ Inf', '1:1: parse error: timestamp out of bounds for @ modifier: +Inf'],
  ['1 > 2', '1:3: parse error: comparisons between scalars must use BOOL modifier'],
  ['1 and 2', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
  ['1 + bool 2', '1:3: parse error: bool modifier can only be used on comparison operators'],
  ['a + on(b) group_left(b) c', '1:3: parse error: label "b" must not occur in ON and GROUP clause at once'],
  ['x and on(a) group_left y', '1:1: parse error: no grouping allowed for "and" operation'],
  ['count_values(1, x)', '1:14: parse error: expected type string in aggregation parameter, got scalar'],
  ['topk("a", x)', '1:6: parse error: expected type scalar in aggregation parameter, got string'],
  ['"a" + 1', '1:1: parse error: binary expression must contain only scalar and instant vector types'],
  ['- "a"', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"'],
  ['x[5m:1m][5m:1m]', '1:1: parse error: subquery is only allowed on instant vector, got matrix instead'],
  ['1 + on(a) x', '1:1: parse error: vector matching only allowed between instant vectors'],
  ['x{__name__="a"}\n + rate(x)', '1:1: parse error: metric name must not be set twice: "x" or "a"'],
  ['x +\n rate(y)', '2:7: parse error: expected type range vector in call to function "rate", got instant vector'],
];

test('parse errors carry Prometheus 2.42 messages and positions', () => {
  for (const [query, message] of errorCases) {
    assert.throws(() => parseExpr(query), (error: unknown) => {
      assert.ok(error instanceof ParseError, `${JSON.stringify(query)} throws a ParseError`);
      assert.equal(error.message, message, `message for ${JSON.stringify(query)}`);
      assert.equal(error.errorType, 'bad_data');
      assert.equal(error.code, 'PROMQL_PARSE_ERROR');
      return true;
    });
  }
});

test('columns count UTF-8 bytes, as Prometheus does', () => {
  assert.throws(() => parseExpr('foo{a="é"} bar'), { message: '1:13: parse error: unexpected identifier "bar"' });
});

test('parseDuration reads Prometheus durations and rejects bad ones', () => {
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2w'), 1_209_600_000);
  assert.equal(parseDuration('1d12h'), 129_600_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('1m1h'), { message: /not a valid duration string/ });
  assert.throws(() => parseDuration('-1m'), { message: /not a valid duration string/ });
  assert.throws(() => parseDuration(''), { message: /empty duration string/ });
  assert.throws(() => parseDuration('300y'), { message: /duration out of range/ });
});

test('deep nesting and huge queries are refused with a clear error', () => {
  const deep = `${'('.repeat(1100)}1${')'.repeat(1100)}`;
  assert.throws(() => parseExpr(deep), { message: /nests deeper than 1000 levels/ });
  const long = `x${'+x'.repeat(600_000)}`;
  assert.throws(() => parseExpr(long), { message: /longer than/ });
});
