/** `/api/v1/status/*`: build, runtime, flags, configuration and TSDB statistics, in Prometheus's shapes. */
import type { ApiResult, HandlerContext } from './_context.ts';
import { ApiError, invalidParameter } from './errors.ts';
import { parseTimeParameter, timeMsMax, timeMsMin } from './params.ts';

export function buildInfoHandler(context: HandlerContext): ApiResult {
  return { data: context.options.buildInfo };
}

export function runtimeInfoHandler(context: HandlerContext): ApiResult {
  return { data: context.options.runtimeInfo() };
}

export function flagsHandler(context: HandlerContext): ApiResult {
  return { data: context.options.flags };
}

export function configHandler(context: HandlerContext): ApiResult {
  return { data: { yaml: context.options.configText() } };
}

export function tsdbStatusHandler(context: HandlerContext): ApiResult {
  const status = context.options.tsdbStatus;
  if (status === undefined) throw new ApiError('unavailable', 'TSDB statistics are not available');
  return { data: status() };
}

/**
 * `/api/v1/query_exemplars`: keel stores no exemplars, so after Prometheus's parameter checks the answer is
 * always empty (as Prometheus's with exemplar storage off). Grafana asks for exemplars alongside queries.
 */
export function exemplarsHandler(context: HandlerContext): ApiResult {
  const startMs = parseTimeParameter(context.form, 'start', timeMsMin);
  const endMs = parseTimeParameter(context.form, 'end', timeMsMax);
  if (endMs < startMs) throw new ApiError('bad_data', 'end timestamp must not be before start timestamp');
  return { data: [] };
}

/** `/api/v1/rules`, with Prometheus's check of `type` (`alert`, `record`, or absent for both). */
export function rulesHandler(context: HandlerContext): ApiResult {
  const type = context.form.get('type').toLowerCase();
  if (type !== '' && type !== 'alert' && type !== 'record') throw invalidParameter('type', `not supported value ${JSON.stringify(type)}`);
  const rules = context.options.rules;
  return { data: rules === undefined ? { groups: [] } : rules(type === '' ? undefined : type) };
}

/** `/api/v1/alerts`. */
export function alertsHandler(context: HandlerContext): ApiResult {
  const alerts = context.options.alerts;
  return { data: alerts === undefined ? { alerts: [] } : alerts() };
}
