import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFromContentType, ParseError, parseExposition } from '../../../src/monitor/scrape/index.ts';
import type { ParseErrorCode, ParseResult } from '../../../src/monitor/scrape/index.ts';

const parseText = (text: string, options: { samplesMax?: number; lineLengthCharactersMax?: number } = {}): ParseResult =>
  parseExposition(text, { format: 'prometheus-text', ...options });

/** Asserts that parsing fails with `code` at `line` (and `column`, when given). */
function assertParseError(text: string, code: ParseErrorCode, line: number, column?: number): void {
  assert.throws(() => parseText(text), (error: unknown) => {
    assert.ok(error instanceof ParseError, `expected a ParseError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.line, line, error.message);
    if (column !== undefined) assert.equal(error.column, column, error.message);
    assert.match(error.message, new RegExp(`^Line ${line}, column \\d+: `));
    return true;
  });
}

const rows = (result: ParseResult): [string, number, number | undefined][] =>
  result.samples.map((sample) => [sample.labels.toString(), sample.value, sample.timestampMs]);

test('the format documentation example parses completely', () => {
  const text = [
    '# HELP http_requests_total The total number of HTTP requests.',
    '# TYPE http_requests_total counter',
    'http_requests_total{method="post",code="200"} 1027 1395066363000',
    'http_requests_total{method="post",code="400"}    3 1395066363000',
    '',
    '# Escaping in label values:',
    'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
    '',
    'metric_without_timestamp_and_labels 12.47',
    'something_weird{problem="division by zero"} +Inf -3982045',
    '',
  ].join('\n');
  const result = parseText(text);
  assert.deepEqual(rows(result), [
    ['http_requests_total{code="200", method="post"}', 1027, 1395066363000],
    ['http_requests_total{code="400", method="post"}', 3, 1395066363000],
    ['msdos_file_access_time_seconds{error="Cannot find file:\\n\\"FILE.TXT\\"", path="C:\\\\DIR\\\\FILE.TXT"}', 1458255915, undefined],
    ['metric_without_timestamp_and_labels', 12.47, undefined],
    ['something_weird{problem="division by zero"}', Infinity, -3982045],
  ]);
  assert.equal(result.samples[2]!.labels.get('path'), 'C:\\DIR\\FILE.TXT');
  assert.equal(result.samples[2]!.labels.get('error'), 'Cannot find file:\n"FILE.TXT"');
  assert.deepEqual(result.metadata[0], { family: 'http_requests_total', type: 'counter', help: 'The total number of HTTP requests.', unit: '' });
  assert.equal(result.metadata.find((entry) => entry.family === 'something_weird')?.type, 'unknown');
});

test('histogram and summary samples join their family and le/quantile are normalised', () => {
  const text = [
    '# HELP rpc_seconds RPC latency.\\nSecond line \\\\ done.',
    '# TYPE rpc_seconds histogram',
    'rpc_seconds_bucket{le="0.05"} 24054',
    'rpc_seconds_bucket{le="1"} 33444',
    'rpc_seconds_bucket{le="1e6"} 33444',
    'rpc_seconds_bucket{le="+Inf"} 144320',
    'rpc_seconds_sum 53423',
    'rpc_seconds_count 144320',
    '# TYPE queue_seconds summary',
    'queue_seconds{quantile="0.5"} 4773',
    'queue_seconds{quantile="1"} NaN',
    'queue_seconds_sum 1.7560473e+07',
    'queue_seconds_count 2693',
  ].join('\n');
  const result = parseText(text);
  assert.deepEqual(result.samples.map((sample) => sample.family), [...Array(6).fill('rpc_seconds'), ...Array(4).fill('queue_seconds')]);
  assert.deepEqual(result.samples.slice(0, 4).map((sample) => sample.labels.get('le')), ['0.05', '1.0', '1e+06', '+Inf']);
  assert.equal(result.samples[7]!.labels.get('quantile'), '1.0');
  assert.ok(Number.isNaN(result.samples[7]!.value));
  assert.deepEqual(result.metadata.map((entry) => [entry.family, entry.type]), [['rpc_seconds', 'histogram'], ['queue_seconds', 'summary']]);
  assert.equal(result.metadata[0]!.help, 'RPC latency.\nSecond line \\ done.');
});

test('blanks, tabs, trailing commas, empty braces and comments are tolerated', () => {
  const text = '  # a free comment\n\t\nup{ job = "a" , }\t1\t 123 \nup {} 2\n#TYPE ignored_without_space gauge\ndown 3   \n';
  assert.deepEqual(rows(parseText(text)), [['up{job="a"}', 1, 123], ['up', 2, undefined], ['down', 3, undefined]]);
});

test('empty label values are dropped and untyped becomes unknown', () => {
  const result = parseText('# TYPE x untyped\nx{a="",b="1"} 1\n');
  assert.equal(result.samples[0]!.labels.toString(), 'x{b="1"}');
  assert.equal(result.metadata[0]!.type, 'unknown');
});

test('values accept the float spellings Prometheus writes', () => {
  const values = parseText('a 1\nb -1.5e-3\nc NaN\nd +Inf\ne -Inf\nf .5\ng 1.\nh inf\n').samples.map((sample) => sample.value);
  assert.deepEqual(values.map(String), ['1', '-0.0015', 'NaN', 'Infinity', '-Infinity', '0.5', '1', 'Infinity']);
});

test('the last line may lack a line feed', () => {
  assert.equal(parseText('a 1\nb 2').samples.length, 2);
  assert.equal(parseText('').samples.length, 0);
});

test('malformed lines fail with their line, column and a stable code', () => {
  assertParseError('ok 1\nup{job="a} 1\n', 'SCRAPE_INVALID_LABEL_VALUE', 2, 8);
  assertParseError('up{job=a} 1\n', 'SCRAPE_INVALID_LABEL_VALUE', 1, 8);
  assertParseError('up{job="\\t"} 1\n', 'SCRAPE_INVALID_LABEL_VALUE', 1, 9);
  assertParseError('up{0job="a"} 1\n', 'SCRAPE_INVALID_LABEL_NAME', 1, 4);
  assertParseError('up{job="a" env="b"} 1\n', 'SCRAPE_UNEXPECTED_CHARACTER', 1, 12);
  assertParseError('up{job="a",job="b"} 1\n', 'SCRAPE_DUPLICATE_LABEL', 1, 12);
  assertParseError('up{__name__="x"} 1\n', 'SCRAPE_DUPLICATE_LABEL', 1, 4);
  assertParseError('\n\n9up 1\n', 'SCRAPE_INVALID_METRIC_NAME', 3, 1);
  assertParseError('up-down 1\n', 'SCRAPE_UNEXPECTED_CHARACTER', 1, 3);
  assertParseError('up one\n', 'SCRAPE_INVALID_VALUE', 1, 4);
  assertParseError('up\n', 'SCRAPE_INVALID_VALUE', 1, 3);
  assertParseError('up 1 12.5\n', 'SCRAPE_INVALID_TIMESTAMP', 1, 6);
  assertParseError('up 1 99999999999999999999\n', 'SCRAPE_INVALID_TIMESTAMP', 1, 6);
  assertParseError('up 1 2 3\n', 'SCRAPE_UNEXPECTED_CHARACTER', 1, 8);
  assertParseError('# TYPE up gauge extra\n', 'SCRAPE_UNEXPECTED_CHARACTER', 1, 17);
  assertParseError('# TYPE up flux\n', 'SCRAPE_INVALID_METADATA', 1, 11);
  assertParseError('# TYPE up\n', 'SCRAPE_INVALID_METADATA', 1, 10);
  assertParseError('# HELP\n', 'SCRAPE_INVALID_METADATA', 1, 7);
});

test('metadata order is checked: one TYPE per family, before its samples', () => {
  assertParseError('# TYPE up gauge\n# TYPE up counter\n', 'SCRAPE_DUPLICATE_METADATA', 2);
  assertParseError('# HELP up a\n# HELP up b\n', 'SCRAPE_DUPLICATE_METADATA', 2);
  assertParseError('up 1\n# TYPE up gauge\n', 'SCRAPE_METADATA_AFTER_SAMPLES', 2);
  assert.equal(parseText('up 1\n# HELP up Late help is accepted.\n').metadata[0]!.help, 'Late help is accepted.');
});

test('a bucket without a numeric le or a quantile without quantile is kept as is, as Prometheus does', () => {
  const result = parseText('# TYPE h histogram\nh_bucket{x="1"} 1\nh_bucket{le="big"} 2\n# TYPE s summary\ns{q="0.5"} 1\n');
  assert.deepEqual(rows(result), [['h_bucket{x="1"}', 1, undefined], ['h_bucket{le="big"}', 2, undefined], ['s{q="0.5"}', 1, undefined]]);
});

test('the line length and sample count limits fail clearly and can be overridden', () => {
  const longLine = `up{a="${'x'.repeat(100)}"} 1\n`;
  assert.throws(() => parseText(`ok 1\n${longLine}`, { lineLengthCharactersMax: 50 }),
    { code: 'SCRAPE_LINE_TOO_LONG', line: 2 });
  assert.equal(parseText(longLine, { lineLengthCharactersMax: 200 }).samples.length, 1);
  const many = Array.from({ length: 11 }, (_, index) => `m{i="${index}"} ${index}`).join('\n');
  assert.throws(() => parseText(many, { samplesMax: 10 }), { code: 'SCRAPE_SAMPLE_LIMIT_EXCEEDED', line: 11 });
  assert.equal(parseText(many, { samplesMax: 11 }).samples.length, 11);
});

test('the content type picks the format', () => {
  assert.equal(formatFromContentType('application/openmetrics-text; version=1.0.0; charset=utf-8'), 'openmetrics');
  assert.equal(formatFromContentType('text/plain; version=0.0.4'), 'prometheus-text');
  assert.equal(formatFromContentType(undefined), 'prometheus-text');
});
