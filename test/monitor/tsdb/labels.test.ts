import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareStrings, isValidLabelName, isValidMetricName, Labels } from '../../../src/monitor/tsdb/index.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';
import type { Random } from '../helpers/random.ts';

test('labels are sorted by name and empty values are dropped', () => {
  const labels = Labels.fromRecord({ zone: 'a', __name__: 'up', Alpha: 'x', job: 'keel', empty: '' });
  assert.deepEqual([...labels].map((label) => label.name), ['Alpha', '__name__', 'job', 'zone']);
  assert.equal(labels.size, 4);
  assert.equal(labels.has('empty'), false);
  assert.equal(labels.get('empty'), '');
  assert.equal(labels.get('job'), 'keel');
  assert.equal(labels.metricName(), 'up');
});

test('invalid names, duplicate names and bad values are refused with codes', () => {
  assert.throws(() => Labels.fromRecord({ '0day': 'x' }), { code: 'TSDB_INVALID_LABEL_NAME' });
  assert.throws(() => Labels.fromRecord({ 'a-b': 'x' }), { code: 'TSDB_INVALID_LABEL_NAME' });
  assert.throws(() => Labels.fromRecord({ '': 'x' }), { code: 'TSDB_INVALID_LABEL_NAME' });
  assert.throws(() => Labels.fromPairs([['a', '1'], ['a', '2']]), { code: 'TSDB_DUPLICATE_LABEL_NAME' });
  assert.throws(() => Labels.fromPairs([['a', ''], ['a', '2']]), { code: 'TSDB_DUPLICATE_LABEL_NAME' });
  assert.throws(() => Labels.fromRecord({ __name__: 'not-a-metric' }), { code: 'TSDB_INVALID_METRIC_NAME' });
  assert.throws(() => Labels.fromRecord({ a: 'lone \ud800 surrogate' }), { code: 'TSDB_INVALID_LABEL_VALUE' });
  assert.equal(Labels.fromRecord({ a: 'pair \ud83d\ude00 ok' }).get('a'), 'pair \ud83d\ude00 ok');
});

test('name validators follow the Prometheus patterns', () => {
  assert.ok(isValidLabelName('_private'));
  assert.ok(isValidLabelName('A9_'));
  assert.equal(isValidLabelName('a:b'), false);
  assert.ok(isValidMetricName('job:rate5m:sum'));
  assert.equal(isValidMetricName('9lives'), false);
});

test('toString gives the PromQL form with escaped values', () => {
  assert.equal(Labels.fromRecord({ __name__: 'up', job: 'a"b\\c\nd', env: 'x' }).toString(), 'up{env="x", job="a\\"b\\\\c\\nd"}');
  assert.equal(Labels.fromRecord({ __name__: 'up' }).toString(), 'up');
  assert.equal(Labels.fromRecord({ job: 'x' }).toString(), '{job="x"}');
  assert.equal(Labels.empty.toString(), '{}');
});

test('with() and without() return new sets', () => {
  const labels = Labels.fromRecord({ a: '1', b: '2' });
  assert.equal(labels.with('c', '3').toString(), '{a="1", b="2", c="3"}');
  assert.equal(labels.with('a', '9').get('a'), '9');
  assert.equal(labels.with('a', '').has('a'), false);
  assert.equal(labels.without('a').toString(), '{b="2"}');
  assert.equal(labels.toString(), '{a="1", b="2"}');
});

test('the hash is stable across runs and releases', () => {
  // Golden values: if these change, every persisted hash (and the series sharding they drive) breaks.
  assert.equal(Labels.empty.hash(), 6_002_711_344_597_577);
  assert.equal(Labels.fromRecord({ __name__: 'up', job: 'keel' }).hash(), 8_094_477_825_484_865);
  assert.equal(Labels.fromRecord({ a: 'bc' }).hash() === Labels.fromRecord({ ab: 'c' }).hash(), false);
});

function randomText(random: Random, alphabet: readonly string[]): string {
  return Array.from({ length: 1 + random.below(6) }, () => random.pick(alphabet)).join('');
}

test('equal sets hash equally and 20,000 distinct sets do not collide', () => {
  const seed = testSeed(21);
  const random = seededRandom(seed);
  const byString = new Map<string, number>();
  const hashes = new Set<number>();
  for (let index = 0; index < 20_000; index += 1) {
    const labels = Labels.fromRecord({ __name__: `m${random.below(50)}`, job: `j${random.below(20)}`, i: `${index}` });
    const hash = labels.hash();
    assert.ok(Number.isSafeInteger(hash) && hash >= 0);
    const reordered = Labels.fromPairs([...labels].reverse().map((label) => [label.name, label.value]));
    assert.equal(reordered.hash(), hash);
    byString.set(labels.toString(), hash);
    hashes.add(hash);
  }
  assert.equal(hashes.size, byString.size, `seed ${seed}`);
});

test('compareStrings orders by UTF-8 bytes, surrogates included', () => {
  const seed = testSeed(22);
  const random = seededRandom(seed);
  const alphabet = ['a', 'B', '~', '\u00e9', '\u0800', '\ue000', '\uffff', '\ud83d\ude00', '\ud800\udc00'];
  for (let index = 0; index < 2000; index += 1) {
    const left = randomText(random, alphabet);
    const right = randomText(random, alphabet);
    const expected = Math.sign(Buffer.compare(Buffer.from(left), Buffer.from(right)));
    assert.equal(Math.sign(compareStrings(left, right)), expected, `seed ${seed}: ${JSON.stringify([left, right])}`);
  }
});

test('Labels.compare orders like a pairwise walk of names then values', () => {
  const seed = testSeed(23);
  const random = seededRandom(seed);
  const naive = (left: Labels, right: Labels): number => {
    const leftPairs = [...left];
    const rightPairs = [...right];
    for (let index = 0; index < Math.min(leftPairs.length, rightPairs.length); index += 1) {
      const byName = compareStrings(leftPairs[index]!.name, rightPairs[index]!.name);
      if (byName !== 0) return byName;
      const byValue = compareStrings(leftPairs[index]!.value, rightPairs[index]!.value);
      if (byValue !== 0) return byValue;
    }
    return leftPairs.length - rightPairs.length;
  };
  const make = (): Labels => Labels.fromPairs(Array.from({ length: random.below(4) }, () => [random.pick(['a', 'b', 'c', 'd']), random.pick(['1', '2', ''])] as const)
    .filter((pair, index, all) => all.findIndex((other) => other[0] === pair[0]) === index));
  for (let index = 0; index < 2000; index += 1) {
    const left = make();
    const right = make();
    assert.equal(Math.sign(Labels.compare(left, right)), Math.sign(naive(left, right)), `seed ${seed}`);
    assert.equal(Labels.compare(left, right) === 0, left.equals(right));
  }
});
