/** A broken invariant of the gRPC layer: a bug in keel, never a client's fault. Stays on in production. */
export class GrpcAssertionError extends Error {
  readonly code = 'GRPC_ASSERTION_FAILED';

  constructor(message: string) {
    super(message);
    this.name = 'GrpcAssertionError';
  }
}

/**
 * Stops with a {@link GrpcAssertionError} when `condition` is false. Pass a constant message on hot paths
 * so that no string is built when the check passes.
 *
 * @example
 * assert(frame.length >= frameHeaderBytes, 'encoder reserved room for the frame header');
 */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new GrpcAssertionError(message);
}
