/**
 * Options of the etcd v3 API services, their defaults (etcd's where etcd has one) and their validation.
 * Bounds end in `Max`; every queue the services keep is bounded by one of them.
 */
import { GrpcError, Status } from '../grpc/index.ts';

export interface ApiOptions {
  /**
   * Largest write request accepted, in encoded bytes (etcd's `--max-request-bytes`). Larger writes fail
   * with `etcdserver: request is too large`. Also the size a fragmenting watcher's responses stay under.
   */
  readonly requestBytesMax?: number;
  /** Watchers one Watch stream may hold at once. */
  readonly streamWatchersMax?: number;
  /** Control responses (created, canceled, progress) queued on one Watch stream before requests wait. */
  readonly watchControlResponsesMax?: number;
  /** Hub responses taken per ready watcher per turn, so that one busy watcher cannot starve the others. */
  readonly watchTakeResponsesMax?: number;
  /** How often watchers that asked for progress notifications get one (etcd: 10 minutes). */
  readonly watchProgressIntervalMs?: number;
  /**
   * How often the services look for ready watchers themselves, in case the store's `watch.onReady` is not
   * wired to `ApiServices.watchReady`; 0 disables the poll.
   */
  readonly watchPollIntervalMs?: number;
  /** Largest `blob` of one Snapshot response (etcd sends 32 KiB). */
  readonly snapshotChunkBytesMax?: number;
}

export type ResolvedApiOptions = Required<ApiOptions>;

const mebibyte = 1024 * 1024;

export const apiDefaults: ResolvedApiOptions = Object.freeze({
  requestBytesMax: 1.5 * mebibyte,
  streamWatchersMax: 10_000,
  watchControlResponsesMax: 256,
  watchTakeResponsesMax: 16,
  watchProgressIntervalMs: 10 * 60 * 1000,
  watchPollIntervalMs: 100,
  snapshotChunkBytesMax: 32 * 1024,
});

/** A bad option: a programming error of the caller, reported with a stable code. */
export class ApiOptionsError extends Error {
  readonly code = 'API_INVALID_OPTIONS';

  constructor(detail: string) {
    super(`keel: invalid API options: ${detail}`);
    this.name = 'ApiOptionsError';
  }
}

/**
 * Fills in defaults and checks every bound.
 *
 * @example
 * resolveApiOptions({ requestBytesMax: 1024 }).streamWatchersMax; // 10000
 */
export function resolveApiOptions(options: ApiOptions = {}): ResolvedApiOptions {
  const resolved: ResolvedApiOptions = { ...apiDefaults, ...stripUndefined(options) };
  const positive: (keyof ResolvedApiOptions)[] = ['requestBytesMax', 'streamWatchersMax', 'watchControlResponsesMax', 'watchTakeResponsesMax', 'watchProgressIntervalMs', 'snapshotChunkBytesMax'];
  for (const name of positive) {
    if (!(Number.isSafeInteger(resolved[name]) && resolved[name] >= 1)) throw new ApiOptionsError(`${name} must be a positive integer`);
  }
  if (!(Number.isSafeInteger(resolved.watchPollIntervalMs) && resolved.watchPollIntervalMs >= 0)) throw new ApiOptionsError('watchPollIntervalMs must be >= 0');
  // A watch create, cancel and progress answer must fit in the control queue at once.
  if (resolved.watchControlResponsesMax < 2) throw new ApiOptionsError('watchControlResponsesMax must be >= 2');
  return resolved;
}

function stripUndefined(options: ApiOptions): ApiOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as ApiOptions;
}

/** An always-on check of the API layer's own invariants: a failure is a keel bug, reported as INTERNAL. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new GrpcError(Status.INTERNAL, `keel: api invariant broken: ${message}`);
}
