import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningMember, start } from '../../src/cli/serve.ts';
import { KeelClient } from '../../src/client/index.ts';
import { EventType } from '../../src/server/proto/index.ts';
import { resolveServeConfig } from '../../src/server/config.ts';
import { createLogger } from '../../src/server/logger.ts';
import { Status } from '../../src/server/grpc/index.ts';
import type { Ready, Status as RaftStatus } from '../../src/raft/index.ts';
import type { StateMachine } from '../../src/server/member/raft-driver.ts';
import {
  type DriverSource, MemberMetrics, exponentialBuckets, grpcMethodsMax, memberIdHex, slowApplyThresholdMs, walFsyncSecondsBuckets,
} from '../../src/server/metrics.ts';
import { freePort } from '../_net.ts';
import { fetchStatus, matching, parseSamples, promtoolCheck, promtoolMissing, scrape, valueOf } from './_scrape.ts';

async function render(metrics: MemberMetrics) {
  return parseSamples(await metrics.registry.metrics());
}

// ---------------------------------------------------------------------------------------------------------
// MemberMetrics on its own
// ---------------------------------------------------------------------------------------------------------

test('exponentialBuckets doubles from the start with clean bounds, and refuses bad shapes', () => {
  assert.deepEqual(exponentialBuckets(0.0001, 2, 8), [0.0001, 0.0002, 0.0004, 0.0008, 0.0016, 0.0032, 0.0064, 0.0128]);
  assert.equal(walFsyncSecondsBuckets[0], 0.001);
  assert.equal(walFsyncSecondsBuckets.at(-1), 8.192);
  assert.throws(() => exponentialBuckets(0, 2, 4), RangeError);
  assert.throws(() => exponentialBuckets(1, 1, 4), RangeError);
  assert.throws(() => exponentialBuckets(1, 2, 0), RangeError);
});

test('gRPC calls are counted by method and status name, timed, and a bounded number of methods get series', async () => {
  const metrics = new MemberMetrics({ name: 'm1', version: 'test' });
  const put = { grpc_type: 'unary', grpc_service: 'etcdserverpb.KV', grpc_method: 'Put' };
  for (const status of [Status.OK, Status.OK, Status.INVALID_ARGUMENT, 99]) metrics.grpc.callStarted('/etcdserverpb.KV/Put', 'unary').callEnded(status, 0.002);
  metrics.grpc.callStarted('/etcdserverpb.Watch/Watch', 'bidirectional-stream');
  let samples = await render(metrics);
  assert.equal(valueOf(samples, 'keel_grpc_server_started_total', put), 4);
  assert.equal(valueOf(samples, 'keel_grpc_server_handled_total', { ...put, grpc_code: 'OK' }), 2);
  assert.equal(valueOf(samples, 'keel_grpc_server_handled_total', { ...put, grpc_code: 'InvalidArgument' }), 1);
  assert.equal(valueOf(samples, 'keel_grpc_server_handled_total', { ...put, grpc_code: 'Unknown' }), 1, 'a code out of range counts as Unknown');
  assert.equal(valueOf(samples, 'keel_grpc_server_handling_seconds_bucket', { ...put, le: '0.001' }), 0);
  assert.equal(valueOf(samples, 'keel_grpc_server_handling_seconds_bucket', { ...put, le: '0.0025' }), 4);
  assert.equal(valueOf(samples, 'keel_grpc_server_handling_seconds_count', put), 4);
  assert.equal(valueOf(samples, 'keel_grpc_server_started_total', { grpc_type: 'bidi_stream', grpc_method: 'Watch' }), 1);
  assert.equal(matching(samples, 'keel_grpc_server_handled_total', { grpc_method: 'Watch' }).length, 0, 'a call in flight is not handled yet');
  for (let method = 0; method < grpcMethodsMax + 5; method++) metrics.grpc.callStarted(`/svc.S/M${method}`, 'unary').callEnded(Status.OK, 0);
  samples = await render(metrics);
  assert.equal(matching(samples, 'keel_grpc_server_started_total').length, grpcMethodsMax + 1, 'the methods past the bound share one series');
  assert.equal(valueOf(samples, 'keel_grpc_server_started_total', { grpc_method: 'unknown' }), 7);
});

test('histogram buckets are upper-inclusive and cumulative; +Inf, _sum and _count agree', async () => {
  const metrics = new MemberMetrics({ name: 'm1', version: 'test' });
  for (const durationMs of [1, 1.5, 3, 20_000, Number.NaN, -1]) metrics.walSynced({ path: 'wal', durationMs });
  const samples = await render(metrics);
  const name = 'keel_disk_wal_fsync_duration_seconds';
  assert.equal(valueOf(samples, `${name}_bucket`, { le: '0.001' }), 1, '1 ms lands in le=0.001');
  assert.equal(valueOf(samples, `${name}_bucket`, { le: '0.002' }), 2);
  assert.equal(valueOf(samples, `${name}_bucket`, { le: '0.004' }), 3);
  assert.equal(valueOf(samples, `${name}_bucket`, { le: '8.192' }), 3);
  assert.equal(valueOf(samples, `${name}_bucket`, { le: '+Inf' }), 4);
  assert.equal(valueOf(samples, `${name}_count`), 4, 'NaN and negative durations are dropped');
  assert.ok(Math.abs(valueOf(samples, `${name}_sum`) - 20.0055) < 1e-9);
});

/** A driver whose status the test sets. */
function fakeDriver(status: Partial<RaftStatus>): DriverSource & { status: Partial<RaftStatus> } {
  const source = {
    status,
    node: { status: () => ({ id: 7, term: 1, lead: 0, role: 'follower', commit: 0, confState: { voters: [7], learners: [] }, ...source.status }) as RaftStatus },
    appliedIndex: 0, pendingProposals: 3, walStatistics: { syncCount: 0, flushCount: 0, bytesWritten: 4096, segmentCount: 1, pendingBytes: 0, waitingSaves: 0 },
  };
  return source;
}

function ready(fields: Partial<Ready>): Ready {
  return { softState: null, hardState: null, entries: [], snapshot: null, committedEntries: [], messages: [], messagesAfterPersist: [], readStates: [], ...fields };
}

test('leader changes and campaigns are read from Ready soft and hard state', async () => {
  const metrics = new MemberMetrics({ name: 'm1', version: 'test' });
  const { KvStore } = await import('../../src/kv/index.ts');
  const driver = fakeDriver({ term: 3, lead: 0 });
  metrics.attach({ memberId: 7, clusterId: 0xabcn, store: new KvStore({ clock: { now: () => 0 } }), driver });
  metrics.observeReady(ready({ hardState: { term: 3, vote: 7, commit: 0 } }));
  metrics.observeReady(ready({ hardState: { term: 4, vote: 7, commit: 0 }, softState: { lead: 0, role: 'candidate' as never } }));
  metrics.observeReady(ready({ softState: { lead: 9, role: 'follower' as never } }));
  metrics.observeReady(ready({ hardState: { term: 5, vote: 0, commit: 1 } }));
  metrics.observeReady(ready({ softState: { lead: 9, role: 'follower' as never } }));
  metrics.observeReady(ready({ hardState: { term: 6, vote: 7, commit: 1 }, softState: { lead: 7, role: 'leader' as never } }));
  const samples = await render(metrics);
  assert.equal(valueOf(samples, 'keel_raft_campaigns_total'), 2, 'terms 4 and 6 (voting for itself); not the term it started in, not 5');
  assert.equal(valueOf(samples, 'keel_server_leader_changes_seen_total'), 2, 'leaders 9 then 7');
  assert.equal(valueOf(samples, 'keel_server_proposals_pending'), 3);
  assert.equal(valueOf(samples, 'keel_disk_wal_write_bytes_total'), 4096);
  assert.equal(valueOf(samples, 'keel_server_info', { name: 'm1', member_id: '7', cluster_id: 'abc', version: 'test' }), 1);
});

test('the timed state machine counts slow applies and times restores', async () => {
  const metrics = new MemberMetrics({ name: 'm1', version: 'test' });
  let restored = 0;
  const inner: StateMachine = {
    apply: (index) => {
      if (index === 2) for (const started = performance.now(); performance.now() - started <= slowApplyThresholdMs + 1;) { /* a slow apply */ }
      if (index === 3) throw new Error('apply failed');
      return index * 10;
    },
    applyConfChange: () => undefined,
    captureSnapshot: () => ({ encodeSome: () => true, finish: () => new Uint8Array([1]) }),
    restore: () => void restored++,
  };
  const machine = metrics.instrumentStateMachine(inner);
  assert.equal(machine.apply(1, new Uint8Array()), 10);
  assert.equal(machine.apply(2, new Uint8Array()), 20);
  assert.throws(() => machine.apply(3, new Uint8Array()), /apply failed/, 'errors pass through');
  machine.restore(new Uint8Array());
  assert.deepEqual(machine.captureSnapshot().finish(), new Uint8Array([1]));
  const samples = await render(metrics);
  assert.equal(valueOf(samples, 'keel_server_slow_apply_total'), 1);
  assert.equal(restored, 1);
  assert.equal(valueOf(samples, 'keel_server_snapshot_apply_duration_seconds_count'), 1);
});

test('the runtime defaults are kept except the gauges promtool rejects; a fresh registry passes promtool', { skip: promtoolMissing && 'promtool is not installed (.ci/run installs the prometheus package)' }, async () => {
  const metrics = new MemberMetrics({ name: 'm1', version: 'test' });
  metrics.peerRoundTrip(0x2a, 1.5);
  const body = await metrics.registry.metrics();
  const samples = parseSamples(body);
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
    assert.ok(matching(samples, name).length > 0, `${name} is exported`);
  }
  assert.match(body, /^# TYPE nodejs_gc_duration_seconds histogram$/m);
  assert.equal(matching(samples, 'nodejs_active_handles_total').length, 0);
  assert.equal(valueOf(samples, 'keel_network_peer_round_trip_time_seconds_bucket', { peer: memberIdHex(0x2a), le: '0.0016' }), 1);
  assert.deepEqual(await promtoolCheck(body), { code: 0, output: '' });
});

// ---------------------------------------------------------------------------------------------------------
// One real member
// ---------------------------------------------------------------------------------------------------------

let root = '';
let running: RunningMember;
let client: KeelClient;
let port = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'keel-metrics-'));
  port = await freePort();
  const peer = `http://127.0.0.1:${await freePort()}`;
  const url = `http://127.0.0.1:${port}`;
  const config = resolveServeConfig(['--name', 'solo', '--data-dir', join(root, 'solo'), '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `solo=${peer}`, '--heartbeat-interval', '50',
    '--election-timeout', '500', '--log-level', 'error'], {});
  running = await start(config, createLogger('error', { member: 'solo' }, () => {}));
  client = new KeelClient({ endpoints: [`127.0.0.1:${port}`], callTimeoutMs: 10_000 });
  await client.get('ready');
});

after(async () => {
  client.close();
  await running.stop();
  await rm(root, { recursive: true, force: true });
});

test('a member\'s /metrics counts its requests, moves with its store, and passes promtool', async (t) => {
  const put = { grpc_service: 'etcdserverpb.KV', grpc_method: 'Put' };
  const { samples: baseline } = await scrape(port);
  const watcher = await client.watch('metrics/', { prefix: true });
  const grant = await client.leaseGrant(60);
  let last = await client.put('metrics/a', '1');
  last = await client.put('metrics/b', '2', { lease: grant.ID });
  last = await client.put('metrics/a', '3');
  await assert.rejects(client.put('', 'no key'), /key is not provided/);
  await client.get('metrics/', { prefix: true });
  for await (const batch of watcher) if (batch.events.some((event) => event.type === EventType.PUT && event.kv?.modRevision === last.header?.revision)) break;
  const { body, samples, contentType } = await scrape(port);
  const delta = (name: string, labels: Record<string, string> = {}) => valueOf(samples, name, labels) - valueOf(baseline, name, labels);

  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  assert.equal(delta('keel_grpc_server_handled_total', { ...put, grpc_code: 'OK' }), 3);
  assert.equal(delta('keel_grpc_server_handled_total', { ...put, grpc_code: 'InvalidArgument' }), 1);
  assert.equal(delta('keel_grpc_server_started_total', put), 4);
  assert.equal(delta('keel_grpc_server_handling_seconds_count', put), 4);
  assert.equal(delta('keel_grpc_server_handled_total', { grpc_service: 'etcdserverpb.Lease', grpc_method: 'LeaseGrant', grpc_code: 'OK' }), 1);
  assert.equal(valueOf(samples, 'keel_grpc_server_started_total', { grpc_type: 'bidi_stream', grpc_method: 'Watch' }), 1);
  assert.ok(delta('keel_disk_wal_fsync_duration_seconds_count') >= 4, 'every write was synced');
  assert.ok(delta('keel_disk_wal_write_bytes_total') > 0);
  assert.equal(valueOf(samples, 'keel_mvcc_revision'), running.member.store.revision);
  assert.equal(valueOf(samples, 'keel_mvcc_revision'), last.header?.revision);
  assert.equal(valueOf(samples, 'keel_mvcc_keys'), 2);
  assert.equal(valueOf(samples, 'keel_lease_active'), 1);
  assert.equal(valueOf(samples, 'keel_mvcc_watchers'), 1);
  assert.equal(valueOf(samples, 'keel_mvcc_watch_streams'), 1);
  assert.equal(valueOf(samples, 'keel_server_has_leader'), 1);
  assert.equal(valueOf(samples, 'keel_server_is_leader'), 1);
  assert.equal(valueOf(samples, 'keel_raft_applied_index'), running.member.raftStatus().applied);
  assert.ok(valueOf(samples, 'keel_server_leader_changes_seen_total') >= 1);
  assert.ok(valueOf(samples, 'keel_raft_campaigns_total') >= 1);
  assert.equal(valueOf(samples, 'keel_server_proposals_committed_total'), valueOf(samples, 'keel_raft_commit_index'));
  assert.ok(matching(samples, 'nodejs_eventloop_lag_seconds').length === 1, 'the runtime metrics are served too');
  watcher.cancel();
  if (promtoolMissing) {
    t.skip('promtool is not installed (.ci/run installs the prometheus package)');
    return;
  }
  assert.deepEqual(await promtoolCheck(body), { code: 0, output: '' }, 'promtool check metrics has no findings');
});

test('/keel/status of a single member: the leader of itself, with the store\'s figures and no peers', async () => {
  const status = await fetchStatus(port);
  const member = running.member;
  assert.equal(status.name, 'solo');
  assert.equal(status.id, member.id.toString(16));
  assert.equal(status.clusterId, member.clusterId.toString(16));
  assert.equal(status.role, 'leader');
  assert.equal(status.leader, status.id);
  assert.equal(status.term, member.raftStatus().term);
  assert.equal(status.revision, member.store.revision);
  assert.equal(status.raftIndex, status.commitIndex);
  assert.ok(status.appliedIndex <= status.commitIndex && status.commitIndex <= status.lastIndex);
  assert.equal(status.dbSizeBytes, member.store.sizeBytesEstimate);
  assert.deepEqual(status.peers, []);
  assert.deepEqual(status.alarms, []);
  const refused = await fetch(`http://127.0.0.1:${port}/keel/status`, { method: 'POST' });
  assert.equal(refused.status, 405);
});
