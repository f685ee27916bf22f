import { Status } from '../server/grpc/index.ts';

/** Stable codes: one per gRPC status, plus the client's own failures. */
export type ClientErrorCode = `GRPC_${keyof typeof Status}`;

/**
 * A failed call: the gRPC status and etcd's message (`etcdserver: requested lease not found`), exactly as
 * the server sent it, so a CLI can print it as etcdctl does.
 *
 * @example
 * try { await client.leaseRevoke(1n); } catch (error) { if (error instanceof ClientError && error.status === Status.NOT_FOUND) ... }
 */
export class ClientError extends Error {
  readonly status: Status;
  readonly code: ClientErrorCode;
  /** The endpoint that answered (or failed), when known. */
  readonly endpoint: string | undefined;

  constructor(status: Status, message: string, options?: { endpoint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientError';
    this.status = status;
    this.code = `GRPC_${(Status[status] ?? 'UNKNOWN') as keyof typeof Status}`;
    this.endpoint = options?.endpoint;
  }
}

/** Whether a failure may succeed on another endpoint (the member is down, stopping or has no leader). */
export function isUnavailable(error: unknown): boolean {
  return error instanceof ClientError && error.status === Status.UNAVAILABLE;
}
