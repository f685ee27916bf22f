/**
 * Errors raised by the time-series store. Every error carries a stable `code` so that callers (the
 * scrape loop, the HTTP API, tests) can branch on it without parsing messages.
 */

/** Stable codes for {@link TsdbError}. Never rename one; add new ones instead. */
export type TsdbErrorCode =
  /** Chunk bytes do not decode: truncated, bad header, impossible field values or dirty padding. */
  | 'TSDB_CHUNK_CORRUPT'
  /** The chunk already holds {@link chunkSamplesMax} samples. */
  | 'TSDB_CHUNK_FULL'
  /** A sample's timestamp is not after the previous sample's timestamp in the same chunk. */
  | 'TSDB_OUT_OF_ORDER_SAMPLE'
  /** A timestamp is not an integer inside the supported millisecond range. */
  | 'TSDB_TIMESTAMP_OUT_OF_RANGE'
  /** A label name does not match `[a-zA-Z_][a-zA-Z0-9_]*`. */
  | 'TSDB_INVALID_LABEL_NAME'
  /** A label value is not well-formed Unicode (a lone surrogate). */
  | 'TSDB_INVALID_LABEL_VALUE'
  /** The `__name__` value does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
  | 'TSDB_INVALID_METRIC_NAME'
  /** The same label name appears twice in one label set. */
  | 'TSDB_DUPLICATE_LABEL_NAME'
  /** A regular expression is not valid RE2 syntax. */
  | 'TSDB_INVALID_REGEX'
  /** A regular expression uses a construct RE2 deliberately lacks (backreferences, lookaround, ...). */
  | 'TSDB_UNSUPPORTED_REGEX'
  /** A matcher type is not one of `=`, `!=`, `=~`, `!~`. */
  | 'TSDB_INVALID_MATCHER'
  /** A series ID is already in the index. */
  | 'TSDB_DUPLICATE_SERIES'
  /** A series ID is not a non-negative safe integer. */
  | 'TSDB_INVALID_SERIES_ID'
  /** A head WAL segment or checkpoint fails its checks somewhere other than a torn tail. */
  | 'TSDB_WAL_CORRUPT'
  /** A block's meta.json, index or chunk segment fails its checks. */
  | 'TSDB_BLOCK_CORRUPT'
  /** Another process (or another `Tsdb` in this one) holds the directory's lock file. */
  | 'TSDB_LOCKED'
  /** The database, or the appender, was already closed. */
  | 'TSDB_CLOSED'
  /** An option is outside its allowed range. */
  | 'TSDB_INVALID_OPTIONS'
  /** A call was malformed: an empty label set, an unknown series reference, a matcher list that selects everything. */
  | 'TSDB_INVALID_ARGUMENT'
  /** An appender batch holds more samples than `appenderSamplesMax`. */
  | 'TSDB_BATCH_TOO_LARGE'
  /** An import file does not parse (the message gives the line and column) or breaks an import rule. */
  | 'TSDB_IMPORT_INVALID'
  /** An imported block would overlap a block already in the directory. */
  | 'TSDB_IMPORT_OVERLAP';

/** A store error with a stable code and a sentence-case message. */
export class TsdbError extends Error {
  readonly code: TsdbErrorCode;

  constructor(code: TsdbErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TsdbError';
    this.code = code;
  }
}

/** A broken invariant: a bug in keel, never bad input. Assertions stay on in production. */
export class AssertionError extends Error {
  readonly code = 'TSDB_ASSERTION_FAILED';

  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

/**
 * Stops with an {@link AssertionError} when `condition` is false. Pass a constant message on hot paths so
 * that no string is built when the check passes.
 *
 * @example
 * assert(bitCount <= 32, 'bit count fits one word');
 */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
