import { type Output, UsageError, exitCodes, processOutput } from './output.ts';
import { simCommand, simUsage } from './sim.ts';

interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly run: (argv: readonly string[], output: Output) => Promise<number>;
}

const serveUsage = 'usage: keel serve [--config-file FILE] [etcd-style flags]: runs one member (keel serve --help lists the flags)';
const upUsage = 'usage: keel up [--data-dir DIR] [--no-monitor]: runs a local 3-member cluster and a monitor';
const monitorUsage = 'usage: keel monitor [--config.file FILE] [--storage.tsdb.path DIR] [--web.listen-address ADDR] ... | keel monitor import FILE (keel monitor --help lists the flags)';

/**
 * The subcommands. The server ones are imported when run, so that `keel sim` loads only the core and the
 * simulator.
 */
const commands: ReadonlyMap<string, Command> = new Map([
  ['sim', { summary: 'run the deterministic simulator over seeds', usage: simUsage, run: simCommand }],
  ['serve', { summary: 'run one member (etcd-compatible flags)', usage: serveUsage, run: async (argv) => (await import('./serve.ts')).serve(argv) }],
  ['up', { summary: 'run a local 3-member cluster', usage: upUsage, run: async (argv) => (await import('./up.ts')).up(argv) }],
  ['monitor', { summary: 'run the monitor (Prometheus-compatible scraping, storage and HTTP API)', usage: monitorUsage, run: async (argv, output) => (await import('./monitor.ts')).monitorCommand(argv, output) }],
  ['get', { summary: 'read keys', usage: 'usage: keel get KEY [RANGE_END] [--prefix] [--limit N] [--rev N] [-w simple|json]', run: async (argv, output) => (await import('./client-commands.ts')).runClient('get', argv, output) }],
  ['put', { summary: 'write a key', usage: 'usage: keel put KEY VALUE [--lease ID] [--prev-kv]', run: async (argv, output) => (await import('./client-commands.ts')).runClient('put', argv, output) }],
  ['del', { summary: 'delete keys', usage: 'usage: keel del KEY [RANGE_END] [--prefix] [--prev-kv]', run: async (argv, output) => (await import('./client-commands.ts')).runClient('del', argv, output) }],
  ['txn', { summary: 'run a transaction read from stdin', usage: 'usage: keel txn < compares, blank line, success ops, blank line, failure ops', run: async (argv, output) => (await import('./client-commands.ts')).runClient('txn', argv, output) }],
  ['watch', { summary: 'print changes to keys', usage: 'usage: keel watch KEY [RANGE_END] [--prefix] [--rev N] [--prev-kv]', run: async (argv, output) => (await import('./client-commands.ts')).runClient('watch', argv, output) }],
  ['lease', { summary: 'grant, revoke, keep-alive, timetolive, list leases', usage: 'usage: keel lease grant|revoke|keep-alive|timetolive|list', run: async (argv, output) => (await import('./client-commands.ts')).runClient('lease', argv, output) }],
  ['member', { summary: 'list, add, remove, promote members', usage: 'usage: keel member list|add|remove|promote', run: async (argv, output) => (await import('./client-commands.ts')).runClient('member', argv, output) }],
  ['endpoint', { summary: 'status and health of endpoints', usage: 'usage: keel endpoint status|health [--cluster] [-w simple|json|table]', run: async (argv, output) => (await import('./client-commands.ts')).runClient('endpoint', argv, output) }],
  ['snapshot', { summary: 'save a snapshot of the backend', usage: 'usage: keel snapshot save FILE', run: async (argv, output) => (await import('./client-commands.ts')).runClient('snapshot', argv, output) }],
  ['compaction', { summary: 'compact the history up to a revision', usage: 'usage: keel compaction REV', run: async (argv, output) => (await import('./client-commands.ts')).runClient('compaction', argv, output) }],
  ['alarm', { summary: 'list or disarm alarms', usage: 'usage: keel alarm list|disarm', run: async (argv, output) => (await import('./client-commands.ts')).runClient('alarm', argv, output) }],
]);

function usage(): string {
  const lines = ['usage: keel <command> [options]', '', 'commands:'];
  for (const [name, command] of commands) lines.push(`  ${name.padEnd(8)} ${command.summary}`);
  lines.push('', 'Run `keel <command> --help` for its options.');
  return lines.join('\n');
}

/**
 * The `keel` command. Returns the exit code: 0 ok, 1 a violation (or a failure the command reports),
 * 2 a usage error.
 *
 * @example
 * process.exitCode = await main(['sim', '--seeds', '1..10', '--swarm']);
 */
export async function main(argv: string[], output: Output = processOutput): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    output.out(usage());
    return exitCodes.ok;
  }
  const command = name === undefined ? undefined : commands.get(name);
  if (command === undefined) {
    output.error(name === undefined ? 'keel: a command is required' : `keel: unknown command ${JSON.stringify(name)}`);
    output.error(usage());
    return exitCodes.usage;
  }
  if ((rest.includes('--help') || rest.includes('-h')) && name === 'sim') {
    output.out(command.usage);
    return exitCodes.ok;
  }
  try {
    return await command.run(rest, output);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.error(`keel ${name}: ${error.message}`);
    output.error(command.usage);
    return exitCodes.usage;
  }
}
