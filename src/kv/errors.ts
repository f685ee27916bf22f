/**
 * Errors of the key-value state machine. Each carries a stable `code` for callers to branch on, the exact
 * message text etcd v3.4 sends for the same condition (so unchanged etcd clients recognise it), and the
 * gRPC status code etcd uses (etcdserver/api/v3rpc/rpctypes/error.go). Errors that etcd does not have
 * are keel's own and say so with a `keel:` prefix.
 */

/** gRPC status codes used below (google.golang.org/grpc/codes). */
export const GrpcCode = {
  InvalidArgument: 3,
  NotFound: 5,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  OutOfRange: 11,
  Internal: 13,
  DataLoss: 15,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

/** Stable codes for {@link KvError}. Never rename one; add new ones instead. */
export type KvErrorCode =
  | 'KV_EMPTY_KEY'
  | 'KV_KEY_NOT_FOUND'
  | 'KV_VALUE_PROVIDED'
  | 'KV_LEASE_PROVIDED'
  | 'KV_TOO_MANY_OPS'
  | 'KV_DUPLICATE_KEY'
  | 'KV_COMPACTED'
  | 'KV_FUTURE_REV'
  | 'KV_NO_SPACE'
  | 'KV_LEASE_NOT_FOUND'
  | 'KV_LEASE_EXISTS'
  | 'KV_LEASE_TTL_TOO_LARGE'
  | 'KV_CORRUPT'
  | 'KV_NOT_LEADER'
  | 'KV_UNSAFE_INTEGER'
  | 'KV_INVALID_ARGUMENT'
  | 'KV_TOO_MANY_WATCHERS'
  | 'KV_SNAPSHOT_CORRUPT'
  | 'KV_INVALID_CONFIG';

interface ErrorSpec {
  readonly message: string;
  readonly grpcCode: GrpcCode;
}

/** The message and gRPC code of every error code; the etcd ones copied from etcd's wire text. */
export const kvErrorSpecs: Readonly<Record<KvErrorCode, ErrorSpec>> = {
  KV_EMPTY_KEY: { message: 'etcdserver: key is not provided', grpcCode: GrpcCode.InvalidArgument },
  KV_KEY_NOT_FOUND: { message: 'etcdserver: key not found', grpcCode: GrpcCode.InvalidArgument },
  KV_VALUE_PROVIDED: { message: 'etcdserver: value is provided', grpcCode: GrpcCode.InvalidArgument },
  KV_LEASE_PROVIDED: { message: 'etcdserver: lease is provided', grpcCode: GrpcCode.InvalidArgument },
  KV_TOO_MANY_OPS: { message: 'etcdserver: too many operations in txn request', grpcCode: GrpcCode.InvalidArgument },
  KV_DUPLICATE_KEY: { message: 'etcdserver: duplicate key given in txn request', grpcCode: GrpcCode.InvalidArgument },
  KV_COMPACTED: { message: 'etcdserver: mvcc: required revision has been compacted', grpcCode: GrpcCode.OutOfRange },
  KV_FUTURE_REV: { message: 'etcdserver: mvcc: required revision is a future revision', grpcCode: GrpcCode.OutOfRange },
  KV_NO_SPACE: { message: 'etcdserver: mvcc: database space exceeded', grpcCode: GrpcCode.ResourceExhausted },
  KV_LEASE_NOT_FOUND: { message: 'etcdserver: requested lease not found', grpcCode: GrpcCode.NotFound },
  KV_LEASE_EXISTS: { message: 'etcdserver: lease already exists', grpcCode: GrpcCode.FailedPrecondition },
  KV_LEASE_TTL_TOO_LARGE: { message: 'etcdserver: too large lease TTL', grpcCode: GrpcCode.OutOfRange },
  KV_CORRUPT: { message: 'etcdserver: corrupt cluster', grpcCode: GrpcCode.DataLoss },
  KV_NOT_LEADER: { message: 'etcdserver: not leader', grpcCode: GrpcCode.FailedPrecondition },
  KV_UNSAFE_INTEGER: { message: 'keel: integer field is not a safe integer (|n| <= 2^53-1)', grpcCode: GrpcCode.InvalidArgument },
  KV_INVALID_ARGUMENT: { message: 'keel: invalid argument', grpcCode: GrpcCode.InvalidArgument },
  KV_TOO_MANY_WATCHERS: { message: 'keel: too many watchers', grpcCode: GrpcCode.ResourceExhausted },
  KV_SNAPSHOT_CORRUPT: { message: 'keel: key-value snapshot is corrupt', grpcCode: GrpcCode.DataLoss },
  KV_INVALID_CONFIG: { message: 'keel: invalid key-value store configuration', grpcCode: GrpcCode.InvalidArgument },
};

/**
 * A state machine error. `message` is the exact wire text; `detail` (keel's own errors only) says more.
 *
 * @example
 * try { store.range({ key, revision: 1 }); } catch (error) {
 *   if (error instanceof KvError && error.code === 'KV_COMPACTED') { ... }
 * }
 */
export class KvError extends Error {
  readonly code: KvErrorCode;
  readonly grpcCode: GrpcCode;
  readonly detail: string | undefined;

  constructor(code: KvErrorCode, detail?: string) {
    const spec = kvErrorSpecs[code];
    super(spec.message);
    this.name = 'KvError';
    this.code = code;
    this.grpcCode = spec.grpcCode;
    this.detail = detail;
  }
}

/** A broken invariant: a bug in keel, never bad input. Assertions stay on in production. */
export class KvInvariantError extends Error {
  readonly code = 'KV_INVARIANT';

  constructor(message: string) {
    super(message);
    this.name = 'KvInvariantError';
  }
}

/**
 * Stops with a {@link KvInvariantError} when `condition` is false. Pass a constant message on hot paths so
 * that no string is built when the check passes.
 *
 * @example
 * assert(record.mainRevision > 0, 'revisions start at 1');
 */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new KvInvariantError(message);
}
