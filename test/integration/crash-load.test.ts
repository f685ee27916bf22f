// kill -9 at random moments during a write load, repeated: nothing acknowledged may be lost, and the members
// must converge to the same store. The crash schedule comes from a seeded PRNG; the seed is printed, and
// KEEL_CRASH_SEED=<seed> replays the schedule (the load's timing still varies); KEEL_KEEP_DATA=1 keeps the data dirs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcClient, KeelCluster, type KeelNode, etcdctlMissing, fromText, prng, sleep } from './_harness.ts';

const writers = 4;
const keyPrefix = 'load/';
const keyEnd = 'load0'; // '/' + 1
const valueOf = (seed: number, key: string): string => `${key}@${seed}`;

test('kill -9 of random members (sometimes the leader, sometimes two) during a write load loses no acknowledged write', { skip: etcdctlMissing ? 'etcdctl is not installed' : false, timeout: 120_000 }, async (t) => {
  const seed = Number(process.env['KEEL_CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  const random = prng(seed);
  t.diagnostic(`crash-load seed ${seed} (replay with KEEL_CRASH_SEED=${seed})`);
  console.log(`crash-load seed ${seed}`);
  const root = await mkdtemp(join(tmpdir(), 'keel-crash-'));
  // Small snapshot count, so snapshots (file, then WAL marker) are taken and restored across the crashes.
  const cluster = new KeelCluster(root, { size: 3, snapshotCount: 300 });
  const client = new GrpcClient();
  const acked = new Map<string, string>();
  let attempts = 0;
  let stopping = false;
  const events: string[] = [];
  const trace: string[] = [];
  const traceStart = performance.now();
  try {
    await cluster.init();
    for (const node of cluster.nodes) cluster.start(node);
    await cluster.leader(client);

    const loops = Array.from({ length: writers }, async (_, writer) => {
      const pick = prng(seed + writer + 1);
      for (let sequence = 0; !stopping; sequence++) {
        const up = cluster.up();
        const node = up[Math.floor(pick() * up.length)];
        if (node === undefined) {
          await sleep(20);
          continue;
        }
        const key = `${keyPrefix}${writer}/${String(sequence).padStart(6, '0')}`;
        const value = valueOf(seed, key);
        attempts++;
        const t0 = performance.now();
        const result = await client.put(node.clientPort, key, value, 2_000).catch((error: Error) => ({ status: -1, message: error.message, body: null }));
        trace.push(`${(t0 - traceStart).toFixed(0)} +${(performance.now() - t0).toFixed(0)} w${writer} ${node.name} ${result.status} ${result.message}`);
        if (result.status === 0) acked.set(key, value);
        else await sleep(20);
      }
    });

    const startedAt = performance.now();
    const rounds = 5 + Math.floor(random() * 4);
    for (let round = 0; round < rounds; round++) {
      await sleep(800 + Math.floor(random() * 2000));
      const before = acked.size;
      const choice = random();
      const victims: KeelNode[] = [];
      const leader = await cluster.leader(client).catch(() => null);
      if (choice < 0.5 && leader !== null) victims.push(leader);
      else victims.push(cluster.nodes[Math.floor(random() * cluster.nodes.length)]!);
      if (choice < 0.15) {
        // Two at once: the cluster loses its quorum until they return.
        const others = cluster.nodes.filter((node) => node !== victims[0]);
        victims.push(others[Math.floor(random() * others.length)]!);
      }
      for (const victim of victims) await cluster.kill(victim);
      const downMs = 200 + Math.floor(random() * 1200);
      events.push(`${(performance.now() - startedAt).toFixed(0)} ms round ${round}: killed ${victims.map((node) => node.name + (node === leader ? '(leader)' : '')).join('+')} after ${before} acks, down ${downMs} ms`);
      await sleep(downMs);
      for (const victim of victims) cluster.start(victim);
    }
    // Let the load run on the healed cluster for a while: it must make progress again.
    const healedAt = acked.size;
    const healedMs = performance.now();
    while (acked.size < healedAt + 50 && performance.now() - healedMs < 15_000) await sleep(50);
    events.push(`healed: ${acked.size - healedAt} acks in ${(performance.now() - healedMs).toFixed(0)} ms`);
    assert.ok(acked.size >= healedAt + 50, `writes resume once every member is back (seed ${seed})`);
    stopping = true;
    await Promise.all(loops);
    t.diagnostic(events.join('\n'));
    // KEEL_TRACE=<file> writes every put (start ms, +latency, writer, member, status, message) for diagnosis.
    if (process.env['KEEL_TRACE'] !== undefined) await writeFile(process.env['KEEL_TRACE'], trace.join('\n'));
    t.diagnostic(`${acked.size} writes acknowledged of ${attempts} attempted`);
    assert.ok(acked.size >= 100, `the load made progress (seed ${seed}): ${acked.size} acknowledged`);

    // Linearizable reads on every member: each must see every acknowledged write, with its value.
    await cluster.leader(client);
    for (const node of cluster.nodes) {
      let response = null;
      for (let attempt = 0; response === null && attempt < 50; attempt++) {
        response = await client.range(node.clientPort, keyPrefix, keyEnd, false, 3_000).catch(() => null);
        if (response === null) await sleep(200);
      }
      assert.ok(response !== null, `${node.name} answers a linearizable range (seed ${seed})`);
      checkContents(response.kvs.map((kv) => [fromText(kv.key), fromText(kv.value)]), acked, seed, `${node.name} (linearizable)`);
    }

    // Serializable reads per member, once they have converged: the same revision and the same contents.
    let revisions: number[] = [];
    for (let attempt = 0; attempt < 100; attempt++) {
      const responses = await Promise.all(cluster.nodes.map((node) => client.range(node.clientPort, keyPrefix, keyEnd, true).catch(() => null)));
      revisions = responses.map((response) => response?.header?.revision ?? -1);
      if (responses.every((response) => response !== null) && new Set(revisions).size === 1) {
        for (const [i, response] of responses.entries()) {
          checkContents(response!.kvs.map((kv) => [fromText(kv.key), fromText(kv.value)]), acked, seed, `${cluster.nodes[i]!.name} (serializable)`);
        }
        break;
      }
      await sleep(100);
    }
    assert.equal(new Set(revisions).size, 1, `the members converge to one revision (seed ${seed}): ${revisions.join(', ')}`);

    // And their stores hash the same (etcd's HashKV).
    let hashes: string[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      const output = await cluster.etcdctl(['endpoint', 'hashkv', '-w', 'json']).catch(() => '[]');
      hashes = (JSON.parse(output) as { HashKV: { hash: number; header: { revision: number } } }[]).map((entry) => `${entry.HashKV.hash}@${entry.HashKV.header.revision}`);
      if (hashes.length === cluster.nodes.length && new Set(hashes).size === 1) break;
      await sleep(200);
    }
    assert.equal(hashes.length, cluster.nodes.length, `every member answers hashkv (seed ${seed})`);
    assert.equal(new Set(hashes).size, 1, `hashkv agrees on every member (seed ${seed}): ${hashes.join(', ')}`);
  } finally {
    stopping = true;
    client.close();
    await cluster.stopAll();
    if (process.env['KEEL_KEEP_DATA'] === undefined) await rm(root, { recursive: true, force: true });
    else console.log(`data kept in ${root}`);
  }
});

/** Every acknowledged key is there with its value, and nothing else under the prefix has a foreign value. */
function checkContents(kvs: [string, string][], acked: ReadonlyMap<string, string>, seed: number, where: string): void {
  const found = new Map(kvs);
  const missing = [...acked.keys()].filter((key) => found.get(key) !== acked.get(key));
  assert.deepEqual(missing.slice(0, 10), [], `${where}: ${missing.length} acknowledged writes lost or changed (seed ${seed})`);
  const foreign = kvs.filter(([key, value]) => value !== valueOf(seed, key));
  assert.deepEqual(foreign.slice(0, 10), [], `${where}: values that were never written (seed ${seed})`);
}
