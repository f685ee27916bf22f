import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMetricSelector, SelectorParseError, selectorCharactersMax } from '../../../src/monitor/web/index.ts';

/** Each selector and the matchers it parses to, printed `name<op>"value"`. */
const valid: readonly [string, string][] = [
  ['up', '__name__="up"'],
  ['up{job="keel"}', '__name__="up" job="keel"'],
  ['{job=~"ke.*", instance!="a", env!~"dev|test"}', 'job=~"ke.*" instance!="a" env!~"dev|test"'],
  ['foo{a="x",}', '__name__="foo" a="x"'],
  ['foo{a=`x\\q`}', '__name__="foo" a="x\\\\q"'],
  ["foo{a='x'}", '__name__="foo" a="x"'],
  ["foo{a='\\''}", '__name__="foo" a="\'"'],
  ['foo{a="\\u00e9\\x41\\101\\"\\n"}', '__name__="foo" a="éAA\\"\\n"'],
  ['foo{a="\\xc3\\xa9"}', '__name__="foo" a="é"'],
  ['  foo\n {a="x"} # trailing comment', '__name__="foo" a="x"'],
  ['foo{ a = "x" , b != "y" }', '__name__="foo" a="x" b!="y"'],
  ['a:b:c{x!~"y"}', '__name__="a:b:c" x!~"y"'],
  ['sum{by="x"}', '__name__="sum" by="x"'],
  ['{}', ''],
];

/** Each bad selector and Prometheus 2.42's error for it (checked against a real server). */
const invalid: readonly [string, string][] = [
  ['', '1:1: parse error: unexpected end of input'],
  ['up{', '1:4: parse error: unexpected end of input inside braces'],
  ['foo{a="\\q"}', "1:7: parse error: unknown escape sequence U+0071 'q'"],
  ['rate(foo[5m])', '1:5: parse error: unexpected "("'],
  ['foo bar', '1:5: parse error: unexpected identifier "bar"'],
  ['foo{a}', '1:6: parse error: unexpected "}" in label matching, expected label matching operator'],
  ['foo{0a="x"}', "1:5: parse error: unexpected character inside braces: '0'"],
  ['foo[5m]', '1:4: parse error: unexpected "["'],
  ['foo offset 5m', '1:5: parse error: unexpected <offset>'],
  ['{"foo"}', '1:2: parse error: unexpected string "\\"foo\\"" in label matching, expected identifier or "}"'],
  ['123', '1:1: parse error: unexpected number "123"'],
  ['foo{a="b"}{c="d"}', '1:11: parse error: unexpected "{"'],
  ['foo{a="b', '1:7: parse error: unterminated quoted string'],
  ['foo{a="x" b="y"}', '1:11: parse error: unexpected identifier "b" in label matching, expected "," or "}"'],
  ['foo{a="x"}}', "1:11: parse error: unexpected character: '}'"],
  ['foo{a=="x"}', '1:7: parse error: unexpected "=" in label matching, expected string'],
  ['foo{a="\\xZZ"}', "1:7: parse error: illegal character U+005A 'Z' in escape sequence"],
  ['foo{a="\\uD800"}', '1:7: parse error: escape sequence is an invalid Unicode code point'],
  ['foo{a="\\400"}', '1:7: parse error: escape sequence is an invalid Unicode code point'],
  ['foo{a="\\12"}', "1:7: parse error: illegal character U+0022 '\"' in escape sequence"],
  ['foo{a="x\\"}', '1:7: parse error: unterminated quoted string'],
  ['foo{a="\\', '1:7: parse error: escape sequence not terminated'],
  ['foo{a=`x', '1:7: parse error: unterminated raw string'],
  ['foo{a="x",,b="y"}', '1:11: parse error: unexpected "," in label matching, expected identifier or "}"'],
  ['bool', '1:1: parse error: unexpected <bool>'],
  ["foo{a='\\\"'}", "1:7: parse error: unknown escape sequence U+0022 '\"'"],
  ['Inf', '1:1: parse error: unexpected number "Inf"'],
  ['nan{}', '1:1: parse error: unexpected number "nan"'],
  ['-foo', '1:1: parse error: unexpected <op:->'],
  ['foo{é="x"}', "1:5: parse error: unexpected character inside braces: 'é'"],
  ['fooé', "1:4: parse error: unexpected character: 'é'"],
  ['foo{a="x\ny"}', '1:7: parse error: unterminated quoted string'],
  ['foo{a = ~"x"}', "1:9: parse error: unexpected character inside braces: '~'"],
  ['foo{a ! = "x"}', "1:7: parse error: unexpected character after '!' inside braces: ' '"],
  ['foo{a=`x`} and bar', '1:12: parse error: unexpected <op:and>'],
  ['foo{a="x"\n  b}', '2:3: parse error: unexpected identifier "b" in label matching, expected "," or "}"'],
];

describe('parseMetricSelector', () => {
  for (const [selector, expected] of valid) {
    it(`parses ${JSON.stringify(selector)}`, () => {
      assert.equal(parseMetricSelector(selector).map(String).join(' '), expected);
    });
  }

  for (const [selector, message] of invalid) {
    it(`refuses ${JSON.stringify(selector)} with Prometheus's message`, () => {
      assert.throws(() => parseMetricSelector(selector), (error: unknown) => {
        assert.ok(error instanceof SelectorParseError);
        assert.equal(error.message, message);
        return true;
      });
    });
  }

  it('reports a bad regular expression at its label, as Prometheus does', () => {
    assert.throws(() => parseMetricSelector('foo{a="x",b=~"("}'), { message: /^1:11: parse error: error parsing regexp: / });
  });

  it('counts columns in UTF-8 bytes, as Prometheus does', () => {
    assert.throws(() => parseMetricSelector('{a="é" b}'), { message: /^1:9: parse error: unexpected identifier "b"/ });
  });

  it('refuses a selector longer than its bound', () => {
    assert.throws(() => parseMetricSelector(`a${'b'.repeat(selectorCharactersMax)}`), { message: /longer than/ });
  });

  it('refuses bytes that are not UTF-8', () => {
    assert.throws(() => parseMetricSelector('foo{a="\\xff"}'), { message: '1:7: parse error: string is not valid UTF-8' });
  });
});
