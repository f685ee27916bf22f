/**
 * Why a scrape failed. The scrape loop never throws these: it records the message as the target's
 * `lastError`, reports `up` 0, and goes on. The codes let tests and the diagnosis branch on the cause.
 */

/** Stable codes for {@link ScrapeError}. Never rename one; add new ones instead. */
export type ScrapeErrorCode =
  /** The connection could not be made or broke (refused, reset, DNS). */
  | 'SCRAPE_CONNECTION_FAILED'
  /** No complete response within the scrape timeout. */
  | 'SCRAPE_TIMEOUT'
  /** The target answered with a status other than 200. */
  | 'SCRAPE_HTTP_STATUS'
  /** The decompressed body reached the body size limit. */
  | 'SCRAPE_BODY_TOO_LARGE'
  /** The body is not valid UTF-8 or not valid gzip. */
  | 'SCRAPE_BODY_INVALID'
  /** The exposition does not parse (the parser's code and position are in the message). */
  | 'SCRAPE_PARSE_FAILED'
  /** More samples than `sample_limit` after metric relabelling. */
  | 'SCRAPE_SAMPLE_LIMIT'
  /** A series broke `label_limit`, `label_name_length_limit` or `label_value_length_limit`. */
  | 'SCRAPE_LABEL_LIMIT'
  /** The job has more targets than `target_limit`. */
  | 'SCRAPE_TARGET_LIMIT'
  /** A series lost its metric name or got an invalid label in relabelling. */
  | 'SCRAPE_INVALID_SERIES'
  /** The store refused the batch (commit failed). */
  | 'SCRAPE_APPEND_FAILED'
  /** The loop stopped while the scrape was running. */
  | 'SCRAPE_STOPPED';

/**
 * A failed scrape, with Prometheus's wording where Prometheus has one.
 *
 * @example
 * new ScrapeError('SCRAPE_SAMPLE_LIMIT', 'sample limit exceeded').code; // 'SCRAPE_SAMPLE_LIMIT'
 */
export class ScrapeError extends Error {
  readonly code: ScrapeErrorCode;

  constructor(code: ScrapeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScrapeError';
    this.code = code;
  }
}
