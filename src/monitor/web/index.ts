/**
 * The monitor's Prometheus-compatible HTTP API.
 *
 * @example
 * import { createApiHandler, parseListenAddress, startWebServer } from './web/index.ts';
 * const server = await startWebServer(createApiHandler(options), parseListenAddress(':9090'));
 */
export { createApiHandler } from './api.ts';
export { responseItemsMax, selectorsPerRequestMax, truncatedWarning } from './_context.ts';
export { queryConcurrencyMax, queryQueueMax, queryTimeoutMsDefault, rangeQueryPointsMax } from './_query.ts';
export { ApiError, httpStatusByErrorType, invalidParameter } from './errors.ts';
export type { ApiErrorType } from './errors.ts';
export { formatRfc3339, parseDuration, parseTime, timeMsMax, timeMsMin } from './params.ts';
export { formBodyBytesMax } from './request.ts';
export { encodeJson } from './respond.ts';
export { parseMetricSelector, SelectorParseError, selectorCharactersMax } from './selector.ts';
export { closeGraceMs, connectionsMax, parseListenAddress, requestHeaderBytesMax, startWebServer } from './server.ts';
export type { ListenAddress, WebServer } from './server.ts';
export { QueryParseError } from './types.ts';
export type { ApiOptions, BuildInfo, QueryOutcome, QueryService, RuntimeInfo, TsdbStatus, TsdbStatusEntry } from './types.ts';
