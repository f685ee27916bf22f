/**
 * Errors raised by the peer transport. Every error carries a stable `code` that callers may branch on;
 * messages are for people and may change.
 */

export type TransportErrorCode =
  /** A frame's length prefix is over the bound for its stream. */
  | 'TRANSPORT_FRAME_TOO_LARGE'
  /** A frame ended before one of its fields did. */
  | 'TRANSPORT_FRAME_TRUNCATED'
  /** A frame is structurally wrong: unknown kind, trailing bytes, bad flag bits, a field out of range. */
  | 'TRANSPORT_FRAME_MALFORMED'
  /** A varint is longer than a safe integer can be, or its value is above 2^53 - 1. */
  | 'TRANSPORT_VARINT_INVALID'
  /** A message type or entry type code that this version does not know. */
  | 'TRANSPORT_UNKNOWN_TYPE'
  /** A count inside a frame (entries, configuration members) is over its bound. */
  | 'TRANSPORT_BOUND_EXCEEDED'
  /** The first frame of a connection is not a valid handshake (magic or kind). */
  | 'TRANSPORT_HANDSHAKE_INVALID'
  /** The peer speaks a protocol version this member does not. */
  | 'TRANSPORT_VERSION_UNSUPPORTED'
  /** The peer belongs to another cluster. */
  | 'TRANSPORT_CLUSTER_MISMATCH'
  /** The peer meant to reach another member (a stale or mistyped peer URL). */
  | 'TRANSPORT_WRONG_MEMBER'
  /** The sender is not a peer this member knows. */
  | 'TRANSPORT_UNKNOWN_PEER'
  /** The peer refused this connection (the refusal's own code is in the message). */
  | 'TRANSPORT_REFUSED'
  /** A snapshot stream broke its protocol or a chunk failed its CRC. */
  | 'TRANSPORT_SNAPSHOT_CORRUPT'
  /** A snapshot is larger than the receiver accepts. */
  | 'TRANSPORT_SNAPSHOT_TOO_LARGE'
  /** The caller handed the transport something it cannot send (a local message type, an unknown sender). */
  | 'TRANSPORT_INVALID_MESSAGE'
  /** An option or argument is out of range. */
  | 'TRANSPORT_INVALID_ARGUMENT'
  /** The transport is closed. */
  | 'TRANSPORT_CLOSED'
  /** A broken invariant: a bug in keel, never a peer's fault. */
  | 'TRANSPORT_ASSERTION_FAILED';

export class TransportError extends Error {
  readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
    this.code = code;
  }
}

/** True when `error` is a {@link TransportError}, optionally with the given code. */
export function isTransportError(error: unknown, code?: TransportErrorCode): error is TransportError {
  return error instanceof TransportError && (code === undefined || error.code === code);
}

/**
 * Stops with TRANSPORT_ASSERTION_FAILED when `condition` is false. Stays on in production. Pass a constant
 * message on hot paths so that no string is built when the check passes.
 *
 * @example
 * assert(queueBytes >= 0, 'queue byte count went negative');
 */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new TransportError('TRANSPORT_ASSERTION_FAILED', message);
}
