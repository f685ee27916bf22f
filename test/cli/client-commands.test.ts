import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type TestCluster } from '../client/_cluster.ts';

const keel = join(import.meta.dirname, '..', '..', 'bin', 'keel');
const etcdctlPath = '/usr/bin/etcdctl';
const etcdctlMissing = await stat(etcdctlPath).then(() => false, () => true);

interface Result { stdout: string; stderr: string; code: number }

function run(file: string, args: readonly string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ stdout, stderr, code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1 });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

let cluster: TestCluster;
let root: string;
const endpointsFlag = (): string => `--endpoints=${cluster.endpoints.join(',')}`;
const keelRun = (args: readonly string[], input?: string): Promise<Result> => run(process.execPath, [keel, ...args, endpointsFlag()], input);
const etcdctl = (args: readonly string[], input?: string): Promise<Result> => run(etcdctlPath, [...args, endpointsFlag()], input);
/**
 * Runs the same command through both and returns both results. JSON carries the answering member's ID, so
 * JSON commands go to one endpoint.
 */
function both(args: readonly string[], input?: string): Promise<[Result, Result]> {
  const endpoints = args.some((arg) => arg.includes('json')) ? `--endpoints=${cluster.endpoints[0]}` : endpointsFlag();
  return Promise.all([run(process.execPath, [keel, ...args, endpoints], input), run(etcdctlPath, [...args, endpoints], input)]);
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'keel-cli-'));
  cluster = await startCluster();
  await cluster.ready();
});

after(async () => {
  await cluster?.stop();
  await rm(root, { recursive: true, force: true });
});

const options = { skip: etcdctlMissing ? 'etcdctl is not installed' : false };

test('put prints OK and get prints what etcdctl prints, in every format', options, async () => {
  const [put, putReference] = await Promise.all([keelRun(['put', 'cli/a', 'one']), etcdctl(['put', 'cli/b', 'two'])]);
  assert.equal(put.stdout, putReference.stdout);
  assert.equal(put.stdout, 'OK\n');
  for (const args of [['get', 'cli/a'], ['get', 'cli/', '--prefix'], ['get', 'cli/', '--prefix', '--keys-only'], ['get', 'cli/', '--prefix', '--print-value-only'],
    ['get', 'cli/', '--prefix', '--limit', '1', '-w', 'json'], ['get', 'cli/a', '--write-out=json'], ['get', 'cli/nothing', '-w', 'json']]) {
    const [mine, reference] = await both(args);
    assert.equal(mine.code, 0, mine.stderr);
    assert.equal(mine.stdout, reference.stdout, `keel ${args.join(' ')}`);
  }
});

test('del, put --prev-kv and txn print what etcdctl prints', options, async () => {
  await keelRun(['put', 'cli/d1', 'x']);
  await keelRun(['put', 'cli/d2', 'y']);
  const deleted = await keelRun(['del', 'cli/d', '--prefix', '--prev-kv']);
  assert.equal(deleted.stdout, '2\ncli/d1\nx\ncli/d2\ny\n');
  const overwritten = await keelRun(['put', 'cli/a', 'uno', '--prev-kv']);
  assert.equal(overwritten.stdout, 'OK\ncli/a\none\n');
  const script = 'value("cli/a") = "uno"\n\nput cli/t "t v"\nget cli/t\n\nget cli/a\n\n';
  const mine = await keelRun(['txn'], script);
  await keelRun(['del', 'cli/t']);
  const reference = await etcdctl(['txn'], script);
  assert.equal(mine.stdout, reference.stdout);
  assert.equal(mine.stdout, 'SUCCESS\n\nOK\n\ncli/t\nt v\n');
});

test('member list and endpoint status match etcdctl in simple, table and json', options, async () => {
  for (const args of [['member', 'list'], ['member', 'list', '-w', 'table'], ['member', 'list', '-w', 'json'], ['endpoint', 'status', '-w', 'table']]) {
    const [mine, reference] = await both(args);
    assert.equal(mine.code, 0, mine.stderr);
    assert.equal(mine.stdout, reference.stdout, `keel ${args.join(' ')}`);
  }
  const health = await keelRun(['endpoint', 'health']);
  assert.equal(health.code, 0);
  assert.equal(health.stderr.match(/is healthy: successfully committed proposal: took = [\d.]+(ms|µs|s)\n/g)?.length, 3);
});

test('leases print etcdctl lines, and a failure prints Error: <etcd message> with exit code 1', options, async () => {
  const grant = await keelRun(['lease', 'grant', '60']);
  const match = /^lease ([0-9a-f]{16}) granted with TTL\(60s\)\n$/.exec(grant.stdout);
  assert.ok(match, grant.stdout);
  const id = match[1]!;
  await keelRun(['put', 'cli/l', 'v', `--lease=${id}`]);
  const [ttl, ttlReference] = await both(['lease', 'timetolive', id, '--keys']);
  assert.match(ttl.stdout, new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\(\\d+s\\), attached keys\\(\\[cli/l\\]\\)\\n$`));
  assert.equal(ttl.stdout.replace(/remaining\(\d+s\)/, ''), ttlReference.stdout.replace(/remaining\(\d+s\)/, ''));
  assert.equal((await keelRun(['lease', 'keep-alive', '--once', id])).stdout, `lease ${id} keepalived with TTL(60)\n`);
  assert.equal((await keelRun(['lease', 'revoke', id])).stdout, `lease ${id} revoked\n`);
  const [again, againReference] = await both(['lease', 'revoke', id]);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, 'Error: failed to revoke lease (etcdserver: requested lease not found)\n');
  assert.ok(againReference.stderr.endsWith(again.stderr));
  const [future, futureReference] = await both(['get', 'cli/a', '--rev', '100000']);
  assert.equal(future.code, futureReference.code);
  assert.equal(future.stderr, 'Error: etcdserver: mvcc: required revision is a future revision\n');
  assert.ok(futureReference.stderr.endsWith(future.stderr));
});

test('snapshot save writes the stream to a file; compaction and alarm list print like etcdctl', options, async () => {
  const file = join(root, 'snap.db');
  const saved = await keelRun(['snapshot', 'save', file]);
  assert.equal(saved.stdout, `Snapshot saved at ${file}\n`, saved.stderr);
  assert.ok((await stat(file)).size > 0);
  const put = await keelRun(['put', 'cli/c', 'v', '-w', 'json']);
  const revision = (JSON.parse(put.stdout) as { header: { revision: number } }).header.revision;
  assert.equal((await keelRun(['compaction', String(revision)])).stdout, `compacted revision ${revision}\n`);
  const [alarms, alarmsReference] = await both(['alarm', 'list']);
  assert.equal(alarms.stdout, alarmsReference.stdout);
});
