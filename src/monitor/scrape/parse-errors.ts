/**
 * Errors from the exposition parsers. Each carries a stable code plus the 1-based line and column of the
 * problem, so that a scrape failure can point at the exact byte an exporter got wrong.
 */

/** Stable codes for {@link ParseError}. Never rename one; add new ones instead. */
export type ParseErrorCode =
  /** A line is longer than `lineLengthCharactersMax`. */
  | 'SCRAPE_LINE_TOO_LONG'
  /** The exposition holds more than `samplesMax` samples. */
  | 'SCRAPE_SAMPLE_LIMIT_EXCEEDED'
  /** A metric name is missing or does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
  | 'SCRAPE_INVALID_METRIC_NAME'
  /** A label name does not match `[a-zA-Z_][a-zA-Z0-9_]*`. */
  | 'SCRAPE_INVALID_LABEL_NAME'
  /** A label value is unquoted, unterminated, badly escaped or not well-formed Unicode. */
  | 'SCRAPE_INVALID_LABEL_VALUE'
  /** A label name appears twice in one sample (or `__name__` appears inside the braces). */
  | 'SCRAPE_DUPLICATE_LABEL'
  /** A sample value is not a float, `NaN`, `+Inf` or `-Inf`. */
  | 'SCRAPE_INVALID_VALUE'
  /** A timestamp is malformed or out of range. */
  | 'SCRAPE_INVALID_TIMESTAMP'
  /** A HELP, TYPE or UNIT line is malformed, names an unknown type, or (OpenMetrics) is another comment. */
  | 'SCRAPE_INVALID_METADATA'
  /** A second HELP, TYPE or UNIT line for the same metric family. */
  | 'SCRAPE_DUPLICATE_METADATA'
  /** A TYPE (or, in OpenMetrics, any metadata) line after samples of its family. */
  | 'SCRAPE_METADATA_AFTER_SAMPLES'
  /** OpenMetrics: a metric family resumes after another family began. */
  | 'SCRAPE_INTERLEAVED_FAMILY'
  /** OpenMetrics: the exposition does not end with `# EOF`. */
  | 'SCRAPE_MISSING_EOF'
  /** OpenMetrics: something follows `# EOF`. */
  | 'SCRAPE_CONTENT_AFTER_EOF'
  /** OpenMetrics: an empty line. */
  | 'SCRAPE_EMPTY_LINE'
  /** OpenMetrics: a malformed exemplar. */
  | 'SCRAPE_INVALID_EXEMPLAR'
  /** Any other character where the grammar allows none. */
  | 'SCRAPE_UNEXPECTED_CHARACTER';

/**
 * A parse failure at a known line and column.
 *
 * @example
 * try {
 *   parseExposition('up{job="a} 1\n', { format: 'prometheus-text' });
 * } catch (error) {
 *   if (error instanceof ParseError) console.log(error.code, error.line); // SCRAPE_INVALID_LABEL_VALUE 1
 * }
 */
export class ParseError extends Error {
  readonly code: ParseErrorCode;
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column (in UTF-16 code units). */
  readonly column: number;

  constructor(code: ParseErrorCode, problem: string, line: number, column: number) {
    super(`Line ${line}, column ${column}: ${problem}`);
    this.name = 'ParseError';
    this.code = code;
    this.line = line;
    this.column = column;
  }
}
