import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const upUsage = `usage: keel up [--data-dir DIR]
Runs a local 3-member cluster as child processes on 127.0.0.1 (data under DIR, default ./.keel/up).
Ctrl-C stops it cleanly; run again to resume the same data.
`;

const memberCount = 3;
/** etcd's ports for the first member; the others take the next free ones. */
const firstClientPort = 2379;
const portSearchMax = 200;
const keelBinary = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'keel');

interface Layout {
  readonly members: { name: string; clientPort: number; peerPort: number }[];
}

/** `keel up`: returns the exit code once the cluster has stopped. */
export async function up(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(upUsage);
    return 0;
  }
  const dataDirectoryIndex = argv.indexOf('--data-dir');
  const dataDirectory = resolve(dataDirectoryIndex >= 0 ? argv[dataDirectoryIndex + 1] ?? '.keel/up' : '.keel/up');
  await mkdir(dataDirectory, { recursive: true });
  const layout = await loadOrChooseLayout(dataDirectory);
  const children = layout.members.map((member) => startMember(member, layout, dataDirectory));
  printWelcome(layout, dataDirectory);
  const stopping = new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  const exited = Promise.all(children.map((child) => new Promise<number>((done) => child.once('exit', (code) => done(code ?? 1)))));
  const first = await Promise.race([stopping.then(() => 'signal' as const), exited.then(() => 'exited' as const)]);
  process.stdout.write(first === 'signal' ? '\nstopping the cluster...\n' : 'a member exited; stopping the cluster...\n');
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await exited;
  process.stdout.write(`stopped; data kept in ${dataDirectory}\n`);
  return first === 'signal' ? 0 : 1;
}

/** The ports are chosen once and kept: the member IDs are derived from the peer URLs. */
async function loadOrChooseLayout(dataDirectory: string): Promise<Layout> {
  const path = join(dataDirectory, 'cluster.json');
  if (existsSync(path)) return JSON.parse(await readFile(path, 'utf8')) as Layout;
  const ports: number[] = [];
  for (let port = firstClientPort; ports.length < memberCount * 2 && port < firstClientPort + portSearchMax; port++) {
    if (await portFree(port)) ports.push(port);
  }
  if (ports.length < memberCount * 2) throw new Error(`no free ports near ${firstClientPort}`);
  const members = Array.from({ length: memberCount }, (_, i) => ({ name: `keel${i + 1}`, clientPort: ports[i * 2]!, peerPort: ports[i * 2 + 1]! }));
  const layout: Layout = { members };
  await writeFile(path, `${JSON.stringify(layout, null, 2)}\n`);
  return layout;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

function startMember(member: Layout['members'][number], layout: Layout, dataDirectory: string): ChildProcess {
  const cluster = layout.members.map((other) => `${other.name}=http://127.0.0.1:${other.peerPort}`).join(',');
  const clientUrl = `http://127.0.0.1:${member.clientPort}`;
  const peerUrl = `http://127.0.0.1:${member.peerPort}`;
  const child = spawn(process.execPath, [keelBinary, 'serve',
    '--name', member.name, '--data-dir', join(dataDirectory, member.name),
    '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', cluster, '--initial-cluster-token', 'keel-up', '--initial-cluster-state', 'new',
    // Peers refusing connections while the others start is expected: only errors are shown here.
    '--log-level', 'error',
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  return child;
}

function printWelcome(layout: Layout, dataDirectory: string): void {
  const endpoints = layout.members.map((member) => `127.0.0.1:${member.clientPort}`).join(',');
  process.stdout.write(`keel: a local 3-member cluster
  data:       ${dataDirectory}
${layout.members.map((member) => `  ${member.name}:      client http://127.0.0.1:${member.clientPort}  peer http://127.0.0.1:${member.peerPort}`).join('\n')}
  endpoints:  ${endpoints}

try:
  etcdctl --endpoints=${endpoints} put greeting hello
  etcdctl --endpoints=${endpoints} get greeting
  etcdctl --endpoints=${endpoints} endpoint status -w table
  curl http://127.0.0.1:${layout.members[0]!.clientPort}/health

Ctrl-C stops the cluster; run again to resume it.
`);
}
