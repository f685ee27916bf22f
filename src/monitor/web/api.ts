/**
 * The monitor's HTTP API: Prometheus's `/api/v1` endpoints with its envelope, error types, status codes
 * and messages, plus the lifecycle endpoints `/-/healthy`, `/-/ready` and `/-/reload`. The handler is a
 * plain `node:http` request listener; `startWebServer` (server.ts) serves it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiResult, Handler } from './_context.ts';
import { instantQueryHandler, rangeQueryHandler } from './_query.ts';
import { labelNamesHandler, labelValuesHandler, seriesHandler } from './_series.ts';
import {
  alertsHandler, buildInfoHandler, configHandler, exemplarsHandler, flagsHandler, rulesHandler, runtimeInfoHandler, tsdbStatusHandler,
} from './_status.ts';
import { metadataHandler, targetMetadataHandler, targetsHandler } from './_targets.ts';
import { ApiError } from './errors.ts';
import { readForm } from './request.ts';
import { corsHeaders, sendError, sendSuccess, sendText } from './respond.ts';
import type { ApiOptions } from './types.ts';

interface Route {
  readonly methods: readonly string[];
  readonly handler: Handler;
}

const getOnly = ['GET'];
const getAndPost = ['GET', 'POST'];

/** Prometheus's routes and methods (web/api/v1 Register), without the admin, Alertmanager and remote APIs. */
const routes: ReadonlyMap<string, Route> = new Map([
  ['/api/v1/query', { methods: getAndPost, handler: instantQueryHandler }],
  ['/api/v1/query_range', { methods: getAndPost, handler: rangeQueryHandler }],
  ['/api/v1/query_exemplars', { methods: getAndPost, handler: exemplarsHandler }],
  ['/api/v1/series', { methods: getAndPost, handler: seriesHandler }],
  ['/api/v1/labels', { methods: getAndPost, handler: labelNamesHandler }],
  ['/api/v1/targets', { methods: getOnly, handler: targetsHandler }],
  ['/api/v1/targets/metadata', { methods: getOnly, handler: targetMetadataHandler }],
  ['/api/v1/metadata', { methods: getOnly, handler: metadataHandler }],
  ['/api/v1/rules', { methods: getOnly, handler: rulesHandler }],
  ['/api/v1/alerts', { methods: getOnly, handler: alertsHandler }],
  ['/api/v1/status/buildinfo', { methods: getOnly, handler: buildInfoHandler }],
  ['/api/v1/status/runtimeinfo', { methods: getOnly, handler: runtimeInfoHandler }],
  ['/api/v1/status/flags', { methods: getOnly, handler: flagsHandler }],
  ['/api/v1/status/config', { methods: getOnly, handler: configHandler }],
  ['/api/v1/status/tsdb', { methods: getOnly, handler: tsdbStatusHandler }],
]);

const labelValuesPath = /^\/api\/v1\/label\/([^/]*)\/values$/;

/**
 * Builds the request listener.
 *
 * @example
 * const handler = createApiHandler({ queryable: db, targets: scrapeManager, buildInfo, runtimeInfo, flags, configText });
 * http.createServer(handler).listen(9090);
 */
export function createApiHandler(options: ApiOptions): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      // A failure while answering (the client went away, a bug): never leave the request hanging.
      if (!response.headersSent) sendText(response, 500, `${(error as Error).message}\n`);
      else response.destroy();
    });
  };
}

async function handle(options: ApiOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (path.startsWith('/-/')) return lifecycle(options, path, request, response);
  if (path === '/') return sendText(response, 200, 'keel monitor: a Prometheus-compatible HTTP API under /api/v1/\n');
  const labelValues = labelValuesPath.exec(path);
  const route = labelValues !== null ? { methods: getOnly, handler: labelValuesHandler } : routes.get(path);
  if (!path.startsWith('/api/v1/')) return sendText(response, 404, '404 page not found\n');
  if (request.method === 'OPTIONS') {
    response.writeHead(204, corsHeaders(request));
    response.end();
    return;
  }
  if (route === undefined) return sendText(response, 404, '404 page not found\n');
  if (!route.methods.includes(request.method ?? '')) {
    return sendText(response, 405, 'Method Not Allowed\n', { Allow: [...route.methods, 'OPTIONS'].join(', ') });
  }
  if (options.ready !== undefined && !options.ready()) return sendText(response, 503, 'Service Unavailable\n');
  let result: ApiResult;
  try {
    const parameters: Record<string, string> = labelValues === null ? {} : { name: decodePathSegment(labelValues[1]!) };
    const form = await readForm(request, url);
    result = await route.handler({ request, form, parameters, options });
  } catch (error) {
    return sendError(request, response, toApiError(error));
  }
  sendSuccess(request, response, result, result.warnings);
}

/** `/-/healthy`, `/-/ready` and `/-/reload`, answered in plain text as Prometheus does. */
async function lifecycle(options: ApiOptions, path: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const method = request.method ?? '';
  if (path === '/-/healthy' || path === '/-/ready') {
    if (method !== 'GET' && method !== 'HEAD') return sendText(response, 405, 'Method Not Allowed\n', { Allow: 'GET, HEAD, OPTIONS' });
    if (path === '/-/ready' && options.ready !== undefined && !options.ready()) return sendText(response, 503, 'Service Unavailable\n');
    return sendText(response, 200, path === '/-/ready' ? 'Keel Monitor is Ready.\n' : 'Keel Monitor is Healthy.\n');
  }
  if (path === '/-/reload') {
    if (method !== 'POST' && method !== 'PUT') return sendText(response, 405, 'Only POST or PUT requests allowed\n');
    if (options.reload === undefined) return sendText(response, 403, 'Lifecycle API is not enabled.\n');
    try {
      await options.reload();
    } catch (error) {
      return sendText(response, 500, `failed to reload config: ${(error as Error).message}\n`);
    }
    return sendText(response, 200, '');
  }
  return sendText(response, 404, '404 page not found\n');
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('bad_data', `invalid label name: ${JSON.stringify(segment)}`);
  }
}

/** Bad input is already an ApiError; anything else from storage is an execution error, a bug internal. */
function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const code: unknown = (error as { code?: unknown } | undefined)?.code;
  if (error instanceof Error && typeof code === 'string' && code.startsWith('TSDB_')) {
    return new ApiError('execution', error.message, { cause: error });
  }
  return new ApiError('internal', error instanceof Error ? error.message : String(error), { cause: error });
}
