/**
 * Errors raised by the remote-write sender. Every error carries a stable `code` so that callers (the
 * monitor, tests, logs) can branch on it without parsing messages.
 */

/** Stable codes for {@link RemoteWriteError}. Never rename one; add new ones instead. */
export type RemoteWriteErrorCode =
  /** Snappy input does not decode: bad preamble, truncated element, offset out of range, wrong length. */
  | 'REMOTE_SNAPPY_CORRUPT'
  /** A Snappy block is larger than the encoder or decoder accepts. */
  | 'REMOTE_SNAPPY_TOO_LARGE'
  /** A write request would be larger than `writeRequestBytesMax`. */
  | 'REMOTE_REQUEST_TOO_LARGE'
  /** A call was malformed: an empty label set, a timestamp that is not an integer, samples out of order. */
  | 'REMOTE_INVALID_ARGUMENT'
  /** An option is outside its allowed range. */
  | 'REMOTE_INVALID_OPTIONS'
  /** The receiver answered with a status that is not 2xx (the message carries its first line). */
  | 'REMOTE_HTTP_STATUS'
  /** The connection failed or broke before a response arrived. */
  | 'REMOTE_NETWORK'
  /** No response within `remote_timeout`. */
  | 'REMOTE_TIMEOUT'
  /** The queue was shut down while the request was in flight. */
  | 'REMOTE_ABORTED';

/** A remote-write error with a stable code and a sentence-case message. */
export class RemoteWriteError extends Error {
  readonly code: RemoteWriteErrorCode;

  constructor(code: RemoteWriteErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RemoteWriteError';
    this.code = code;
  }
}
