import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRegex, matchesCompiledRegex } from '../../../src/monitor/tsdb/index.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';

/** [pattern, value, full match under RE2 with Prometheus's `^(?s:...)$` wrapping]. */
const semantics: [string, string, boolean][] = [
  ['foo', 'foo', true],
  ['foo', 'foobar', false], // Anchored at the end...
  ['foo', 'xfoo', false], // ...and at the start.
  ['a|b', 'ab', false], // The anchors wrap the whole alternation.
  ['', '', true],
  ['', 'a', false],
  ['x*', '', true],
  ['foo.*', 'foo\nbar', true], // `.` matches a newline by default.
  ['(?-s:foo.*)', 'foo\nbar', false],
  ['(?-s).', '\n', false],
  ['.', '\ud83d\ude00', true], // `.` is one code point, not one UTF-16 unit.
  ['..', '\ud83d\ude00', false],
  ['[^a]', '\n', true],
  ['\\s', '\t', true],
  ['\\s', '\u000b', false], // RE2's \s is [\t\n\f\r ], without \v...
  ['\\s', '\u00a0', false], // ...and ASCII only.
  ['\\d+', '\u0661\u0662', false],
  ['\\w+', '\u00e9', false],
  ['\\W', '\u00e9', true],
  ['[\\d-z]+', '5-z', true], // A Perl class cannot start a range, so `-` is literal here.
  ['[[:alpha:]]+', 'abcXYZ', true],
  ['[[:^digit:]]', '5', false],
  ['[[:^digit:]]', 'x', true],
  ['[[:word:]]+', 'a_1', true],
  ['\\pL+', 'h\u00e9llo', true],
  ['\\p{Greek}+', '\u03b1\u03b2\u03b3', true],
  ['\\p{Greek}+', 'abc', false],
  ['\\PL', 'a', false],
  ['\\p{^L}', '1', true],
  ['[\\p{Lu}\\d]+', 'A1B2', true],
  ['(?i)foo', 'FoO', true],
  ['(?:x|y)z', 'yz', true], // A plain non-capturing group, as RE2 and Prometheus accept.
  ['(?:x|y)z', 'z', false],
  ['(?i:k)', '\u212a', true], // Whole-pattern (?i) uses Unicode simple case folding: the Kelvin sign.
  ['a(?i)b', 'aB', true],
  ['a(?i)b', 'AB', false],
  ['a(?i)b|c', 'C', true], // A flag set mid-group lasts to the end of the group, across `|`.
  ['(?i)[a-c]+', 'AbC', true],
  ['(x(?i)y)z', 'xYz', true],
  ['(x(?i)y)z', 'xYZ', false], // The flag ends with its group.
  ['(?m)a$\\n^b', 'a\nb', true],
  ['(?m)^b$', 'a\nb', false], // Still a full match of the whole value.
  ['\\Qa.b\\E', 'a.b', true],
  ['\\Qa.b\\E', 'axb', false],
  ['\\Qa.*', 'a.*', true], // \Q without \E quotes to the end.
  ['a{,3}', 'a{,3}', true], // Not a repeat in RE2: literal text.
  ['a{', 'a{', true],
  ['a{2}', 'aa', true],
  ['a{2,}', 'aaaa', true],
  ['a{2,3}', 'aaaa', false],
  ['[]a]+', ']a]', true], // `]` first in a class is literal.
  ['[^]a]', 'b', true],
  ['[a-]+', 'a-', true],
  ['\\x41\\x{42}', 'AB', true],
  ['\\101', 'A', true], // Octal.
  ['\\0', '\u0000', true],
  ['\\.\\-\\_', '.-_', true], // Any ASCII punctuation may be escaped.
  ['\\bfoo\\b', 'foo', true],
  ['\\Afoo\\z', 'foo', true],
  ['^foo$', 'foo', true],
  ['a^b', 'ab', false],
  ['^*a', 'a', true], // RE2 lets an empty-width assertion repeat; JavaScript needs a group for it.
  ['(?U)a+', 'aaa', true],
  ['(?P<first>a)(?<second>b)', 'ab', true],
  ['(a|b)*c', 'ababc', true],
  ['a.c', 'a\u00e9c', true],
];

test('patterns match with RE2 semantics, fully anchored', () => {
  for (const [pattern, value, expected] of semantics) {
    const compiled = compileRegex(pattern);
    assert.equal(matchesCompiledRegex(compiled, value), expected, `${JSON.stringify(pattern)} on ${JSON.stringify(value)}`);
  }
});

/** [pattern, expected code]: RE2 rejects these; JavaScript accepts some of them. */
const rejections: [string, string][] = [
  ['(?=x)', 'TSDB_UNSUPPORTED_REGEX'],
  ['(?!x)', 'TSDB_UNSUPPORTED_REGEX'],
  ['(?<=x)y', 'TSDB_UNSUPPORTED_REGEX'],
  ['(?<!x)y', 'TSDB_UNSUPPORTED_REGEX'],
  ['(a)\\1', 'TSDB_UNSUPPORTED_REGEX'],
  ['\\9', 'TSDB_UNSUPPORTED_REGEX'],
  ['(?<n>a)\\k<n>', 'TSDB_UNSUPPORTED_REGEX'],
  ['(?P<n>a)(?P=n)', 'TSDB_UNSUPPORTED_REGEX'],
  ['(?>a)', 'TSDB_UNSUPPORTED_REGEX'],
  ['\\u0041', 'TSDB_UNSUPPORTED_REGEX'],
  ['\\cA', 'TSDB_UNSUPPORTED_REGEX'],
  ['(', 'TSDB_INVALID_REGEX'],
  [')', 'TSDB_INVALID_REGEX'],
  ['a)|(b', 'TSDB_INVALID_REGEX'], // Must not slip through the wrapping group.
  ['a**', 'TSDB_INVALID_REGEX'],
  ['a++', 'TSDB_INVALID_REGEX'], // No possessive quantifiers.
  ['a{2}{3}', 'TSDB_INVALID_REGEX'],
  ['*a', 'TSDB_INVALID_REGEX'],
  ['a|*', 'TSDB_INVALID_REGEX'],
  ['{2}', 'TSDB_INVALID_REGEX'],
  ['(?i)*', 'TSDB_INVALID_REGEX'],
  ['[a', 'TSDB_INVALID_REGEX'],
  ['[]', 'TSDB_INVALID_REGEX'],
  ['[z-a]', 'TSDB_INVALID_REGEX'],
  ['[a-\\d]', 'TSDB_INVALID_REGEX'],
  ['a{1001}', 'TSDB_INVALID_REGEX'],
  ['a{3,2}', 'TSDB_INVALID_REGEX'],
  ['\\', 'TSDB_INVALID_REGEX'],
  ['\\Z', 'TSDB_INVALID_REGEX'],
  ['\\e', 'TSDB_INVALID_REGEX'],
  ['[\\b]', 'TSDB_INVALID_REGEX'],
  ['[[:nope:]]', 'TSDB_INVALID_REGEX'],
  ['(?P<>x)', 'TSDB_INVALID_REGEX'],
  ['(?P<a>x)(?P<a>y)', 'TSDB_INVALID_REGEX'],
  ['(?i', 'TSDB_INVALID_REGEX'],
  ['(?)', 'TSDB_INVALID_REGEX'],
  ['(?i-)', 'TSDB_INVALID_REGEX'],
  ['(?x)a', 'TSDB_INVALID_REGEX'],
  ['(?#comment)', 'TSDB_INVALID_REGEX'],
  ['\\p{Nope}', 'TSDB_INVALID_REGEX'],
  ['\\xZZ', 'TSDB_INVALID_REGEX'],
  ['\\x{110000}', 'TSDB_INVALID_REGEX'],
  ['('.repeat(1001) + ')'.repeat(1001), 'TSDB_INVALID_REGEX'],
];

test('constructs outside RE2 are refused with a clear code and message', () => {
  for (const [pattern, code] of rejections) {
    assert.throws(() => compileRegex(pattern), (error: unknown) => {
      assert.equal((error as { code?: string }).code, code, JSON.stringify(pattern));
      assert.match((error as Error).message, /^Regular expression .*: .* \(at offset \d+\)\.$/s);
      return true;
    }, JSON.stringify(pattern));
  }
});

test('fast paths are found for literal alternations, prefixes and match-alls', () => {
  const cases: [string, string][] = [
    ['foo', 'set'],
    ['a|b|c', 'set'],
    ['(foo|bar)', 'set'],
    ['foo|', 'set'],
    ['', 'set'],
    ['foo.*', 'prefix'],
    ['(foo).*', 'prefix'],
    ['.*', 'any'],
    ['.+', 'non-empty'],
    ['(?i)foo', 'regex'],
    ['foo(?-s:.*)', 'regex'],
    ['a.*b', 'regex'],
    ['a|b.*', 'regex'],
  ];
  for (const [pattern, kind] of cases) assert.equal(compileRegex(pattern).fastPath.kind, kind, JSON.stringify(pattern));
  const set = compileRegex('x|yz|').fastPath;
  assert.ok(set.kind === 'set');
  assert.deepEqual([...set.values].sort(), ['', 'x', 'yz']);
});

test('fast paths agree with the compiled regular expression on random values', () => {
  const seed = testSeed(41);
  const random = seededRandom(seed);
  const patterns = ['foo', 'a|b|c', '(ab|ba)', 'foo|', 'fo.*', '.*', '.+', 'a\\.b|c', '\\Qx|y\\E'];
  const alphabet = ['f', 'o', 'a', 'b', 'c', '.', '|', 'x', 'y', '\n', '\u00e9'];
  for (const pattern of patterns) {
    const compiled = compileRegex(pattern);
    assert.notEqual(compiled.fastPath.kind, 'regex', pattern);
    for (let index = 0; index < 500; index += 1) {
      const value = Array.from({ length: random.below(5) }, () => random.pick(alphabet)).join('');
      assert.equal(matchesCompiledRegex(compiled, value), compiled.regExp.test(value), `seed ${seed}: ${pattern} on ${JSON.stringify(value)}`);
    }
  }
});
