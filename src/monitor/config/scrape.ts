/**
 * The `scrape_configs` section and the pieces other sections share with it: relabelling rules, static
 * target groups and file-based discovery. Checks and messages follow Prometheus 2.42's config package.
 */
import { isAbsolute, join } from 'node:path';
import { newRelabelConfig, RelabelError, relabelRulesMax } from '../scrape/relabel.ts';
import type { RelabelConfig, RelabelConfigInput } from '../scrape/relabel.ts';
import { isValidLabelName } from '../tsdb/index.ts';
import { field } from './_reader.ts';
import type { ConfigNode } from './_reader.ts';
import type { FileSdConfig, GlobalConfig, KeelSdConfig, ScrapeConfig, TargetGroup } from './types.ts';

/** Most scrape jobs in one configuration. */
export const scrapeConfigsMax = 10_000;
/** Most static targets in one job, across its groups. */
export const staticTargetsMax = 100_000;
/** Most keel endpoints one keel_sd_config may list (the client's own bound). */
export const keelSdEndpointsMax = 64;
/** file_sd_configs' default refresh interval, as Prometheus. */
export const fileSdRefreshIntervalMsDefault = 5 * 60 * 1000;
/** keel_sd_configs' default refresh interval (Prometheus's Consul and DNS discovery use 30s too). */
export const keelSdRefreshIntervalMsDefault = 30 * 1000;

/** What parsing a section needs from the rest of the file. */
export interface SectionContext {
  readonly global: GlobalConfig;
  /** The config file's directory, for relative paths; undefined when the text has no file. */
  readonly directory: string | undefined;
}

const scrapeConfigFields = [
  'job_name', 'honor_labels', 'honor_timestamps', 'params', 'scrape_interval', 'scrape_timeout', 'metrics_path', 'scheme',
  'body_size_limit', 'sample_limit', 'target_limit', 'label_limit', 'label_name_length_limit', 'label_value_length_limit',
  'static_configs', 'file_sd_configs', 'keel_sd_configs', 'relabel_configs', 'metric_relabel_configs',
];
/** Prometheus fields keel does not implement: named in the error so that nobody hunts for a typo. */
const unsupportedScrapeFields = [
  'basic_auth', 'authorization', 'oauth2', 'bearer_token', 'bearer_token_file', 'tls_config', 'proxy_url', 'no_proxy',
  'proxy_from_environment', 'proxy_connect_header', 'follow_redirects', 'enable_http2',
];

/** Reads the fields of a map, naming unsupported Prometheus fields and service discoveries clearly. */
export function readFields(node: ConfigNode, typeName: string, allowed: readonly string[], unsupported: readonly string[] = []): Map<string, ConfigNode> {
  return node.fields(typeName, allowed, (name) => {
    if (unsupported.includes(name)) return `field ${name} of ${typeName} is not supported by keel`;
    if (name.endsWith('_sd_configs')) return `service discovery ${name} is not supported by keel (static_configs, file_sd_configs and keel_sd_configs are)`;
    return undefined;
  });
}

/** Joins a relative path to the config's directory, as Prometheus's config.JoinDir. */
export function joinDirectory(directory: string | undefined, path: string): string {
  if (directory === undefined || path === '' || isAbsolute(path)) return path;
  return join(directory, path);
}

/**
 * Parses one `scrape_configs` entry, applying defaults from `global`.
 *
 * @example
 * parseScrapeConfig(node, { global, directory: '/etc/keel' }).jobName;
 */
export function parseScrapeConfig(node: ConfigNode, context: SectionContext): ScrapeConfig {
  if (node.isNull) node.fail('CONFIG_INVALID_VALUE', 'empty or null scrape config section');
  const fields = readFields(node, 'config.ScrapeConfig', scrapeConfigFields, unsupportedScrapeFields);
  const get = (name: string): ConfigNode => field(node, fields, name);
  const jobName = get('job_name').string();
  if (jobName === '') get('job_name').fail('CONFIG_INVALID_VALUE', 'job_name is empty');
  const relabelConfigs = parseRelabelConfigs(get('relabel_configs'), 'target relabeling rule in scrape config');
  const scrapeIntervalMs = get('scrape_interval').durationMs() || context.global.scrapeIntervalMs;
  const explicitTimeoutMs = get('scrape_timeout').durationMs();
  if (explicitTimeoutMs > scrapeIntervalMs) {
    (fields.has('scrape_timeout') ? get('scrape_timeout') : node).fail('CONFIG_INVALID_VALUE', `scrape timeout greater than scrape interval for scrape config with job name ${JSON.stringify(jobName)}`);
  }
  const scheme = get('scheme').choice(['http', 'https'], 'http', (value) => `scheme must be http or https, got ${JSON.stringify(value)}`);
  return {
    jobName,
    scrapeIntervalMs,
    scrapeTimeoutMs: explicitTimeoutMs || Math.min(context.global.scrapeTimeoutMs, scrapeIntervalMs),
    metricsPath: fields.has('metrics_path') ? get('metrics_path').string() : '/metrics',
    scheme,
    params: parseParams(get('params')),
    honorLabels: get('honor_labels').boolean(),
    honorTimestamps: fields.has('honor_timestamps') ? get('honor_timestamps').boolean() : true,
    staticConfigs: parseStaticConfigs(get('static_configs'), relabelConfigs.length === 0),
    fileSdConfigs: parseFileSdConfigs(get('file_sd_configs'), context.directory),
    keelSdConfigs: parseKeelSdConfigs(get('keel_sd_configs')),
    relabelConfigs,
    metricRelabelConfigs: parseRelabelConfigs(get('metric_relabel_configs'), 'metric relabeling rule in scrape config'),
    sampleLimit: get('sample_limit').unsignedInteger(),
    labelLimit: get('label_limit').unsignedInteger(),
    labelNameLengthLimit: get('label_name_length_limit').unsignedInteger(),
    labelValueLengthLimit: get('label_value_length_limit').unsignedInteger(),
    bodySizeLimitBytes: get('body_size_limit').byteSize(),
    targetLimit: get('target_limit').unsignedInteger(),
  };
}

function parseParams(node: ConfigNode): Record<string, string[]> {
  const params: Record<string, string[]> = {};
  for (const [name, valueNode] of node.fields('url.Values', 'any')) params[name] = valueNode.stringList();
  return params;
}

/** A list of relabelling rules; `what` names the list in Prometheus's "empty or null" message. */
export function parseRelabelConfigs(node: ConfigNode, what: string): RelabelConfig[] {
  const items = node.items();
  if (items.length > relabelRulesMax) node.fail('CONFIG_INVALID_VALUE', `more than ${relabelRulesMax} relabeling rules`);
  return items.map((item) => {
    if (item.isNull) item.fail('CONFIG_INVALID_VALUE', `empty or null ${what}`);
    return parseRelabelConfig(item);
  });
}

function parseRelabelConfig(node: ConfigNode): RelabelConfig {
  const fields = readFields(node, 'relabel.Config', ['source_labels', 'separator', 'regex', 'modulus', 'target_label', 'replacement', 'action']);
  const get = (name: string): ConfigNode => field(node, fields, name);
  const input: RelabelConfigInput = {
    ...(fields.has('source_labels') ? { sourceLabels: get('source_labels').stringList() } : {}),
    ...(fields.has('separator') ? { separator: get('separator').string() } : {}),
    ...(fields.has('regex') ? { regex: get('regex').string() } : {}),
    ...(fields.has('modulus') ? { modulus: get('modulus').unsigned64() } : {}),
    ...(fields.has('target_label') ? { targetLabel: get('target_label').string() } : {}),
    ...(fields.has('replacement') ? { replacement: get('replacement').string() } : {}),
    ...(fields.has('action') ? { action: get('action').string() } : {}),
  };
  try {
    return newRelabelConfig(input);
  } catch (error) {
    if (!(error instanceof RelabelError)) throw error;
    const culprit = error.code === 'RELABEL_INVALID_REGEX' ? get('regex') : node;
    return culprit.fail('CONFIG_INVALID_VALUE', error.message);
  }
}

/** `static_configs`: target groups whose targets become `__address__`. */
export function parseStaticConfigs(node: ConfigNode, checkAddresses: boolean): TargetGroup[] {
  let targetCount = 0;
  return node.items().map((item, index) => {
    const group = parseTargetGroup(item, String(index), checkAddresses);
    targetCount += group.targets.length;
    if (targetCount > staticTargetsMax) item.fail('CONFIG_INVALID_VALUE', `more than ${staticTargetsMax} static targets`);
    return group;
  });
}

/** One `{targets: [...], labels: {...}}` group; file discovery reads the same shape. */
export function parseTargetGroup(node: ConfigNode, source: string, checkAddresses: boolean): TargetGroup {
  if (node.isNull) node.fail('CONFIG_INVALID_VALUE', 'nil target group item found');
  const fields = readFields(node, 'targetgroup.Group', ['targets', 'labels']);
  const targetsNode = field(node, fields, 'targets');
  const targets = targetsNode.items().map((item) => {
    const address = item.string();
    if (checkAddresses && address.includes('/')) item.fail('CONFIG_INVALID_VALUE', `${JSON.stringify(address)} is not a valid hostname`);
    return { __address__: address };
  });
  const labels: Record<string, string> = {};
  const labelsNode = field(node, fields, 'labels');
  for (const [name, value] of labelsNode.stringMap()) {
    if (!isValidLabelName(name)) labelsNode.fail('CONFIG_INVALID_VALUE', `${JSON.stringify(name)} is not a valid label name`);
    labels[name] = value;
  }
  return { source, targets, labels };
}

const fileSdNamePattern = /^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$/;

/** `file_sd_configs`. */
export function parseFileSdConfigs(node: ConfigNode, directory: string | undefined): FileSdConfig[] {
  return node.items().map((item) => {
    const fields = readFields(item, 'file.SDConfig', ['files', 'refresh_interval']);
    const filesNode = field(item, fields, 'files');
    const files = filesNode.stringList();
    if (files.length === 0) item.fail('CONFIG_INVALID_VALUE', 'file service discovery config must contain at least one path name');
    for (const name of files) {
      if (!fileSdNamePattern.test(name)) filesNode.fail('CONFIG_INVALID_VALUE', `path name ${JSON.stringify(name)} is not valid for file discovery`);
    }
    const refreshIntervalMs = field(item, fields, 'refresh_interval').durationMs() || fileSdRefreshIntervalMsDefault;
    return { files: files.map((name) => joinDirectory(directory, name)), refreshIntervalMs };
  });
}

/** `keel_sd_configs`: endpoints are `host:port` or `http(s)://host:port`. */
export function parseKeelSdConfigs(node: ConfigNode): KeelSdConfig[] {
  return node.items().map((item) => {
    const fields = readFields(item, 'keel.SDConfig', ['endpoints', 'refresh_interval']);
    const endpointsNode = field(item, fields, 'endpoints');
    const endpoints = endpointsNode.stringList().map((endpoint) => endpoint.trim());
    if (endpoints.length === 0) item.fail('CONFIG_INVALID_VALUE', 'keel service discovery config must list at least one endpoint');
    if (endpoints.length > keelSdEndpointsMax) endpointsNode.fail('CONFIG_INVALID_VALUE', `at most ${keelSdEndpointsMax} endpoints`);
    for (const endpoint of endpoints) {
      const hostPort = endpoint.replace(/^https?:\/\//, '');
      if (!/^[^:/\s]+:\d+$/.test(hostPort) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(hostPort)) {
        endpointsNode.fail('CONFIG_INVALID_VALUE', `endpoint ${JSON.stringify(endpoint)} is not host:port or http://host:port`);
      }
    }
    const refreshIntervalMs = field(item, fields, 'refresh_interval').durationMs() || keelSdRefreshIntervalMsDefault;
    return { endpoints, refreshIntervalMs };
  });
}
