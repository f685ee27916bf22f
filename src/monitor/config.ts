/**
 * The monitor's configuration file: Prometheus 2.42's format (`global`, `rule_files`, `alerting`,
 * `scrape_configs`, `remote_write`) plus keel's own `keel_sd_configs` discovery. Parsing is strict like
 * Prometheus's: unknown fields and wrong types are errors naming the file, line, column and field path;
 * every default is applied, so consumers read plain values.
 *
 * @example
 * const config = await loadMonitorConfig('/etc/keel/prometheus.yml');
 * config.scrapeConfigs[0]?.scrapeIntervalMs; // 60000 unless set
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, configCharactersMax, field, readYamlDocument } from './config/_reader.ts';
import type { ConfigNode } from './config/_reader.ts';
import { parseAlertingConfig, parseRemoteWriteConfigs } from './config/remote.ts';
import { joinDirectory, parseScrapeConfig, readFields, scrapeConfigsMax } from './config/scrape.ts';
import type { SectionContext } from './config/scrape.ts';
import type { GlobalConfig, MonitorConfig, ScrapeConfig } from './config/types.ts';
import { isValidLabelName, Labels } from './tsdb/index.ts';

export { ConfigError, configCharactersMax, configNodesMax } from './config/_reader.ts';
export type { ConfigErrorCode } from './config/_reader.ts';
export { fileSdRefreshIntervalMsDefault, keelSdEndpointsMax, keelSdRefreshIntervalMsDefault, scrapeConfigsMax, staticTargetsMax } from './config/scrape.ts';
export { metadataConfigDefault, queueConfigDefault } from './config/remote.ts';
export { formatDuration, parseByteSize, parseDurationMs } from './config/units.ts';
export type {
  AlertingConfig, AlertmanagerConfig, FileSdConfig, GlobalConfig, KeelSdConfig, MetadataConfig, MonitorConfig, QueueConfig,
  RemoteWriteConfig, ScrapeConfig, TargetGroup,
} from './config/types.ts';

/** Prometheus's defaults for `global`. */
export const globalConfigDefault: GlobalConfig = {
  scrapeIntervalMs: 60_000,
  scrapeTimeoutMs: 10_000,
  evaluationIntervalMs: 60_000,
  externalLabels: Labels.empty,
  queryLogFile: '',
};
/** Most rule file globs. */
export const ruleFilesMax = 10_000;

const topLevelFields = ['global', 'rule_files', 'alerting', 'scrape_configs', 'remote_write'];
const unsupportedTopLevelFields = ['remote_read', 'storage', 'tracing', 'scrape_config_files', 'runtime', 'otlp'];
const rulePathPattern = /^[^*]*(\*[^/]*)?$/;

/**
 * Parses a configuration file's text. `fileName` appears in errors, and relative paths (rule files,
 * file_sd files) are resolved against its directory; without it they are kept as written. Throws a
 * {@link ConfigError}.
 *
 * @example
 * const config = parseMonitorConfig(`
 * scrape_configs:
 *   - job_name: keel
 *     static_configs: [{ targets: ['127.0.0.1:2379'] }]
 * `);
 * config.scrapeConfigs[0]?.scrapeTimeoutMs; // 10000
 */
export function parseMonitorConfig(yamlText: string, fileName?: string): MonitorConfig {
  const root = readYamlDocument(yamlText, fileName ?? '<config>');
  const fields = readFields(root, 'config.Config', topLevelFields, unsupportedTopLevelFields);
  const directory = fileName === undefined ? undefined : dirname(resolve(fileName));
  const global = parseGlobalConfig(field(root, fields, 'global'), directory);
  const context: SectionContext = { global, directory };
  return {
    global,
    ruleFiles: parseRuleFiles(field(root, fields, 'rule_files'), context.directory),
    alerting: parseAlertingConfig(field(root, fields, 'alerting'), context),
    scrapeConfigs: parseScrapeConfigs(field(root, fields, 'scrape_configs'), context),
    remoteWrite: parseRemoteWriteConfigs(field(root, fields, 'remote_write')),
    fileName,
    text: yamlText,
  };
}

/**
 * Reads and parses a configuration file. Throws a {@link ConfigError} (code `CONFIG_READ_FAILED` when the
 * file cannot be read).
 *
 * @example
 * const config = await loadMonitorConfig('prometheus.yml');
 */
export async function loadMonitorConfig(path: string): Promise<MonitorConfig> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.size > configCharactersMax * 4) {
      throw new ConfigError('CONFIG_TOO_LARGE', `configuration file is larger than ${configCharactersMax * 4} bytes`, { fileName: path, line: 0, column: 0, path: '' });
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError('CONFIG_READ_FAILED', `cannot read the configuration file: ${(error as Error).message}`, { fileName: path, line: 0, column: 0, path: '' });
  }
  return parseMonitorConfig(text, path);
}

function parseGlobalConfig(node: ConfigNode, directory: string | undefined): GlobalConfig {
  const fields = readFields(node, 'config.GlobalConfig', ['scrape_interval', 'scrape_timeout', 'evaluation_interval', 'external_labels', 'query_log_file']);
  const get = (name: string): ConfigNode => field(node, fields, name);
  const scrapeIntervalMs = get('scrape_interval').durationMs() || globalConfigDefault.scrapeIntervalMs;
  const explicitTimeoutMs = get('scrape_timeout').durationMs();
  if (explicitTimeoutMs > scrapeIntervalMs) get('scrape_timeout').fail('CONFIG_INVALID_VALUE', 'global scrape timeout greater than scrape interval');
  const labelsNode = get('external_labels');
  const externalLabels: [string, string][] = [];
  for (const [name, value] of labelsNode.stringMap()) {
    if (!isValidLabelName(name)) labelsNode.fail('CONFIG_INVALID_VALUE', `${JSON.stringify(name)} is not a valid label name`);
    externalLabels.push([name, value]);
  }
  return {
    scrapeIntervalMs,
    scrapeTimeoutMs: explicitTimeoutMs || Math.min(globalConfigDefault.scrapeTimeoutMs, scrapeIntervalMs),
    evaluationIntervalMs: get('evaluation_interval').durationMs() || globalConfigDefault.evaluationIntervalMs,
    externalLabels: Labels.fromPairs(externalLabels),
    queryLogFile: joinDirectory(directory, get('query_log_file').string()),
  };
}

function parseRuleFiles(node: ConfigNode, directory: string | undefined): string[] {
  const items = node.items();
  if (items.length > ruleFilesMax) node.fail('CONFIG_INVALID_VALUE', `more than ${ruleFilesMax} rule files`);
  return items.map((item) => {
    const path = item.string();
    if (!rulePathPattern.test(path)) item.fail('CONFIG_INVALID_VALUE', `invalid rule file path ${JSON.stringify(path)}`);
    return joinDirectory(directory, path);
  });
}

function parseScrapeConfigs(node: ConfigNode, context: SectionContext): ScrapeConfig[] {
  const items = node.items();
  if (items.length > scrapeConfigsMax) node.fail('CONFIG_INVALID_VALUE', `more than ${scrapeConfigsMax} scrape configs`);
  const jobNames = new Set<string>();
  return items.map((item) => {
    const config = parseScrapeConfig(item, context);
    if (jobNames.has(config.jobName)) item.fail('CONFIG_INVALID_VALUE', `found multiple scrape configs with job name ${JSON.stringify(config.jobName)}`);
    jobNames.add(config.jobName);
    return config;
  });
}
