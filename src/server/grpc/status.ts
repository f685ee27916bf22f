/**
 * gRPC status codes, the error a handler throws to choose one, and the percent-encoding of
 * `grpc-message` (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md, "Responses").
 */
import { Buffer } from 'node:buffer';

/** The gRPC status codes (https://github.com/grpc/grpc/blob/master/doc/statuscodes.md). */
export enum Status {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

const statusCodeMax = Status.UNAUTHENTICATED;

/** Stable codes for {@link GrpcError}, one per gRPC status, for callers that branch on `code` strings. */
export type GrpcErrorCode = `GRPC_${keyof typeof Status}`;

/**
 * An error that ends a call with a chosen gRPC status. Throw it from a handler; any other error ends the
 * call with UNKNOWN. `trailers` are extra response trailers (metadata) sent with the status.
 *
 * @example
 * throw new GrpcError(Status.NOT_FOUND, 'etcdserver: requested lease not found');
 */
export class GrpcError extends Error {
  readonly status: Status;
  readonly code: GrpcErrorCode;
  readonly trailers: Readonly<Record<string, string>> | undefined;

  constructor(status: Status, message: string, options?: { cause?: unknown; trailers?: Record<string, string> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (!Number.isInteger(status) || status < 0 || status > statusCodeMax) throw new RangeError(`not a gRPC status code: ${status}`);
    this.name = 'GrpcError';
    this.status = status;
    this.code = `GRPC_${Status[status] as keyof typeof Status}`;
    this.trailers = options?.trailers;
  }
}

/** Whether `value` is a valid status number, for parsing `grpc-status` from a peer. */
export function isStatus(value: number): value is Status {
  return Number.isInteger(value) && value >= 0 && value <= statusCodeMax;
}

const hexDigits = '0123456789ABCDEF';

/**
 * Percent-encodes a status message for the `grpc-message` trailer: UTF-8 bytes outside printable ASCII
 * (0x20-0x7E) and `%` itself become `%XX`.
 *
 * @example
 * encodeGrpcMessage('50% done ✓'); // '50%25 done %E2%9C%93'
 */
export function encodeGrpcMessage(message: string): string {
  if (!needsPercentEncoding(message)) return message;
  let encoded = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    if (byte >= 0x20 && byte <= 0x7e && byte !== 0x25) encoded += String.fromCharCode(byte);
    else encoded += `%${hexDigits[byte >> 4]}${hexDigits[byte & 0x0f]}`;
  }
  return encoded;
}

function needsPercentEncoding(message: string): boolean {
  for (let index = 0; index < message.length; index++) {
    const code = message.charCodeAt(index);
    if (code < 0x20 || code > 0x7e || code === 0x25) return true;
  }
  return false;
}

/**
 * Decodes a `grpc-message` value. Malformed escapes are kept as written, as the spec asks receivers to
 * be lenient.
 *
 * @example
 * decodeGrpcMessage('50%25 done %E2%9C%93'); // '50% done ✓'
 */
export function decodeGrpcMessage(encoded: string): string {
  if (!encoded.includes('%')) return encoded;
  const bytes: number[] = [];
  for (let index = 0; index < encoded.length; index++) {
    const code = encoded.charCodeAt(index);
    const escape = code === 0x25 && index + 2 < encoded.length ? encoded.slice(index + 1, index + 3) : '';
    if (escape.length === 2 && /^[0-9A-Fa-f]{2}$/.test(escape)) {
      bytes.push(parseInt(escape, 16));
      index += 2;
    } else {
      for (const byte of Buffer.from(encoded[index]!, 'utf8')) bytes.push(byte);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
