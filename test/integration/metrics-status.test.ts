// /keel/status and the peer metrics on a real three-member cluster (separate `keel serve` processes).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcClient, KeelCluster, type KeelNode } from './_harness.ts';
import { eventually, fetchStatus, matching, promtoolCheck, promtoolMissing, scrape, valueOf } from '../server/_scrape.ts';
import type { KeelStatus } from '../../src/server/admin-http.ts';

let root = '';
let cluster: KeelCluster;
const grpc = new GrpcClient();
let leader: KeelNode;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'keel-metrics-cluster-'));
  cluster = new KeelCluster(root, { size: 3 });
  await cluster.init();
  for (const node of cluster.nodes) cluster.start(node);
  leader = await cluster.leader(grpc);
  for (let index = 0; index < 5; index++) {
    const result = await grpc.put(leader.clientPort, `status/${index}`, 'v');
    assert.equal(result.status, 0, result.message);
  }
});

after(async () => {
  grpc.close();
  await cluster.stopAll();
  await rm(root, { recursive: true, force: true });
});

/** The leader's status once every peer has matched its commit index (the writes are replicated). */
async function settledLeaderStatus(): Promise<KeelStatus> {
  return eventually('the leader to see both peers caught up', async () => {
    const status = await fetchStatus(leader.clientPort);
    const caughtUp = status.peers.length === 2 && status.peers.every((peer) => peer.match === status.commitIndex && peer.rttSeconds !== null);
    return caughtUp ? status : null;
  });
}

test('/keel/status on the leader shows every peer\'s progress; followers know the leader but no progress', async () => {
  const status = await settledLeaderStatus();
  assert.equal(status.role, 'leader');
  assert.equal(status.leader, status.id);
  assert.equal(status.name, leader.name);
  const followers = cluster.nodes.filter((node) => node !== leader);
  assert.deepEqual(status.peers.map((peer) => peer.name).sort(), followers.map((node) => node.name).sort());
  for (const peer of status.peers) {
    assert.equal(peer.state, 'replicate');
    assert.equal(peer.recentActive, true);
    assert.equal(peer.next, peer.match! + 1);
    assert.equal(peer.connected, true);
    assert.ok(peer.rttSeconds! >= 0 && peer.rttSeconds! < 5, `a plausible round trip: ${peer.rttSeconds}`);
  }
  for (const node of followers) {
    const view = await eventually(`${node.name} to apply the writes`, async () => {
      const candidate = await fetchStatus(node.clientPort);
      return candidate.revision === status.revision ? candidate : null;
    });
    assert.equal(view.role, 'follower');
    assert.equal(view.leader, status.id);
    assert.equal(view.clusterId, status.clusterId);
    assert.equal(view.term, status.term);
    assert.equal(view.peers.length, 2);
    assert.ok(view.peers.every((peer) => peer.match === null && peer.next === null && peer.state === null && peer.recentActive === null));
    assert.ok(view.peers.some((peer) => peer.id === status.id && peer.connected));
  }
});

test('the leader\'s /metrics has per-peer traffic and round-trip histograms and passes promtool', async (t) => {
  const status = await settledLeaderStatus();
  const { body, samples } = await eventually('a round trip to both peers', async () => {
    const scraped = await scrape(leader.clientPort);
    const measured = status.peers.every((peer) => valueOf(scraped.samples, 'keel_network_peer_round_trip_time_seconds_count', { peer: peer.id }) > 0);
    return measured ? scraped : null;
  });
  for (const peer of status.peers) {
    const labels = { peer: peer.id };
    assert.ok(valueOf(samples, 'keel_network_peer_sent_bytes_total', labels) > 0, `bytes to ${peer.name}`);
    assert.ok(valueOf(samples, 'keel_network_peer_received_bytes_total', labels) > 0, `bytes from ${peer.name}`);
    assert.ok(valueOf(samples, 'keel_network_peer_sent_messages_total', labels) >= 5, `the appends to ${peer.name}`);
    assert.ok(valueOf(samples, 'keel_network_peer_received_messages_total', labels) >= 5, `the acknowledgements from ${peer.name}`);
    assert.equal(valueOf(samples, 'keel_network_peer_round_trip_time_seconds_bucket', { ...labels, le: '+Inf' }),
      valueOf(samples, 'keel_network_peer_round_trip_time_seconds_count', labels));
  }
  assert.equal(matching(samples, 'keel_network_peer_sent_bytes_total').length, 2, 'one series per peer');
  assert.equal(valueOf(samples, 'keel_network_peers_connected'), 2);
  assert.equal(valueOf(samples, 'keel_server_is_leader'), 1);
  assert.equal(valueOf(samples, 'keel_mvcc_revision'), status.revision);
  if (promtoolMissing) {
    t.skip('promtool is not installed (.ci/run installs the prometheus package)');
    return;
  }
  assert.deepEqual(await promtoolCheck(body), { code: 0, output: '' });
});

test('a killed follower shows on the leader: connection down, heartbeats failing, connections failing', async () => {
  const status = await settledLeaderStatus();
  const victim = cluster.nodes.find((node) => node !== leader)!;
  const victimId = status.peers.find((peer) => peer.name === victim.name)!.id;
  const before = (await scrape(leader.clientPort)).samples;
  await cluster.kill(victim);
  // Not zero before: heartbeats may have found a link still dialling while the members started.
  const failuresBefore = valueOf(before, 'keel_server_heartbeat_send_failures_total', { peer: victimId });
  const after = await eventually('the leader to count failed heartbeats to the killed follower', async () => {
    const { samples } = await scrape(leader.clientPort);
    return valueOf(samples, 'keel_server_heartbeat_send_failures_total', { peer: victimId }) > failuresBefore ? samples : null;
  });
  assert.ok(valueOf(after, 'keel_network_peer_sent_failures_total', { peer: victimId }) > valueOf(before, 'keel_network_peer_sent_failures_total', { peer: victimId }));
  assert.equal(valueOf(after, 'keel_network_peers_connected'), 1);
  const view = await fetchStatus(leader.clientPort);
  const down = view.peers.find((peer) => peer.id === victimId)!;
  assert.equal(down.connected, false);
  assert.equal(view.role, 'leader', 'two of three keep the leader');
});
