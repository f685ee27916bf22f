/**
 * An alert as it travels to Alertmanager, and its JSON form: Alertmanager's API v2 `PostableAlert`
 * (`labels`, `annotations`, `startsAt`, `endsAt`, `generatorURL`), the same fields API v1 takes. Times are
 * written as go-openapi's strfmt.DateTime does: RFC 3339 in UTC with milliseconds.
 */
import type { Labels } from '../tsdb/index.ts';

/** One alert for Alertmanager. An alert whose `endsAtMs` has passed is resolved. */
export interface NotifierAlert {
  readonly labels: Labels;
  readonly annotations: Labels;
  /** When it started firing; undefined writes Go's zero time. */
  readonly startsAtMs: number | undefined;
  /** When it ended (resolved) or stops being valid unless re-sent; undefined writes Go's zero time. */
  readonly endsAtMs: number | undefined;
  readonly generatorUrl: string;
}

/** The JSON body of one alert. */
export interface PostableAlertJson {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
}

const goZeroDateTime = '0001-01-01T00:00:00.000Z';

/** strfmt.DateTime's text: `2006-01-02T15:04:05.000Z`. */
export function formatDateTime(timeMs: number | undefined): string {
  if (timeMs === undefined) return goZeroDateTime;
  return new Date(timeMs).toISOString();
}

/**
 * The JSON of a batch, as Prometheus posts it.
 *
 * @example
 * toPostableAlerts([alert]); // [{ labels: { alertname: 'Down' }, annotations: {}, startsAt: '...', endsAt: '...', generatorURL: '...' }]
 */
export function toPostableAlerts(alerts: readonly NotifierAlert[]): PostableAlertJson[] {
  return alerts.map((alert) => ({
    annotations: alert.annotations.toRecord(),
    endsAt: formatDateTime(alert.endsAtMs),
    startsAt: formatDateTime(alert.startsAtMs),
    generatorURL: alert.generatorUrl,
    labels: alert.labels.toRecord(),
  }));
}
