// Bad requests against a real 3-member cluster: each gets etcd's error (message through etcdctl, gRPC code
// through a raw HTTP/2 client), and the cluster keeps serving after every one. Requests are spread over the
// members, so followers (which forward) are exercised as well as the leader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcClient, KeelCluster, type KeelNode, etcdctlMissing, text } from './_harness.ts';
import { encodePutRequest, encodeRangeRequest, encodeTxnRequest } from '../../src/server/proto/index.ts';

const grpc = { OK: 0, INVALID_ARGUMENT: 3, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13 } as const;

/**
 * etcdctl with `input` on stdin (values and txns too large or too long for argv); resolves with its output.
 * A txn on stdin is three sections (compares, success ops, failure ops), each ended by an empty line.
 */
function etcdctlWithInput(endpoint: string, args: string[], input: string | Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('etcdctl', [`--endpoints=${endpoint}`, '--command-timeout=5s', '--dial-timeout=2s', ...args],
      { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => { /* etcdctl may exit before reading everything */ });
    child.stdin.end(input);
  });
}

test('bad input gets etcd\'s error codes and messages, and the cluster keeps serving', { skip: etcdctlMissing ? 'etcdctl is not installed' : false, timeout: 120_000 }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'keel-badinput-'));
  const cluster = new KeelCluster(root, { size: 3 });
  const client = new GrpcClient();
  let turn = 0;
  try {
    await cluster.init();
    for (const node of cluster.nodes) cluster.start(node);
    await cluster.leader(client);
    // Every member must have a leader before the first request to it.
    for (const node of cluster.nodes) {
      for (let attempt = 0; ; attempt++) {
        if ((await client.put(node.clientPort, 'warm-up', node.name).catch(() => null))?.status === grpc.OK) break;
        assert.ok(attempt < 100, `${node.name} takes writes`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const next = (): KeelNode => cluster.nodes[turn++ % cluster.nodes.length]!;
    const endpointOf = (node: KeelNode): string => `127.0.0.1:${node.clientPort}`;

    /** After each bad request, every member still takes a write and serves it back. */
    const assertServing = async (after: string): Promise<void> => {
      for (const node of cluster.nodes) {
        const value = `${after}-${node.name}`;
        assert.match(await cluster.etcdctl(['put', 'alive', value], endpointOf(node)), /OK/, `${node.name} takes a put after ${after}`);
        assert.equal((await cluster.etcdctl(['get', 'alive', '--print-value-only'], endpointOf(node))).trim(), value, `${node.name} serves a get after ${after}`);
      }
    };

    await t.test('a put over 1.5 MiB: etcdserver: request is too large (InvalidArgument)', async () => {
      const node = next();
      const result = await etcdctlWithInput(endpointOf(node), ['put', 'big'], Buffer.alloc(1_600_000, 'x'));
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /etcdserver: request is too large/);
      const raw = await client.put(next().clientPort, 'big', 'x'.repeat(1_600_000));
      assert.deepEqual([raw.status, raw.message], [grpc.INVALID_ARGUMENT, 'etcdserver: request is too large']);
      assert.equal((await cluster.etcdctl(['get', 'big'])).trim(), '', 'nothing was written');
      // Past the gRPC receive limit (max-request-bytes + 512 KiB, as etcd): ResourceExhausted.
      const huge = await client.put(next().clientPort, 'big', 'x'.repeat(2_200_000));
      assert.equal(huge.status, grpc.RESOURCE_EXHAUSTED, `a 2.2 MB put: ${huge.status} ${huge.message}`);
      assert.match(huge.message, /larger than max/);
      await assertServing('too-large');
    });

    await t.test('a txn with 129 ops: etcdserver: too many operations in txn request', async () => {
      const puts = Array.from({ length: 129 }, (_, i) => `put many-${i} v`).join('\n');
      const result = await etcdctlWithInput(endpointOf(next()), ['txn'], `\n${puts}\n\n\n`);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /etcdserver: too many operations in txn request/);
      const raw = await client.unary(next().clientPort, '/etcdserverpb.KV/Txn', encodeTxnRequest({
        success: Array.from({ length: 129 }, (_, i) => ({ request: { case: 'requestPut' as const, value: { key: text(`many-${i}`), value: text('v') } } })),
      }));
      assert.deepEqual([raw.status, raw.message], [grpc.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request']);
      // 128 is still fine.
      const ok = await etcdctlWithInput(endpointOf(next()), ['txn'], `\n${puts.split('\n').slice(0, 128).join('\n')}\n\n\n`);
      assert.equal(ok.code, 0, ok.stderr);
      await assertServing('too-many-ops');
    });

    await t.test('the same key twice in a txn: etcdserver: duplicate key given in txn request', async () => {
      const result = await etcdctlWithInput(endpointOf(next()), ['txn'], '\nput dup one\nput dup two\n\n\n');
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /etcdserver: duplicate key given in txn request/);
      assert.equal((await cluster.etcdctl(['get', 'dup'])).trim(), '', 'nothing was written');
      await assertServing('duplicate-key');
    });

    await t.test('a put with an unknown lease: etcdserver: requested lease not found (NotFound)', async () => {
      const error = await cluster.etcdctlError(['put', 'leased', 'v', '--lease=123'], endpointOf(next()));
      assert.match(error, /etcdserver: requested lease not found/);
      const raw = await client.unary(next().clientPort, '/etcdserverpb.KV/Put', encodePutRequest({ key: text('leased'), value: text('v'), lease: 0x123n }));
      assert.deepEqual([raw.status, raw.message], [grpc.NOT_FOUND, 'etcdserver: requested lease not found']);
      assert.equal((await cluster.etcdctl(['get', 'leased'])).trim(), '', 'nothing was written');
      await assertServing('unknown-lease');
    });

    await t.test('a get at a compacted revision: etcdserver: mvcc: required revision has been compacted (OutOfRange)', async () => {
      for (let i = 0; i < 3; i++) await cluster.etcdctl(['put', 'history', `v${i}`]);
      const header = JSON.parse(await cluster.etcdctl(['get', 'history', '-w', 'json'])) as { header: { revision: number } };
      const revision = header.header.revision;
      assert.match(await cluster.etcdctl(['compact', String(revision)]), /compacted revision/);
      const error = await cluster.etcdctlError(['get', 'history', `--rev=${revision - 1}`], endpointOf(next()));
      assert.match(error, /etcdserver: mvcc: required revision has been compacted/);
      const raw = await client.unary(next().clientPort, '/etcdserverpb.KV/Range', encodeRangeRequest({ key: text('history'), revision: revision - 1 }));
      assert.deepEqual([raw.status, raw.message], [grpc.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted']);
      // The compaction revision itself is still readable.
      assert.equal((await cluster.etcdctl(['get', 'history', `--rev=${revision}`, '--print-value-only'])).trim(), 'v2');
      await assertServing('compacted');
    });

    await t.test('an empty key: etcdserver: key is not provided (InvalidArgument)', async () => {
      const error = await cluster.etcdctlError(['put', '', 'v'], endpointOf(next()));
      assert.match(error, /etcdserver: key is not provided/);
      const raw = await client.unary(next().clientPort, '/etcdserverpb.KV/Put', encodePutRequest({ value: text('v') }));
      assert.deepEqual([raw.status, raw.message], [grpc.INVALID_ARGUMENT, 'etcdserver: key is not provided']);
      const range = await client.unary(next().clientPort, '/etcdserverpb.KV/Range', encodeRangeRequest({}));
      assert.deepEqual([range.status, range.message], [grpc.INVALID_ARGUMENT, 'etcdserver: key is not provided']);
      await assertServing('empty-key');
    });

    await t.test('a malformed protobuf in a valid gRPC frame: a clear non-OK status (INTERNAL, as grpc-go)', async () => {
      const garbage = [
        Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // varint too long
        Buffer.from([0x0a, 0x7f, 0x61]), // field 1 (key), length 127, 1 byte present
        Buffer.from([0x0f]), // field 1, wire type 7 (invalid)
        Buffer.from('this is not a protobuf message at all, just text'),
      ];
      for (const payload of garbage) {
        const raw = await client.unary(next().clientPort, '/etcdserverpb.KV/Put', payload);
        assert.notEqual(raw.status, grpc.OK, `garbage ${payload.toString('hex')} is refused`);
        assert.ok(raw.status === grpc.INTERNAL || raw.status === grpc.INVALID_ARGUMENT, `garbage ${payload.toString('hex')}: status ${raw.status} ${raw.message}`);
        assert.match(raw.message, /unmarshal/i, 'the message says the request could not be decoded');
      }
      const unknown = await client.unary(next().clientPort, '/etcdserverpb.KV/NoSuchMethod', Buffer.alloc(0));
      assert.equal(unknown.status, grpc.UNIMPLEMENTED, `an unknown method: ${unknown.message}`);
      await assertServing('malformed');
    });
  } finally {
    client.close();
    await cluster.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});

test('--max-request-bytes raises the gRPC receive limit too, as etcd does (limit + 512 KiB)', {
  skip: etcdctlMissing ? 'etcdctl is not installed' : false,
  timeout: 60_000,
}, async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-badinput-'));
  const cluster = new KeelCluster(root, { size: 1, extraArgs: ['--max-request-bytes', String(4 * 1024 * 1024)] });
  const client = new GrpcClient();
  try {
    await cluster.init();
    cluster.start(cluster.nodes[0]!);
    await cluster.leader(client);
    const port = cluster.nodes[0]!.clientPort;
    const put = await client.put(port, 'big', 'x'.repeat(3 * 1024 * 1024), 10_000);
    assert.deepEqual([put.status, put.message], [grpc.OK, ''], 'a 3 MiB put is under a 4 MiB --max-request-bytes');
    const tooLarge = await client.put(port, 'big', 'x'.repeat(4 * 1024 * 1024 + 1024), 10_000);
    assert.deepEqual([tooLarge.status, tooLarge.message], [grpc.INVALID_ARGUMENT, 'etcdserver: request is too large']);
  } finally {
    client.close();
    await cluster.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});
