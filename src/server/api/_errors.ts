/**
 * Errors as etcd clients see them. The gRPC status message is what etcdctl prints, so it must be etcd's
 * exact text (etcdserver/api/v3rpc/rpctypes/error.go).
 */
import { GrpcError, Status } from '../grpc/index.ts';
import { KvError, kvErrorSpecs } from '../../kv/index.ts';
import { ProtoError } from '../proto/index.ts';

export const requestTooLargeMessage = 'etcdserver: request is too large';
export const leaseNotFoundMessage = kvErrorSpecs.KV_LEASE_NOT_FOUND.message;
export const unsafeIntegerMessage = kvErrorSpecs.KV_UNSAFE_INTEGER.message;

/**
 * Maps what a store or backend threw to the GrpcError etcd would answer with. Anything unrecognised is
 * returned unchanged, and the gRPC server reports it as UNKNOWN.
 */
export function toGrpcError(error: unknown): unknown {
  if (error instanceof GrpcError) return error;
  if (error instanceof KvError) return new GrpcError(error.grpcCode as Status, error.message, { cause: error });
  if (error instanceof ProtoError) return new GrpcError(Status.INVALID_ARGUMENT, `keel: ${error.message}`, { cause: error });
  return error;
}

/** Rethrows `error` as {@link toGrpcError} maps it: a promise's rejection handler. */
export function rethrowAsGrpc(error: unknown): never {
  throw toGrpcError(error);
}

/**
 * Starts `work` and answers with `reply` of its result; whatever fails, at once or later, fails as
 * {@link toGrpcError} maps it. The hot write path's shape: one promise beyond the work's own, where an
 * async wrapper around an async handler made three async frames and three awaits per call.
 */
export function replying<R, T>(work: () => Promise<R>, reply: (result: R) => T): Promise<T> {
  let pending: Promise<R>;
  try {
    pending = work();
  } catch (error) {
    return Promise.reject(toGrpcError(error));
  }
  return pending.then(reply, rethrowAsGrpc);
}

/** Runs `work`, translating its errors with {@link toGrpcError}. */
export async function translatingErrors<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toGrpcError(error);
  }
}

/** Whether an error means "no such lease", however the backend chose to say it. */
export function isLeaseNotFound(error: unknown): boolean {
  if (error instanceof KvError) return error.code === 'KV_LEASE_NOT_FOUND';
  return error instanceof GrpcError && error.message === leaseNotFoundMessage;
}

export function requestTooLarge(): GrpcError {
  return new GrpcError(Status.INVALID_ARGUMENT, requestTooLargeMessage);
}
