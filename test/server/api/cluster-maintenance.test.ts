// The etcd v3 Cluster and Maintenance APIs driven by etcdctl 3.4, exercising the API layer only
// (single-member store backend), plus the watch fragmenting rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmAction, AlarmType } from '../../../src/kv/index.ts';
import { paddingTrailer, snapshotPadMagic, watchResponseFragments } from '../../../src/server/api/index.ts';
import { encodeWatchResponse } from '../../../src/server/proto/index.ts';
import { ok, withHarness } from './_harness.ts';

test('API layer: member list, member add', () => withHarness(async (harness) => {
  assert.equal(await ok(harness, ['member', 'list']), '8e9e05c52164694d, started, default, http://127.0.0.1:2380, http://127.0.0.1:2379, false\n');
  const added = await ok(harness, ['member', 'add', 'two', '--peer-urls=http://127.0.0.1:2480']);
  assert.match(added, /^Member +1235 added to cluster cdf818194e3a8c32\n/);
  assert.match(await ok(harness, ['member', 'list']), /\n1235, unstarted, , http:\/\/127\.0\.0\.1:2480, , false\n$/);
}));

test('API layer: endpoint status and health (a linearizable get) and hashkv', () => withHarness(async (harness) => {
  await ok(harness, ['put', 'a', '1']);
  assert.match(await ok(harness, ['endpoint', 'status']), new RegExp(`^${harness.endpoint}, 8e9e05c52164694d, 3\\.4\\.0, 20 kB, true, false, 2, 7, 7, \n$`));
  const status = JSON.parse(await ok(harness, ['endpoint', 'status', '-w', 'json'])) as { Status: Record<string, unknown> }[];
  assert.equal(status[0]?.Status.dbSizeInUse, 16384);
  assert.equal((status[0]?.Status.header as Record<string, unknown>).revision, 2);
  const barriers = harness.backend.readBarriers;
  // etcdctl prints health to stderr.
  const health = await harness.etcdctl(['endpoint', 'health']);
  assert.equal(health.code, 0);
  assert.match(health.stderr, new RegExp(`^${harness.endpoint} is healthy: successfully committed proposal: took = `));
  assert.ok(harness.backend.readBarriers > barriers, 'health reads linearizably');
  const hash = harness.backend.store.hashKv({}).hash;
  assert.equal(await ok(harness, ['endpoint', 'hashkv']), `${harness.endpoint}, ${hash}\n`);
}));

test('API layer: alarm list and disarm', () => withHarness(async (harness) => {
  assert.equal(await ok(harness, ['alarm', 'list']), '');
  await harness.backend.propose({ kind: 'alarm', request: { action: AlarmAction.Activate, memberId: 7, alarm: AlarmType.NoSpace } });
  assert.equal(await ok(harness, ['alarm', 'list']), 'memberID:7 alarm:NOSPACE \n');
  assert.equal(await ok(harness, ['alarm', 'disarm']), 'memberID:7 alarm:NOSPACE \n');
  assert.equal(await ok(harness, ['alarm', 'list']), '');
}));

test('API layer: snapshot save writes the padded store snapshot with its sha256', () => withHarness(async (harness) => {
  for (let index = 0; index < 50; index++) await ok(harness, ['put', `key${index}`, 'v'.repeat(100)]);
  const directory = mkdtempSync(join(tmpdir(), 'keel-api-'));
  try {
    const path = join(directory, 'snap.db');
    const output = await harness.etcdctl(['snapshot', 'save', path]);
    assert.equal(output.code, 0, output.stderr);
    assert.equal(output.stdout, `Snapshot saved at ${path}\n`);
    const file = readFileSync(path);
    assert.equal(file.length % 512, 32, 'etcdctl accepts only page-aligned data plus a checksum');
    const body = file.subarray(0, file.length - 32);
    assert.deepEqual(createHash('sha256').update(body).digest(), file.subarray(file.length - 32));
    const dataBytes = Number(body.readBigUInt64BE(body.length - 8));
    assert.deepEqual(body.subarray(body.length - 16, body.length - 8), Buffer.from(snapshotPadMagic));
    assert.deepEqual(body.subarray(0, dataBytes), Buffer.from(harness.backend.store.snapshot()));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}));

test('padding trailer: every data size pads to a 512-byte page with at least 16 bytes', () => {
  for (const dataBytes of [0, 1, 495, 496, 497, 511, 512, 100_000]) {
    const trailer = paddingTrailer(dataBytes);
    assert.equal((dataBytes + trailer.length) % 512, 0);
    assert.ok(trailer.length >= 16 && trailer.length < 512 + 16);
    assert.equal(Buffer.from(trailer).readBigUInt64BE(trailer.length - 8), BigInt(dataBytes));
  }
});

test('watch fragments: split under the limit, fragment on all but the last, every event kept', () => {
  const events = Array.from({ length: 10 }, (_, index) => ({ type: 0, kv: { key: new Uint8Array([97 + index]), value: new Uint8Array(300), modRevision: 5 } }));
  const base = { header: { revision: 5 }, watchId: 3 };
  const parts = watchResponseFragments(base, events, 1000);
  assert.ok(parts.length >= 4, `split into ${parts.length}`);
  for (const part of parts) assert.ok(encodeWatchResponse(part).length <= 1000);
  assert.deepEqual(parts.map((part) => part.fragment), [...Array(parts.length - 1).fill(true), false]);
  assert.deepEqual(parts.flatMap((part) => part.events), events);
  assert.equal(watchResponseFragments(base, events, 1 << 20).length, 1, 'a small response is not split');
});
