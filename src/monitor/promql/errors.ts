/**
 * PromQL errors. Every error carries Prometheus's HTTP API `errorType` (what the `/api/v1/query` routes put in
 * their error body) and a stable keel `code` that callers can branch on without parsing messages. Messages
 * follow Prometheus 2.42 word for word where a client might match on them.
 */

/** Prometheus's `errorType` values that the engine produces. */
export type PromqlErrorType = 'bad_data' | 'timeout' | 'execution' | 'internal';

/** Stable keel codes. Never rename one; add new ones instead. */
export type PromqlErrorCode =
  /** The query does not parse or does not type-check (`bad_data`). */
  | 'PROMQL_PARSE_ERROR'
  /** A query option is invalid: step, time range, lookback, expression type for a range query (`bad_data`). */
  | 'PROMQL_BAD_QUERY'
  /** The query ran longer than its timeout (`timeout`). */
  | 'PROMQL_TIMEOUT'
  /** The query would hold more samples in memory than `maxSamples` (`execution`). */
  | 'PROMQL_TOO_MANY_SAMPLES'
  /** A runtime error: many-to-many matching, duplicate label sets, bad function argument (`execution`). */
  | 'PROMQL_EXECUTION_ERROR'
  /** A broken invariant inside the engine: a bug in keel (`internal`). */
  | 'PROMQL_INTERNAL_ERROR';

/** Any error the engine reports. */
export class PromqlError extends Error {
  readonly code: PromqlErrorCode;
  readonly errorType: PromqlErrorType;

  constructor(code: PromqlErrorCode, errorType: PromqlErrorType, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PromqlError';
    this.code = code;
    this.errorType = errorType;
  }
}

/** One problem found while parsing or type-checking, positioned in the query text (UTF-16 offsets). */
export interface ParseIssue {
  readonly position: { readonly start: number; readonly end: number };
  readonly message: string;
}

/**
 * A parse or type error, formatted like Prometheus's `ParseErrors`: one `line:column: parse error: message`
 * per issue, joined by newlines; lines and columns are 1-based and columns count UTF-8 bytes.
 *
 * @example
 * try { parseExpr('1 +'); } catch (error) { (error as ParseError).message; } // '1:4: parse error: unexpected end of input'
 */
export class ParseError extends PromqlError {
  readonly query: string;
  readonly issues: readonly ParseIssue[];

  constructor(query: string, issues: readonly ParseIssue[]) {
    assertPromql(issues.length > 0, 'a parse error has at least one issue');
    super('PROMQL_PARSE_ERROR', 'bad_data', issues.map((issue) => `${formatPosition(query, issue.position.start)} parse error: ${issue.message}`).join('\n'));
    this.name = 'ParseError';
    this.query = query;
    this.issues = issues;
  }

  /** The first issue's start offset. */
  get positionStart(): number {
    return this.issues[0]!.position.start;
  }
}

/** An engine limit or runtime failure (`execution` or `timeout`). */
export function executionError(message: string): PromqlError {
  return new PromqlError('PROMQL_EXECUTION_ERROR', 'execution', message);
}

/** Prometheus's `ErrTooManySamples` for the query execution phase. */
export function tooManySamplesError(): PromqlError {
  return new PromqlError('PROMQL_TOO_MANY_SAMPLES', 'execution', 'query processing would load too many samples into memory in query execution');
}

/** Prometheus's `ErrQueryTimeout` for the given phase, e.g. "expression evaluation". */
export function timeoutError(phase: string): PromqlError {
  return new PromqlError('PROMQL_TIMEOUT', 'timeout', `query timed out in ${phase}`);
}

/** A broken engine invariant. Assertions stay on in production. */
export function assertPromql(condition: boolean, message: string): asserts condition {
  if (!condition) throw new PromqlError('PROMQL_INTERNAL_ERROR', 'internal', `internal error: ${message}`);
}

const utf8Encoder = new TextEncoder();

function formatPosition(query: string, position: number): string {
  if (position < 0 || position > query.length) return 'invalid position:';
  const before = query.slice(0, position);
  const lastLineBreak = before.lastIndexOf('\n');
  let line = 1;
  for (let index = before.indexOf('\n'); index >= 0; index = before.indexOf('\n', index + 1)) line += 1;
  const column = utf8Encoder.encode(before.slice(lastLineBreak + 1)).length + 1;
  return `${line}:${column}:`;
}
