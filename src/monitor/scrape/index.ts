/**
 * The scraper's parsing half: Prometheus text format 0.0.4 and OpenMetrics 1.0 text expositions into
 * samples and metric metadata. The scrape loop and target management arrive in a later change.
 *
 * @example
 * import { formatFromContentType, parseExposition } from './scrape/index.ts';
 * const result = parseExposition(body, { format: formatFromContentType(contentType) });
 */
export { formatFromContentType, lineLengthCharactersMax, parseExposition, parseSamplesMax } from './parse.ts';
export type { ParseOptions, ParseResult } from './parse.ts';
export { ParseError } from './parse-errors.ts';
export type { ParseErrorCode } from './parse-errors.ts';
export type { ExpositionFormat, MetricMetadata, MetricType } from './parse-families.ts';
export { formatFloatLabelValue, parseSampleValue, parseSecondsAsTimestampMs, parseTimestampMs } from './parse-number.ts';
export { exemplarLabelCharactersMax } from './parse-openmetrics.ts';
export type { ParsedSample } from './parse-sample.ts';
