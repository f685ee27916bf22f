import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatDurationMs, formatFloat, formatFloatExponent, formatGoFloat, LiteralError, parseDurationMs, parseNumber, unquoteString,
} from '../../../src/monitor/promql/_literals.ts';
import { compileAnchoredGoRegex, expandGoTemplate, UnsupportedRegexError } from '../../../src/monitor/promql/_go-regex.ts';
import { quantile, bucketQuantile } from '../../../src/monitor/promql/quantile.ts';

test('floats format like Go', () => {
  assert.equal(formatFloat(1e21), '1000000000000000000000');
  assert.equal(formatFloat(1.5e-7), '0.00000015');
  assert.equal(formatFloat(-1.25e-10), '-0.000000000125');
  assert.equal(formatFloat(123.456), '123.456');
  assert.equal(formatFloat(Infinity), '+Inf');
  assert.equal(formatFloat(NaN), 'NaN');
  assert.equal(formatFloatExponent(1e21), '1e+21');
  assert.equal(formatFloatExponent(1.5e-7), '1.5e-07');
  assert.equal(formatFloatExponent(1.234e100), '1.234e+100');
  assert.equal(formatGoFloat(1e6), '1e+06');
  assert.equal(formatGoFloat(123456), '123456');
  assert.equal(formatGoFloat(0.0001), '0.0001');
  assert.equal(formatGoFloat(0.00001), '1e-05');
});

test('durations parse and print like Prometheus model.Duration', () => {
  assert.equal(parseDurationMs('1y2w3d4h5m6s7ms'), 365 * 86_400_000 + 2 * 604_800_000 + 3 * 86_400_000 + 4 * 3_600_000 + 5 * 60_000 + 6000 + 7);
  assert.equal(formatDurationMs(5_400_000), '1h30m');
  assert.equal(formatDurationMs(0), '0s');
  assert.equal(formatDurationMs(1500), '1s500ms');
  assert.throws(() => parseDurationMs('5'), LiteralError);
  assert.throws(() => parseDurationMs('1.5h'), { message: 'not a valid duration string: "1.5h"' });
});

test('numbers parse like Go ParseInt(base 0) then ParseFloat', () => {
  assert.equal(parseNumber('0755'), 493);
  assert.equal(parseNumber('0X10'), 16);
  assert.equal(parseNumber('1.5e3'), 1500);
  assert.equal(parseNumber('infinity'), Infinity);
  assert.throws(() => parseNumber('1e999'), { message: /value out of range/ });
  assert.throws(() => parseNumber('abc'), { message: /invalid syntax/ });
});

test('strings unquote with Go escapes', () => {
  assert.equal(unquoteString('"a\\tb\\\\c\\"d"'), 'a\tb\\c"d');
  assert.equal(unquoteString("'it\\'s'"), "it's");
  assert.equal(unquoteString('"\\u00e9\\U0001F600\\x41\\101"'), 'é😀AA');
  assert.equal(unquoteString('`raw \\n`'), 'raw \\n');
  assert.equal(unquoteString('""'), '');
  assert.throws(() => unquoteString('"abc'), { message: 'unterminated quoted string' });
  assert.throws(() => unquoteString('"abc\\"'), { message: 'unterminated quoted string' });
  assert.throws(() => unquoteString('"\\z"'), { message: "unknown escape sequence U+007A 'z'" });
  assert.throws(() => unquoteString('"\\xZZ"'), { message: "illegal character U+005A 'Z' in escape sequence" });
  assert.throws(() => unquoteString('"\\uD800"'), { message: 'escape sequence is an invalid Unicode code point' });
  assert.throws(() => unquoteString('"\\4"'), { message: 'escape sequence not terminated' });
});

test('RE2 patterns translate with their capture groups', () => {
  assert.deepEqual([...compileAnchoredGoRegex('(a+)(b*)').exec('aab')!], ['aab', 'aa', 'b']);
  assert.equal(compileAnchoredGoRegex('(?P<x>[[:digit:]]+)-\\d').exec('12-3')?.groups?.['x'], '12');
  assert.equal(compileAnchoredGoRegex('a.c').exec('a\nc'), null);
  assert.ok(compileAnchoredGoRegex('(?s)a.c').exec('a\nc'));
  assert.ok(compileAnchoredGoRegex('(?i)ABC').exec('abc'));
  assert.ok(compileAnchoredGoRegex('a{2}\\-{').exec('aa-{'));
  assert.ok(compileAnchoredGoRegex('\\pL+').exec('éa'));
  assert.ok(compileAnchoredGoRegex('\\Q.*\\E').exec('.*'));
  assert.equal(compileAnchoredGoRegex('\\Q.*\\E').exec('ab'), null);
  assert.throws(() => compileAnchoredGoRegex('('), { code: 'TSDB_INVALID_REGEX' });
  assert.throws(() => compileAnchoredGoRegex('a(?i:b)'), UnsupportedRegexError);
});

test('templates expand like Go regexp.Expand', () => {
  const match = compileAnchoredGoRegex('(a)(?P<name>b)(c)?').exec('ab')!;
  assert.equal(expandGoTemplate('$1-${name}-$2-[$3]', match), 'a-b-b-[]');
  assert.equal(expandGoTemplate('$1x|${1}x|$$1|$|$-', match), '|ax|$1|$|$-');
  assert.equal(expandGoTemplate('$01|$name', match), '|b');
});

test('quantile helpers handle edge cases as Prometheus does', () => {
  assert.equal(quantile(0.5, [3, 1, 2]), 2);
  assert.ok(Number.isNaN(quantile(0.5, [])));
  // NaN sorts first, so it only reaches quantiles near 0.
  assert.ok(Number.isNaN(quantile(0.25, [NaN, 1, 2, 3])));
  assert.equal(quantile(0.5, [NaN, 1, 2, 3]), 1.5);
  assert.ok(Number.isNaN(quantile(0, [NaN, 1])));
  assert.equal(bucketQuantile(0.5, [{ upperBound: Infinity, count: 10 }, { upperBound: 1, count: 4 }, { upperBound: 2, count: 8 }]), 1.25);
  assert.ok(Number.isNaN(bucketQuantile(0.5, [{ upperBound: 1, count: 4 }])));
});
