import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError, parseExposition } from '../../../src/monitor/scrape/index.ts';
import type { ParseErrorCode, ParseResult } from '../../../src/monitor/scrape/index.ts';

const parseOpenMetrics = (text: string, skipCreatedSeries = false): ParseResult =>
  parseExposition(text, { format: 'openmetrics', skipCreatedSeries });

function assertParseError(text: string, code: ParseErrorCode, line: number, column?: number): void {
  assert.throws(() => parseOpenMetrics(text), (error: unknown) => {
    assert.ok(error instanceof ParseError, `expected a ParseError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.line, line, error.message);
    if (column !== undefined) assert.equal(error.column, column, error.message);
    return true;
  });
}

const rows = (result: ParseResult): [string, number, number | undefined, string][] =>
  result.samples.map((sample) => [sample.labels.toString(), sample.value, sample.timestampMs, sample.family]);

test('a full exposition parses, with seconds timestamps converted to milliseconds', () => {
  const text = [
    '# TYPE acme_http_router_request_seconds summary',
    '# UNIT acme_http_router_request_seconds seconds',
    '# HELP acme_http_router_request_seconds Latency though all of ACME\'s \\"HTTP\\" router.',
    'acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32',
    'acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0',
    'acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0',
    '# TYPE foo counter',
    'foo_total 17.0 1520879607.789',
    'foo_created 1520430000.123',
    '# TYPE go_goroutines gauge',
    'go_goroutines{} 69 1520879607',
    '# EOF',
    '',
  ].join('\n');
  const result = parseOpenMetrics(text);
  assert.deepEqual(rows(result), [
    ['acme_http_router_request_seconds_sum{method="GET", path="/api/v1"}', 9036.32, undefined, 'acme_http_router_request_seconds'],
    ['acme_http_router_request_seconds_count{method="GET", path="/api/v1"}', 807283, undefined, 'acme_http_router_request_seconds'],
    ['acme_http_router_request_seconds_created{method="GET", path="/api/v1"}', 1605281325, undefined, 'acme_http_router_request_seconds'],
    ['foo_total', 17, 1520879607789, 'foo'],
    ['foo_created', 1520430000.123, undefined, 'foo'],
    ['go_goroutines', 69, 1520879607000, 'go_goroutines'],
  ]);
  assert.deepEqual(result.metadata, [
    { family: 'acme_http_router_request_seconds', type: 'summary', help: 'Latency though all of ACME\'s "HTTP" router.', unit: 'seconds' },
    { family: 'foo', type: 'counter', help: '', unit: '' },
    { family: 'go_goroutines', type: 'gauge', help: '', unit: '' },
  ]);
});

test('# EOF is required, may end without a line feed, and nothing may follow it', () => {
  assertParseError('up 1\n', 'SCRAPE_MISSING_EOF', 2);
  assertParseError('', 'SCRAPE_MISSING_EOF', 1);
  assertParseError('up 1', 'SCRAPE_MISSING_EOF', 1);
  assert.equal(parseOpenMetrics('up 1\n# EOF').samples.length, 1);
  assert.equal(parseOpenMetrics('# EOF\n').samples.length, 0);
  assertParseError('up 1\n# EOF\n\n', 'SCRAPE_CONTENT_AFTER_EOF', 3);
  assertParseError('# EOF\nup 1\n', 'SCRAPE_CONTENT_AFTER_EOF', 2);
  assertParseError('# EOF \n', 'SCRAPE_UNEXPECTED_CHARACTER', 1, 6);
  assertParseError('#EOF\n', 'SCRAPE_INVALID_METADATA', 1);
});

test('exemplars are validated and skipped', () => {
  const text = [
    '# TYPE rpc_seconds histogram',
    'rpc_seconds_bucket{le="0.01"} 0',
    'rpc_seconds_bucket{le="0.1"} 8 # {} 0.054',
    'rpc_seconds_bucket{le="1"} 11 # {trace_id="KOO5S4vxi0o"} 0.67',
    'rpc_seconds_bucket{le="10"} 17 # {trace_id="oHg5SJYRHA0"} 9.8 1520879607.789',
    'rpc_seconds_bucket{le="+Inf"} 17 1520879607 # {trace_id="x"} 1',
    'rpc_seconds_count 17',
    'rpc_seconds_sum 324789.3',
    '# EOF',
  ].join('\n');
  const result = parseOpenMetrics(text);
  assert.equal(result.samples.length, 7);
  assert.deepEqual(result.samples.slice(0, 5).map((sample) => sample.labels.get('le')), ['0.01', '0.1', '1.0', '10.0', '+Inf']);
  assert.equal(result.samples[4]!.timestampMs, 1520879607000);
  assertParseError('# TYPE c counter\nc_total 1 # trace 1\n# EOF\n', 'SCRAPE_INVALID_EXEMPLAR', 2, 11);
  assertParseError('# TYPE c counter\nc_total 1 # {a="b"}\n# EOF\n', 'SCRAPE_INVALID_EXEMPLAR', 2);
  assertParseError('# TYPE c counter\nc_total 1 # {a="b"} x\n# EOF\n', 'SCRAPE_INVALID_EXEMPLAR', 2);
  assertParseError(`# TYPE c counter\nc_total 1 # {a="${'x'.repeat(128)}"} 1\n# EOF\n`, 'SCRAPE_INVALID_EXEMPLAR', 2);
});

test('_created samples are kept by default and can be skipped', () => {
  const text = '# TYPE foo counter\nfoo_total 1\nfoo_created 1520430000\n# EOF\n';
  assert.equal(parseOpenMetrics(text).samples.length, 2);
  assert.deepEqual(parseOpenMetrics(text, true).samples.map((sample) => sample.labels.metricName()), ['foo_total']);
});

test('gauge histograms, info and state sets resolve their suffixes', () => {
  const text = [
    '# TYPE queue_bytes gaugehistogram',
    'queue_bytes_bucket{le="1024"} 2',
    'queue_bytes_bucket{le="+Inf"} 3',
    'queue_bytes_gcount 3',
    'queue_bytes_gsum 4096',
    '# TYPE build info',
    'build_info{version="1.2"} 1',
    '# TYPE feature stateset',
    'feature{feature="a"} 1',
    'feature{feature="b"} 0',
    '# EOF',
  ].join('\n');
  const result = parseOpenMetrics(text);
  assert.deepEqual(result.samples.map((sample) => sample.family), ['queue_bytes', 'queue_bytes', 'queue_bytes', 'queue_bytes', 'build', 'feature', 'feature']);
  assert.equal(result.samples[0]!.labels.get('le'), '1024.0');
  assertParseError('# TYPE h histogram\nh 1\n# EOF\n', 'SCRAPE_INVALID_METRIC_NAME', 2);
});

test('families may not interleave, and metadata comes first, once', () => {
  assertParseError('# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n# EOF\n', 'SCRAPE_INTERLEAVED_FAMILY', 5);
  assertParseError('# TYPE h histogram\nh_count 1\nx 1\nh_sum 1\n# EOF\n', 'SCRAPE_INTERLEAVED_FAMILY', 4);
  assertParseError('a 1\nb 1\n# HELP a late\n# EOF\n', 'SCRAPE_INTERLEAVED_FAMILY', 3);
  assertParseError('a 1\n# HELP a late\n# EOF\n', 'SCRAPE_METADATA_AFTER_SAMPLES', 2);
  assertParseError('# TYPE a gauge\n# TYPE a gauge\n# EOF\n', 'SCRAPE_DUPLICATE_METADATA', 2);
  assertParseError('# UNIT a_bytes bytes\n# UNIT a_bytes bytes\n# EOF\n', 'SCRAPE_DUPLICATE_METADATA', 2);
});

test('the stricter OpenMetrics syntax is enforced', () => {
  assertParseError('up 1\n\n# EOF\n', 'SCRAPE_EMPTY_LINE', 2);
  assertParseError('# a free comment\n# EOF\n', 'SCRAPE_INVALID_METADATA', 1);
  assertParseError('up  1\n# EOF\n', 'SCRAPE_INVALID_VALUE', 1, 4);
  assertParseError('up 1 \n# EOF\n', 'SCRAPE_INVALID_TIMESTAMP', 1, 6);
  assertParseError(' up 1\n# EOF\n', 'SCRAPE_INVALID_METRIC_NAME', 1, 1);
  assertParseError('up\t1\n# EOF\n', 'SCRAPE_UNEXPECTED_CHARACTER', 1, 3);
  assertParseError('up{a="1", b="2"} 1\n# EOF\n', 'SCRAPE_INVALID_LABEL_NAME', 1, 10);
  assertParseError('up{a="1",} 1\n# EOF\n', 'SCRAPE_INVALID_LABEL_NAME', 1, 10);
  assertParseError('up 1 1e999\n# EOF\n', 'SCRAPE_INVALID_TIMESTAMP', 1, 6);
  assertParseError('up 1 NaN\n# EOF\n', 'SCRAPE_INVALID_TIMESTAMP', 1, 6);
  assertParseError('# TYPE up Gauge\n# EOF\n', 'SCRAPE_INVALID_METADATA', 1, 11);
  assertParseError('# HELP up bad \\t escape\n# EOF\n', 'SCRAPE_INVALID_METADATA', 1, 15);
  assertParseError('# UNIT up_bytes seconds\n# EOF\n', 'SCRAPE_INVALID_METADATA', 1, 17);
});

test('fractional and negative second timestamps round to the nearest millisecond', () => {
  const result = parseOpenMetrics('a 1 1.0005\nb 1 -1.5\nc 1 .25\nd 1 1.5e3\ne 1 0.0004\n# EOF\n');
  assert.deepEqual(result.samples.map((sample) => sample.timestampMs), [1001, -1500, 250, 1_500_000, 0]);
});
