import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { hashMod, newRelabelConfig, relabel, RelabelError } from '../../../src/monitor/scrape/index.ts';
import type { RelabelConfigInput } from '../../../src/monitor/scrape/index.ts';
import { compileRegex, Labels, matchesCompiledRegex } from '../../../src/monitor/tsdb/index.ts';

/** Relabels a record through rules given as inputs; undefined when dropped. */
function apply(labels: Record<string, string>, ...rules: RelabelConfigInput[]): Record<string, string> | undefined {
  return relabel(Labels.fromRecord(labels), rules.map(newRelabelConfig))?.toRecord();
}

test('replace is the default action and writes $1 of (.*) into target_label', () => {
  assert.deepEqual(apply({ a: 'x', b: 'y' }, { sourceLabels: ['a', 'b'], targetLabel: 'c' }), { a: 'x', b: 'y', c: 'x;y' });
  assert.deepEqual(apply({ a: 'x', b: 'y' }, { sourceLabels: ['a', 'b'], separator: '-', targetLabel: 'c' }), { a: 'x', b: 'y', c: 'x-y' });
  assert.deepEqual(apply({ a: 'x' }, { sourceLabels: ['missing'], targetLabel: 'c', replacement: 'fixed' }), { a: 'x', c: 'fixed' });
  assert.deepEqual(apply({ a: 'x', c: 'old' }, { sourceLabels: ['missing'], targetLabel: 'c' }), { a: 'x' }, 'an empty result deletes the target');
  assert.deepEqual(apply({ a: 'foo' }, { sourceLabels: ['a'], regex: 'bar', targetLabel: 'c', replacement: 'z' }), { a: 'foo' }, 'no match, no change');
});

test('the regex is anchored at both ends and . does not match a newline', () => {
  assert.deepEqual(apply({ a: 'xfoox' }, { sourceLabels: ['a'], regex: 'foo', targetLabel: 'c', replacement: 'hit' }), { a: 'xfoox' });
  assert.deepEqual(apply({ a: 'foo|bar' }, { sourceLabels: ['a'], regex: 'foo|bar', targetLabel: 'c', replacement: 'hit' }), { a: 'foo|bar' });
  assert.deepEqual(apply({ a: 'bar' }, { sourceLabels: ['a'], regex: 'foo|bar', targetLabel: 'c', replacement: 'hit' }), { a: 'bar', c: 'hit' });
  assert.deepEqual(apply({ a: 'x\ny' }, { sourceLabels: ['a'], regex: 'x.y', targetLabel: 'c', replacement: 'hit' }), { a: 'x\ny' });
  assert.deepEqual(apply({ a: 'x\ny' }, { sourceLabels: ['a'], regex: '(?s)x.y', targetLabel: 'c', replacement: 'hit' }), { a: 'x\ny', c: 'hit' });
});

test('templates follow Go’s regexp.Expand: $1, ${1}, named groups, $$ and longest names', () => {
  const base = { a: 'node-7:9100' };
  const regex = '(?P<host>[a-z]+)-(\\d+):(\\d+)';
  const expand = (replacement: string): string | undefined => apply(base, { sourceLabels: ['a'], regex, targetLabel: 'out', replacement })?.out;
  assert.equal(expand('$1'), 'node');
  assert.equal(expand('${2}x'), '7x');
  assert.equal(expand('$2x'), undefined, '$2x names the missing group "2x", so the result is empty');
  assert.equal(expand('${host}/$3'), 'node/9100');
  assert.equal(expand('$host.$3'), 'node.9100');
  assert.equal(expand('$$1'), '$1');
  assert.equal(expand('$9'), undefined, 'a group that does not exist expands to nothing');
  assert.equal(expand('a$'), 'a$', 'a $ starting no name stays literal');
  assert.equal(expand('$01'), undefined, 'a leading zero makes a name, not a number');
  assert.deepEqual(apply(base, { sourceLabels: ['a'], regex, targetLabel: 'l_${host}', replacement: '$3' }), { ...base, l_node: '9100' });
  assert.deepEqual(apply(base, { sourceLabels: ['a'], regex, targetLabel: '${3}bad', replacement: 'x' }), base, 'an invalid expanded target name is skipped');
});

test('keep and drop decide on the joined source values', () => {
  const labels = { job: 'api', env: 'prod' };
  assert.deepEqual(apply(labels, { action: 'keep', sourceLabels: ['job', 'env'], regex: 'api;prod' }), labels);
  assert.equal(apply(labels, { action: 'keep', sourceLabels: ['job'], regex: 'web' }), undefined);
  assert.equal(apply(labels, { action: 'drop', sourceLabels: ['env'], regex: 'pr.*' }), undefined);
  assert.deepEqual(apply(labels, { action: 'drop', sourceLabels: ['env'], regex: 'dev' }), labels);
  assert.equal(apply(labels, { action: 'keep', sourceLabels: ['missing'], regex: '.+' }), undefined, 'a missing label joins as the empty string');
  assert.deepEqual(apply(labels, { action: 'KEEP', sourceLabels: ['job'], regex: 'api' }), labels, 'actions are case-insensitive');
});

test('keepequal and dropequal compare the joined source values with target_label’s value', () => {
  const same = { a: 'x', b: 'x' };
  const different = { a: 'x', b: 'y' };
  assert.deepEqual(apply(same, { action: 'keepequal', sourceLabels: ['a'], targetLabel: 'b' }), same);
  assert.equal(apply(different, { action: 'keepequal', sourceLabels: ['a'], targetLabel: 'b' }), undefined);
  assert.equal(apply(same, { action: 'dropequal', sourceLabels: ['a'], targetLabel: 'b' }), undefined);
  assert.deepEqual(apply(different, { action: 'dropequal', sourceLabels: ['a'], targetLabel: 'b' }), different);
});

test('labelmap copies matching label names through the replacement; labeldrop and labelkeep filter names', () => {
  const labels = { __meta_kubernetes_pod_label_app: 'web', __meta_kubernetes_pod_label_tier: 'fe', job: 'k' };
  assert.deepEqual(apply(labels, { action: 'labelmap', regex: '__meta_kubernetes_pod_label_(.+)' }), { ...labels, app: 'web', tier: 'fe' });
  assert.deepEqual(apply(labels, { action: 'labelmap', regex: '__meta_kubernetes_pod_label_(.+)', replacement: 'pod_$1' }), { ...labels, pod_app: 'web', pod_tier: 'fe' });
  assert.deepEqual(apply(labels, { action: 'labeldrop', regex: '__meta_.*' }), { job: 'k' });
  assert.deepEqual(apply(labels, { action: 'labelkeep', regex: '__meta_.*_app|job' }), { __meta_kubernetes_pod_label_app: 'web', job: 'k' });
});

test('lowercase and uppercase map the joined value with Go’s one-to-one case mappings', () => {
  assert.deepEqual(apply({ a: 'MiXeD', b: 'Ünïcode' }, { action: 'lowercase', sourceLabels: ['a', 'b'], targetLabel: 'c' }), { a: 'MiXeD', b: 'Ünïcode', c: 'mixed;ünïcode' });
  assert.deepEqual(apply({ a: 'straße' }, { action: 'uppercase', sourceLabels: ['a'], targetLabel: 'c' }), { a: 'straße', c: 'STRAßE' }, 'ß has no one-to-one upper case');
});

/** Prometheus's documented hashmod: MD5 of the value; its last 8 bytes, big-endian, modulo the modulus. */
function expectedHashMod(value: string, modulus: bigint): bigint {
  const digest = createHash('md5').update(Buffer.from(value, 'utf8')).digest('hex');
  return BigInt(`0x${digest.slice(16)}`) % modulus;
}

test('hashmod equals Prometheus 2.42 on recorded targets and the documented algorithm elsewhere', () => {
  // Read from a real Prometheus 2.42's /api/v1/targets with hashmod rules on these addresses.
  const recorded: [string, bigint, string][] = [
    ['127.0.0.1:9100', 10n, '0'], ['node-a:9100', 10n, '9'], ['db.example.com:5432', 10n, '7'], ['x', 10n, '6'],
    ['127.0.0.1:9100', 18446744073709551615n, '2676120102455581150'], ['x', 18446744073709551615n, '17710500428000290726'],
    ['127.0.0.1:9100;hm', 7n, '3'], ['node-a:9100;hm', 7n, '5'], ['db.example.com:5432;hm', 7n, '3'], ['x;hm', 7n, '4'],
  ];
  for (const [value, modulus, expected] of recorded) {
    const result = apply({ v: value }, { action: 'hashmod', sourceLabels: ['v'], modulus, targetLabel: 'shard' });
    assert.equal(result?.shard, expected, `${value} mod ${modulus}`);
  }
  for (let index = 0; index < 200; index += 1) {
    const value = `target-${index}.example:${9000 + index}`;
    const modulus = BigInt(index + 1);
    assert.equal(hashMod(value, modulus), expectedHashMod(value, modulus), value);
  }
});

test('rules apply in order, each seeing the labels the previous one left', () => {
  const result = apply(
    { __address__: 'db-3:5432' },
    { sourceLabels: ['__address__'], regex: '([^:]+):.*', targetLabel: 'host' },
    { sourceLabels: ['host'], regex: '(\\w+)-\\d+', targetLabel: 'role' },
    { action: 'drop', sourceLabels: ['role'], regex: 'cache' },
    { action: 'labeldrop', regex: 'host' },
  );
  assert.deepEqual(result, { __address__: 'db-3:5432', role: 'db' });
});

test('RE2 syntax is translated faithfully: classes, flags, quoting, repetition', () => {
  const matches = (regex: string, value: string): boolean => apply({ a: value }, { action: 'keep', sourceLabels: ['a'], regex }) !== undefined;
  assert.ok(matches('[[:alpha:]]+\\d{2}', 'abc12'));
  assert.ok(!matches('[[:alpha:]]+\\d{2}', 'abc123'));
  assert.ok(matches('\\Q.*+\\E', '.*+'));
  assert.ok(!matches('\\Q.*+\\E', 'abc'));
  assert.ok(matches('(?i)ab(?-i)c', 'ABc'));
  assert.ok(!matches('(?i)ab(?-i)c', 'ABC'));
  assert.ok(matches('a\\sb', 'a\tb'));
  assert.ok(!matches('a\\sb', 'a\u00a0b'), 'RE2’s \\s is ASCII only');
  assert.ok(matches('a{,2}', 'a{,2}'), 'a { starting no repetition is a literal');
  assert.ok(matches('\\x{1F600}|\\pL+', '\u{1F600}'));
  assert.ok(matches('[^\\d]x', 'ax'));
  assert.deepEqual(apply({ a: 'aaa' }, { sourceLabels: ['a'], regex: '(a+?)(a*)', targetLabel: 'b' }), { a: 'aaa', b: 'a' });
  assert.deepEqual(apply({ a: 'aaa' }, { sourceLabels: ['a'], regex: '(?U)(a+)(a*)', targetLabel: 'b' }), { a: 'aaa', b: 'a' }, 'U swaps greediness');
  assert.deepEqual(apply({ a: 'line1\nline2' }, { sourceLabels: ['a'], regex: '(?m)(?s)(.*)^line2$', targetLabel: 'b' }), { a: 'line1\nline2', b: 'line1\n' });
});

test('relabel regexes agree with the store’s matcher regexes on full matches', () => {
  const patterns = ['api|web', 'prefix.*', '.+', '[a-c]{2,3}', '(?i)Foo(bar)?', 'x\\d+y', '[^/]+', '(a|b)*c', '\\w+\\.example\\.(com|org)', 'é+'];
  const values = ['api', 'web', 'apis', 'prefix', 'prefixed', '', 'ab', 'abc', 'abcd', 'FOOBAR', 'foo', 'x12y', 'a/b', 'ababc', 'c', 'db.example.org', 'éé', 'e'];
  for (const pattern of patterns) {
    const matcher = compileRegex(pattern);
    for (const value of values) {
      const kept = apply({ a: value === '' ? 'placeholder' : value }, { action: 'keep', sourceLabels: [value === '' ? 'missing' : 'a'], regex: pattern }) !== undefined;
      assert.equal(kept, matchesCompiledRegex(matcher, value), `${pattern} on ${JSON.stringify(value)}`);
    }
  }
});

test('invalid rules fail with Prometheus’s messages', () => {
  const cases: [RelabelConfigInput, string | RegExp][] = [
    [{ action: 'hashmod', targetLabel: 'x' }, 'relabel configuration for hashmod requires non-zero modulus'],
    [{ action: 'replace' }, "relabel configuration for replace action requires 'target_label' value"],
    [{ action: 'lowercase', sourceLabels: ['a'] }, "relabel configuration for lowercase action requires 'target_label' value"],
    [{ targetLabel: 'a-b' }, `"a-b" is invalid 'target_label' for replace action`],
    [{ targetLabel: '$1-x' }, `"$1-x" is invalid 'target_label' for replace action`],
    [{ action: 'hashmod', modulus: 2n, targetLabel: '$1' }, `"$1" is invalid 'target_label' for hashmod action`],
    [{ action: 'uppercase', sourceLabels: ['a'], targetLabel: 'b', replacement: 'x' }, "'replacement' can not be set for uppercase action"],
    [{ action: 'labelmap', replacement: 'a.b' }, `"a.b" is invalid 'replacement' for labelmap action`],
    [{ action: 'keepequal', sourceLabels: ['a'], targetLabel: 'b', regex: '(.*)' }, "keepequal action requires only 'source_labels' and `target_label`, and no other fields"],
    [{ action: 'dropequal', sourceLabels: ['a'], targetLabel: 'b', separator: ',' }, "dropequal action requires only 'source_labels' and `target_label`, and no other fields"],
    [{ action: 'labeldrop', regex: 'a', sourceLabels: ['a'] }, "labeldrop action requires only 'regex', and no other fields"],
    [{ action: 'labelkeep', regex: 'a', targetLabel: 'x' }, "labelkeep action requires only 'regex', and no other fields"],
    [{ action: 'rename' }, 'unknown relabel action "rename"'],
    [{ sourceLabels: ['0x'], targetLabel: 'a' }, '"0x" is not a valid label name'],
    [{ regex: '(a', targetLabel: 'a' }, /missing closing \)/],
    [{ regex: '(a)\\1', targetLabel: 'a' }, /backreference/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => newRelabelConfig(input), (error: unknown) => {
      assert.ok(error instanceof RelabelError, String(error));
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      return true;
    }, JSON.stringify(input, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
  }
});

test('a rule writing an invalid metric name makes relabel throw rather than return a broken set', () => {
  const rule = newRelabelConfig({ targetLabel: '__name__', replacement: 'not-a-metric' });
  assert.throws(() => relabel(Labels.fromRecord({ __name__: 'up' }), [rule]), { code: 'TSDB_INVALID_METRIC_NAME' });
});
