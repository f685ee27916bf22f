/**
 * One scrape's HTTP exchange: a GET with Prometheus 2.42's headers (Accept preferring OpenMetrics 1.0.0,
 * then 0.0.1, then the text format 0.0.4; gzip accepted; the timeout announced in
 * X-Prometheus-Scrape-Timeout-Seconds), a deadline through an AbortSignal, and the body size limit
 * enforced on the decompressed bytes while they stream in, so neither a huge body nor a gzip bomb is
 * ever held in memory.
 */
import http from 'node:http';
import https from 'node:https';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { assert } from '../tsdb/index.ts';
import { ScrapeError } from './errors.ts';

/** Prometheus 2.x's Accept header, verbatim: exporters negotiate on it. */
export const scrapeAcceptHeader = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
export const scrapeUserAgent = 'keel-monitor/0.1.0';

export interface ScrapeRequest {
  readonly url: string;
  readonly timeoutMs: number;
  /** A body reaching this many decompressed bytes fails the scrape (Prometheus counts `>=` too). */
  readonly bodyBytesMax: number;
  /** Aborts the request when the loop stops. */
  readonly signal: AbortSignal;
  readonly agents: { readonly http: http.Agent; readonly https: https.Agent };
}

export interface ScrapeResponse {
  readonly body: string;
  readonly contentType: string | undefined;
  readonly bodyBytes: number;
}

/**
 * Fetches one exposition. Rejects with a {@link ScrapeError} for every failure: refused connection,
 * timeout, non-200 status, oversized or undecodable body.
 *
 * @example
 * const { body, contentType } = await fetchExposition({ url, timeoutMs: 10_000, bodyBytesMax: 1 << 20, signal, agents });
 */
export function fetchExposition(request: ScrapeRequest): Promise<ScrapeResponse> {
  assert(request.timeoutMs > 0 && request.bodyBytesMax > 0, 'a scrape has a timeout and a body bound');
  const url = new URL(request.url);
  const timeoutSignal = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([request.signal, timeoutSignal]);
  const headers = {
    'Accept': scrapeAcceptHeader,
    'Accept-Encoding': 'gzip',
    'User-Agent': scrapeUserAgent,
    'X-Prometheus-Scrape-Timeout-Seconds': String(request.timeoutMs / 1000),
  };
  const transport = url.protocol === 'https:' ? https : http;
  const agent = url.protocol === 'https:' ? request.agents.https : request.agents.http;
  return new Promise<ScrapeResponse>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      clientRequest.destroy();
      reject(describeFailure(error, request, timeoutSignal));
    };
    const clientRequest = transport.request(url, { method: 'GET', headers, agent, signal }, (response) => {
      readBody(response, request, (error) => fail(error), (result) => {
        if (settled) return;
        settled = true;
        resolve(result);
      });
    });
    clientRequest.on('error', fail);
    clientRequest.end();
  });
}

function readBody(response: http.IncomingMessage, request: ScrapeRequest, fail: (error: unknown) => void, done: (result: ScrapeResponse) => void): void {
  if (response.statusCode !== 200) {
    response.resume();
    fail(new ScrapeError('SCRAPE_HTTP_STATUS', `server returned HTTP status ${response.statusCode ?? 0} ${response.statusMessage ?? ''}`.trimEnd()));
    return;
  }
  const gzipped = (response.headers['content-encoding'] ?? '').toLowerCase() === 'gzip';
  const stream: Readable = gzipped ? response.pipe(createGunzip()) : response;
  const chunks: Buffer[] = [];
  let bodyBytes = 0;
  response.on('error', fail);
  response.on('aborted', () => fail(new Error('the connection closed before the body was complete')));
  stream.on('error', (error) => fail(gzipped ? new ScrapeError('SCRAPE_BODY_INVALID', `invalid gzip body: ${error.message}`) : error));
  stream.on('data', (chunk: Buffer) => {
    bodyBytes += chunk.length;
    if (bodyBytes >= request.bodyBytesMax) {
      // Fail first: destroying the stream emits its own errors, which must not become the reason.
      fail(new ScrapeError('SCRAPE_BODY_TOO_LARGE', `body size limit exceeded (limit ${request.bodyBytesMax} bytes)`));
      stream.destroy();
      return;
    }
    chunks.push(chunk);
  });
  stream.on('end', () => {
    let body: string;
    try {
      body = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks, bodyBytes));
    } catch {
      fail(new ScrapeError('SCRAPE_BODY_INVALID', 'body is not valid UTF-8'));
      return;
    }
    done({ body, contentType: response.headers['content-type'], bodyBytes });
  });
}

function describeFailure(error: unknown, request: ScrapeRequest, timeoutSignal: AbortSignal): ScrapeError {
  if (error instanceof ScrapeError) return error;
  if (timeoutSignal.aborted) {
    return new ScrapeError('SCRAPE_TIMEOUT', `Get ${JSON.stringify(request.url)}: context deadline exceeded (scrape timeout ${request.timeoutMs / 1000}s)`);
  }
  if (request.signal.aborted) return new ScrapeError('SCRAPE_STOPPED', `Get ${JSON.stringify(request.url)}: context canceled`);
  return new ScrapeError('SCRAPE_CONNECTION_FAILED', `Get ${JSON.stringify(request.url)}: ${(error as Error).message}`);
}
