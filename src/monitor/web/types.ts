/**
 * What the HTTP API needs from the rest of the monitor. The API reads through these and nothing else, so it
 * is tested against any Queryable and TargetsView, and the PromQL engine plugs in through `QueryService`.
 */
import type { Queryable } from '../storage.ts';
import type { TargetsView } from '../targets.ts';

/** `/api/v1/status/buildinfo`, Prometheus's field names. */
export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly branch: string;
  readonly buildUser: string;
  readonly buildDate: string;
  readonly goVersion: string;
}

/** `/api/v1/status/runtimeinfo`, Prometheus's field names for what applies to keel. */
export interface RuntimeInfo {
  readonly startTime: string;
  readonly CWD: string;
  readonly reloadConfigSuccess: boolean;
  readonly lastConfigTime: string;
  readonly corruptionCount: number;
  readonly storageRetention: string;
}

/** One cardinality figure of `/api/v1/status/tsdb`. */
export interface TsdbStatusEntry {
  readonly name: string;
  readonly value: number;
}

/** `/api/v1/status/tsdb`, Prometheus's shape. */
export interface TsdbStatus {
  readonly headStats: {
    readonly numSeries: number;
    readonly numLabelPairs: number;
    readonly chunkCount: number;
    readonly minTime: number;
    readonly maxTime: number;
  };
  readonly seriesCountByMetricName: readonly TsdbStatusEntry[];
  readonly labelValueCountByLabelName: readonly TsdbStatusEntry[];
  readonly memoryInBytesByLabelName: readonly TsdbStatusEntry[];
  readonly seriesCountByLabelValuePair: readonly TsdbStatusEntry[];
}

/**
 * A query's answer: Prometheus's `data` (`{resultType, result}`), either as a value to encode or as JSON
 * text already written (so points keep Prometheus's exact number formatting, `1.500`).
 */
export type QueryOutcome = ({ readonly data: unknown } | { readonly dataJson: string }) & { readonly warnings?: readonly string[] };

/**
 * Thrown by a {@link QueryService} when the query text does not parse; the API reports it as bad_data with
 * Prometheus's wording (`invalid parameter "query": 1:4: parse error: ...` for instant queries).
 */
export class QueryParseError extends Error {
  readonly code = 'KEEL_QUERY_PARSE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueryParseError';
  }
}

/**
 * The PromQL engine as the API calls it. Errors: {@link QueryParseError} for bad query text; an ApiError
 * is answered as it is; any other error is an execution error (422).
 */
export interface QueryService {
  instantQuery(query: string, timeMs: number, timeoutMs: number): Promise<QueryOutcome>;
  rangeQuery(query: string, range: { readonly startMs: number; readonly endMs: number; readonly stepMs: number }, timeoutMs: number): Promise<QueryOutcome>;
}

export interface ApiOptions {
  readonly queryable: Queryable;
  readonly targets: TargetsView;
  /** The PromQL engine; without one, `/api/v1/query` and `/query_range` answer "not available". */
  readonly query?: QueryService;
  /** Default and upper bound of a query's `timeout` (Prometheus's `--query.timeout`, 2m). */
  readonly queryTimeoutMs?: number;
  readonly buildInfo: BuildInfo;
  readonly runtimeInfo: () => RuntimeInfo;
  /** Every command-line flag with its value, as strings (`/api/v1/status/flags`). */
  readonly flags: Readonly<Record<string, string>>;
  /** The loaded configuration file's text (`/api/v1/status/config`). */
  readonly configText: () => string;
  /** Cardinality statistics; without it `/api/v1/status/tsdb` answers unavailable. */
  readonly tsdbStatus?: () => TsdbStatus;
  /** `/-/reload`: re-reads the configuration file and applies it; rejects with the reason on failure. */
  readonly reload?: () => Promise<void>;
  /** Whether the API serves yet (`/-/ready`); the API answers 503 until it does. */
  readonly ready?: () => boolean;
  /**
   * `/api/v1/rules`: Prometheus's `data` (`{ groups: [...] }`) for the rule type asked for (undefined for
   * both). Without it the answer is `{ groups: [] }`, as Prometheus's without rule files.
   */
  readonly rules?: (type: 'alert' | 'record' | undefined) => unknown;
  /** `/api/v1/alerts`: Prometheus's `data` (`{ alerts: [...] }`); without it `{ alerts: [] }`. */
  readonly alerts?: () => unknown;
  /** The listen address (`host:port`), for `globalUrl` of targets on this machine. */
  readonly listenAddress?: string;
  /** The host name other machines reach this one by, for `globalUrl`; default `os.hostname()`. */
  readonly externalHost?: string;
  /** The clock, for the default `time` of instant queries. */
  readonly now?: () => number;
}
