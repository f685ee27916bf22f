import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientError, KeelClient } from '../../src/client/index.ts';
import { Status } from '../../src/server/grpc/index.ts';
import { EventType } from '../../src/server/proto/index.ts';
import { startCluster, type TestCluster } from './_cluster.ts';

const text = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

let cluster: TestCluster;
let client: KeelClient;

before(async () => {
  cluster = await startCluster();
  await cluster.ready();
  client = new KeelClient({ endpoints: cluster.endpoints });
});

after(async () => {
  client?.close();
  await cluster?.stop();
});

test('put, get and delete: prefix, limit, revision, prevKv, keysOnly, countOnly', async () => {
  const first = await client.put('kv/a', '1');
  await client.put('kv/b', '2');
  const second = await client.put('kv/a', '3', { prevKv: true });
  assert.equal(text(second.prevKv?.value), '1', 'prevKv returns the overwritten value');
  assert.equal(text((await client.get('kv/a')).kvs[0]?.value), '3');
  assert.equal(text((await client.get('kv/a', { revision: first.header!.revision })).kvs[0]?.value), '1', 'reads at an old revision');
  const all = await client.get('kv/', { prefix: true });
  assert.deepEqual(all.kvs.map((kv) => text(kv.key)), ['kv/a', 'kv/b']);
  const limited = await client.get('kv/', { prefix: true, limit: 1 });
  assert.equal(limited.kvs.length, 1);
  assert.equal(limited.more, true);
  assert.equal(limited.count, 2);
  const keysOnly = await client.get('kv/', { prefix: true, keysOnly: true });
  assert.deepEqual(keysOnly.kvs.map((kv) => text(kv.value)), ['', '']);
  const counted = await client.get('kv/', { prefix: true, countOnly: true });
  assert.equal(counted.kvs.length, 0);
  assert.equal(counted.count, 2);
  const descending = await client.get('kv/', { prefix: true, sort: { target: 'key', order: 'descend' }, serializable: true });
  assert.deepEqual(descending.kvs.map((kv) => text(kv.key)), ['kv/b', 'kv/a']);
  const deleted = await client.delete('kv/', { prefix: true, prevKv: true });
  assert.equal(deleted.deleted, 2);
  assert.deepEqual(deleted.prevKvs.map((kv) => text(kv.value)), ['3', '2']);
  assert.equal((await client.get('kv/', { prefix: true })).count, 0);
});

test('txn takes the success branch when the compares hold, else the failure branch', async () => {
  await client.put('txn/k', 'v1');
  const won = await client.txn({
    compare: [{ key: 'txn/k', target: 'value', operator: '=', operand: 'v1' }],
    success: [{ type: 'put', key: 'txn/k', value: 'v2' }, { type: 'get', key: 'txn/k' }],
    failure: [{ type: 'get', key: 'txn/k' }],
  });
  assert.equal(won.succeeded, true);
  const read = won.responses[1]?.response;
  assert.equal(read?.case, 'responseRange');
  assert.equal(read?.case === 'responseRange' ? text(read.value.kvs[0]?.value) : '', 'v2');
  const lost = await client.txn({
    compare: [{ key: 'txn/k', target: 'version', operator: '=', operand: 0 }],
    success: [{ type: 'delete', key: 'txn/k' }],
    failure: [{ type: 'get', key: 'txn/k' }],
  });
  assert.equal(lost.succeeded, false);
  assert.equal(text((await client.get('txn/k')).kvs[0]?.value), 'v2', 'the success branch did not run');
});

test('watch delivers puts and deletes with prevKv, and replays history from startRevision', async () => {
  const watcher = await client.watch('watch/', { prefix: true, prevKv: true });
  const put = await client.put('watch/x', 'a');
  await client.put('watch/x', 'b');
  await client.delete('watch/x');
  const seen: string[] = [];
  for await (const batch of watcher) {
    for (const event of batch.events) seen.push(`${event.type === EventType.DELETE ? 'DELETE' : 'PUT'} ${text(event.kv?.key)} ${text(event.kv?.value)} prev=${text(event.prevKv?.value)}`);
    if (seen.length >= 3) break;
  }
  assert.deepEqual(seen, ['PUT watch/x a prev=', 'PUT watch/x b prev=a', 'DELETE watch/x  prev=b']);
  const replay = await client.watch('watch/x', { startRevision: put.header!.revision });
  for await (const batch of replay) {
    assert.equal(text(batch.events[0]?.kv?.value), 'a', 'history is replayed from startRevision');
    break;
  }
});

test('leases: grant, attach, keep alive, time to live, list, revoke removes the keys', async () => {
  const grant = await client.leaseGrant(30);
  assert.ok(grant.ID !== 0n);
  await client.put('lease/k', 'v', { lease: grant.ID });
  const renewed = await client.leaseKeepAliveOnce(grant.ID);
  assert.equal(renewed.ID, grant.ID);
  assert.equal(renewed.TTL, 30);
  const ttl = await client.leaseTimeToLive(grant.ID, { keys: true });
  assert.equal(ttl.grantedTTL, 30);
  assert.deepEqual(ttl.keys.map(text), ['lease/k']);
  assert.ok((await client.leaseList()).leases.some((lease) => lease.ID === grant.ID));
  await client.leaseRevoke(grant.ID);
  assert.equal((await client.get('lease/k')).count, 0, 'revoking a lease deletes its keys');
  await assert.rejects(client.leaseRevoke(grant.ID), (error: unknown) => error instanceof ClientError && error.status === Status.NOT_FOUND && error.message === 'etcdserver: requested lease not found');
});

test('members, status, alarms and snapshot', async () => {
  const { members } = await client.memberList();
  assert.deepEqual(members.map((member) => member.name).sort(), ['m1', 'm2', 'm3']);
  const statuses = await Promise.all(cluster.endpoints.map((endpoint) => client.status(endpoint)));
  const leaders = new Set(statuses.map((status) => status.leader));
  assert.equal(leaders.size, 1, 'every member agrees on the leader');
  assert.ok(members.some((member) => member.ID === [...leaders][0]));
  assert.deepEqual((await client.alarmList()).alarms, []);
  let bytes = 0;
  for await (const chunk of client.snapshot()) bytes += chunk.length;
  assert.ok(bytes > 0, 'the snapshot stream carries data');
});

test('errors carry the gRPC code and etcd message: compacted and future revisions', async () => {
  await client.put('compact/k', '1');
  const latest = await client.put('compact/k', '2');
  await client.compact(latest.header!.revision);
  await assert.rejects(client.get('compact/k', { revision: latest.header!.revision - 1 }), (error: unknown) => error instanceof ClientError && error.status === Status.OUT_OF_RANGE && error.message === 'etcdserver: mvcc: required revision has been compacted');
  await assert.rejects(client.get('compact/k', { revision: latest.header!.revision + 1000 }), /required revision is a future revision/);
});

test('a client with only dead endpoints fails with UNAVAILABLE within its deadline', async () => {
  const dead = new KeelClient({ endpoints: ['127.0.0.1:1'], callTimeoutMs: 1000 });
  try {
    const started = performance.now();
    await assert.rejects(dead.get('k'), (error: unknown) => error instanceof ClientError && error.status === Status.UNAVAILABLE);
    assert.ok(performance.now() - started < 2000);
  } finally {
    dead.close();
  }
});

test('failover: with one member stopped, reads and writes still succeed through the others', async () => {
  // Stop a follower that is the first endpoint of a fresh client: every call starting there must move on.
  const statuses = await Promise.all(cluster.endpoints.map((endpoint) => client.status(endpoint)));
  const follower = statuses.findIndex((status) => status.leader !== status.header?.memberId);
  assert.ok(follower >= 0);
  const ordered = [cluster.endpoints[follower]!, ...cluster.endpoints.filter((_, index) => index !== follower)];
  const failover = new KeelClient({ endpoints: ordered });
  try {
    await failover.put('failover/k', 'before');
    await cluster.stopMember(follower);
    for (let index = 0; index < 6; index++) {
      await failover.put('failover/k', `after${index}`);
      assert.equal(text((await failover.get('failover/k')).kvs[0]?.value), `after${index}`);
    }
  } finally {
    failover.close();
  }
});
