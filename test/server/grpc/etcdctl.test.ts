// An unchanged etcdctl against the wire layer, with an in-memory KV stub behind it. Skipped when etcdctl
// is not on the PATH (it is not installed by the project; the lead adds fuller etcdctl tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { GrpcServer } from '../../../src/server/grpc/index.ts';
import { KVService } from '../../../src/server/proto/index.ts';
import type { KeyValueInit } from '../../../src/server/proto/index.ts';

const etcdctlMissing = spawnSync('etcdctl', ['version'], { stdio: 'ignore' }).error !== undefined;

function etcdctl(port: number, ...parameters: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('etcdctl', [`--endpoints=http://127.0.0.1:${port}`, '--dial-timeout=3s', '--command-timeout=5s', ...parameters], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 15_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`etcdctl ${parameters.join(' ')} failed: ${stderr}`));
      else resolve(stdout);
    });
  });
}

test('etcdctl: put and get through the gRPC wire layer', { skip: etcdctlMissing ? 'etcdctl is not installed' : false, timeout: 30_000 }, async () => {
  const store = new Map<string, KeyValueInit>();
  let revision = 1;
  const header = (): { clusterId: bigint; memberId: bigint; revision: number; raftTerm: number } => ({ clusterId: 0xcdf818194e3a8c32n, memberId: 0x8e9e05c52164694dn, revision, raftTerm: 2 });
  const server = new GrpcServer();
  server.addService(KVService, {
    Put: (request) => {
      revision++;
      store.set(Buffer.from(request.key).toString('latin1'), { key: Buffer.from(request.key), value: Buffer.from(request.value), createRevision: revision, modRevision: revision, version: 1 });
      return { header: header() };
    },
    Range: (request) => {
      const found = store.get(Buffer.from(request.key).toString('latin1'));
      return { header: header(), kvs: found === undefined ? [] : [found], count: found === undefined ? 0 : 1 };
    },
  });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  try {
    assert.equal((await etcdctl(port, 'put', 'foo', 'bar')).trim(), 'OK');
    assert.equal(await etcdctl(port, 'get', 'foo'), 'foo\nbar\n');
    assert.equal(await etcdctl(port, 'get', 'missing'), '');
  } finally {
    await server.close({ graceMs: 500 });
  }
});
