/**
 * The monitor's configuration: a Prometheus configuration file, parsed, validated and with every default
 * applied. Durations are milliseconds, sizes bytes; relabelling rules are compiled.
 */
import type { RelabelConfig } from '../scrape/relabel.ts';
import type { Labels } from '../tsdb/index.ts';

/** One group of targets sharing labels, as Prometheus's targetgroup.Group. */
export interface TargetGroup {
  /** Where the group came from (`0` for the first static group, `path:index` for a file), unique per provider. */
  readonly source: string;
  /** One label set per target; each holds at least `__address__`. */
  readonly targets: readonly Readonly<Record<string, string>>[];
  /** Labels every target of the group gets unless it sets them itself. */
  readonly labels: Readonly<Record<string, string>>;
}

export interface GlobalConfig {
  readonly scrapeIntervalMs: number;
  readonly scrapeTimeoutMs: number;
  readonly evaluationIntervalMs: number;
  /** Added to series and alerts leaving this server (remote write, Alertmanager). */
  readonly externalLabels: Labels;
  readonly queryLogFile: string;
}

/** `file_sd_configs`: JSON or YAML files of target groups, re-read every refresh interval. */
export interface FileSdConfig {
  /** Paths or globs (`*` only in the last path element); relative ones are resolved against the config's directory. */
  readonly files: readonly string[];
  readonly refreshIntervalMs: number;
}

/** `keel_sd_configs`: the members of a keel cluster, one target per member client URL. */
export interface KeelSdConfig {
  /** Client endpoints (`host:port` or `http://host:port`) used to list the members. */
  readonly endpoints: readonly string[];
  readonly refreshIntervalMs: number;
}

export interface ScrapeConfig {
  readonly jobName: string;
  readonly scrapeIntervalMs: number;
  /** Invariant: ≤ scrapeIntervalMs. */
  readonly scrapeTimeoutMs: number;
  readonly metricsPath: string;
  readonly scheme: 'http' | 'https';
  /** URL query parameters of every scrape. */
  readonly params: Readonly<Record<string, readonly string[]>>;
  readonly honorLabels: boolean;
  readonly honorTimestamps: boolean;
  readonly staticConfigs: readonly TargetGroup[];
  readonly fileSdConfigs: readonly FileSdConfig[];
  readonly keelSdConfigs: readonly KeelSdConfig[];
  readonly relabelConfigs: readonly RelabelConfig[];
  readonly metricRelabelConfigs: readonly RelabelConfig[];
  /** 0 means no limit (the scraper still applies its own hard bounds). */
  readonly sampleLimit: number;
  readonly labelLimit: number;
  readonly labelNameLengthLimit: number;
  readonly labelValueLengthLimit: number;
  readonly bodySizeLimitBytes: number;
  readonly targetLimit: number;
}

export interface AlertmanagerConfig {
  readonly scheme: 'http' | 'https';
  readonly pathPrefix: string;
  readonly timeoutMs: number;
  readonly apiVersion: 'v1' | 'v2';
  readonly staticConfigs: readonly TargetGroup[];
  readonly fileSdConfigs: readonly FileSdConfig[];
  readonly relabelConfigs: readonly RelabelConfig[];
}

export interface AlertingConfig {
  readonly alertRelabelConfigs: readonly RelabelConfig[];
  readonly alertmanagers: readonly AlertmanagerConfig[];
}

export interface QueueConfig {
  readonly capacity: number;
  readonly maxShards: number;
  readonly minShards: number;
  readonly maxSamplesPerSend: number;
  readonly batchSendDeadlineMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly retryOnRateLimit: boolean;
}

export interface MetadataConfig {
  readonly send: boolean;
  readonly sendIntervalMs: number;
  readonly maxSamplesPerSend: number;
}

export interface RemoteWriteConfig {
  readonly url: string;
  readonly name: string;
  readonly remoteTimeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly writeRelabelConfigs: readonly RelabelConfig[];
  readonly sendExemplars: boolean;
  readonly queueConfig: QueueConfig;
  readonly metadataConfig: MetadataConfig;
}

export interface MonitorConfig {
  readonly global: GlobalConfig;
  /** Rule file globs, resolved against the config's directory; loaded by the rule manager. */
  readonly ruleFiles: readonly string[];
  readonly alerting: AlertingConfig;
  readonly scrapeConfigs: readonly ScrapeConfig[];
  readonly remoteWrite: readonly RemoteWriteConfig[];
  /** The file the configuration came from, or undefined for text parsed without a name. */
  readonly fileName: string | undefined;
  /** The configuration text as loaded (for `/api/v1/status/config`). */
  readonly text: string;
}
