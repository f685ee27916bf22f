/**
 * `/api/v1/query` and `/api/v1/query_range`: parameters checked with Prometheus's rules and messages, then
 * handed to the PromQL engine through {@link QueryService}. At most {@link queryConcurrencyMax} queries run
 * at once (Prometheus's `--query.max-concurrency` default); the rest wait in a bounded queue.
 */
import type { ApiResult, HandlerContext } from './_context.ts';
import { ApiError, invalidParameter } from './errors.ts';
import { parseDuration, parseDurationParameter, parseTime, parseTimeParameter } from './params.ts';
import { QueryParseError, type QueryOutcome, type QueryService } from './types.ts';

/** Prometheus's `--query.timeout` default. */
export const queryTimeoutMsDefault = 2 * 60 * 1000;
/** Prometheus's `--query.max-concurrency` default. */
export const queryConcurrencyMax = 20;
/** Queries waiting for a slot; beyond this a query is refused at once (503) rather than queued. */
export const queryQueueMax = 1000;
/** Prometheus's bound on points per series of a range query. */
export const rangeQueryPointsMax = 11_000;

let running = 0;
const waiting: (() => void)[] = [];

export async function instantQueryHandler(context: HandlerContext): Promise<ApiResult> {
  const { form, options } = context;
  const timeMs = parseTimeParameter(form, 'time', (options.now ?? Date.now)());
  const timeoutMs = parseTimeout(context);
  const service = requireService(options.query);
  return runQuery(() => service.instantQuery(form.get('query'), timeMs, timeoutMs), true);
}

export async function rangeQueryHandler(context: HandlerContext): Promise<ApiResult> {
  const { form } = context;
  const startMs = parseRequiredTime(form.get('start'), 'start');
  const endMs = parseRequiredTime(form.get('end'), 'end');
  if (endMs < startMs) throw invalidParameter('end', 'end timestamp must not be before start time');
  const stepMs = parseDurationParameter(form, 'step');
  if (stepMs <= 0) throw invalidParameter('step', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
  if ((endMs - startMs) / stepMs > rangeQueryPointsMax) {
    throw new ApiError('bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  }
  const timeoutMs = parseTimeout(context);
  const service = requireService(context.options.query);
  return runQuery(() => service.rangeQuery(form.get('query'), { startMs, endMs, stepMs }, timeoutMs), false);
}

function parseRequiredTime(text: string, name: string): number {
  try {
    return parseTime(text);
  } catch (error) {
    throw invalidParameter(name, (error as Error).message);
  }
}

/** The `timeout` parameter, bounded by the server's query timeout as Prometheus bounds it. */
function parseTimeout(context: HandlerContext): number {
  const serverTimeoutMs = context.options.queryTimeoutMs ?? queryTimeoutMsDefault;
  const text = context.form.get('timeout');
  if (text === '') return serverTimeoutMs;
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(text);
  } catch (error) {
    throw invalidParameter('timeout', (error as Error).message);
  }
  return Math.min(timeoutMs, serverTimeoutMs);
}

function requireService(service: QueryService | undefined): QueryService {
  if (service === undefined) throw new ApiError('unavailable', 'PromQL queries are not available in this keel build');
  return service;
}

async function runQuery(run: () => Promise<QueryOutcome>, wrapParseErrors: boolean): Promise<ApiResult> {
  await acquireSlot();
  try {
    return await run();
  } catch (error) {
    throw toApiError(error, wrapParseErrors);
  } finally {
    releaseSlot();
  }
}

/** Parse errors are bad_data (instant queries name the parameter, as Prometheus 2.42); others keep their type. */
function toApiError(error: unknown, wrapParseErrors: boolean): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof QueryParseError) return wrapParseErrors ? invalidParameter('query', error.message) : new ApiError('bad_data', error.message);
  if (!(error instanceof Error)) return new ApiError('internal', String(error));
  return new ApiError('execution', error.message, { cause: error });
}

async function acquireSlot(): Promise<void> {
  if (running < queryConcurrencyMax) {
    running += 1;
    return;
  }
  if (waiting.length >= queryQueueMax) throw new ApiError('unavailable', `more than ${queryQueueMax} queries are waiting; try again later`);
  await new Promise<void>((resolve) => waiting.push(resolve));
}

function releaseSlot(): void {
  const next = waiting.shift();
  // The slot passes straight to the next waiter, so `running` stays the same.
  if (next !== undefined) next();
  else running -= 1;
}
