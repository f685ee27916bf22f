/**
 * Errors raised by the protobuf codec. Every error carries a stable `code`, so that the gRPC layer can map
 * malformed input to a status without parsing messages.
 */

/** Stable codes for {@link ProtoError}. Never rename one; add new ones instead. */
export type ProtoErrorCode =
  /** The input ends inside a tag, a varint, a fixed-width value or a length-delimited field. */
  | 'PROTO_TRUNCATED'
  /** A varint runs past 10 bytes, the longest a 64-bit value can take. */
  | 'PROTO_VARINT_TOO_LONG'
  /** A tag names field number 0 or one above 2^29 - 1. */
  | 'PROTO_INVALID_FIELD_NUMBER'
  /** A tag carries wire type 6 or 7, which protobuf does not define, or an unmatched end-group. */
  | 'PROTO_INVALID_WIRE_TYPE'
  /** A known field arrives with a wire type its declared type cannot have. */
  | 'PROTO_WIRE_TYPE_MISMATCH'
  /** A 64-bit field declared as a JS number holds a value outside ±(2^53 - 1). */
  | 'PROTO_INTEGER_UNSAFE'
  /** A string field is not valid UTF-8 (proto3 requires it). */
  | 'PROTO_INVALID_UTF8'
  /** Messages (or unknown groups) nest deeper than {@link nestingDepthMax}. */
  | 'PROTO_NESTING_TOO_DEEP'
  /** A value handed to an encoder does not fit its field (for example a fractional int64). */
  | 'PROTO_INVALID_VALUE';

/**
 * A message could not be decoded or encoded. `offset` is the byte position in the input where decoding
 * stopped, or -1 for encoding errors.
 *
 * @example
 * try { decodeRangeRequest(bytes); } catch (error) { if (error instanceof ProtoError) console.log(error.code); }
 */
export class ProtoError extends Error {
  readonly code: ProtoErrorCode;
  readonly offset: number;

  constructor(code: ProtoErrorCode, message: string, offset: number) {
    super(message);
    this.name = 'ProtoError';
    this.code = code;
    this.offset = offset;
  }
}

/** A broken invariant of the codec itself: a bug in keel, never bad input. Stays on in production. */
export class ProtoAssertionError extends Error {
  readonly code = 'PROTO_ASSERTION_FAILED';

  constructor(message: string) {
    super(message);
    this.name = 'ProtoAssertionError';
  }
}

/**
 * Stops with a {@link ProtoAssertionError} when `condition` is false. Pass a constant message on hot paths
 * so that no string is built when the check passes.
 *
 * @example
 * assert(writer.position === writer.bytes.length, 'encoder filled the buffer exactly');
 */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ProtoAssertionError(message);
}

/**
 * How deep messages may nest while decoding. Transactions nest through RequestOp.request_txn, so hostile
 * input could otherwise recurse until the stack overflows. 64 is far above any real etcd request (etcd's
 * own txn nesting is shallow) and far below the stack limit.
 */
export const nestingDepthMax = 64;
