import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatFloatLabelValue,
  parseSampleValue,
  parseSecondsAsTimestampMs,
  parseTimestampMs,
} from '../../../src/monitor/scrape/index.ts';
import { timestampMsMax } from '../../../src/monitor/tsdb/index.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';

test('float label values take the spelling Prometheus gives them', () => {
  // Go's shortest %g, plus ".0" when the result has neither "." nor "e".
  const cases: [number, string][] = [
    [1, '1.0'], [0, '0.0'], [-0, '0.0'], [-1, '-1.0'], [0.5, '0.5'], [0.25, '0.25'], [100, '100.0'],
    [123456, '123456.0'], [999999, '999999.0'], [1e6, '1e+06'], [1234567, '1.234567e+06'], [0.0001, '0.0001'],
    [0.00001, '1e-05'], [1.5e-7, '1.5e-07'], [1e21, '1e+21'], [1e100, '1e+100'], [Number.MAX_VALUE, '1.7976931348623157e+308'],
    [5e-324, '5e-324'], [-2.5e-5, '-2.5e-05'], [NaN, 'NaN'], [Infinity, '+Inf'], [-Infinity, '-Inf'],
  ];
  for (const [value, expected] of cases) assert.equal(formatFloatLabelValue(value), expected, String(value));
});

test('canonical spellings read back to the same float', () => {
  const seed = testSeed(61);
  const random = seededRandom(seed);
  for (let index = 0; index < 2000; index += 1) {
    const value = (random.next() - 0.5) * 10 ** (random.below(40) - 20);
    assert.equal(Number(formatFloatLabelValue(value)), value, `seed ${seed}`);
  }
});

test('sample values accept decimals and the special spellings, and nothing else', () => {
  assert.equal(parseSampleValue('-1.5e+3'), -1500);
  assert.equal(parseSampleValue('+Inf'), Infinity);
  assert.equal(parseSampleValue('-infinity'), -Infinity);
  assert.ok(Number.isNaN(parseSampleValue('nan')!));
  for (const bad of ['', '1,5', '0x10', '1e', 'e5', '--1', '1_000', 'Infinityy', ' 1']) {
    assert.equal(parseSampleValue(bad), undefined, JSON.stringify(bad));
  }
});

test('timestamps stay inside the store range', () => {
  assert.equal(parseTimestampMs('-5'), -5);
  assert.equal(parseTimestampMs(String(timestampMsMax)), timestampMsMax);
  assert.equal(parseTimestampMs(String(timestampMsMax + 1)), undefined);
  assert.equal(parseSecondsAsTimestampMs('1520879607.789'), 1520879607789);
  assert.equal(parseSecondsAsTimestampMs('1520879607.7895'), 1520879607790);
  assert.equal(parseSecondsAsTimestampMs('-0.0001'), 0);
  assert.equal(parseSecondsAsTimestampMs('.'), undefined);
  assert.equal(parseSecondsAsTimestampMs('1e300'), undefined);
});
