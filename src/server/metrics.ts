/**
 * Member metrics: one prom-client `Registry` per member with every `keel_*` metric plus the Node runtime
 * defaults, and the narrow recorder interfaces the member's components report into.
 *
 * Two ways in, both cheap where it matters:
 * - Collect-time callbacks read state that already exists (Raft status, store sizes, WAL and transport
 *   counters) when /metrics is scraped. Nothing is kept up to date between scrapes.
 * - What must be seen as it happens (a gRPC call's status and latency, an fsync's duration, a leader change
 *   in a Ready) lands in plain numbers held by series objects created once per label set and cached. A
 *   recording is a bucket search and a few additions: no label lookup, no string, no allocation. (prom-client
 *   hashes the label object into a string on every `inc()` and `observe()`, even through a cached
 *   `labels()` child, so the per-call paths do not use it; prom-client renders these series at scrape time.)
 *
 * Names follow Prometheus's conventions, and etcd's names where etcd has the metric (etcd_X becomes keel_X):
 * base units, `_total` on counters only, HELP on every metric. `promtool check metrics` has no findings.
 *
 * @example
 * const metrics = new MemberMetrics({ name: 'm1', version: keelVersion });
 * const member = await Member.start({ ...options, metrics });       // the member attaches itself
 * metrics.attachTransport(transport);
 * const server = new GrpcServer({ metrics: metrics.grpc });
 * const text = await metrics.registry.metrics();
 */
import { Counter, Gauge, Histogram, type LabelValues, Registry, collectDefaultMetrics } from 'prom-client';
import type { Ready, Status as RaftStatus } from '../raft/index.ts';
import type { KvStore } from '../kv/index.ts';
import type { WalStatistics, WalSyncedEvent } from '../storage/index.ts';
import type { GrpcCallObserver, GrpcCallRecorder } from './grpc/index.ts';
import type { MethodKind } from './proto/service.ts';
import type { PeerStatistics, TransportStatistics } from './transport/index.ts';
import type { SnapshotCapture, StateMachine } from './member/raft-driver.ts';

/** Bound on the buckets of one histogram. */
export const histogramBucketsMax = 64;
/** Bound on gRPC methods with series of their own; calls to methods past it share one `unknown` series. */
export const grpcMethodsMax = 256;
/** Bound on peers with a round-trip series of their own (the transport's default peersMax). */
export const peerSeriesMax = 1024;
/** An apply slower than this counts in keel_server_slow_apply_total (etcd warns past 100 ms). */
export const slowApplyThresholdMs = 100;

/**
 * `count` bucket bounds from `start`, each `factor` times the last, rounded to 12 significant digits so that
 * the `le` labels print as 0.0128, not 0.012800000000000001.
 *
 * @example
 * exponentialBuckets(0.001, 2, 4); // [0.001, 0.002, 0.004, 0.008]
 */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  if (!(start > 0) || !(factor > 1) || !Number.isSafeInteger(count) || count < 1 || count > histogramBucketsMax) {
    throw new RangeError(`exponential buckets need start > 0, factor > 1 and 1..${histogramBucketsMax} buckets`);
  }
  return Array.from({ length: count }, (_, index) => Number((start * factor ** index).toPrecision(12)));
}

/** etcd's etcd_disk_wal_fsync_duration_seconds buckets: 1 ms to 8.192 s, doubling. */
export const walFsyncSecondsBuckets = exponentialBuckets(0.001, 2, 14);
/** etcd's snapshot save buckets (etcd_debugging_snap_save_total_duration_seconds): 1 ms to 8.192 s. */
export const snapshotSaveSecondsBuckets = exponentialBuckets(0.001, 2, 14);
/** Restoring the store from a snapshot grows with the state: 1 ms to 32.768 s. */
export const snapshotApplySecondsBuckets = exponentialBuckets(0.001, 2, 16);
/** etcd's etcd_network_peer_round_trip_time_seconds buckets: 0.1 ms to 0.8192 s. */
export const peerRoundTripSecondsBuckets = exponentialBuckets(0.0001, 2, 14);
/** gRPC handling time, from 100 µs (a serializable read) to 10 s (a write waiting out an election). */
export const grpcHandlingSecondsBuckets: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** gRPC status names by code, as go-grpc-prometheus writes them in grpc_code. */
const grpcCodeNames: readonly string[] = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable',
  'DataLoss', 'Unauthenticated',
];
const grpcCodeUnknown = 2;
const grpcTypeNames: Readonly<Record<MethodKind, string>> = {
  unary: 'unary', 'client-stream': 'client_stream', 'server-stream': 'server_stream', 'bidirectional-stream': 'bidi_stream',
};
/**
 * prom-client's defaults that promtool rejects: gauges named `_total` ("non-counter metrics should not have
 * _total suffix"). Each is the sum over the labelled gauge of the same name without `_total`.
 */
const defaultMetricsDropped: readonly string[] = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

// ---------------------------------------------------------------------------------------------------------
// What the metrics read and what reports into them
// ---------------------------------------------------------------------------------------------------------

/** What the metrics read from the Raft driver at scrape time (RaftDriver satisfies it). */
export interface DriverSource {
  readonly node: { status(): RaftStatus };
  readonly appliedIndex: number;
  readonly pendingProposals: number;
  readonly walStatistics: WalStatistics;
}

/** What a member hands over once its driver is open. */
export interface MemberSource {
  readonly memberId: number;
  readonly clusterId: bigint;
  readonly store: KvStore;
  readonly driver: DriverSource;
}

/** The peer transport's counters (PeerTransport satisfies it). */
export interface TransportSource {
  statistics(): TransportStatistics;
}

/** What the Raft driver reports as it runs; every call is per Ready or rarer. */
export interface DriverMetrics {
  /** Each Ready, before it is persisted: leader changes and campaigns show in its soft and hard state. */
  observeReady(ready: Ready): void;
  /** Hand to the WAL as `onSynced`: one fdatasync's duration. */
  readonly walSynced: (event: WalSyncedEvent) => void;
  /** The member saved a snapshot of its own (state machine snapshot, file, WAL marker) in `durationMs`. */
  snapshotSaved(durationMs: number): void;
}

/** A member's ID as etcd prints it (hex, no prefix): the `peer` and `member_id` label values. */
export function memberIdHex(id: number | bigint): string {
  return id.toString(16);
}

// ---------------------------------------------------------------------------------------------------------
// Histograms kept in plain numbers
// ---------------------------------------------------------------------------------------------------------

/** One labelled series of a histogram. Invariant: counts has one slot per bound plus +Inf. */
export class HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly bounds: readonly number[];
  /** Observations per bucket, not cumulative; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[], labels: Readonly<Record<string, string>>) {
    this.bounds = bounds;
    this.labels = labels;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Values are durations: a negative or non-finite one (a broken clock) is dropped, never thrown from a hook. */
  observe(value: number): void {
    if (!(value >= 0 && value < Number.POSITIVE_INFINITY)) return;
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    this.counts[bucket] = this.counts[bucket]! + 1;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

type MetricObject = Awaited<ReturnType<Histogram['get']>>;
type MetricValue = MetricObject['values'][number];

/**
 * A prom-client Histogram whose series are {@link HistogramSeries}: observations never go through
 * prom-client, which only renders the series when the registry is scraped.
 */
class BucketHistogram<Key> extends Histogram<string> {
  readonly #bounds: readonly number[];
  readonly #seriesMax: number;
  readonly #series = new Map<Key, HistogramSeries>();

  constructor(registry: Registry, config: { name: string; help: string; buckets: readonly number[]; labelNames?: readonly string[]; seriesMax?: number }) {
    super({ name: config.name, help: config.help, buckets: [...config.buckets], labelNames: [...(config.labelNames ?? [])], registers: [registry] });
    if (config.buckets.length === 0 || config.buckets.length > histogramBucketsMax) throw new RangeError(`${config.name}: 1..${histogramBucketsMax} buckets`);
    for (let index = 1; index < config.buckets.length; index++) {
      if (!(config.buckets[index]! > config.buckets[index - 1]!)) throw new RangeError(`${config.name}: bucket bounds must ascend`);
    }
    this.#bounds = [...config.buckets];
    this.#seriesMax = config.seriesMax ?? 1;
  }

  /** The series for `key`, created on first use with `labels`; null once seriesMax series exist. */
  series(key: Key, labels: Readonly<Record<string, string>> = {}): HistogramSeries | null {
    const existing = this.#series.get(key);
    if (existing !== undefined) return existing;
    if (this.#series.size >= this.#seriesMax) return null;
    const created = new HistogramSeries(this.#bounds, labels);
    this.#series.set(key, created);
    return created;
  }

  override async get(): Promise<MetricObject> {
    const values: MetricValue[] = [];
    for (const series of this.#series.values()) this.#render(series, values);
    // prom-client's declared MetricObject type does not match what its registry reads (type is a string
    // there); this is the shape Histogram itself returns.
    return { name: this.#name, help: this.#help, type: 'histogram', values, aggregator: 'sum' } as unknown as MetricObject;
  }

  /** The registry prefers this to get() when a metric has it, as prom-client's own Histogram does. */
  getForPromString(): Promise<MetricObject> {
    return this.get();
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class's fields exist.
    if (!(#series in this)) return;
    for (const series of this.#series.values()) series.reset();
  }

  get #name(): string {
    return (this as unknown as { name: string }).name;
  }

  get #help(): string {
    return (this as unknown as { help: string }).help;
  }

  #render(series: HistogramSeries, values: MetricValue[]): void {
    const name = this.#name;
    let cumulative = 0;
    for (let bucket = 0; bucket < this.#bounds.length; bucket++) {
      cumulative += series.counts[bucket]!;
      values.push({ metricName: `${name}_bucket`, labels: { ...series.labels, le: String(this.#bounds[bucket]) }, value: cumulative });
    }
    values.push({ metricName: `${name}_bucket`, labels: { ...series.labels, le: '+Inf' }, value: series.count });
    values.push({ metricName: `${name}_sum`, labels: { ...series.labels }, value: series.sum });
    values.push({ metricName: `${name}_count`, labels: { ...series.labels }, value: series.count });
  }
}

// ---------------------------------------------------------------------------------------------------------
// gRPC: go-grpc-prometheus's server metrics
// ---------------------------------------------------------------------------------------------------------

/** One method's series: started and handled counts and its latency histogram. */
class GrpcMethodSeries implements GrpcCallRecorder {
  started = 0;
  /** Calls ended, by status code. */
  readonly handledByCode = new Float64Array(grpcCodeNames.length);

  constructor(readonly labels: Readonly<Record<string, string>>, readonly latency: HistogramSeries | null) {}

  callEnded(status: number, seconds: number): void {
    const code = status >= 0 && status < grpcCodeNames.length ? status : grpcCodeUnknown;
    this.handledByCode[code] = this.handledByCode[code]! + 1;
    this.latency?.observe(seconds);
  }
}

/** The server side of go-grpc-prometheus: what a GrpcServer reports each call into (`metrics.grpc`). */
class GrpcServerMetrics implements GrpcCallObserver {
  /** By `:path`; the shared series of the methods past grpcMethodsMax is under '' (a path starts with '/'). */
  readonly #methods = new Map<string, GrpcMethodSeries>();
  readonly #latency: BucketHistogram<string>;

  constructor(registry: Registry) {
    const labelNames = ['grpc_type', 'grpc_service', 'grpc_method'];
    const methods = this.#methods;
    new Counter({
      name: 'keel_grpc_server_started_total', help: 'RPCs started on the server, by method.', labelNames, registers: [registry],
      collect() {
        this.reset();
        for (const series of methods.values()) this.inc(series.labels, series.started);
      },
    });
    new Counter({
      name: 'keel_grpc_server_handled_total', help: 'RPCs completed on the server, by method and status code.',
      labelNames: [...labelNames, 'grpc_code'], registers: [registry],
      collect() {
        this.reset();
        for (const series of methods.values()) {
          series.handledByCode.forEach((count, code) => {
            if (count > 0) this.inc({ ...series.labels, grpc_code: grpcCodeNames[code]! }, count);
          });
        }
      },
    });
    this.#latency = new BucketHistogram(registry, {
      name: 'keel_grpc_server_handling_seconds', help: 'Time from the start of an RPC to its status, by method.',
      buckets: grpcHandlingSecondsBuckets, labelNames, seriesMax: grpcMethodsMax + 1,
    });
  }

  /** Per call: one map lookup by the request's `:path` (the series are created on a method's first call). */
  callStarted(path: string, kind: MethodKind): GrpcCallRecorder {
    const series = this.#methods.get(path) ?? this.#add(path, kind);
    series.started++;
    return series;
  }

  #add(path: string, kind: MethodKind): GrpcMethodSeries {
    const overflow = this.#methods.get('');
    if (overflow !== undefined) return overflow;
    const separator = path.lastIndexOf('/');
    const full = this.#methods.size >= grpcMethodsMax;
    const key = full ? '' : path;
    const labels = full
      ? { grpc_type: 'unknown', grpc_service: 'unknown', grpc_method: 'unknown' }
      : { grpc_type: grpcTypeNames[kind], grpc_service: path.slice(1, Math.max(1, separator)), grpc_method: path.slice(separator + 1) };
    const series = new GrpcMethodSeries(labels, this.#latency.series(key, labels));
    this.#methods.set(key, series);
    return series;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The state machine, timed
// ---------------------------------------------------------------------------------------------------------

/** Times applies (slow ones are counted) and restores (snapshot apply duration) around the real machine. */
class TimedStateMachine implements StateMachine {
  constructor(readonly inner: StateMachine, readonly onSlowApply: () => void, readonly onRestore: (durationMs: number) => void) {}

  apply(index: number, command: Uint8Array): unknown {
    const startedAtMs = performance.now();
    try {
      return this.inner.apply(index, command);
    } finally {
      if (performance.now() - startedAtMs > slowApplyThresholdMs) this.onSlowApply();
    }
  }

  applyConfChange(...args: Parameters<StateMachine['applyConfChange']>): void {
    this.inner.applyConfChange(...args);
  }

  captureSnapshot(): SnapshotCapture {
    return this.inner.captureSnapshot();
  }

  restore(data: Uint8Array): void {
    const startedAtMs = performance.now();
    this.inner.restore(data);
    this.onRestore(performance.now() - startedAtMs);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The member's registry
// ---------------------------------------------------------------------------------------------------------

export interface MemberMetricsOptions {
  /** The member's name (--name). */
  readonly name: string;
  /** keel's version string, for keel_server_info. */
  readonly version: string;
}

/** One member's metrics. Components get it (or one of its narrow interfaces) and report into it. */
export class MemberMetrics implements DriverMetrics {
  readonly registry = new Registry();
  /** Hand to `new GrpcServer({ metrics })`: every call to a registered method is counted and timed. */
  readonly grpc: GrpcCallObserver;
  readonly #options: MemberMetricsOptions;
  #member: MemberSource | null = null;
  #transport: TransportSource | null = null;
  #watchStreams: (() => number) | null = null;
  /** Invariant: the last leader and term seen in a Ready (or at attach), to spot changes and campaigns. */
  #lastLeader = 0;
  #lastTerm = 0;
  readonly #leaderChanges: Counter<string>;
  readonly #campaigns: Counter<string>;
  readonly #proposalsFailed: Counter<string>;
  readonly #slowApplies: Counter<string>;
  readonly #leasesExpired: Counter<string>;
  readonly #walFsync: HistogramSeries;
  readonly #snapshotSave: HistogramSeries;
  readonly #snapshotApply: HistogramSeries;
  readonly #peerRoundTrip: BucketHistogram<number>;

  constructor(options: MemberMetricsOptions) {
    this.#options = options;
    collectDefaultMetrics({ register: this.registry });
    for (const name of defaultMetricsDropped) this.registry.removeSingleMetric(name);
    this.#serverMetrics();
    this.#raftMetrics();
    this.#storeMetrics();
    this.#peerMetrics();
    const counter = (name: string, help: string) => new Counter({ name, help, registers: [this.registry] });
    this.#leaderChanges = counter('keel_server_leader_changes_seen_total', 'Leader changes this member has seen (a new leader known).');
    this.#campaigns = counter('keel_raft_campaigns_total', 'Elections this member started: terms it entered as a candidate.');
    this.#proposalsFailed = counter('keel_server_proposals_failed_total', 'Proposals that failed: dropped, timed out, lost to a leader change or refused as too many.');
    this.#slowApplies = counter('keel_server_slow_apply_total', `Committed entries whose apply took longer than ${slowApplyThresholdMs} ms.`);
    this.#leasesExpired = counter('keel_lease_expired_total', 'Leases this member, as leader, revoked because they expired.');
    const histogram = (name: string, help: string, buckets: readonly number[]) => new BucketHistogram<number>(this.registry, { name, help, buckets }).series(0)!;
    this.#walFsync = histogram('keel_disk_wal_fsync_duration_seconds', 'The latency of WAL fdatasync calls.', walFsyncSecondsBuckets);
    this.#snapshotSave = histogram('keel_disk_snapshot_save_duration_seconds', 'The time to save a snapshot of this member: state, file and WAL marker.', snapshotSaveSecondsBuckets);
    this.#snapshotApply = histogram('keel_server_snapshot_apply_duration_seconds', 'The time to restore the store from a snapshot (at start or installed from the leader).', snapshotApplySecondsBuckets);
    this.#peerRoundTrip = new BucketHistogram<number>(this.registry, {
      name: 'keel_network_peer_round_trip_time_seconds', help: 'Round-trip time of the transport\'s ping to each peer.',
      buckets: peerRoundTripSecondsBuckets, labelNames: ['peer'], seriesMax: peerSeriesMax,
    });
    this.grpc = new GrpcServerMetrics(this.registry);
  }

  /** Called by the member once its driver is open; scrapes before it report only the runtime metrics. */
  attach(source: MemberSource): void {
    if (this.#member !== null) throw new Error('metrics are already attached to a member');
    const status = source.driver.node.status();
    this.#member = source;
    this.#lastLeader = status.lead;
    this.#lastTerm = status.term;
  }

  attachTransport(transport: TransportSource): void {
    this.#transport = transport;
  }

  /** The API layer's count of open Watch streams. */
  attachWatchStreams(count: () => number): void {
    this.#watchStreams = count;
  }

  /** Wraps the member's state machine so that applies and restores are timed. */
  instrumentStateMachine(machine: StateMachine): StateMachine {
    return new TimedStateMachine(machine, () => this.#slowApplies.inc(), (durationMs) => this.#snapshotApply.observe(durationMs / 1000));
  }

  observeReady(ready: Ready): void {
    const soft = ready.softState;
    if (soft !== null && soft.lead !== this.#lastLeader) {
      if (soft.lead !== 0) this.#leaderChanges.inc();
      this.#lastLeader = soft.lead;
    }
    const hard = ready.hardState;
    if (hard !== null && hard.term > this.#lastTerm) {
      // A candidate enters a new term voting for itself; a follower learning of a term has voted for no one yet.
      if (this.#member !== null && hard.vote === this.#member.memberId) this.#campaigns.inc();
      this.#lastTerm = hard.term;
    }
  }

  readonly walSynced = (event: WalSyncedEvent): void => {
    this.#walFsync.observe(event.durationMs / 1000);
  };

  snapshotSaved(durationMs: number): void {
    this.#snapshotSave.observe(durationMs / 1000);
  }

  /** A proposal made on this member failed in the driver (not a request the store refused). */
  proposalFailed(): void {
    this.#proposalsFailed.inc();
  }

  leaseExpired(): void {
    this.#leasesExpired.inc();
  }

  /** Hand to the transport as `onRoundTrip`: one ping's round trip to `peerId`. */
  readonly peerRoundTrip = (peerId: number, roundTripMs: number): void => {
    this.#peerRoundTrip.series(peerId, { peer: memberIdHex(peerId) })?.observe(roundTripMs / 1000);
  };

  /** The member's name (--name), as given. */
  get memberName(): string {
    return this.#options.name;
  }

  /** The transport's per-peer statistics, or none before it is attached (for /keel/status). */
  peerStatistics(): readonly PeerStatistics[] {
    return this.#transport?.statistics().peers ?? [];
  }

  #gauge(name: string, help: string, read: () => number | null): void {
    new Gauge({
      name, help, registers: [this.registry],
      collect() {
        const value = read();
        if (value !== null) this.set(value);
      },
    });
  }

  /** A counter whose value is read at scrape time from a number that only grows. */
  #counterFrom(name: string, help: string, read: () => number | null): void {
    new Counter({
      name, help, registers: [this.registry],
      collect() {
        const value = read();
        if (value === null) return;
        this.reset();
        this.inc(value);
      },
    });
  }

  /** A per-peer counter read at scrape time from the transport's statistics. */
  #peerCounter(name: string, help: string, read: (peer: PeerStatistics) => number): void {
    const transport = () => this.#transport;
    new Counter({
      name, help, labelNames: ['peer'], registers: [this.registry],
      collect() {
        this.reset();
        for (const peer of transport()?.statistics().peers ?? []) this.inc({ peer: memberIdHex(peer.peerId) }, read(peer));
      },
    });
  }

  #serverMetrics(): void {
    const raft = () => this.#member?.driver.node.status() ?? null;
    const options = this.#options;
    const member = () => this.#member;
    new Gauge({
      name: 'keel_server_info', help: 'Always 1; the labels name the member, its cluster and its version.',
      labelNames: ['name', 'member_id', 'cluster_id', 'version'], registers: [this.registry],
      collect() {
        const source = member();
        if (source === null) return;
        const labels: LabelValues<string> = { name: options.name, member_id: memberIdHex(source.memberId), cluster_id: memberIdHex(source.clusterId), version: options.version };
        this.set(labels, 1);
      },
    });
    this.#gauge('keel_server_has_leader', 'Whether this member knows a leader (1) or not (0).', () => nullable(raft(), (status) => (status.lead === 0 ? 0 : 1)));
    this.#gauge('keel_server_is_leader', 'Whether this member is the leader (1) or not (0).', () => nullable(raft(), (status) => (status.role === 'leader' ? 1 : 0)));
    this.#gauge('keel_server_is_learner', 'Whether this member is a learner (1) or not (0).', () => {
      const source = this.#member;
      return source === null ? null : (source.driver.node.status().confState.learners.includes(source.memberId) ? 1 : 0);
    });
  }

  #raftMetrics(): void {
    const raft = () => this.#member?.driver.node.status() ?? null;
    const driver = () => this.#member?.driver ?? null;
    this.#gauge('keel_raft_term', 'The current Raft term.', () => nullable(raft(), (status) => status.term));
    this.#gauge('keel_raft_commit_index', 'The highest log index known to be committed.', () => nullable(raft(), (status) => status.commit));
    this.#gauge('keel_raft_applied_index', 'The highest log index applied to the store.', () => nullable(driver(), (source) => source.appliedIndex));
    this.#counterFrom('keel_server_proposals_committed_total', 'Consensus proposals committed (the commit index, as etcd reports it).', () => nullable(raft(), (status) => status.commit));
    this.#counterFrom('keel_server_proposals_applied_total', 'Consensus proposals applied (the applied index, as etcd reports it).', () => nullable(driver(), (source) => source.appliedIndex));
    this.#gauge('keel_server_proposals_pending', 'Proposals made on this member and waiting to be applied.', () => nullable(driver(), (source) => source.pendingProposals));
    this.#counterFrom('keel_disk_wal_write_bytes_total', 'Bytes written to the WAL (records and segment heads).', () => nullable(driver(), (source) => source.walStatistics.bytesWritten));
  }

  #storeMetrics(): void {
    const store = () => this.#member?.store ?? null;
    this.#gauge('keel_mvcc_keys', 'Live keys in the store.', () => nullable(store(), (kv) => kv.keyCount));
    this.#gauge('keel_mvcc_revision', 'The store\'s current revision.', () => nullable(store(), (kv) => kv.revision));
    this.#gauge('keel_mvcc_compact_revision', 'The store\'s compacted revision.', () => nullable(store(), (kv) => kv.compactRevision));
    this.#gauge('keel_mvcc_db_total_size_bytes', 'The estimated size of the store: every stored revision and lease.', () => nullable(store(), (kv) => kv.sizeBytesEstimate));
    this.#gauge('keel_mvcc_db_total_size_in_use_bytes', 'The estimated size of the store in use (keel keeps no free pages, so the total size).', () => nullable(store(), (kv) => kv.sizeBytesEstimate));
    this.#gauge('keel_server_quota_backend_bytes', 'The store\'s space quota.', () => nullable(store(), (kv) => kv.quotaBytes));
    this.#gauge('keel_lease_active', 'Leases granted and not yet revoked.', () => nullable(store(), (kv) => kv.leaseCount));
    const watch = () => nullable(store(), (kv) => kv.watchHub.statistics());
    this.#gauge('keel_mvcc_watchers', 'Watchers on the store.', () => nullable(watch(), (hub) => hub.watchers));
    this.#gauge('keel_mvcc_slow_watchers', 'Watchers that are behind the current revision (unsynced) and catch up from history.', () => nullable(watch(), (hub) => hub.unsyncedWatchers));
    this.#gauge('keel_mvcc_pending_events', 'Events queued in watchers and not yet taken by their streams.', () => nullable(watch(), (hub) => hub.pendingEvents));
    this.#gauge('keel_mvcc_watch_streams', 'Watch streams (gRPC calls) open.', () => this.#watchStreams?.() ?? null);
  }

  #peerMetrics(): void {
    this.#peerCounter('keel_network_peer_sent_bytes_total', 'Bytes sent to each peer on its message connection.', (peer) => peer.bytesSent);
    this.#peerCounter('keel_network_peer_received_bytes_total', 'Bytes received from each peer.', (peer) => peer.bytesReceived);
    this.#peerCounter('keel_network_peer_sent_messages_total', 'Raft messages sent to each peer.', (peer) => peer.messagesSent);
    this.#peerCounter('keel_network_peer_received_messages_total', 'Raft messages received from each peer.', (peer) => peer.messagesReceived);
    this.#peerCounter('keel_network_peer_sent_failures_total', 'Connections to each peer that failed or broke.', (peer) => peer.sendFailures);
    this.#peerCounter('keel_network_peer_dropped_messages_total', 'Messages for each peer dropped because its queue was full.', (peer) => peer.droppedOverflow);
    this.#peerCounter('keel_server_heartbeat_send_failures_total', 'Heartbeats for each peer handed over while its connection was down.', (peer) => peer.heartbeatSendFailures);
    this.#peerCounter('keel_network_snapshot_send_success_total', 'Snapshots each peer acknowledged as installed.', (peer) => peer.snapshotsSent);
    this.#peerCounter('keel_network_snapshot_send_failures_total', 'Snapshot sends to each peer that failed.', (peer) => peer.snapshotsFailed);
    this.#peerCounter('keel_network_snapshot_receive_success_total', 'Snapshots received whole from each peer.', (peer) => peer.snapshotsReceived);
    this.#peerCounter('keel_network_snapshot_receive_failures_total', 'Snapshot streams from each peer that failed.', (peer) => peer.snapshotsReceiveFailed);
    this.#gauge('keel_network_peers_connected', 'Peers whose message connection is up.', () => nullable(this.#transport, (transport) => transport.statistics().peers.filter((peer) => peer.connected).length));
  }
}

function nullable<Source, Value>(source: Source | null, read: (source: Source) => Value): Value | null {
  return source === null ? null : read(source);
}
