// The `etcd3` npm package (grpc-js underneath), unchanged, against a real 3-member keel cluster: the
// client the brief names for Node users. Exercises keel's HTTP/2 layer with grpc-js's framing, flow
// control (a value larger than the default windows), streams (watch, lease keep-alive) and status codes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { GrpcClient, KeelCluster } from './_harness.ts';

// On a loaded machine this file's process sometimes stayed up after the test had passed and the client was
// closed, with nothing left but stdio and unref'd timers, until the file timed out (about 1 run in 5 under two
// busy cores, before and after this check was added). If it is still up shortly after the test, it ends
// here, with the results already reported. (The runner's --test-force-exit would do the same for every file,
// but it ends a file before tests declared after a top-level await are registered.)
after(() => {
  setTimeout(() => process.exit(), 2_000).unref();
});

test('the etcd3 npm client works unchanged: kv, a large value, watch, lease, lock, election, errors', { timeout: 120_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-etcd3-'));
  const cluster = new KeelCluster(root, { size: 3 });
  const probe = new GrpcClient();
  let client: Etcd3 | undefined;
  try {
    await cluster.init();
    for (const node of cluster.nodes) cluster.start(node);
    await cluster.leader(probe);
    client = new Etcd3({ hosts: cluster.nodes.map((node) => `127.0.0.1:${node.clientPort}`) });

    await client.put('greeting').value('hello');
    assert.equal(await client.get('greeting').string(), 'hello');

    // 800 KB: many DATA frames each way, past grpc-js's and keel's initial windows.
    const big = 'x'.repeat(800_000);
    await client.put('big').value(big);
    assert.equal(await client.get('big').string(), big);

    await client.put('dir/a').value('1');
    await client.put('dir/b').value('2');
    assert.deepEqual(await client.getAll().prefix('dir/').strings(), { 'dir/a': '1', 'dir/b': '2' });

    const watcher = await client.watch().key('watched').create();
    const seen = new Promise<string>((resolve) => watcher.on('put', (kv) => resolve(kv.value.toString())));
    await client.put('watched').value('changed');
    assert.equal(await seen, 'changed');
    await watcher.cancel();

    const lease = client.lease(10);
    await lease.put('leased').value('yes');
    assert.equal(await client.get('leased').string(), 'yes');
    await lease.revoke();
    assert.equal(await client.get('leased').string(), null);

    const lock = client.lock('the-lock');
    await lock.acquire();
    await lock.release();

    const election = client.election('the-election');
    const campaign = election.campaign('candidate-1');
    await new Promise<void>((resolve, reject) => {
      campaign.on('elected', () => resolve());
      campaign.on('error', reject);
    });
    assert.equal(await election.leader(), 'candidate-1');
    await campaign.resign();

    await assert.rejects(async () => client!.put('').value('x'), /key is not provided/);
  } finally {
    client?.close();
    probe.close();
    await cluster.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});
