/**
 * Delivery of alerts to Alertmanager (API v2, or v1 when configured): discovery of the Alertmanagers from
 * `alerting.alertmanagers`, a bounded queue with batches, per-Alertmanager counters.
 *
 * @example
 * import { Notifier } from './notifier/index.ts';
 * const notifier = new Notifier();
 * await notifier.applyConfig(config);
 * notifier.start();
 */
export { formatDateTime, toPostableAlerts } from './alert.ts';
export type { NotifierAlert, PostableAlertJson } from './alert.ts';
export { alertmanagerProviders, alertmanagersFromGroups, alertmanagersPerSetMax, alertsPathLabel, alertsPushPath } from './alertmanagers.ts';
export type { AlertmanagerTarget } from './alertmanagers.ts';
export {
  alertmanagerRefreshMsMin, alertmanagerResponseBytesMax, alertmanagerTimeoutMsDefault, notificationBatchAlertsMax, notificationQueueCapacityDefault, Notifier,
} from './notifier.ts';
export type { AlertmanagerStatistics, NotifierOptions, NotifierStatistics } from './notifier.ts';
