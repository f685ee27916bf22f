// The etcd v3 Watch and Lease APIs driven by etcdctl 3.4, exercising the API layer only (single-member
// store backend).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memberId, ok, waitUntil, withHarness, type Harness } from './_harness.ts';

/** The watch tests turn the poll off, so events must arrive through the hub's ready callback. */
const withHarnessNoPoll = (body: (harness: Harness) => Promise<void>) => withHarness(body, { watchPollIntervalMs: 0 });

test('API layer: watch sees a put made after it started, then a delete', () => withHarnessNoPoll(async (harness) => {
  const watch = harness.spawnEtcdctl(['watch', 'foo']);
  await waitUntil(() => harness.backend.store.watchHub.size === 1);
  await ok(harness, ['put', 'foo', 'bar']);
  await ok(harness, ['put', 'food', 'not watched']);
  await ok(harness, ['del', 'foo']);
  await watch.waitFor('DELETE\nfoo\n');
  assert.equal(watch.stdout, 'PUT\nfoo\nbar\nDELETE\nfoo\n\n');
  watch.kill();
  await watch.exited;
  await waitUntil(() => harness.backend.store.watchHub.size === 0);
}));

test('API layer: watch --prefix --rev replays history, with --prev-kv', () => withHarnessNoPoll(async (harness) => {
  await ok(harness, ['put', 'k1', 'a']); // 2
  await ok(harness, ['put', 'x', 'skip']); // 3
  await ok(harness, ['put', 'k1', 'b']); // 4
  await ok(harness, ['put', 'k2', 'c']); // 5
  const watch = harness.spawnEtcdctl(['watch', 'k', '--prefix', '--rev=3', '--prev-kv']);
  await watch.waitFor('k2\nc\n');
  assert.equal(watch.stdout, 'PUT\nk1\na\nk1\nb\nPUT\nk2\nc\n');
  await ok(harness, ['put', 'k3', 'live']);
  await watch.waitFor('k3\nlive\n');
  watch.kill();
}));

test('API layer: watch from a compacted revision is canceled with the compact revision', () => withHarnessNoPoll(async (harness) => {
  for (let index = 0; index < 4; index++) await ok(harness, ['put', 'foo', `v${index}`]);
  await ok(harness, ['compaction', '4']);
  const watch = harness.spawnEtcdctl(['watch', 'foo', '--rev=2']);
  const code = await watch.exited;
  assert.notEqual(code, 0);
  assert.equal(watch.stderr, 'watch was canceled (etcdserver: mvcc: required revision has been compacted)\nError: watch is canceled by the server\n');
}));

test('API layer: lease grant, keep-alive --once, timetolive --keys, list, revoke', () => withHarnessNoPoll(async (harness) => {
  const granted = await ok(harness, ['lease', 'grant', '60']);
  const match = /^lease ([0-9a-f]+) granted with TTL\(60s\)\n$/.exec(granted);
  assert.ok(match, granted);
  const id = match[1]!;
  assert.equal(await ok(harness, ['put', 'leased', 'v', `--lease=${id}`]), 'OK\n');
  assert.equal(await ok(harness, ['lease', 'keep-alive', '--once', id]), `lease ${id} keepalived with TTL(60)\n`);
  assert.match(await ok(harness, ['lease', 'timetolive', id, '--keys']), new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\), attached keys\\(\\[leased\\]\\)\n$`));
  assert.equal(await ok(harness, ['lease', 'list']), `found 1 leases\n${id}\n`);
  assert.equal(await ok(harness, ['lease', 'revoke', id]), `lease ${id} revoked\n`);
  assert.equal(await ok(harness, ['get', 'leased']), '', 'revoking deletes the attached keys');
  assert.equal(await ok(harness, ['lease', 'timetolive', id]), `lease ${id} already expired\n`);
  assert.equal(await ok(harness, ['lease', 'list']), 'found 0 leases\n');
}));

test('API layer: unknown leases: keep-alive, revoke', () => withHarnessNoPoll(async (harness) => {
  const keepAlive = await harness.etcdctl(['lease', 'keep-alive', '--once', '1234abcd']);
  assert.notEqual(keepAlive.code, 0);
  // etcd answers TTL 0; the client library turns that into this error.
  assert.equal(keepAlive.stderr, 'Error: etcdserver: requested lease not found\n');
  const revoke = await harness.etcdctl(['lease', 'revoke', '1234abcd']);
  assert.match(revoke.stderr, /Error: failed to revoke lease \(etcdserver: requested lease not found\)\n/);
  const json = JSON.parse(await ok(harness, ['lease', 'grant', '5', '-w', 'json'])) as Record<string, unknown>;
  assert.equal(json.TTL, 5);
  // etcdctl flattens the header into the lease's JSON.
  assert.equal(json.member_id, Number(memberId));
  assert.equal(json.raft_term, 2);
}));
