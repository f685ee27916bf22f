/**
 * The monitor, composed: the TSDB at `storagePath`, a scrape manager writing into it from the loaded
 * configuration, the PromQL engine reading from it, the rule manager (recording rules written back, alerts
 * handed to the notifier for Alertmanager), and the Prometheus HTTP API in front. Started in that
 * order and stopped in the reverse one: the API stops answering first, then scraping stops (so nothing
 * appends any more), then the TSDB closes.
 *
 * @example
 * const monitor = await Monitor.start({ storagePath: 'data/', config: 'keel-monitor.yml', listenAddress: ':9090' });
 * console.log(monitor.url); // http://127.0.0.1:9090
 * await monitor.stop();
 */
import { readFileSync } from 'node:fs';
import { loadMonitorConfig, parseMonitorConfig } from './config.ts';
import type { MonitorConfig } from './config.ts';
import { formatDuration } from './config/units.ts';
import { ScrapeManager } from './scrape/manager.ts';
import { Notifier } from './notifier/index.ts';
import { RuleManager } from './rules/index.ts';
import { WriteStorage } from './remote/index.ts';
import type { WriteStorageCounters } from './remote/index.ts';
import { Tsdb } from './tsdb/db.ts';
import type { TsdbStats } from './tsdb/db.ts';
import { Engine } from './promql/engine.ts';
import { PromqlError } from './promql/errors.ts';
import { formatQueryResultJsonText } from './promql/json.ts';
import type { QueryResult } from './promql/value.ts';
import type { Queryable } from './storage.ts';
import { ApiError, createApiHandler, parseListenAddress, QueryParseError, startWebServer } from './web/index.ts';
import type { BuildInfo, QueryOutcome, QueryService, RuntimeInfo, TsdbStatus, WebServer } from './web/index.ts';
import type { Logger } from '../server/logger.ts';

/** The Prometheus release whose HTTP API keel's monitor follows; clients such as Grafana gate features on it. */
export const prometheusApiVersion = '2.42.0';

/** Where the configuration comes from: a file (re-read on reload), inline text, or a parsed configuration. */
export type MonitorConfigSource = string | { readonly text: string; readonly name: string } | MonitorConfig;

export interface MonitorOptions {
  /** The TSDB directory; created if missing. */
  readonly storagePath: string;
  readonly config: MonitorConfigSource;
  /** Prometheus-style `host:port` or `:port`; port 0 picks a free port. */
  readonly listenAddress: string;
  /** How long samples are kept; default 15 days. */
  readonly retentionTimeMs?: number;
  /** Most bytes of blocks kept; 0 or absent for no size limit. */
  readonly retentionSizeBytes?: number;
  /** Command-line flags for `/api/v1/status/flags`. */
  readonly flags?: Readonly<Record<string, string>>;
  readonly logger?: Logger;
}

const retentionTimeMsDefault = 15 * 24 * 3600 * 1000;
const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export class Monitor {
  /** The API's base URL, e.g. `http://127.0.0.1:9090`. */
  readonly url: string;
  readonly #options: MonitorOptions;
  readonly #tsdb: Tsdb;
  readonly #scrape: ScrapeManager;
  /** remote_write: the scrape manager appends through its fanout, so committed samples are also queued there. */
  readonly #remote: WriteStorage;
  /** Recording and alerting rules, evaluated over the TSDB and written through the remote-write fanout. */
  readonly #rules: RuleManager;
  /** Sends the rule manager's alerts to the configured Alertmanagers. */
  readonly #notifier: Notifier;
  #web: WebServer | undefined;
  #config: MonitorConfig;
  readonly #startTimeMs = Date.now();
  #lastConfigTimeMs = Date.now();
  #reloadConfigSuccess = true;
  #stopping: Promise<void> | undefined;

  private constructor(options: MonitorOptions, tsdb: Tsdb, scrape: ScrapeManager, config: MonitorConfig, remote: WriteStorage) {
    this.#options = options;
    this.#tsdb = tsdb;
    this.#scrape = scrape;
    this.#remote = remote;
    const logger = options.logger ?? silentLogger;
    this.#notifier = new Notifier({ logger });
    this.#rules = new RuleManager({ queryable: tsdb, appendable: remote.fanout(tsdb), notify: (alerts) => this.#notifier.send(alerts), logger });
    this.#config = config;
    this.url = '';
  }

  /**
   * Loads the configuration, opens the TSDB, starts scraping and serves the API. Rejects, with everything
   * started so far stopped again, when any step fails (bad configuration, storage locked, port taken).
   */
  static async start(options: MonitorOptions): Promise<Monitor> {
    const logger = options.logger ?? silentLogger;
    const config = await loadConfig(options.config);
    const address = parseListenAddress(options.listenAddress);
    const tsdb = await Tsdb.open(options.storagePath, {
      retentionTimeMs: options.retentionTimeMs ?? retentionTimeMsDefault,
      retentionBytes: options.retentionSizeBytes ?? 0,
      logger: { info: (message, fields) => logger.info(message, fields), warn: (message, fields) => logger.warn(message, fields) },
    });
    const remote = new WriteStorage({
      onError: (error, samples, willRetry) => logger.warn('remote write failed', { code: error.code, error: error.message, samples, willRetry }),
    });
    const scrape = new ScrapeManager(remote.fanout(tsdb));
    const monitor = new Monitor(options, tsdb, scrape, config, remote);
    try {
      await remote.applyConfig(config.remoteWrite, config.global.externalLabels);
      await scrape.applyConfig(config);
      await monitor.#notifier.applyConfig(config);
      await monitor.#rules.applyConfig(config);
      const web = await startWebServer(createApiHandler(monitor.#apiOptions()), address);
      monitor.#web = web;
      (monitor as { url: string }).url = web.url;
      monitor.#rules.setExternalUrl(web.url);
      monitor.#notifier.start();
      monitor.#rules.start();
    } catch (error) {
      await monitor.stop();
      throw error;
    }
    logger.info('monitor started', { url: monitor.url, storagePath: options.storagePath, jobs: config.scrapeConfigs.length });
    return monitor;
  }

  /** Re-reads the configuration (a file source) and applies it; the old one stays in force on failure. */
  async reload(): Promise<void> {
    try {
      const config = await loadConfig(this.#options.config);
      await this.#remote.applyConfig(config.remoteWrite, config.global.externalLabels);
      await this.#scrape.applyConfig(config);
      await this.#notifier.applyConfig(config);
      await this.#rules.applyConfig(config);
      this.#config = config;
      this.#reloadConfigSuccess = true;
      this.#lastConfigTimeMs = Date.now();
    } catch (error) {
      this.#reloadConfigSuccess = false;
      throw error;
    }
  }

  /** Each remote_write queue's counters, for publishing as keel_remote_storage_* metrics. */
  remoteWriteCounters(): WriteStorageCounters {
    return this.#remote.counters();
  }

  /** Stops serving, then scraping, then flushes remote write, then closes the TSDB. Safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopInOrder();
    return this.#stopping;
  }

  async #stopInOrder(): Promise<void> {
    await this.#web?.close();
    await this.#rules.stop();
    await this.#notifier.stop();
    await this.#scrape.stop();
    await this.#remote.close();
    await this.#tsdb.close();
  }

  #apiOptions(): Parameters<typeof createApiHandler>[0] {
    const query: QueryService | undefined = createQueryService(this.#tsdb);
    return {
      queryable: this.#tsdb,
      targets: this.#scrape,
      ...(query === undefined ? {} : { query }),
      buildInfo: buildInfo(),
      runtimeInfo: () => this.#runtimeInfo(),
      flags: this.#options.flags ?? {},
      configText: () => this.#config.text,
      tsdbStatus: (): TsdbStatus => tsdbStatusFromStats(this.#tsdb.stats()),
      reload: () => this.reload(),
      ready: () => this.#stopping === undefined,
      listenAddress: this.#options.listenAddress,
      rules: (type) => this.#rules.rulesApiData(type ?? ''),
      alerts: () => this.#rules.alertsApiData(),
    };
  }

  #runtimeInfo(): RuntimeInfo {
    const retentionTime = formatDuration(this.#options.retentionTimeMs ?? retentionTimeMsDefault);
    const sizeBytes = this.#options.retentionSizeBytes ?? 0;
    return {
      startTime: new Date(this.#startTimeMs).toISOString(),
      CWD: process.cwd(),
      reloadConfigSuccess: this.#reloadConfigSuccess,
      lastConfigTime: new Date(this.#lastConfigTimeMs).toISOString(),
      corruptionCount: 0,
      storageRetention: sizeBytes > 0 ? `${retentionTime} or ${formatBytes(sizeBytes)}` : retentionTime,
    };
  }
}

async function loadConfig(source: MonitorConfigSource): Promise<MonitorConfig> {
  if (typeof source === 'string') return loadMonitorConfig(source);
  if ('scrapeConfigs' in source) return source;
  return parseMonitorConfig(source.text, source.name);
}

/**
 * The PromQL engine behind the API. The engine's timeout is per engine, so a query with its own `timeout`
 * gets an engine of its own (engines hold no per-query state; making one costs nothing). Errors become the
 * API's: parse and query-shape errors are bad input, the rest keep the engine's Prometheus error type.
 */
export function createQueryService(queryable: Queryable): QueryService {
  const engineFor = (timeoutMs: number): Engine => new Engine({ timeoutMs: Math.max(1, Math.round(timeoutMs)) });
  return {
    instantQuery: (query, timeMs, timeoutMs) => answer(() => engineFor(timeoutMs).instantQuery(queryable, query, timeMs)),
    rangeQuery: (query, range, timeoutMs) => answer(() => engineFor(timeoutMs).rangeQuery(queryable, query, range.startMs, range.endMs, range.stepMs)),
  };
}

async function answer(evaluate: () => Promise<QueryResult>): Promise<QueryOutcome> {
  let result: QueryResult;
  try {
    result = await evaluate();
  } catch (error) {
    if (!(error instanceof PromqlError)) throw error;
    if (error.code === 'PROMQL_PARSE_ERROR' || error.code === 'PROMQL_BAD_QUERY') throw new QueryParseError(error.message, { cause: error });
    throw new ApiError(error.errorType, error.message, { cause: error });
  }
  return { dataJson: formatQueryResultJsonText(result) };
}

/**
 * `/api/v1/status/tsdb` from the TSDB's statistics. An empty head has no time range; Prometheus then shows
 * its int64 extremes, which a JSON number cannot carry exactly, so keel shows 0.
 */
export function tsdbStatusFromStats(stats: TsdbStats): TsdbStatus {
  const { head, cardinality } = stats;
  return {
    headStats: {
      numSeries: head.numSeries,
      numLabelPairs: head.numLabelPairs,
      chunkCount: head.numChunks,
      minTime: head.minTimeMs ?? 0,
      maxTime: head.maxTimeMs ?? 0,
    },
    seriesCountByMetricName: cardinality.seriesCountByMetricName,
    labelValueCountByLabelName: cardinality.labelValueCountByLabelName,
    memoryInBytesByLabelName: cardinality.memoryInBytesByLabelName,
    seriesCountByLabelValuePair: cardinality.seriesCountByLabelValuePair,
  };
}

let cachedBuildInfo: BuildInfo | undefined;

/** `version` is the Prometheus API level; keel's own version is in `revision`. */
function buildInfo(): BuildInfo {
  if (cachedBuildInfo !== undefined) return cachedBuildInfo;
  const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  cachedBuildInfo = {
    version: prometheusApiVersion,
    revision: `keel ${packageJson.version ?? 'unknown'}`,
    branch: '',
    buildUser: '',
    buildDate: '',
    goVersion: `node ${process.version}`,
  };
  return cachedBuildInfo;
}

/** Bytes in Prometheus's base-2 style: `512MiB`, `1GiB`, or plain bytes. */
function formatBytes(bytes: number): string {
  const units = ['EiB', 'PiB', 'TiB', 'GiB', 'MiB', 'KiB'];
  for (let index = 0; index < units.length; index += 1) {
    const unitBytes = 1024 ** (units.length - index);
    if (bytes >= unitBytes && bytes % unitBytes === 0) return `${bytes / unitBytes}${units[index]!}`;
  }
  return `${bytes}B`;
}
