import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * `keel serve` configuration, with etcd's flag names so operators' habits carry over. Each flag also has
 * a `KEEL_*` environment variable (`--data-dir` → `KEEL_DATA_DIR`) and a key in the YAML config file
 * (`data-dir: ...`, as etcd's config file). Precedence: flag, then environment, then file, then default.
 */
export interface ServeConfig {
  readonly name: string;
  readonly dataDir: string;
  readonly listenClientUrls: readonly string[];
  readonly advertiseClientUrls: readonly string[];
  readonly listenPeerUrls: readonly string[];
  readonly initialAdvertisePeerUrls: readonly string[];
  /** name=peerUrl pairs, a name may repeat for several URLs. */
  readonly initialCluster: readonly { name: string; peerUrls: string[] }[];
  readonly initialClusterState: 'new' | 'existing';
  readonly initialClusterToken: string;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  readonly snapshotCount: number;
  /** Entries kept behind a snapshot for slow followers (etcd 3.5's experimental flag; 3.4 fixes 5000). */
  readonly snapshotCatchupEntries: number;
  readonly quotaBackendBytes: number;
  readonly maxRequestBytes: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

type Kind = 'string' | 'urls' | 'cluster' | 'integer' | 'state' | 'level';

/** Every flag: its name, kind, and default (defaults are etcd's). */
const flags = {
  'name': { kind: 'string', key: 'name', fallback: 'default' },
  'data-dir': { kind: 'string', key: 'dataDir', fallback: '' },
  'listen-client-urls': { kind: 'urls', key: 'listenClientUrls', fallback: 'http://127.0.0.1:2379' },
  'advertise-client-urls': { kind: 'urls', key: 'advertiseClientUrls', fallback: 'http://127.0.0.1:2379' },
  'listen-peer-urls': { kind: 'urls', key: 'listenPeerUrls', fallback: 'http://127.0.0.1:2380' },
  'initial-advertise-peer-urls': { kind: 'urls', key: 'initialAdvertisePeerUrls', fallback: 'http://127.0.0.1:2380' },
  'initial-cluster': { kind: 'cluster', key: 'initialCluster', fallback: '' },
  'initial-cluster-state': { kind: 'state', key: 'initialClusterState', fallback: 'new' },
  'initial-cluster-token': { kind: 'string', key: 'initialClusterToken', fallback: 'etcd-cluster' },
  'heartbeat-interval': { kind: 'integer', key: 'heartbeatIntervalMs', fallback: '100' },
  'election-timeout': { kind: 'integer', key: 'electionTimeoutMs', fallback: '1000' },
  'snapshot-count': { kind: 'integer', key: 'snapshotCount', fallback: '100000' },
  'experimental-snapshot-catchup-entries': { kind: 'integer', key: 'snapshotCatchupEntries', fallback: '5000' },
  'quota-backend-bytes': { kind: 'integer', key: 'quotaBackendBytes', fallback: String(2 * 1024 ** 3) },
  'max-request-bytes': { kind: 'integer', key: 'maxRequestBytes', fallback: String(1.5 * 1024 * 1024) },
  'log-level': { kind: 'level', key: 'logLevel', fallback: 'info' },
} as const satisfies Record<string, { kind: Kind; key: keyof ServeConfig; fallback: string }>;

export type FlagName = keyof typeof flags;
export const flagNames = Object.keys(flags) as FlagName[];

export class ConfigError extends Error {
  readonly code = 'KEEL_BAD_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function environmentName(flag: FlagName): string {
  return `KEEL_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** Parses `--flag value` and `--flag=value` arguments; `--config-file` names the YAML file. */
export function parseServeArguments(argv: readonly string[]): { values: Map<string, string>; configFile: string | null } {
  const values = new Map<string, string>();
  let configFile: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i]!;
    if (!argument.startsWith('--')) throw new ConfigError(`unexpected argument ${JSON.stringify(argument)}`);
    const equals = argument.indexOf('=');
    const name = argument.slice(2, equals < 0 ? undefined : equals);
    const value = equals < 0 ? argv[++i] : argument.slice(equals + 1);
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    if (name === 'config-file') configFile = value;
    else if (name in flags) values.set(name, value);
    else throw new ConfigError(`unknown flag --${name}`);
  }
  return { values, configFile };
}

/** Resolves the configuration from flags, environment, config file and defaults, and validates it. */
export function resolveServeConfig(argv: readonly string[], environment: Readonly<Record<string, string | undefined>>): ServeConfig {
  const { values, configFile } = parseServeArguments(argv);
  const file = configFile ?? environment['KEEL_CONFIG_FILE'] ?? null;
  const fromFile = file === null ? new Map<string, string>() : readConfigFile(file);
  const raw: Record<string, unknown> = {};
  for (const flag of flagNames) {
    const spec = flags[flag];
    const text = values.get(flag) ?? environment[environmentName(flag)] ?? fromFile.get(flag) ?? spec.fallback;
    raw[spec.key] = convert(flag, spec.kind, text);
  }
  const config = raw as unknown as ServeConfig;
  if (config.dataDir === '') (raw as { dataDir: string }).dataDir = `${config.name}.keel`;
  return validate(config);
}

function readConfigFile(path: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${path} must be a mapping`);
  const values = new Map<string, string>();
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in flags)) throw new ConfigError(`config file ${path}: unknown key ${key}`);
    values.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  return values;
}

function convert(flag: FlagName, kind: Kind, text: string): unknown {
  switch (kind) {
    case 'string': return text;
    case 'urls': return text.split(',').map((url) => checkUrl(flag, url.trim())).filter((url) => url !== '');
    case 'cluster': return parseInitialCluster(text);
    case 'integer': {
      if (!/^\d+$/.test(text.trim())) throw new ConfigError(`--${flag} must be a whole number, got ${JSON.stringify(text)}`);
      return Number(text.trim());
    }
    case 'state':
      if (text !== 'new' && text !== 'existing') throw new ConfigError(`--${flag} must be new or existing, got ${JSON.stringify(text)}`);
      return text;
    case 'level':
      if (!['debug', 'info', 'warn', 'error'].includes(text)) throw new ConfigError(`--${flag} must be debug, info, warn or error`);
      return text;
  }
}

function checkUrl(flag: FlagName, url: string): string {
  if (url === '') return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`--${flag}: ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'http:') throw new ConfigError(`--${flag}: only http:// URLs are supported yet (TLS comes later), got ${url}`);
  if (parsed.port === '') throw new ConfigError(`--${flag}: ${url} needs a port`);
  return url;
}

export function parseInitialCluster(text: string): { name: string; peerUrls: string[] }[] {
  const members = new Map<string, string[]>();
  for (const pair of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new ConfigError(`--initial-cluster: ${JSON.stringify(pair)} is not name=url`);
    const name = pair.slice(0, equals);
    const url = checkUrl('initial-cluster', pair.slice(equals + 1));
    members.set(name, [...(members.get(name) ?? []), url]);
  }
  return [...members].map(([name, peerUrls]) => ({ name, peerUrls }));
}

function validate(config: ServeConfig): ServeConfig {
  if (config.name === '') throw new ConfigError('--name must not be empty');
  if (config.listenClientUrls.length === 0) throw new ConfigError('--listen-client-urls must name at least one URL');
  if (config.heartbeatIntervalMs < 1) throw new ConfigError('--heartbeat-interval must be at least 1 ms');
  if (config.electionTimeoutMs < 5 * config.heartbeatIntervalMs) {
    throw new ConfigError('--election-timeout must be at least 5 times --heartbeat-interval');
  }
  if (config.snapshotCount < 1) throw new ConfigError('--snapshot-count must be at least 1');
  const cluster = config.initialCluster.length > 0
    ? config.initialCluster
    : [{ name: config.name, peerUrls: [...config.initialAdvertisePeerUrls] }];
  if (!cluster.some((member) => member.name === config.name)) {
    throw new ConfigError(`--initial-cluster has no member named ${config.name} (--name)`);
  }
  return { ...config, initialCluster: cluster };
}
