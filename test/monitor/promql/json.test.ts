import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatQueryResultJson, formatQueryResultJsonText, formatSampleValue, formatTimestampText, Points } from '../../../src/monitor/promql/index.ts';
import { Labels } from '../../../src/monitor/tsdb/labels.ts';

const labels = Labels.fromRecord({ __name__: 'up', job: 'a<b>&c' });

test('vector results match the bytes Prometheus 2.42 writes', () => {
  const result = { resultType: 'vector' as const, result: [{ labels, timestampMs: 1500, value: 1 }, { labels: Labels.empty, timestampMs: 1500, value: NaN }] };
  assert.equal(
    formatQueryResultJsonText(result),
    '{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a\\u003cb\\u003e\\u0026c"},"value":[1.500,"1"]},{"metric":{},"value":[1.500,"NaN"]}]}',
  );
  assert.deepEqual(JSON.parse(JSON.stringify(formatQueryResultJson(result))), JSON.parse(formatQueryResultJsonText(result)));
});

test('matrix results list every point', () => {
  const result = {
    resultType: 'matrix' as const,
    result: [{ labels, points: Points.of([{ timestampMs: 0, value: 1e-7 }, { timestampMs: 1250, value: Infinity }, { timestampMs: 2500, value: -0 }]) }],
  };
  const text = formatQueryResultJsonText(result);
  assert.equal(text, '{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a\\u003cb\\u003e\\u0026c"},"values":[[0,"1e-07"],[1.250,"+Inf"],[2.500,"-0"]]}]}');
  assert.deepEqual(JSON.parse(JSON.stringify(formatQueryResultJson(result))), JSON.parse(text));
});

test('scalars and strings go through encoding/json, with the value in f format', () => {
  const scalar = { resultType: 'scalar' as const, result: { timestampMs: 1500, value: 1e21 } };
  assert.equal(formatQueryResultJsonText(scalar), '{"resultType":"scalar","result":[1.5,"1000000000000000000000"]}');
  assert.equal(JSON.stringify(formatQueryResultJson(scalar)), '{"resultType":"scalar","result":[1.5,"1000000000000000000000"]}');
  const small = { resultType: 'scalar' as const, result: { timestampMs: 0, value: 1.5e-7 } };
  assert.equal(formatQueryResultJsonText(small), '{"resultType":"scalar","result":[0,"0.00000015"]}');
  const text = { resultType: 'string' as const, result: { timestampMs: 1050, value: 'a"b<' } };
  assert.equal(formatQueryResultJsonText(text), '{"resultType":"string","result":[1.05,"a\\"b\\u003c"]}');
  assert.equal(JSON.stringify(formatQueryResultJson(text)), '{"resultType":"string","result":[1.05,"a\\"b<"]}');
});

test('sample values switch to exponent form below 1e-6 and from 1e21', () => {
  assert.equal(formatSampleValue(1), '1');
  assert.equal(formatSampleValue(0.000001), '0.000001');
  assert.equal(formatSampleValue(0.00001), '0.00001');
  assert.equal(formatSampleValue(1.5e-7), '1.5e-07');
  assert.equal(formatSampleValue(-2.5e-300), '-2.5e-300');
  assert.equal(formatSampleValue(123456789012), '123456789012');
  assert.equal(formatSampleValue(1e21), '1e+21');
  assert.equal(formatSampleValue(1.25e22), '1.25e+22');
  assert.equal(formatSampleValue(0.1 + 0.2), '0.30000000000000004');
  assert.equal(formatSampleValue(-Infinity), '-Inf');
  assert.equal(formatSampleValue(0), '0');
  assert.equal(formatSampleValue(-0), '-0');
});

test('timestamps print as seconds with three decimals only when needed', () => {
  assert.equal(formatTimestampText(0), '0');
  assert.equal(formatTimestampText(1000), '1');
  assert.equal(formatTimestampText(1001), '1.001');
  assert.equal(formatTimestampText(1050), '1.050');
  assert.equal(formatTimestampText(1435781451781), '1435781451.781');
  assert.equal(formatTimestampText(-1500), '-1.500');
});

test('a label named __proto__ stays an ordinary key', () => {
  const result = { resultType: 'vector' as const, result: [{ labels: Labels.fromRecord({ __proto__x: 'y' }).with('__proto__', 'p'), timestampMs: 0, value: 1 }] };
  const json = JSON.stringify(formatQueryResultJson(result));
  assert.equal(json, '{"resultType":"vector","result":[{"metric":{"__proto__":"p","__proto__x":"y"},"value":[0,"1"]}]}');
});
