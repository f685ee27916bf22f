/**
 * The `alerting` and `remote_write` sections: parsed, checked and kept typed for the parts of the
 * monitor that send alerts and samples elsewhere. Defaults and messages are Prometheus 2.42's.
 */
import { field } from './_reader.ts';
import type { ConfigNode } from './_reader.ts';
import { parseFileSdConfigs, parseRelabelConfigs, parseStaticConfigs, readFields } from './scrape.ts';
import type { SectionContext } from './scrape.ts';
import type { AlertingConfig, AlertmanagerConfig, MetadataConfig, QueueConfig, RemoteWriteConfig } from './types.ts';

/** Most Alertmanager sections and remote-write endpoints; real configurations have a few. */
export const alertmanagerConfigsMax = 100;
export const remoteWriteConfigsMax = 100;
/** Most custom headers on one remote-write endpoint. */
export const remoteWriteHeadersMax = 64;

/** Prometheus 2.42's queue defaults. */
export const queueConfigDefault: QueueConfig = {
  capacity: 2500,
  maxShards: 200,
  minShards: 1,
  maxSamplesPerSend: 500,
  batchSendDeadlineMs: 5000,
  minBackoffMs: 30,
  maxBackoffMs: 5000,
  retryOnRateLimit: false,
};

export const metadataConfigDefault: MetadataConfig = { send: true, sendIntervalMs: 60_000, maxSamplesPerSend: 500 };

/** Headers Prometheus refuses in `remote_write.headers`, because the sender owns them. */
const reservedHeaders = new Set([
  'host', 'content-encoding', 'content-length', 'content-type', 'user-agent', 'connection', 'keep-alive', 'proxy-authenticate',
  'proxy-authorization', 'www-authenticate', 'accept-encoding', 'x-prometheus-remote-write-version', 'x-prometheus-remote-read-version',
  'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256',
]);
const unsupportedHttpFields = [
  'basic_auth', 'authorization', 'oauth2', 'bearer_token', 'bearer_token_file', 'tls_config', 'proxy_url', 'no_proxy',
  'proxy_from_environment', 'proxy_connect_header', 'follow_redirects', 'enable_http2', 'sigv4', 'azuread',
];

/** Parses `alerting`. */
export function parseAlertingConfig(node: ConfigNode, context: SectionContext): AlertingConfig {
  const fields = readFields(node, 'config.AlertingConfig', ['alert_relabel_configs', 'alertmanagers']);
  const managersNode = field(node, fields, 'alertmanagers');
  const managers = managersNode.items();
  if (managers.length > alertmanagerConfigsMax) managersNode.fail('CONFIG_INVALID_VALUE', `more than ${alertmanagerConfigsMax} alertmanager sections`);
  return {
    alertRelabelConfigs: parseRelabelConfigs(field(node, fields, 'alert_relabel_configs'), 'alert relabeling rule'),
    alertmanagers: managers.map((item) => parseAlertmanagerConfig(item, context)),
  };
}

function parseAlertmanagerConfig(node: ConfigNode, context: SectionContext): AlertmanagerConfig {
  const allowed = ['scheme', 'path_prefix', 'timeout', 'api_version', 'static_configs', 'file_sd_configs', 'relabel_configs'];
  const fields = readFields(node, 'config.AlertmanagerConfig', allowed, unsupportedHttpFields);
  const get = (name: string): ConfigNode => field(node, fields, name);
  const scheme = get('scheme').choice(['http', 'https'], 'http', (value) => `scheme must be http or https, got ${JSON.stringify(value)}`);
  const apiVersion = get('api_version').choice(['v1', 'v2'], 'v2', (value) => `expected Alertmanager api version to be one of [v1 v2] but got ${value}`);
  const relabelConfigs = parseRelabelConfigs(get('relabel_configs'), 'Alertmanager target relabeling rule');
  return {
    scheme,
    pathPrefix: get('path_prefix').string(),
    timeoutMs: get('timeout').durationMs() || 10_000,
    apiVersion,
    staticConfigs: parseStaticConfigs(get('static_configs'), relabelConfigs.length === 0),
    fileSdConfigs: parseFileSdConfigs(get('file_sd_configs'), context.directory),
    relabelConfigs,
  };
}

/** Parses `remote_write`; names must be unique among the named endpoints. */
export function parseRemoteWriteConfigs(node: ConfigNode): RemoteWriteConfig[] {
  const items = node.items();
  if (items.length > remoteWriteConfigsMax) node.fail('CONFIG_INVALID_VALUE', `more than ${remoteWriteConfigsMax} remote_write endpoints`);
  const names = new Set<string>();
  return items.map((item) => {
    const config = parseRemoteWriteConfig(item);
    if (config.name !== '' && names.has(config.name)) item.fail('CONFIG_INVALID_VALUE', `found multiple remote write configs with job name ${JSON.stringify(config.name)}`);
    names.add(config.name);
    return config;
  });
}

function parseRemoteWriteConfig(node: ConfigNode): RemoteWriteConfig {
  if (node.isNull) node.fail('CONFIG_INVALID_VALUE', 'empty or null remote write config section');
  const allowed = ['url', 'name', 'remote_timeout', 'headers', 'write_relabel_configs', 'send_exemplars', 'send_native_histograms', 'queue_config', 'metadata_config'];
  const fields = readFields(node, 'config.RemoteWriteConfig', allowed, unsupportedHttpFields);
  const get = (name: string): ConfigNode => field(node, fields, name);
  const url = get('url').string();
  if (url === '') (fields.has('url') ? get('url') : node).fail('CONFIG_INVALID_VALUE', 'url for remote_write is empty');
  if (!isHttpUrl(url)) get('url').fail('CONFIG_INVALID_VALUE', `url ${JSON.stringify(url)} is not an http or https URL`);
  const headersNode = get('headers');
  const headers = Object.fromEntries(headersNode.stringMap());
  if (Object.keys(headers).length > remoteWriteHeadersMax) headersNode.fail('CONFIG_INVALID_VALUE', `more than ${remoteWriteHeadersMax} headers`);
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'authorization') {
      headersNode.fail('CONFIG_INVALID_VALUE', 'authorization header must be changed via the basic_auth, authorization, oauth2, or sigv4 parameter');
    }
    if (reservedHeaders.has(name.toLowerCase())) headersNode.fail('CONFIG_INVALID_VALUE', `${name} is a reserved header. It must not be changed`);
  }
  return {
    url,
    name: get('name').string(),
    remoteTimeoutMs: get('remote_timeout').durationMs() || 30_000,
    headers,
    writeRelabelConfigs: parseRelabelConfigs(get('write_relabel_configs'), 'relabeling rule in remote write config'),
    sendExemplars: get('send_exemplars').boolean(),
    queueConfig: parseQueueConfig(get('queue_config')),
    metadataConfig: parseMetadataConfig(get('metadata_config')),
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host !== '';
  } catch {
    return false;
  }
}

function parseQueueConfig(node: ConfigNode): QueueConfig {
  const allowed = ['capacity', 'max_shards', 'min_shards', 'max_samples_per_send', 'batch_send_deadline', 'min_backoff', 'max_backoff', 'retry_on_http_429'];
  const fields = readFields(node, 'config.QueueConfig', allowed);
  const get = (name: string): ConfigNode => field(node, fields, name);
  const defaults = queueConfigDefault;
  const config: QueueConfig = {
    capacity: get('capacity').unsignedInteger() || defaults.capacity,
    maxShards: get('max_shards').unsignedInteger() || defaults.maxShards,
    minShards: get('min_shards').unsignedInteger() || defaults.minShards,
    maxSamplesPerSend: get('max_samples_per_send').unsignedInteger() || defaults.maxSamplesPerSend,
    batchSendDeadlineMs: get('batch_send_deadline').durationMs() || defaults.batchSendDeadlineMs,
    minBackoffMs: get('min_backoff').durationMs() || defaults.minBackoffMs,
    maxBackoffMs: get('max_backoff').durationMs() || defaults.maxBackoffMs,
    retryOnRateLimit: get('retry_on_http_429').boolean(),
  };
  if (config.minShards > config.maxShards) node.fail('CONFIG_INVALID_VALUE', 'min_shards must not be greater than max_shards');
  if (config.minBackoffMs > config.maxBackoffMs) node.fail('CONFIG_INVALID_VALUE', 'min_backoff must not be greater than max_backoff');
  return config;
}

function parseMetadataConfig(node: ConfigNode): MetadataConfig {
  const fields = readFields(node, 'config.MetadataConfig', ['send', 'send_interval', 'max_samples_per_send']);
  const get = (name: string): ConfigNode => field(node, fields, name);
  return {
    send: fields.has('send') ? get('send').boolean() : metadataConfigDefault.send,
    sendIntervalMs: get('send_interval').durationMs() || metadataConfigDefault.sendIntervalMs,
    maxSamplesPerSend: get('max_samples_per_send').unsignedInteger() || metadataConfigDefault.maxSamplesPerSend,
  };
}
