import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteWriteError } from '../../../src/monitor/remote/errors.ts';
import { encodeLabelFields, encodeWriteRequest, isStaleMarkerValue } from '../../../src/monitor/remote/write-request.ts';
import type { TimeSeriesInput } from '../../../src/monitor/remote/write-request.ts';
import { floatFromBits, Labels, staleMarkerHighBits, staleMarkerLowBits } from '../../../src/monitor/tsdb/index.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';
import { decodeWriteRequest } from './_decode.ts';

const staleMarker = floatFromBits(staleMarkerHighBits, staleMarkerLowBits);

test('encodeWriteRequest writes the exact bytes of a one-sample request', () => {
  const body = encodeWriteRequest({ timeseries: [{ labels: Labels.fromRecord({ __name__: 'up' }), samples: [{ timestampMs: 1000, value: 1 }] }] });
  const expected = [
    0x0a, 30, // timeseries = 1, 30 bytes
    0x0a, 14, 0x0a, 8, ...new TextEncoder().encode('__name__'), 0x12, 2, 0x75, 0x70, // labels = 1: name = 1, value = 2
    0x12, 12, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x10, 0xe8, 0x07, // samples = 2: value = 1 (fixed64 1.0), timestamp = 2 (varint 1000)
  ];
  assert.deepEqual([...body], expected);
});

test('encodeWriteRequest round-trips series, sorted labels, values and timestamps through an independent decoder', () => {
  const seed = testSeed(0x3e1c_0001);
  const random = seededRandom(seed);
  const series: TimeSeriesInput[] = [];
  for (let index = 0; index < 50; index += 1) {
    const labels = Labels.fromRecord({ __name__: `metric_${index % 7}`, zone: `z${random.below(3)}`, job: 'keel', instance: `127.0.0.1:${2379 + index}`, unicode: 'välue ✓ 🚀' });
    const samples = [];
    let timestampMs = random.below(2) === 0 ? -5_000_000_000_000 + random.below(1000) : 1_700_000_000_000 + random.below(1000);
    for (let sample = 0; sample < 1 + random.below(5); sample += 1) {
      timestampMs += random.below(30_000);
      const value = random.pick([0, -0, 1, -1.5, 1e308, 5e-324, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, random.next() * 1e6 - 5e5]);
      samples.push({ timestampMs, value });
    }
    series.push({ labels, samples });
  }
  const decoded = decodeWriteRequest(encodeWriteRequest({ timeseries: series }));
  assert.equal(decoded.timeseries.length, series.length);
  decoded.timeseries.forEach((got, index) => {
    const want = series[index]!;
    assert.deepEqual(got.labels, [...want.labels].map(({ name, value }) => [name, value]), `seed ${seed} series ${index}`);
    assert.deepEqual(got.labels.map(([name]) => name), got.labels.map(([name]) => name).sort(), 'labels sorted by name');
    assert.equal(got.labels[0]![0], '__name__');
    assert.deepEqual(got.samples.map((sample) => [sample.timestampMs, sample.value]), want.samples.map((sample) => [sample.timestampMs, sample.value]), `seed ${seed} series ${index}`);
  });
});

test('encodeWriteRequest writes the staleness marker bit-exactly, even after the engine quieted it', () => {
  const quiet = [1.5, 2.5];
  quiet.push(staleMarker); // a double array quiets the signalling NaN but keeps its payload
  const labels = Labels.fromRecord({ __name__: 'up' });
  const body = encodeWriteRequest({
    timeseries: [{ labels, samples: [{ timestampMs: 1, value: staleMarker }, { timestampMs: 2, value: quiet[2]! }, { timestampMs: 3, value: Number.NaN }] }],
  });
  const samples = decodeWriteRequest(body).timeseries[0]!.samples;
  assert.equal(samples[0]!.valueBits, 0x7ff0_0000_0000_0002n);
  assert.equal(samples[1]!.valueBits, 0x7ff0_0000_0000_0002n);
  assert.notEqual(samples[2]!.valueBits, 0x7ff0_0000_0000_0002n, 'an ordinary NaN is not a staleness marker');
  assert.ok(Number.isNaN(samples[2]!.value));
  assert.equal(isStaleMarkerValue(quiet[2]!), true);
  assert.equal(isStaleMarkerValue(Number.NaN), false);
});

test('encodeWriteRequest leaves out proto3 defaults but keeps a negative zero', () => {
  const labels = Labels.fromRecord({ __name__: 'x' });
  const body = encodeWriteRequest({ timeseries: [{ labels, samples: [{ timestampMs: 0, value: 0 }, { timestampMs: 0, value: -0 }] }] });
  const samples = decodeWriteRequest(body).timeseries[0]!.samples;
  assert.equal(samples[0]!.valueBits, 0n);
  assert.equal(samples[1]!.valueBits, 0x8000_0000_0000_0000n);
  // The zero sample is an empty message: tag, length 0.
  assert.ok(body.includes(0x12) && body.length === 2 + encodeLabelFields(labels).length + 2 + 2 + 9);
});

test('encodeWriteRequest encodes metric metadata with its enum and optional strings', () => {
  const body = encodeWriteRequest({
    timeseries: [],
    metadata: [
      { type: 'counter', metricFamilyName: 'keel_requests_total', help: 'Requests served.', unit: '' },
      { type: 'unknown', metricFamilyName: 'odd', help: '', unit: 'seconds' },
    ],
  });
  assert.deepEqual(decodeWriteRequest(body).metadata, [
    { type: 1, metricFamilyName: 'keel_requests_total', help: 'Requests served.', unit: '' },
    { type: 0, metricFamilyName: 'odd', help: '', unit: 'seconds' },
  ]);
  assert.throws(() => encodeWriteRequest({ timeseries: [], metadata: [{ type: 'bogus' as 'counter', metricFamilyName: 'a', help: '', unit: '' }] }), { code: 'REMOTE_INVALID_ARGUMENT' });
});

test('encodeWriteRequest refuses series it must not send, with clear errors', () => {
  const cases: [TimeSeriesInput, RegExp][] = [
    [{ labels: Labels.fromRecord({ job: 'keel' }), samples: [{ timestampMs: 1, value: 1 }] }, /\{job="keel"\} has no __name__ label/],
    [{ labels: Labels.fromRecord({ __name__: 'up' }), samples: [] }, /up has no samples/],
    [{ labels: Labels.fromRecord({ __name__: 'up' }), samples: [{ timestampMs: 1.5, value: 1 }] }, /1\.5 of up is not an integer/],
    [{ labels: Labels.fromRecord({ __name__: 'up' }), samples: [{ timestampMs: 2, value: 1 }, { timestampMs: 1, value: 1 }] }, /out of timestamp order \(1 after 2\)/],
  ];
  for (const [series, message] of cases) {
    assert.throws(() => encodeWriteRequest({ timeseries: [series] }), (error: unknown) => {
      assert.ok(error instanceof RemoteWriteError);
      assert.equal(error.code, 'REMOTE_INVALID_ARGUMENT');
      assert.match(error.message, message);
      return true;
    });
  }
});

test('encodeLabelFields returns the same cached bytes for the same label set', () => {
  const labels = Labels.fromRecord({ __name__: 'up', job: 'keel' });
  const first = encodeLabelFields(labels);
  assert.equal(encodeLabelFields(labels), first);
  assert.deepEqual(encodeLabelFields(Labels.fromRecord({ job: 'keel', __name__: 'up' })), first);
});
