/**
 * Writing answers: Prometheus's JSON envelope, encoded as Go's encoding/json would (so byte-for-byte
 * comparisons with a real Prometheus hold), gzip when the client asks and the body is worth it, and the
 * CORS headers Prometheus's default `--web.cors.origin=.*` sends.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { constants as zlibConstants, gzip, gzipSync } from 'node:zlib';
import type { ApiError } from './errors.ts';

/** Bodies shorter than this go uncompressed: gzip's header and the CPU cost outweigh the saving. */
export const gzipBodyBytesMin = 1024;
/** Bodies up to this size are gzipped synchronously (about 3 ms at the fastest level), larger ones on the thread pool. */
const gzipInlineBytesMax = 1024 * 1024;
/**
 * The fastest level: query results are repetitive JSON, which level 1 shrinks nearly as well as the default
 * (3.3 KB against 3.1 KB for 400 series) at half the CPU.
 */
const gzipOptions = { level: zlibConstants.Z_BEST_SPEED };

/** Go's encoding/json escapes these inside strings (HTML safety); JSON.stringify does not. */
const goEscapedCharacters = /[<>&\u2028\u2029]/g;
const goEscapes: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * JSON as Go's encoding/json writes it. The escaped characters can only occur inside strings, so a global
 * replace over the serialised text is exact.
 *
 * @example
 * encodeJson({ error: 'unexpected <op:and>' }); // '{"error":"unexpected \\u003cop:and\\u003e"}'
 */
export function encodeJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text.replace(goEscapedCharacters, (character) => goEscapes[character]!);
}

/**
 * The success envelope around `data`, or around `dataJson` (JSON text written elsewhere, inserted as it
 * is); `warnings` is left out when empty, as Prometheus does.
 */
export function successBody(result: { readonly data: unknown } | { readonly dataJson: string }, warnings: readonly string[] = []): string {
  const dataJson = 'dataJson' in result ? result.dataJson : encodeJson(result.data);
  return `{"status":"success","data":${dataJson}${warnings.length === 0 ? '' : `,"warnings":${encodeJson(warnings)}`}}`;
}

/** The error envelope. */
export function errorBody(error: ApiError): string {
  return encodeJson({ status: 'error', errorType: error.type, error: error.message });
}

/**
 * Prometheus's SetCORS with its default origin pattern `.*`: a request carrying an Origin gets
 * `Access-Control-Allow-Origin: *` and the allowed methods and headers; one without gets nothing.
 */
export function corsHeaders(request: IncomingMessage): OutgoingHttpHeaders {
  if (request.headers.origin === undefined) return {};
  return {
    'Access-Control-Allow-Headers': 'Accept, Authorization, Content-Type, Origin',
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'Date',
    Vary: 'Origin',
  };
}

/** Sends a JSON body, gzipped when the client accepts it and it is long enough. */
export function sendJson(request: IncomingMessage, response: ServerResponse, status: number, body: string): void {
  const headers: OutgoingHttpHeaders = { ...corsHeaders(request), 'Content-Type': 'application/json' };
  const bytes = Buffer.from(body, 'utf8');
  if (bytes.length < gzipBodyBytesMin || !acceptsGzip(request)) {
    response.writeHead(status, { ...headers, 'Content-Length': bytes.length });
    response.end(request.method === 'HEAD' ? undefined : bytes);
    return;
  }
  const send = (error: Error | null, compressed: Buffer): void => {
    if (error !== null) {
      response.writeHead(status, { ...headers, 'Content-Length': bytes.length });
      response.end(bytes);
      return;
    }
    const vary = headers.Vary === undefined ? 'Accept-Encoding' : `${String(headers.Vary)}, Accept-Encoding`;
    response.writeHead(status, { ...headers, 'Content-Encoding': 'gzip', 'Content-Length': compressed.length, Vary: vary });
    response.end(compressed);
  };
  // Small bodies are compressed in line: a thread-pool round trip costs more than compressing them.
  if (bytes.length <= gzipInlineBytesMax) send(null, gzipSync(bytes, gzipOptions));
  else gzip(bytes, gzipOptions, send);
}

/** Sends the success envelope with status 200. */
export function sendSuccess(request: IncomingMessage, response: ServerResponse, result: { readonly data: unknown } | { readonly dataJson: string }, warnings?: readonly string[]): void {
  sendJson(request, response, 200, successBody(result, warnings));
}

/** Sends the error envelope with the status Prometheus uses for the error's type. */
export function sendError(request: IncomingMessage, response: ServerResponse, error: ApiError): void {
  sendJson(request, response, error.httpStatus, errorBody(error));
}

/** A plain-text answer (health, readiness, reload, 404, 405), as Prometheus's non-API handlers write. */
export function sendText(response: ServerResponse, status: number, text: string, headers: OutgoingHttpHeaders = {}): void {
  const bytes = Buffer.from(text, 'utf8');
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': bytes.length, ...headers });
  response.end(bytes);
}

function acceptsGzip(request: IncomingMessage): boolean {
  const accepted = request.headers['accept-encoding'];
  if (typeof accepted !== 'string') return false;
  return accepted.split(',').some((part) => {
    const [coding, ...parameters] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip') return false;
    return !parameters.some((parameter) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(parameter));
  });
}
