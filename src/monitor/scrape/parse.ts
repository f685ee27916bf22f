/**
 * Parses a scraped exposition — Prometheus text format 0.0.4 or OpenMetrics 1.0 text — into samples and
 * metric metadata. Input is bounded twice: by a maximum line length and a maximum sample count, each
 * failing with a clear coded error, so a runaway exporter cannot exhaust memory.
 */
import { assert } from '../tsdb/index.ts';
import { LineCursor } from './parse-cursor.ts';
import { ParseError } from './parse-errors.ts';
import type { ExpositionFormat, MetricMetadata } from './parse-families.ts';
import { OpenMetricsLineParser } from './parse-openmetrics.ts';
import { SampleCollector } from './parse-sample.ts';
import type { ParsedSample } from './parse-sample.ts';
import { parseTextLine } from './parse-text.ts';

/** Default bound on samples in one exposition (Prometheus's per-scrape `sample_limit` is usually lower). */
export const parseSamplesMax = 500_000;
/** Default bound on one line's length, in UTF-16 code units. */
export const lineLengthCharactersMax = 65_536;

export interface ParseOptions {
  readonly format: ExpositionFormat;
  /** Overrides {@link parseSamplesMax}. */
  readonly samplesMax?: number;
  /** Overrides {@link lineLengthCharactersMax}. */
  readonly lineLengthCharactersMax?: number;
  /** Drop OpenMetrics `_created` samples instead of returning them as series. Default false. */
  readonly skipCreatedSeries?: boolean;
}

export interface ParseResult {
  readonly samples: ParsedSample[];
  /** One entry per metric family, in order of appearance. */
  readonly metadata: MetricMetadata[];
}

/**
 * Parses a whole exposition. Throws a {@link ParseError} (with `code`, `line`, `column`) on the first defect.
 *
 * @example
 * const { samples, metadata } = parseExposition(
 *   '# TYPE keel_up gauge\nkeel_up{member="1"} 1\n',
 *   { format: 'prometheus-text' },
 * );
 * samples[0]!.labels.toString(); // 'keel_up{member="1"}'
 * metadata[0]!.type; // 'gauge'
 */
export function parseExposition(text: string, options: ParseOptions): ParseResult {
  const samplesMax = options.samplesMax ?? parseSamplesMax;
  const lineMax = options.lineLengthCharactersMax ?? lineLengthCharactersMax;
  assert(Number.isInteger(samplesMax) && samplesMax >= 0, 'samplesMax is a non-negative integer');
  assert(Number.isInteger(lineMax) && lineMax > 0, 'lineLengthCharactersMax is a positive integer');
  const collector = new SampleCollector(options.format, samplesMax, options.skipCreatedSeries ?? false);
  const openMetrics = options.format === 'openmetrics' ? new OpenMetricsLineParser() : undefined;
  const cursor = new LineCursor(text);
  let lineStart = 0;
  let lineNumber = 0;
  while (lineStart < text.length) {
    lineNumber += 1;
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline < 0 ? text.length : newline;
    if (lineEnd - lineStart > lineMax) {
      throw new ParseError('SCRAPE_LINE_TOO_LONG', `line is longer than ${lineMax} characters`, lineNumber, lineMax + 1);
    }
    if (openMetrics !== undefined && newline < 0 && openMetrics.eofLineNumber === undefined && !text.startsWith('# EOF', lineStart)) {
      throw new ParseError('SCRAPE_MISSING_EOF', 'OpenMetrics lines end with a line feed, and the exposition with # EOF', lineNumber, lineEnd - lineStart + 1);
    }
    cursor.reset(lineStart, lineEnd, lineNumber);
    if (openMetrics !== undefined) openMetrics.parseLine(cursor, collector);
    else parseTextLine(cursor, collector);
    lineStart = lineEnd + 1;
  }
  if (openMetrics !== undefined && openMetrics.eofLineNumber === undefined) {
    throw new ParseError('SCRAPE_MISSING_EOF', 'OpenMetrics exposition does not end with # EOF', lineNumber + 1, 1);
  }
  return { samples: collector.samples, metadata: collector.families.metadata() };
}

/**
 * Picks the parser for a scrape response's Content-Type: OpenMetrics for `application/openmetrics-text`,
 * the Prometheus text format for anything else (including a missing header), as Prometheus does.
 *
 * @example
 * formatFromContentType('application/openmetrics-text; version=1.0.0; charset=utf-8'); // 'openmetrics'
 */
export function formatFromContentType(contentType: string | undefined): ExpositionFormat {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/openmetrics-text' ? 'openmetrics' : 'prometheus-text';
}
