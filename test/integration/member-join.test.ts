// A member added with `etcdctl member add` and started with --initial-cluster-state existing learns its ID
// and the cluster's from the running members, catches up, serves, publishes its name, and restarts as itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcClient, KeelCluster, etcdctlMissing, sleep } from './_harness.ts';

const limits = { timeout: 120_000, skip: etcdctlMissing ? 'etcdctl is not installed' : false };

async function eventually<T>(what: string, probe: () => Promise<T | null>, limitMs = 45_000): Promise<T> {
  const started = Date.now();
  let last: unknown = null;
  while (Date.now() - started < limitMs) {
    try {
      const value = await probe();
      if (value !== null) return value;
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last === null ? '' : `: ${String(last)}`}`);
}

test('a member added with member add joins with --initial-cluster-state existing, catches up and restarts as itself', limits, async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-join-'));
  const cluster = new KeelCluster(root, { size: 3 });
  const client = new GrpcClient();
  try {
    await cluster.init();
    for (const node of cluster.nodes) cluster.start(node);
    const leader = await cluster.leader(client);
    for (let i = 0; i < 10; i++) await cluster.etcdctl(['put', `before-${i}`, `v${i}`]);

    // Asked of a follower: every member, not only the one that proposed the change, must learn the new URL.
    const follower = cluster.nodes.find((node) => node !== leader)!;
    const joiner = await cluster.addNode();
    const added = await cluster.etcdctl(['member', 'add', joiner.name, `--peer-urls=http://127.0.0.1:${joiner.peerPort}`], cluster.endpoints([follower]));
    const assigned = /Member\s+([0-9a-f]+) added to cluster\s+([0-9a-f]+)/.exec(added);
    assert.ok(assigned !== null, added);
    assert.match(added, /ETCD_INITIAL_CLUSTER_STATE="existing"/);

    cluster.start(joiner, ['--initial-cluster-state', 'existing']);
    const endpoint = `127.0.0.1:${joiner.clientPort}`;
    const status = await eventually('the joiner to serve', async () => {
      const json = JSON.parse(await cluster.etcdctl(['endpoint', 'status', '-w', 'json'], endpoint));
      return json[0]?.Status?.header ? json[0].Status : null;
    });
    assert.equal(BigInt(status.header.member_id).toString(16), assigned[1], 'the joiner uses the ID member add assigned');
    assert.equal(BigInt(status.header.cluster_id).toString(16), assigned[2], 'and the cluster ID of the cluster it joined');
    const local = await eventually('the joiner to catch up', async () => {
      const got = JSON.parse(await cluster.etcdctl(['get', 'before-9', '--consistency=s', '-w', 'json'], endpoint));
      return got.kvs?.length === 1 ? got : null;
    });
    assert.equal(Buffer.from(local.kvs[0].value, 'base64').toString(), 'v9');
    assert.match(await cluster.etcdctl(['put', 'through-joiner', 'yes'], endpoint), /^OK/);
    const listed = await eventually('the joiner to publish its name', async () => {
      const list = await cluster.etcdctl(['member', 'list']);
      return list.includes(`${assigned[1]}, started, ${joiner.name}, http://127.0.0.1:${joiner.peerPort}, http://127.0.0.1:${joiner.clientPort}`) ? list : null;
    });
    assert.equal(listed.trim().split('\n').length, 4);

    // Restarted, it is the same member, whatever it was started with.
    await cluster.kill(joiner);
    cluster.start(joiner, ['--initial-cluster-state', 'existing']);
    const again = await eventually('the restarted joiner', async () => {
      const json = JSON.parse(await cluster.etcdctl(['get', 'through-joiner', '--consistency=s', '-w', 'json'], endpoint));
      return json.kvs?.length === 1 ? json : null;
    });
    assert.equal(BigInt(again.header.member_id).toString(16), assigned[1]);
  } finally {
    client.close();
    await cluster.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});

test('a member that was never added cannot join, and says why', limits, async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-join-refused-'));
  const cluster = new KeelCluster(root, { size: 1 });
  const client = new GrpcClient();
  try {
    await cluster.init();
    cluster.start(cluster.nodes[0]!);
    await cluster.leader(client);
    const stranger = await cluster.addNode();
    cluster.start(stranger, ['--initial-cluster-state', 'existing']);
    const code = await stranger.exited!;
    assert.notEqual(code, 0);
    assert.ok(stranger.stderr.some((line) => /has no member with peer URLs .*member add/.test(line)), stranger.stderr.join('\n'));
  } finally {
    client.close();
    await cluster.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});
