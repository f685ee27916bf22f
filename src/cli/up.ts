import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const upUsage = `usage: keel up [--data-dir DIR] [--no-monitor]
Runs a local 3-member cluster as child processes on 127.0.0.1 (data under DIR, default ./.keel/up), and a
monitor (keel monitor) scraping the members, with the Prometheus HTTP API on port 9090 or the next free one.
--no-monitor leaves the monitor out. Ctrl-C stops everything cleanly; run again to resume the same data.
`;

const memberCount = 3;
/** etcd's ports for the first member; the others take the next free ones. */
const firstClientPort = 2379;
const portSearchMax = 200;
/** Prometheus's port for the monitor; the next free one when it is taken. */
const firstMonitorPort = 9090;
/** How often keel up's monitor scrapes the members: often enough to see a local experiment happen. */
const monitorScrapeInterval = '5s';
const keelBinary = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'keel');
const keelRulesFile = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'rules', 'keel.yml');

export interface Layout {
  readonly members: { name: string; clientPort: number; peerPort: number }[];
  /** The monitor's HTTP port, chosen at the first start with a monitor and kept while it stays free. */
  monitorPort?: number;
}

/** `keel up`: returns the exit code once the cluster has stopped. */
export async function up(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(upUsage);
    return 0;
  }
  const dataDirectoryIndex = argv.indexOf('--data-dir');
  const dataDirectory = resolve(dataDirectoryIndex >= 0 ? argv[dataDirectoryIndex + 1] ?? '.keel/up' : '.keel/up');
  const withMonitor = !argv.includes('--no-monitor');
  await mkdir(dataDirectory, { recursive: true });
  const layout = await loadOrChooseLayout(dataDirectory);
  if (withMonitor) await chooseMonitorPort(layout, dataDirectory);
  const children = layout.members.map((member) => startMember(member, layout, dataDirectory));
  if (withMonitor) children.push(await startMonitor(layout, dataDirectory));
  printWelcome(layout, dataDirectory, withMonitor);
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

function printWelcome(layout: Layout, dataDirectory: string, withMonitor: boolean): void {
  const endpoints = layout.members.map((member) => `127.0.0.1:${member.clientPort}`).join(',');
  const monitorUrl = `http://127.0.0.1:${layout.monitorPort ?? firstMonitorPort}`;
  const monitorLines = !withMonitor ? '' : `  monitor:    ${monitorUrl}  (Prometheus HTTP API; data in ${join(dataDirectory, 'monitor')})
`;
  const monitorTries = !withMonitor ? '' : `  curl ${monitorUrl}/api/v1/targets
  curl '${monitorUrl}/api/v1/series?match[]=up'
  curl '${monitorUrl}/api/v1/query?query=up'
`;
  process.stdout.write(`keel: a local 3-member cluster
  data:       ${dataDirectory}
${layout.members.map((member) => `  ${member.name}:      client http://127.0.0.1:${member.clientPort}  peer http://127.0.0.1:${member.peerPort}`).join('\n')}
  endpoints:  ${endpoints}
${monitorLines}
try:
  etcdctl --endpoints=${endpoints} put greeting hello
  etcdctl --endpoints=${endpoints} get greeting
  etcdctl --endpoints=${endpoints} endpoint status -w table
  curl http://127.0.0.1:${layout.members[0]!.clientPort}/health
${monitorTries}
Ctrl-C stops the cluster; run again to resume it.
`);
}

/**
 * Keeps the recorded monitor port while it is free, otherwise takes 9090 or the next free port, and
 * records the choice in cluster.json.
 */
async function chooseMonitorPort(layout: Layout, dataDirectory: string): Promise<void> {
  if (layout.monitorPort !== undefined && (await portFree(layout.monitorPort))) return;
  const taken = new Set(layout.members.flatMap((member) => [member.clientPort, member.peerPort]));
  let chosen: number | undefined;
  for (let port = firstMonitorPort; chosen === undefined && port < firstMonitorPort + portSearchMax; port++) {
    if (!taken.has(port) && (await portFree(port))) chosen = port;
  }
  if (chosen === undefined) throw new Error(`no free port for the monitor near ${firstMonitorPort}`);
  layout.monitorPort = chosen;
  await writeFile(join(dataDirectory, 'cluster.json'), `${JSON.stringify(layout, null, 2)}\n`);
}

/**
 * The monitor's configuration: every member's client URL (which serves /metrics), one static group per
 * member so each series carries the member's name. Static targets rather than keel_sd_configs: they are
 * scraped from the first interval, while the cluster is still electing its first leader.
 */
export function upMonitorConfig(layout: Layout): string {
  const groups = layout.members.map((member) => `      - targets: ['127.0.0.1:${member.clientPort}']
        labels:
          member: ${member.name}`);
  return `# Written by keel up at every start; edit keel up, not this file.
global:
  scrape_interval: ${monitorScrapeInterval}
  evaluation_interval: ${monitorScrapeInterval}
# keel's own alerting and recording rules (see /api/v1/alerts).
rule_files:
  - ${JSON.stringify(keelRulesFile)}
scrape_configs:
  - job_name: keel
    static_configs:
${groups.join('\n')}
`;
}

async function startMonitor(layout: Layout, dataDirectory: string): Promise<ChildProcess> {
  const configFile = join(dataDirectory, 'monitor.yml');
  await writeFile(configFile, upMonitorConfig(layout));
  return spawn(process.execPath, [keelBinary, 'monitor',
    '--config.file', configFile, '--storage.tsdb.path', join(dataDirectory, 'monitor'),
    '--web.listen-address', `127.0.0.1:${layout.monitorPort!}`,
    // As for the members: only errors are shown, the welcome text says where the monitor listens.
    '--log.level', 'error',
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
}
