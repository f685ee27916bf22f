import { type Output, UsageError, exitCodes, processOutput } from './output.ts';
import { simCommand, simUsage } from './sim.ts';

interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly run: (argv: readonly string[], output: Output) => Promise<number>;
}

const serveUsage = 'usage: keel serve [--config-file FILE] [etcd-style flags]: runs one member (keel serve --help lists the flags)';
const upUsage = 'usage: keel up [--data-dir DIR]: runs a local 3-member cluster';

/**
 * The subcommands. The server ones are imported when run, so that `keel sim` loads only the core and the
 * simulator.
 */
const commands: ReadonlyMap<string, Command> = new Map([
  ['sim', { summary: 'run the deterministic simulator over seeds', usage: simUsage, run: simCommand }],
  ['serve', { summary: 'run one member (etcd-compatible flags)', usage: serveUsage, run: async (argv) => (await import('./serve.ts')).serve(argv) }],
  ['up', { summary: 'run a local 3-member cluster', usage: upUsage, run: async (argv) => (await import('./up.ts')).up(argv) }],
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
