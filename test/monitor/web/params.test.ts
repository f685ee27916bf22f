import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRfc3339, parseDuration, parseListenAddress, parseTime, timeMsMax, timeMsMin } from '../../../src/monitor/web/index.ts';

describe('parseTime', () => {
  const cases: readonly [string, number][] = [
    ['1700000000', 1_700_000_000_000],
    ['1700000000.5', 1_700_000_000_500],
    ['1.0006', 1001],
    // As Go: the fraction of 1.0005 is just below 0.0005 in binary, so it rounds down.
    ['1.0005', 1000],
    ['-1.5', -1500],
    ['.5', 500],
    ['5.', 5000],
    ['+5', 5000],
    ['1e3', 1_000_000],
    ['2023-11-14T22:13:20Z', 1_700_000_000_000],
    ['2023-11-14T22:13:20.123456789Z', 1_700_000_000_123],
    ['2023-11-14T23:13:20+01:00', 1_700_000_000_000],
    ['0050-01-01T00:00:00Z', -60_589_296_000_000],
    ['1e30', timeMsMax],
    ['-292273086-05-16T16:47:06Z', timeMsMin],
    ['292277025-08-18T07:12:54.999999999Z', timeMsMax],
  ];
  for (const [text, expected] of cases) {
    it(`reads ${JSON.stringify(text)}`, () => assert.equal(parseTime(text), expected));
  }

  for (const text of ['', 'abc', '0x10', ' 1', '2020-01-01t00:00:00Z', '2020-01-01T00:00:00z', '2020-1-01T00:00:00Z', '2020-02-30T00:00:00Z', '2020-01-01T00:00:00.1234567891Z', 'NaN', 'Inf']) {
    it(`refuses ${JSON.stringify(text)} with Prometheus's message`, () => {
      assert.throws(() => parseTime(text), { message: `cannot parse ${JSON.stringify(text)} to a valid timestamp` });
    });
  }
});

describe('parseDuration', () => {
  it('reads seconds and Prometheus durations', () => {
    assert.equal(parseDuration('15'), 15_000);
    assert.equal(parseDuration('0.25'), 250);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1d'), 86_400_000);
  });

  it('refuses malformed and negative Prometheus durations', () => {
    assert.throws(() => parseDuration('x'), { message: 'cannot parse "x" to a valid duration' });
    assert.throws(() => parseDuration('-1s'), { message: 'cannot parse "-1s" to a valid duration' });
    assert.throws(() => parseDuration(''), { message: 'cannot parse "" to a valid duration' });
    assert.throws(() => parseDuration('1e20'), /overflows int64/);
  });
});

describe('formatRfc3339', () => {
  it('prints the fewest fraction digits, as Go', () => {
    assert.equal(formatRfc3339(1_700_000_000_000), '2023-11-14T22:13:20Z');
    assert.equal(formatRfc3339(1_700_000_000_500), '2023-11-14T22:13:20.5Z');
    assert.equal(formatRfc3339(1_700_000_000_120), '2023-11-14T22:13:20.12Z');
  });
});

describe('parseListenAddress', () => {
  it('reads Prometheus-style addresses', () => {
    assert.deepEqual(parseListenAddress('0.0.0.0:9090'), { host: '0.0.0.0', port: 9090 });
    assert.deepEqual(parseListenAddress(':9090'), { host: undefined, port: 9090 });
    assert.deepEqual(parseListenAddress('[::1]:9091'), { host: '::1', port: 9091 });
    assert.deepEqual(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
  });

  it('refuses an address without a port or with a port out of range', () => {
    assert.throws(() => parseListenAddress('9090'), /is not host:port/);
    assert.throws(() => parseListenAddress('localhost'), /is not host:port/);
    assert.throws(() => parseListenAddress('a:70000'), /above 65535/);
  });
});
