// The etcd v3 KV API driven by etcdctl 3.4, exercising the API layer only (single-member store backend).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterId, ok, withHarness } from './_harness.ts';

test('API layer: put then linearizable get prints key and value, after a read barrier', () => withHarness(async (harness) => {
  assert.equal(await ok(harness, ['put', 'foo', 'bar']), 'OK\n');
  const barriers = harness.backend.readBarriers;
  assert.equal(await ok(harness, ['get', 'foo']), 'foo\nbar\n');
  assert.equal(harness.backend.readBarriers, barriers + 1);
  assert.equal(await ok(harness, ['get', 'foo', '--consistency=s']), 'foo\nbar\n');
  assert.equal(harness.backend.readBarriers, barriers + 1, 'a serializable get skips the barrier');
}));

test('API layer: get --prefix with limit, sort, keys-only, print-value-only, JSON count and rev', () => withHarness(async (harness) => {
  for (const [key, value] of [['k1', 'a'], ['k2', 'b'], ['k3', 'c'], ['other', 'x']]) await ok(harness, ['put', key!, value!]);
  await ok(harness, ['put', 'k1', 'a2']); // revision 6
  assert.equal(await ok(harness, ['get', 'k', '--prefix']), 'k1\na2\nk2\nb\nk3\nc\n');
  assert.equal(await ok(harness, ['get', 'k', '--prefix', '--limit=2']), 'k1\na2\nk2\nb\n');
  assert.equal(await ok(harness, ['get', 'k', '--prefix', '--sort-by=KEY', '--order=DESCEND']), 'k3\nc\nk2\nb\nk1\na2\n');
  assert.equal(await ok(harness, ['get', 'k', '--prefix', '--sort-by=MODIFY', '--order=ASCEND', '--keys-only']), 'k2\n\nk3\n\nk1\n\n');
  assert.equal(await ok(harness, ['get', 'k', '--prefix', '--print-value-only']), 'a2\nb\nc\n');
  assert.equal(await ok(harness, ['get', 'k1', '--rev=2']), 'k1\na\n');
  // etcdctl 3.4 has no --count-only; the count and `more` of a limited get show in JSON.
  const counted = JSON.parse(await ok(harness, ['get', 'k', '--prefix', '--limit=1', '-w', 'json'])) as Record<string, unknown>;
  assert.equal(counted.count, 3);
  assert.equal(counted.more, true);
  assert.equal((counted.kvs as unknown[]).length, 1);
  const header = counted.header as Record<string, unknown>;
  assert.equal(header.revision, 6);
  assert.equal(header.cluster_id, Number(clusterId)); // etcdctl prints the uint64 as a JSON number
  assert.equal(header.raft_term, 2);
}));

test('API layer: del --prefix --prev-kv prints the count and the deleted pairs', () => withHarness(async (harness) => {
  await ok(harness, ['put', 'a1', 'x']);
  await ok(harness, ['put', 'a2', 'y']);
  await ok(harness, ['put', 'b', 'z']);
  assert.equal(await ok(harness, ['del', 'a', '--prefix', '--prev-kv']), '2\na1\nx\na2\ny\n');
  assert.equal(await ok(harness, ['del', 'nothing']), '0\n');
  assert.equal(await ok(harness, ['get', '', '--from-key']), 'b\nz\n');
}));

test('API layer: txn from stdin runs the success or the failure branch', () => withHarness(async (harness) => {
  await ok(harness, ['put', 'key1', 'v1']);
  const script = 'value("key1") = "v1"\n\nput key1 overwrote\nget key1\n\nput key1 failed\n\n';
  assert.equal(await ok(harness, ['txn'], script), 'SUCCESS\n\nOK\n\nkey1\noverwrote\n');
  assert.equal(await ok(harness, ['txn'], script), 'FAILURE\n\nOK\n');
  assert.equal(await ok(harness, ['get', 'key1', '--print-value-only']), 'failed\n');
  const readOnly = 'mod("key1") > "0"\n\nget key1\n\n\n';
  const proposals = harness.backend.proposals;
  assert.equal(await ok(harness, ['txn'], readOnly), 'SUCCESS\n\nkey1\nfailed\n');
  assert.equal(harness.backend.proposals, proposals, 'a read-only txn is not proposed');
}));

test('API layer: compaction, then a get at a compacted revision fails with etcd\'s message', () => withHarness(async (harness) => {
  for (let index = 0; index < 4; index++) await ok(harness, ['put', 'foo', `v${index}`]);
  assert.equal(await ok(harness, ['compaction', '3']), 'compacted revision 3\n');
  const result = await harness.etcdctl(['get', 'foo', '--rev=2']);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /Error: etcdserver: mvcc: required revision has been compacted\n/);
  assert.equal(await ok(harness, ['get', 'foo', '--rev=3', '--print-value-only']), 'v1\n');
  const future = await harness.etcdctl(['get', 'foo', '--rev=99']);
  assert.match(future.stderr, /Error: etcdserver: mvcc: required revision is a future revision\n/);
  const again = await harness.etcdctl(['compaction', '2']);
  assert.match(again.stderr, /Error: etcdserver: mvcc: required revision has been compacted\n/);
}));

test('API layer: a put over 1.5 MiB is refused as too large; one just under is accepted', () => withHarness(async (harness) => {
  const tooLarge = await harness.etcdctl(['put', 'big'], 'x'.repeat(1.5 * 1024 * 1024 + 1));
  assert.notEqual(tooLarge.code, 0);
  assert.match(tooLarge.stderr, /Error: etcdserver: request is too large\n/);
  assert.equal(await ok(harness, ['put', 'big'], 'y'.repeat(1.5 * 1024 * 1024 - 64)), 'OK\n');
  assert.equal(harness.backend.store.range({ key: new TextEncoder().encode('big') }).kvs[0]?.value.length, 1.5 * 1024 * 1024 - 64);
}));

test('API layer: txn with 129 ops and with a duplicate key are refused with etcd\'s messages', () => withHarness(async (harness) => {
  const many = `\n${Array.from({ length: 129 }, (_, index) => `put k${index} v`).join('\n')}\n\n\n`;
  const tooMany = await harness.etcdctl(['txn'], many);
  assert.match(tooMany.stderr, /Error: etcdserver: too many operations in txn request\n/);
  const justRight = `\n${Array.from({ length: 128 }, (_, index) => `put k${index} v`).join('\n')}\n\n\n`;
  assert.match(await ok(harness, ['txn'], justRight), /^SUCCESS\n/);
  const duplicate = await harness.etcdctl(['txn'], '\nput a 1\nput a 2\n\n\n');
  assert.match(duplicate.stderr, /Error: etcdserver: duplicate key given in txn request\n/);
}));

test('API layer: unknown lease and empty keys are refused with etcd\'s messages', () => withHarness(async (harness) => {
  const unknownLease = await harness.etcdctl(['put', 'foo', 'bar', '--lease=1234abcd']);
  assert.match(unknownLease.stderr, /Error: etcdserver: requested lease not found\n/);
  for (const args of [['put', '', 'bar'], ['get', ''], ['del', '']]) {
    const result = await harness.etcdctl(args);
    assert.notEqual(result.code, 0, args.join(' '));
    assert.match(result.stderr, /Error: etcdserver: key is not provided\n/, args.join(' '));
  }
  // etcd checks a lease's existence when applying the put, so only that one was proposed.
  assert.equal(harness.backend.proposals, 1, 'empty keys were refused before proposing');
}));
