import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels, Matcher, MemoryIndex } from '../../../src/monitor/tsdb/index.ts';
import type { MatchType } from '../../../src/monitor/tsdb/index.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';

/** Series 1..5 of one small fixture: `foo` is missing from 4 and 5. */
function fixture(): MemoryIndex {
  const index = new MemoryIndex();
  index.add(1, Labels.fromRecord({ __name__: 'up', foo: 'bar', job: 'api' }));
  index.add(2, Labels.fromRecord({ __name__: 'up', foo: 'baz', job: 'web' }));
  index.add(3, Labels.fromRecord({ __name__: 'up', foo: 'barbaz', job: 'web' }));
  index.add(4, Labels.fromRecord({ __name__: 'up', job: 'api' }));
  index.add(5, Labels.fromRecord({ __name__: 'down', job: 'db' }));
  return index;
}

const selectOne = (index: MemoryIndex, type: MatchType, name: string, value: string): number[] => index.select([new Matcher(type, name, value)]);

test('an empty-matching matcher also selects series that lack the label', () => {
  const index = fixture();
  assert.deepEqual(selectOne(index, '=', 'foo', ''), [4, 5]);
  assert.deepEqual(selectOne(index, '=~', 'foo', '.*'), [1, 2, 3, 4, 5]);
  assert.deepEqual(selectOne(index, '=~', 'foo', 'bar|'), [1, 4, 5]);
  assert.deepEqual(selectOne(index, '!=', 'foo', 'bar'), [2, 3, 4, 5]);
  assert.deepEqual(selectOne(index, '!~', 'foo', 'ba.'), [3, 4, 5]);
  assert.deepEqual(selectOne(index, '=~', 'nothing', 'x?'), [1, 2, 3, 4, 5]);
});

test('a matcher that rejects the empty value selects only series carrying the label', () => {
  const index = fixture();
  assert.deepEqual(selectOne(index, '!=', 'foo', ''), [1, 2, 3]);
  assert.deepEqual(selectOne(index, '=~', 'foo', '.+'), [1, 2, 3]);
  assert.deepEqual(selectOne(index, '!~', 'foo', ''), [1, 2, 3]);
  assert.deepEqual(selectOne(index, '!~', 'foo', '.*'), []);
  assert.deepEqual(selectOne(index, '=', 'nothing', 'x'), []);
});

test('regular expressions are anchored at both ends', () => {
  const index = fixture();
  assert.deepEqual(selectOne(index, '=~', 'foo', 'bar'), [1]);
  assert.deepEqual(selectOne(index, '=~', 'foo', 'ba'), []);
  assert.deepEqual(selectOne(index, '=~', 'foo', 'bar.*'), [1, 3]);
  assert.deepEqual(selectOne(index, '=~', 'foo', '.*baz'), [2, 3]);
  assert.deepEqual(selectOne(index, '!~', 'foo', 'bar'), [2, 3, 4, 5]);
});

test('several matchers intersect, and no matchers select nothing', () => {
  const index = fixture();
  assert.deepEqual(index.select([new Matcher('=', '__name__', 'up'), new Matcher('=', 'job', 'api')]), [1, 4]);
  assert.deepEqual(index.select([new Matcher('=', '__name__', 'up'), new Matcher('=', 'foo', '')]), [4]);
  assert.deepEqual(index.select([new Matcher('!=', 'job', 'web'), new Matcher('!~', 'foo', 'b.*')]), [4, 5]);
  assert.deepEqual(index.select([]), []);
});

test('label names, values and symbols are listed sorted', () => {
  const index = fixture();
  assert.deepEqual(index.labelNames(), ['__name__', 'foo', 'job']);
  assert.deepEqual(index.labelValues('foo'), ['bar', 'barbaz', 'baz']);
  assert.deepEqual(index.labelValues('missing'), []);
  assert.ok(index.symbols().includes('barbaz'));
  assert.deepEqual(index.postings('job', 'web'), [2, 3]);
});

test('deleting series updates postings, values and symbols', () => {
  const index = fixture();
  index.delete([3, 2, 99]);
  assert.equal(index.seriesCount, 3);
  assert.equal(index.labels(2), undefined);
  assert.deepEqual(index.postings('job', 'web'), []);
  assert.deepEqual(index.labelValues('foo'), ['bar']);
  assert.equal(index.symbols().includes('barbaz'), false);
  assert.deepEqual(index.allPostings(), [1, 4, 5]);
  index.add(2, Labels.fromRecord({ __name__: 'up', foo: 'again' }));
  assert.deepEqual(selectOne(index, '=', 'foo', 'again'), [2]);
});

test('duplicate and invalid series IDs are refused', () => {
  const index = fixture();
  assert.throws(() => index.add(1, Labels.fromRecord({ a: 'b' })), { code: 'TSDB_DUPLICATE_SERIES' });
  assert.throws(() => index.add(-1, Labels.fromRecord({ a: 'b' })), { code: 'TSDB_INVALID_SERIES_ID' });
  assert.throws(() => index.add(1.5, Labels.fromRecord({ a: 'b' })), { code: 'TSDB_INVALID_SERIES_ID' });
  assert.throws(() => index.add(7, Labels.empty), { code: 'TSDB_ASSERTION_FAILED' });
});

test('matchers validate their inputs and print in PromQL form', () => {
  assert.throws(() => new Matcher('==' as MatchType, 'a', 'b'), { code: 'TSDB_INVALID_MATCHER' });
  assert.throws(() => new Matcher('=', 'a-b', 'c'), { code: 'TSDB_INVALID_LABEL_NAME' });
  assert.throws(() => new Matcher('=~', 'a', '(?=x)'), { code: 'TSDB_UNSUPPORTED_REGEX' });
  assert.equal(new Matcher('=~', 'job', 'a"b').toString(), 'job=~"a\\"b"');
  assert.equal(new Matcher('!=', 'env', 'prod').matchesEmpty, true);
  assert.equal(new Matcher('=~', 'env', 'p.*').matchesEmpty, false);
});

test('selection agrees with a naive scan on random series and matchers', () => {
  const seed = testSeed(51);
  const random = seededRandom(seed);
  const names = ['__name__', 'job', 'env', 'code'];
  const values = ['a', 'b', 'ab', 'ba', 'a\nb', '', '\u00e9'];
  const patterns = ['', 'a', 'a|b', 'a.*', '.*', '.+', '(a|b)+', 'b?', '.*a', '(?i)A', '\\w+', 'a|', '[^a]*'];
  const index = new MemoryIndex();
  const series = new Map<number, Labels>();
  for (let id = 0; id < 400; id += 1) {
    const labels = Labels.fromPairs(names.map((name) => [name, name === '__name__' ? random.pick(['up', 'down']) : random.pick(values)]));
    if (labels.size === 0 || random.below(10) === 0) continue; // Leave gaps in the IDs.
    index.add(id, labels);
    series.set(id, labels);
  }
  for (let round = 0; round < 300; round += 1) {
    if (round % 50 === 49) {
      const doomed = [...series.keys()].filter(() => random.below(8) === 0);
      index.delete(doomed);
      for (const id of doomed) series.delete(id);
    }
    const matchers = Array.from({ length: 1 + random.below(3) }, () => {
      const type = random.pick(['=', '!=', '=~', '!~'] as const);
      return new Matcher(type, random.pick(names), type.length === 1 ? random.pick(values) : random.pick(patterns));
    });
    const expected = [...series].filter(([, labels]) => matchers.every((matcher) => matcher.matches(labels.get(matcher.name))))
      .map(([id]) => id).sort((left, right) => left - right);
    assert.deepEqual(index.select(matchers), expected, `seed ${seed}, round ${round}: ${matchers.join(', ')}`);
  }
});
