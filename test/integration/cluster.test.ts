import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { etcdctlMissing, freePort, keel, run } from './_harness.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';



interface Node { name: string; clientPort: number; peerPort: number; process: ChildProcess | null; log: string }

/** Three real `keel serve` processes on loopback. */
class Cluster {
  readonly nodes: Node[] = [];
  constructor(readonly root: string) {}

  async init(): Promise<void> {
    for (let i = 1; i <= 3; i++) this.nodes.push({ name: `m${i}`, clientPort: await freePort(), peerPort: await freePort(), process: null, log: '' });
  }

  start(node: Node, logLevel = 'warn'): void {
    const cluster = this.nodes.map((other) => `${other.name}=http://127.0.0.1:${other.peerPort}`).join(',');
    const client = `http://127.0.0.1:${node.clientPort}`;
    const peer = `http://127.0.0.1:${node.peerPort}`;
    node.process = spawn(process.execPath, [keel, 'serve', '--name', node.name, '--data-dir', join(this.root, node.name),
      '--listen-client-urls', client, '--advertise-client-urls', client, '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer, '--initial-cluster', cluster, '--heartbeat-interval', '50',
      '--election-timeout', '500', '--snapshot-count', '100', '--experimental-snapshot-catchup-entries', '20',
      '--log-level', logLevel], { stdio: ['ignore', 'ignore', 'pipe'] });
    node.log = '';
    node.process.stderr?.on('data', (chunk: Buffer) => {
      node.log += chunk.toString();
      if (logLevel === 'warn') process.stderr.write(chunk);
    });
  }

  endpoints(nodes = this.nodes.filter((node) => node.process !== null)): string {
    return nodes.map((node) => `127.0.0.1:${node.clientPort}`).join(',');
  }

  async etcdctl(args: string[], endpoints = this.endpoints()): Promise<string> {
    const { stdout } = await run('etcdctl', [`--endpoints=${endpoints}`, '--command-timeout=5s', '--dial-timeout=2s', ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
    return stdout;
  }

  async leader(): Promise<Node> {
    for (let attempt = 0; attempt < 100; attempt++) {
      for (const node of this.nodes.filter((candidate) => candidate.process !== null)) {
        try {
          const status = JSON.parse(await this.etcdctl(['endpoint', 'status', '-w', 'json'], `127.0.0.1:${node.clientPort}`)) as { Status: { header: { member_id: number }; leader: number } }[];
          const entry = status[0];
          if (entry !== undefined && entry.Status.leader !== 0 && String(entry.Status.leader) === String(entry.Status.header.member_id)) return node;
        } catch { /* not up yet */ }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('no leader');
  }

  kill(node: Node): void {
    node.process?.kill('SIGKILL');
    node.process = null;
  }

  stopAll(): void {
    for (const node of this.nodes) this.kill(node);
  }
}

test('three real members: writes survive kill -9 of the leader, and the old leader catches up through a snapshot', { skip: etcdctlMissing ? 'etcdctl is not installed' : false, timeout: 120_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'keel-cluster-'));
  const cluster = new Cluster(root);
  try {
    await cluster.init();
    for (const node of cluster.nodes) cluster.start(node);
    const first = await cluster.leader();
    for (let attempt = 0; ; attempt++) {
      // Every member must have applied every publish entry (member list is answered from the local copy).
      const lists = await Promise.all(cluster.nodes.map((node) => cluster.etcdctl(['member', 'list'], `127.0.0.1:${node.clientPort}`)));
      const members = lists.join('');
      const published = lists.every((list) => cluster.nodes.every((node) => list.includes(`, ${node.name}, http://127.0.0.1:${node.peerPort}, http://127.0.0.1:${node.clientPort}, false`)));
      if (published) break;
      assert.ok(attempt < 50, `every member publishes its name and client URL:\n${members}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // A follower forwards lease renewals to the leader, so a lease can be kept alive through any member.
    const granted = /lease ([0-9a-f]+) granted with TTL\(60s\)/.exec(await cluster.etcdctl(['lease', 'grant', '60'], `127.0.0.1:${first.clientPort}`));
    assert.ok(granted !== null, 'a lease was granted');
    const follower = cluster.nodes.find((node) => node !== first)!;
    assert.match(await cluster.etcdctl(['lease', 'keep-alive', '--once', granted[1]!], `127.0.0.1:${follower.clientPort}`), new RegExp(`lease ${granted[1]} keepalived with TTL\\(60\\)`));
    for (let i = 0; i < 20; i++) assert.match(await cluster.etcdctl(['put', `k${i}`, `v${i}`]), /OK/);
    cluster.kill(first);
    const second = await cluster.leader();
    assert.notEqual(second.name, first.name, 'a new leader is elected');
    const values = await cluster.etcdctl(['get', 'k', '--prefix', '--print-value-only']);
    assert.equal(values.trim().split('\n').length, 20, 'no acknowledged write was lost');
    // Far enough ahead that the old leader needs a snapshot.
    for (let i = 20; i < 300; i++) await cluster.etcdctl(['put', `k${i}`, `v${i}`]);
    cluster.start(first, 'info');
    let caughtUp = false;
    for (let attempt = 0; attempt < 100 && !caughtUp; attempt++) {
      const count = await cluster.etcdctl(['get', 'k', '--prefix', '--limit', '1', '--consistency=s', '-w', 'json'], `127.0.0.1:${first.clientPort}`).catch(() => '{}');
      caughtUp = (JSON.parse(count) as { count?: number }).count === 300;
      if (!caughtUp) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(caughtUp, 'the restarted member caught up');
    assert.match(first.log, /snapshot installed from leader/, 'its log was compacted away on the leader, so it caught up through a snapshot');
  } finally {
    cluster.stopAll();
    await rm(root, { recursive: true, force: true });
  }
});
