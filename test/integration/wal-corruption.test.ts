// Damaged data directories of a real single-member `keel serve`: a torn WAL tail is repaired and logged; a
// damaged record in the middle stops start-up with WAL_CORRUPT (file and offset) and leaves the file alone; a
// corrupt newest snapshot file is set aside and an older one used. Byte layout: docs/format/wal.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcClient, KeelCluster, type KeelNode, fromText, sleep } from './_harness.ts';

const limits = { timeout: 60_000 };

interface WalRecord {
  readonly offset: number;
  readonly type: number;
  /** Whole record on disk: header, CRC, payload, padding. */
  readonly size: number;
  readonly payload: Buffer;
}

const recordType = { entry: 4, hardState: 3 } as const;

/** Walks a segment's records (no checks: the member does those). */
function walRecords(bytes: Buffer): WalRecord[] {
  const records: WalRecord[] = [];
  let offset = 0;
  while (offset + 12 <= bytes.length && bytes[offset] !== 0) {
    const length = bytes.readUInt32LE(offset + 4);
    const size = Math.ceil((12 + length) / 8) * 8;
    records.push({ offset, type: bytes[offset]!, size, payload: bytes.subarray(offset + 12, offset + 12 + length) });
    offset += size;
  }
  return records;
}

interface Member {
  readonly cluster: KeelCluster;
  readonly node: KeelNode;
  readonly client: GrpcClient;
  readonly walDirectory: string;
  readonly snapDirectory: string;
}

/** A 1-member cluster in a fresh directory; `body` runs with it, and everything is cleaned up after. */
async function withMember(snapshotCount: number, body: (member: Member) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'keel-walcorrupt-'));
  const cluster = new KeelCluster(root, { size: 1, snapshotCount });
  const client = new GrpcClient();
  try {
    await cluster.init();
    const node = cluster.nodes[0]!;
    await body({ cluster, node, client, walDirectory: join(cluster.dataDir(node), 'wal'), snapDirectory: join(cluster.dataDir(node), 'snap') });
  } finally {
    client.close();
    await cluster.stopAll();
    await rm(root, { recursive: true, force: true });
  }
}

/** Starts the member and waits until it is leader of its one-member cluster. */
async function startAndWait(member: Member): Promise<void> {
  member.cluster.start(member.node);
  await member.cluster.leader(member.client);
}

/** Writes `count` keys one at a time (each acknowledged), then kill -9. */
async function writeAndKill(member: Member, count: number): Promise<string[]> {
  await startAndWait(member);
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = `key-${String(i).padStart(4, '0')}`;
    const result = await member.client.put(member.node.clientPort, key, `value-${i}`);
    assert.equal(result.status, 0, `put ${key}: ${result.message}`);
    keys.push(key);
  }
  member.client.close();
  await member.cluster.kill(member.node);
  return keys;
}

async function lastSegment(walDirectory: string): Promise<string> {
  const names = (await readdir(walDirectory)).filter((name) => name.endsWith('.wal')).sort();
  assert.ok(names.length > 0, 'the WAL has a segment');
  return join(walDirectory, names[names.length - 1]!);
}

/** Keys whose entry record lies wholly before `end` in the segment. */
function keysBefore(records: readonly WalRecord[], keys: readonly string[], end: number): string[] {
  return keys.filter((key) => records.some((record) => record.type === recordType.entry && record.offset + record.size <= end && record.payload.includes(Buffer.from(key))));
}

async function storedKeys(member: Member): Promise<Map<string, string>> {
  const response = await member.client.range(member.node.clientPort, 'key-', 'key.', false);
  return new Map(response.kvs.map((kv) => [fromText(kv.key), fromText(kv.value)]));
}

/** The member still takes writes and serves them back. */
async function assertServing(member: Member): Promise<void> {
  const put = await member.client.put(member.node.clientPort, 'key-after', 'still-here');
  assert.equal(put.status, 0, `a put after the restart: ${put.message}`);
  assert.equal((await storedKeys(member)).get('key-after'), 'still-here');
}

async function waitForExit(node: KeelNode, limitMs: number): Promise<number | string> {
  const exited = node.exited!;
  const result = await Promise.race([exited, sleep(limitMs).then(() => 'still running')]);
  if (result !== 'still running') node.process = null;
  return result;
}

test('a WAL whose last record is torn in half is repaired on restart, logged, and keeps every earlier write', limits, async () => {
  await withMember(100_000, async (member) => {
    const keys = await writeAndKill(member, 30);
    const path = await lastSegment(member.walDirectory);
    const records = walRecords(await readFile(path));
    const last = records[records.length - 1]!;
    const cut = last.offset + Math.floor(last.size / 2);
    await truncate(path, cut);
    const survivors = keysBefore(records, keys, last.offset);
    assert.ok(survivors.length >= keys.length - 1, 'the cut leaves the earlier entries whole');

    await startAndWait(member);
    const repair = KeelCluster.logs(member.node).find((line) => line['msg'] === 'WAL repaired a torn tail');
    assert.ok(repair !== undefined, `the repair is logged:\n${member.node.stderr.join('\n')}`);
    assert.equal(repair['file'], path);
    assert.equal(repair['offset'], last.offset, 'the file is cut at the start of the torn record');
    assert.equal((await stat(path)).size >= last.offset, true);
    const stored = await storedKeys(member);
    for (const key of survivors) assert.equal(stored.get(key), `value-${keys.indexOf(key)}`, `${key} survives the repair`);
    await assertServing(member);
  });
});

test('a WAL torn in the middle of its last entry loses only that entry, and the repair is logged', limits, async () => {
  await withMember(100_000, async (member) => {
    const keys = await writeAndKill(member, 30);
    const path = await lastSegment(member.walDirectory);
    const records = walRecords(await readFile(path));
    const lastKey = keys[keys.length - 1]!;
    const entry = records.findLast((record) => record.type === recordType.entry && record.payload.includes(Buffer.from(lastKey)));
    assert.ok(entry !== undefined, 'the last key has an entry record');
    await truncate(path, entry.offset + 20);
    const survivors = keysBefore(records, keys, entry.offset);
    assert.deepEqual(survivors, keys.slice(0, -1), 'every earlier key is in an earlier record');

    await startAndWait(member);
    const repair = KeelCluster.logs(member.node).find((line) => line['msg'] === 'WAL repaired a torn tail');
    assert.ok(repair !== undefined, `the repair is logged:\n${member.node.stderr.join('\n')}`);
    assert.equal(repair['offset'], entry.offset);
    const stored = await storedKeys(member);
    for (const [i, key] of survivors.entries()) assert.equal(stored.get(key), `value-${i}`, `${key} survives the repair`);
    await assertServing(member);
  });
});

test('a flipped byte in a middle WAL record stops start-up with WAL_CORRUPT naming file and offset, and nothing is truncated', limits, async () => {
  await withMember(100_000, async (member) => {
    await writeAndKill(member, 30);
    const path = await lastSegment(member.walDirectory);
    const original = await readFile(path);
    const entries = walRecords(original).filter((record) => record.type === recordType.entry);
    const victim = entries[Math.floor(entries.length / 2)]!;
    const damaged = Buffer.from(original);
    damaged[victim.offset + 12 + 20]! ^= 0x40; // inside the entry's data
    await writeFile(path, damaged);

    member.cluster.start(member.node);
    const exit = await waitForExit(member.node, 20_000);
    const stderr = member.node.stderr.join('\n');
    assert.notEqual(exit, 'still running', 'keel serve does not start on a corrupt WAL');
    assert.notEqual(exit, 0, `keel serve exits non-zero:\n${stderr}`);
    assert.match(stderr, /WAL_CORRUPT/);
    assert.ok(stderr.includes(path), `the error names the file:\n${stderr}`);
    assert.ok(stderr.includes(`offset ${victim.offset}`), `the error names the offset ${victim.offset}:\n${stderr}`);
    const after = await readFile(path);
    assert.equal(after.length, damaged.length, 'the segment is not truncated');
    assert.ok(after.equals(damaged), 'the segment is not modified');
  });
});

test('a damaged length in a middle WAL record is reported as WAL_CORRUPT, not taken for a torn tail', limits, async () => {
  await withMember(100_000, async (member) => {
    await writeAndKill(member, 30);
    const path = await lastSegment(member.walDirectory);
    const original = await readFile(path);
    const entries = walRecords(original).filter((record) => record.type === recordType.entry);
    const victim = entries[Math.floor(entries.length / 2)]!;
    const damaged = Buffer.from(original);
    // A length that runs past the end of the file, but within the record bound: looks like a short record.
    damaged.writeUInt32LE(original.length, victim.offset + 4);
    await writeFile(path, damaged);

    member.cluster.start(member.node);
    const exit = await waitForExit(member.node, 20_000);
    const stderr = member.node.stderr.join('\n');
    assert.notEqual(exit, 'still running', `keel serve does not start on a WAL damaged mid-log:\n${stderr}`);
    assert.notEqual(exit, 0);
    assert.match(stderr, /WAL_CORRUPT/);
    assert.ok(stderr.includes(path) && stderr.includes(`offset ${victim.offset}`), `the error names file and offset ${victim.offset}:\n${stderr}`);
    assert.ok((await readFile(path)).equals(damaged), 'the segment is not modified');
  });
});

test('a corrupt newest snapshot file is set aside, reported, and start-up uses an older one with the WAL', limits, async () => {
  await withMember(10, async (member) => {
    const keys = await writeAndKill(member, 60);
    const snaps = (await readdir(member.snapDirectory)).filter((name) => name.endsWith('.snap')).sort();
    assert.ok(snaps.length >= 2, `snapshots were taken: ${snaps.join(', ')}`);
    const newest = join(member.snapDirectory, snaps[snaps.length - 1]!);
    const bytes = await readFile(newest);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(newest, bytes);

    await startAndWait(member);
    const report = KeelCluster.logs(member.node).find((line) => typeof line['msg'] === 'string' && line['msg'].includes('snapshot file is corrupt'));
    assert.ok(report !== undefined, `the corrupt snapshot is reported:\n${member.node.stderr.join('\n')}`);
    assert.ok(JSON.stringify(report).includes(snaps[snaps.length - 1]!), 'the report names the file');
    assert.ok((await readdir(member.snapDirectory)).includes(`${snaps[snaps.length - 1]!}.broken`), 'the file is set aside as .broken');
    const stored = await storedKeys(member);
    for (const [i, key] of keys.entries()) assert.equal(stored.get(key), `value-${i}`, `${key} is recovered`);
    await assertServing(member);
  });
});

/** Resolves true once the member leads its cluster, false once its process has exited. */
async function startedOrExited(member: Member, limitMs: number): Promise<boolean> {
  member.cluster.start(member.node);
  const exited = member.node.exited!.then(() => false);
  const started = member.cluster.leader(member.client, limitMs).then(() => true, () => false);
  const result = await Promise.race([exited, started]);
  if (!result) member.node.process = null;
  return result;
}

/** Sixty keys with a snapshot every 10 entries, then every snapshot file damaged. */
async function corruptEverySnapshot(member: Member): Promise<string[]> {
  const keys = await writeAndKill(member, 60);
  const snaps = (await readdir(member.snapDirectory)).filter((name) => name.endsWith('.snap'));
  assert.ok(snaps.length >= 2, 'snapshots were taken');
  for (const name of snaps) {
    const bytes = await readFile(join(member.snapDirectory, name));
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(join(member.snapDirectory, name), bytes);
  }
  return keys;
}

test('when every snapshot file is corrupt, start-up recovers from the WAL or refuses to start; it never serves a partial store', limits, async () => {
  await withMember(10, async (member) => {
    const keys = await corruptEverySnapshot(member);
    const started = await startedOrExited(member, 15_000);
    const stderr = member.node.stderr.join('\n');
    assert.match(stderr, /snapshot file is corrupt/, 'the corrupt snapshots are reported');
    if (!started) {
      assert.notEqual(await member.node.exited, 0, `a member that cannot recover exits non-zero:\n${stderr}`);
      return;
    }
    const stored = await storedKeys(member);
    const lost = keys.filter((key, i) => stored.get(key) !== `value-${i}`);
    assert.deepEqual(lost, [], 'a member that starts has every acknowledged write');
  });
});

test('when every snapshot file is corrupt, the refusal to start names a storage cause, not an internal invariant', {
  ...limits,
}, async () => {
  await withMember(10, async (member) => {
    await corruptEverySnapshot(member);
    const started = await startedOrExited(member, 15_000);
    const stderr = member.node.stderr.join('\n');
    assert.equal(started, false, 'the member cannot recover its state without a snapshot');
    assert.doesNotMatch(stderr, /RAFT_INVARIANT|InvariantError/, `the failure is reported as a storage problem:\n${stderr}`);
    assert.match(stderr, /WAL_SNAPSHOT_MISMATCH|SNAPSHOT_CORRUPT|snapshot/i);
  });
});
