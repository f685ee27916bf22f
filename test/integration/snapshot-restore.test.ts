// `etcdctl snapshot save` from a running member, then `keel snapshot restore` into a new 3-member cluster:
// the new cluster serves the old keys at their old revisions, takes writes, and has its own identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcClient, KeelCluster, etcdctlMissing, keel, run } from './_harness.ts';

const limits = { timeout: 120_000, skip: etcdctlMissing ? 'etcdctl is not installed' : false };

async function restore(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [keel, 'snapshot', 'restore', ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

test('a snapshot saved by etcdctl restores into a new 3-member cluster that keeps keys and revisions', limits, async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-restore-'));
  const source = new KeelCluster(join(root, 'source'), { size: 1 });
  const target = new KeelCluster(join(root, 'target'), { size: 3 });
  const client = new GrpcClient();
  try {
    await source.init();
    source.start(source.nodes[0]!);
    await source.leader(client);
    for (let i = 0; i < 20; i++) await source.etcdctl(['put', `key-${i}`, `value-${i}`]);
    await source.etcdctl(['put', 'key-3', 'rewritten']);
    const sourceRevision = JSON.parse(await source.etcdctl(['get', 'key-3', '-w', 'json'])).header.revision as number;
    const file = join(root, 'backup.db');
    assert.match(await source.etcdctl(['snapshot', 'save', file]), /Snapshot saved at/);
    await source.stopAll();

    await target.init();
    const initialCluster = target.nodes.map((node) => `${node.name}=http://127.0.0.1:${node.peerPort}`).join(',');
    for (const node of target.nodes) {
      const result = await restore([file, '--name', node.name, '--data-dir', target.dataDir(node), '--initial-cluster', initialCluster,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${node.peerPort}`]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`revision ${sourceRevision}, 20 keys`));
    }
    for (const node of target.nodes) target.start(node);
    await target.leader(client);

    const got = JSON.parse(await target.etcdctl(['get', 'key-3', '-w', 'json']));
    assert.equal(Buffer.from(got.kvs[0].value, 'base64').toString(), 'rewritten');
    assert.equal(got.kvs[0].mod_revision, sourceRevision, 'revisions survive the restore');
    assert.equal(got.header.revision, sourceRevision);
    assert.equal((await target.etcdctl(['get', 'key-', '--prefix', '--keys-only'])).split('\n').filter((line) => line !== '').length, 20);
    assert.match(await target.etcdctl(['put', 'after', 'restore']), /^OK/);
    const members = (await target.etcdctl(['member', 'list'])).trim().split('\n');
    assert.equal(members.length, 3, 'the membership is the one given to restore, not the source cluster\'s');
    for (const node of target.nodes) assert.ok(members.some((line) => line.includes(`, ${node.name}, http://127.0.0.1:${node.peerPort}`)), `${node.name} listed`);
    // Every member holds the same data: serializable reads on each agree.
    for (const node of target.nodes) {
      const local = JSON.parse(await target.etcdctl(['get', 'key-19', '--consistency=s', '-w', 'json'], `127.0.0.1:${node.clientPort}`));
      assert.equal(Buffer.from(local.kvs[0].value, 'base64').toString(), 'value-19', `${node.name} restored the store`);
    }
  } finally {
    client.close();
    await source.stopAll();
    await target.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});

test('restore refuses a damaged file and an existing data directory, with etcdctl\'s messages', limits, async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-restore-bad-'));
  const source = new KeelCluster(join(root, 'source'), { size: 1 });
  const client = new GrpcClient();
  try {
    await source.init();
    source.start(source.nodes[0]!);
    await source.leader(client);
    await source.etcdctl(['put', 'k', 'v']);
    const file = join(root, 'backup.db');
    await source.etcdctl(['snapshot', 'save', file]);

    const damaged = Buffer.from(await readFile(file));
    damaged[10] = damaged[10]! ^ 0xff;
    await writeFile(join(root, 'damaged.db'), damaged);
    const bad = await restore([join(root, 'damaged.db'), '--data-dir', join(root, 'fresh')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /integrity check failed/);

    const existing = await restore([file, '--data-dir', source.dataDir(source.nodes[0]!)]);
    assert.equal(existing.code, 1);
    assert.match(existing.stderr, /data-dir ".*" exists/);

    await writeFile(join(root, 'short.db'), Buffer.alloc(100));
    const notSnapshot = await restore([join(root, 'short.db'), '--data-dir', join(root, 'fresh2')]);
    assert.equal(notSnapshot.code, 1);
    assert.match(notSnapshot.stderr, /is not a snapshot file/);
  } finally {
    client.close();
    await source.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});
