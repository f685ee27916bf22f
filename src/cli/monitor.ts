/**
 * `keel monitor`: the embedded monitor as its own process, with Prometheus's flag names, and
 * `keel monitor import`, which writes an OpenMetrics file into a TSDB directory.
 */
import { existsSync } from 'node:fs';
import { tuneGarbageCollector } from './_gc.ts';
import { resolve } from 'node:path';
import { parseByteSize, parseDurationMs } from '../monitor/config/units.ts';
import type { ImportResult } from '../monitor/tsdb/import.ts';
import { parseListenAddress } from '../monitor/web/index.ts';
import { createLogger, type LogLevel } from '../server/logger.ts';
import { type Output, UsageError, exitCodes } from './output.ts';

export const monitorUsage = `usage: keel monitor [flags]
       keel monitor import FILE [--storage.tsdb.path DIR]
Runs keel's monitor: scrapes the targets of a Prometheus configuration file into a local TSDB and serves
Prometheus's HTTP API. Without --config.file and without ./keel-monitor.yml it monitors the local keel
cluster (keel_sd_configs on 127.0.0.1:2379). SIGHUP or POST /-/reload re-reads the configuration.
flags (also --flag=value):
  --config.file FILE                   Prometheus configuration file (default keel-monitor.yml)
  --storage.tsdb.path DIR              where samples are stored (default data/)
  --storage.tsdb.retention.time DUR    how long samples are kept, e.g. 15d, 12h (default 15d)
  --storage.tsdb.retention.size SIZE   most bytes of blocks kept, e.g. 512MB; 0 is no limit (default 0)
  --web.listen-address ADDR            host:port or :port of the HTTP API (default 0.0.0.0:9090)
  --log.level LEVEL                    debug, info, warn or error (default info)
import: writes the samples of an OpenMetrics text file (ending in # EOF) into the TSDB at
  --storage.tsdb.path as blocks, like promtool tsdb create-blocks-from openmetrics.
`;

/** The configuration file looked for when `--config.file` is not given. */
export const defaultConfigFile = 'keel-monitor.yml';

/** The configuration used when no file is given or found: the local keel cluster, found through its members. */
export const localClusterConfig = `# keel monitor's built-in configuration: the local keel cluster (keel up's first member).
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: keel
    keel_sd_configs:
      - endpoints: ['127.0.0.1:2379']
`;

/** Every flag with its default. */
const flagDefaults = {
  'config.file': defaultConfigFile,
  'storage.tsdb.path': 'data/',
  'storage.tsdb.retention.time': '15d',
  'storage.tsdb.retention.size': '0',
  'web.listen-address': '0.0.0.0:9090',
  'log.level': 'info',
} as const;

type FlagName = keyof typeof flagDefaults;

export interface MonitorFlags {
  /** The configuration file, or undefined to use {@link localClusterConfig}. */
  readonly configFile: string | undefined;
  readonly storagePath: string;
  readonly retentionTimeMs: number;
  readonly retentionSizeBytes: number;
  readonly listenAddress: string;
  readonly logLevel: LogLevel;
  /** Every flag's value as given or defaulted, for `/api/v1/status/flags`. */
  readonly values: Readonly<Record<string, string>>;
}

const logLevels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * Parses `keel monitor`'s flags; throws a UsageError naming the problem. `configExists` tells whether the
 * default configuration file exists (it is only looked for when `--config.file` is not given).
 *
 * @example
 * parseMonitorFlags(['--web.listen-address=:9091'], () => false).listenAddress; // ':9091'
 */
export function parseMonitorFlags(argv: readonly string[], configExists: (path: string) => boolean = existsSync): MonitorFlags {
  const given = parseFlagArguments(argv, Object.keys(flagDefaults), []).flags;
  const values: Record<string, string> = { ...flagDefaults, ...Object.fromEntries(given) };
  const value = (name: FlagName): string => values[name]!;
  const retentionTimeMs = convert(() => parseDurationMs(value('storage.tsdb.retention.time')), 'storage.tsdb.retention.time');
  const retentionSizeBytes = convert(() => parseByteSize(value('storage.tsdb.retention.size')), 'storage.tsdb.retention.size');
  convert(() => parseListenAddress(value('web.listen-address')), 'web.listen-address');
  const logLevel = value('log.level') as LogLevel;
  if (!logLevels.includes(logLevel)) throw new UsageError(`--log.level must be one of ${logLevels.join(', ')}, not ${JSON.stringify(logLevel)}`);
  if (value('storage.tsdb.path') === '') throw new UsageError('--storage.tsdb.path must not be empty');
  const explicit = given.has('config.file');
  const configFile = explicit || configExists(defaultConfigFile) ? value('config.file') : undefined;
  return { configFile, storagePath: value('storage.tsdb.path'), retentionTimeMs, retentionSizeBytes, listenAddress: value('web.listen-address'), logLevel, values };
}

/**
 * `--name value` and `--name=value` arguments among `known`; anything not starting with `--` is a
 * positional argument, allowed only up to `positionalNames.length`.
 */
export function parseFlagArguments(argv: readonly string[], known: readonly string[], positionalNames: readonly string[]): { flags: Map<string, string>; positionals: string[] } {
  const flags = new Map<string, string>();
  const positionals: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (!argument.startsWith('-')) {
      if (positionals.length >= positionalNames.length) throw new UsageError(`unexpected argument ${JSON.stringify(argument)}`);
      positionals.push(argument);
      continue;
    }
    const equals = argument.indexOf('=');
    const name = argument.slice(argument.startsWith('--') ? 2 : 1, equals < 0 ? undefined : equals);
    if (!known.includes(name)) throw new UsageError(`unknown flag ${argument.slice(0, equals < 0 ? undefined : equals)}`);
    const flagValue = equals < 0 ? argv[++index] : argument.slice(equals + 1);
    if (flagValue === undefined) throw new UsageError(`--${name} needs a value`);
    if (flags.has(name)) throw new UsageError(`--${name} is given twice`);
    flags.set(name, flagValue);
  }
  return { flags, positionals };
}

function convert<T>(parse: () => T, flag: string): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(`--${flag}: ${(error as Error).message}`);
  }
}

/** `keel monitor` and `keel monitor import`; returns the exit code. */
export async function monitorCommand(argv: readonly string[], output: Output): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    output.out(monitorUsage.trimEnd());
    return exitCodes.ok;
  }
  if (argv[0] === 'import') return importCommand(argv.slice(1), output);
  const flags = parseMonitorFlags(argv);
  return runMonitor(flags, output);
}

async function importCommand(argv: readonly string[], output: Output): Promise<number> {
  const { flags, positionals } = parseFlagArguments(argv, ['storage.tsdb.path'], ['FILE']);
  const file = positionals[0];
  if (file === undefined) throw new UsageError('import needs the OpenMetrics FILE to read');
  const directory = flags.get('storage.tsdb.path') ?? flagDefaults['storage.tsdb.path'];
  const { importOpenMetrics } = await import('../monitor/tsdb/import.ts');
  let result: ImportResult;
  try {
    result = await importOpenMetrics(resolve(file), resolve(directory));
  } catch (error) {
    output.error(`keel monitor import: ${(error as Error).message}`);
    return exitCodes.violation;
  }
  for (const line of formatImportSummary(resolve(file), resolve(directory), result)) output.out(line);
  return exitCodes.ok;
}

/**
 * What an import wrote, one line per block as promtool lists blocks (ULID, time range, samples, series).
 *
 * @example
 * formatImportSummary('/tmp/a.om', '/data', result); // ['imported 120 samples of 3 series from /tmp/a.om into /data: 1 block', ...]
 */
export function formatImportSummary(file: string, directory: string, result: ImportResult): string[] {
  const lines = [`imported ${result.samples} samples of ${result.series} series from ${file} into ${directory}: ${result.blocks.length} block${result.blocks.length === 1 ? '' : 's'}`];
  if (result.minTimeMs !== undefined && result.maxTimeMs !== undefined) {
    lines.push(`  samples from ${new Date(result.minTimeMs).toISOString()} to ${new Date(result.maxTimeMs).toISOString()}`);
  }
  for (const block of result.blocks) {
    lines.push(`  ${block.ulid}  ${new Date(block.minTime).toISOString()} .. ${new Date(block.maxTime).toISOString()}  ${block.stats.numSamples} samples  ${block.stats.numSeries} series`);
  }
  return lines;
}

/** Runs the monitor until SIGTERM or SIGINT; SIGHUP reloads the configuration. */
async function runMonitor(flags: MonitorFlags, output: Output): Promise<number> {
  tuneGarbageCollector();
  const logger = createLogger(flags.logLevel, { component: 'monitor' });
  const { Monitor } = await import('../monitor/monitor.ts');
  let monitor: Awaited<ReturnType<typeof Monitor.start>>;
  try {
    monitor = await Monitor.start({
      storagePath: flags.storagePath, retentionTimeMs: flags.retentionTimeMs, retentionSizeBytes: flags.retentionSizeBytes,
      listenAddress: flags.listenAddress, flags: flags.values, logger,
      config: flags.configFile ?? { text: localClusterConfig, name: 'built-in local cluster configuration' },
    });
  } catch (error) {
    output.error(`keel monitor: ${(error as Error).message}`);
    return exitCodes.violation;
  }
  const configName = flags.configFile ?? 'built-in (the local keel cluster at 127.0.0.1:2379)';
  output.out(`keel monitor: listening on ${monitor.url} (config ${configName}, storage ${resolve(flags.storagePath)})`);
  const reload = (): void => {
    monitor.reload().then(() => logger.info('configuration reloaded'), (error: unknown) => logger.error('reload failed', { error: (error as Error).message }));
  };
  process.on('SIGHUP', reload);
  await new Promise<void>((done) => {
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  process.off('SIGHUP', reload);
  logger.info('shutting down');
  await monitor.stop();
  logger.info('stopped');
  return exitCodes.ok;
}
