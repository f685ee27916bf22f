/**
 * The HTTP side of remote write (Prometheus's storage/remote/client.go): one POST per batch with the
 * protocol's headers, a deadline of `remote_timeout`, and a verdict the queue acts on. 5xx answers,
 * network errors and timeouts are retryable; 429 is retryable only with `retry_on_http_429` (honouring
 * Retry-After); every other non-2xx answer is final, because resending the same body cannot succeed.
 *
 * @example
 * const client = new HttpWriteClient({ url: 'http://127.0.0.1:9090/api/v1/write', timeoutMs: 30_000 });
 * const result = await client.store(snappyEncode(encodeWriteRequest(request)), new AbortController().signal);
 * if (result.status === 'retry') { ... }
 */
import { Agent as HttpAgent, request as httpRequest, validateHeaderName, validateHeaderValue } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { assert } from '../tsdb/index.ts';
import { RemoteWriteError } from './errors.ts';

/** Sent as User-Agent, like the scraper's. */
export const remoteWriteUserAgent = 'keel-monitor/0.1.0';
/** The protocol version header's value for remote write 1.0. */
export const remoteWriteVersion = '0.1.0';
/** How much of an error response body is kept for the message (Prometheus keeps 1 KiB). */
export const errorBodyBytesMax = 1024;
/** Longest wait a Retry-After header may impose; longer ones are cut to this. */
export const retryAfterMsMax = 5 * 60 * 1000;
/** Most open connections per endpoint; the queue never has more requests in flight than shards. */
export const connectionsPerEndpointMax = 256;

/** What one attempt achieved. `retry` with `retryAfterMs` 0 leaves the wait to the queue's backoff. */
export type StoreResult =
  | { readonly status: 'ok' }
  | { readonly status: 'retry'; readonly error: RemoteWriteError; readonly retryAfterMs: number }
  | { readonly status: 'fail'; readonly error: RemoteWriteError };

/** Where a queue sends its compressed batches; tests substitute their own. */
export interface WriteClient {
  /** The URL, for logs and counters. */
  readonly endpoint: string;
  /** Sends one snappy-compressed WriteRequest. Never throws; `signal` aborts the attempt (a hard shutdown). */
  store(body: Uint8Array, signal: AbortSignal): Promise<StoreResult>;
  /** Closes idle connections. */
  close(): void;
}

export interface HttpWriteClientOptions {
  readonly url: string;
  readonly timeoutMs: number;
  /** Extra headers from the configuration; the protocol's own headers cannot be overridden. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly retryOnRateLimit?: boolean;
  /** Authorization: at most one of the two. */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  readonly bearerToken?: string;
  readonly userAgent?: string;
}

/** Sends batches over node:http(s) with keep-alive connections. */
export class HttpWriteClient implements WriteClient {
  readonly endpoint: string;
  readonly #url: URL;
  readonly #timeoutMs: number;
  readonly #retryOnRateLimit: boolean;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #agent: HttpAgent;

  constructor(options: HttpWriteClientOptions) {
    this.#url = parseEndpoint(options.url);
    if (!Number.isSafeInteger(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', `remote_timeout must be a positive number of milliseconds, got ${options.timeoutMs}.`);
    }
    if (options.basicAuth !== undefined && options.bearerToken !== undefined) {
      throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', 'At most one of basic auth and a bearer token may be configured.');
    }
    this.endpoint = options.url;
    this.#timeoutMs = options.timeoutMs;
    this.#retryOnRateLimit = options.retryOnRateLimit ?? false;
    this.#headers = buildHeaders(options);
    const agentOptions = { keepAlive: true, maxSockets: connectionsPerEndpointMax };
    this.#agent = this.#url.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  }

  store(body: Uint8Array, signal: AbortSignal): Promise<StoreResult> {
    if (signal.aborted) return Promise.resolve(aborted());
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: StoreResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const send = this.#url.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = send(this.#url, {
        method: 'POST', agent: this.#agent, headers: { ...this.#headers, 'Content-Length': String(body.length) },
      }, (response) => this.#readResponse(response, finish));
      const timer = setTimeout(() => {
        finish({ status: 'retry', error: new RemoteWriteError('REMOTE_TIMEOUT', `No response from ${this.endpoint} within ${this.#timeoutMs} ms (remote_timeout).`), retryAfterMs: 0 });
        request.destroy();
      }, this.#timeoutMs);
      const onAbort = (): void => {
        finish(aborted());
        request.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error) => {
        finish({ status: 'retry', error: new RemoteWriteError('REMOTE_NETWORK', `Request to ${this.endpoint} failed: ${error.message}`, { cause: error }), retryAfterMs: 0 });
      });
      request.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }

  #readResponse(response: IncomingMessage, finish: (result: StoreResult) => void): void {
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      response.resume();
      response.on('end', () => finish({ status: 'ok' }));
      response.on('error', () => finish({ status: 'ok' }));
      return;
    }
    const chunks: Buffer[] = [];
    let kept = 0;
    response.on('data', (chunk: Buffer) => {
      if (kept >= errorBodyBytesMax) return;
      chunks.push(chunk.subarray(0, errorBodyBytesMax - kept));
      kept += Math.min(chunk.length, errorBodyBytesMax - kept);
    });
    const done = (): void => {
      assert(kept <= errorBodyBytesMax, 'error body within its limit');
      const firstLine = Buffer.concat(chunks).toString('utf8').split('\n', 1)[0] ?? '';
      const error = new RemoteWriteError('REMOTE_HTTP_STATUS', `Server returned HTTP status ${status} ${response.statusMessage ?? ''}: ${firstLine}`.trimEnd());
      finish(this.#verdict(status, error, response.headers['retry-after']));
    };
    response.on('end', done);
    response.on('error', done);
  }

  #verdict(status: number, error: RemoteWriteError, retryAfter: string | undefined): StoreResult {
    if (status >= 500 && status < 600) return { status: 'retry', error, retryAfterMs: 0 };
    if (status === 429 && this.#retryOnRateLimit) return { status: 'retry', error, retryAfterMs: parseRetryAfterMs(retryAfter, Date.now()) };
    return { status: 'fail', error };
  }
}

function aborted(): StoreResult {
  return { status: 'fail', error: new RemoteWriteError('REMOTE_ABORTED', 'The queue shut down before the request completed.') };
}

function parseEndpoint(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', `Remote write URL ${JSON.stringify(text)} is not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', `Remote write URL ${JSON.stringify(text)} is not an http or https URL.`);
  }
  return url;
}

/** Custom headers first, so that the protocol's own always win. */
function buildHeaders(options: HttpWriteClientOptions): Record<string, string> {
  const headers: Record<string, string> = { ...options.headers };
  for (const [name, value] of Object.entries(headers)) {
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch (error) {
      throw new RemoteWriteError('REMOTE_INVALID_OPTIONS', `Remote write header ${JSON.stringify(name)} is not a valid HTTP header: ${(error as Error).message}`, { cause: error });
    }
  }
  if (options.basicAuth !== undefined) {
    headers['Authorization'] = `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`, 'utf8').toString('base64')}`;
  }
  if (options.bearerToken !== undefined) headers['Authorization'] = `Bearer ${options.bearerToken}`;
  headers['Content-Encoding'] = 'snappy';
  headers['Content-Type'] = 'application/x-protobuf';
  headers['User-Agent'] = options.userAgent ?? remoteWriteUserAgent;
  headers['X-Prometheus-Remote-Write-Version'] = remoteWriteVersion;
  return headers;
}

/**
 * Milliseconds a Retry-After header asks to wait: whole seconds or an HTTP date, capped at
 * {@link retryAfterMsMax}; 0 (use the backoff) when absent, malformed or in the past.
 *
 * @example
 * parseRetryAfterMs('3', Date.now()); // 3000
 */
export function parseRetryAfterMs(header: string | undefined, nowMs: number): number {
  if (header === undefined) return 0;
  const text = header.trim();
  let waitMs: number;
  if (/^\d+$/.test(text)) waitMs = Number(text) * 1000;
  else {
    const dateMs = Date.parse(text);
    waitMs = Number.isNaN(dateMs) ? 0 : dateMs - nowMs;
  }
  return Math.max(0, Math.min(retryAfterMsMax, waitMs));
}
