/**
 * Request parameters as Go's `Request.ParseForm` gathers them: the URL query, plus the body of a POST or PUT
 * with `Content-Type: application/x-www-form-urlencoded`, body values first. Bodies are bounded.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.ts';

/** Largest form body read. Prometheus (Go) allows 10 MB; a selector list or query never needs 1 MiB. */
export const formBodyBytesMax = 1024 * 1024;
/** Most parameters in one request (query and body together). */
export const formParametersMax = 10_000;

/**
 * The parameters of one request.
 *
 * @example
 * const form = await readForm(request, new URL(request.url!, 'http://localhost'));
 * form.get('start'); // '' when absent, as Go's FormValue
 * form.all('match[]');
 */
export class FormValues {
  /** Invariant: every list is non-empty. */
  readonly #values = new Map<string, string[]>();

  constructor(sources: readonly URLSearchParams[]) {
    let count = 0;
    for (const source of sources) {
      for (const [name, value] of source) {
        count += 1;
        if (count > formParametersMax) throw new ApiError('bad_data', `error parsing form values: more than ${formParametersMax} parameters`);
        const list = this.#values.get(name);
        if (list === undefined) this.#values.set(name, [value]);
        else list.push(value);
      }
    }
  }

  /** The first value of `name`, or '' when absent (Go's FormValue). */
  get(name: string): string {
    return this.#values.get(name)?.[0] ?? '';
  }

  /** Every value of `name`, body values first. */
  all(name: string): readonly string[] {
    return this.#values.get(name) ?? [];
  }
}

/** Reads the query string and, for a form POST or PUT, the body (at most {@link formBodyBytesMax} bytes). */
export async function readForm(request: IncomingMessage, url: URL): Promise<FormValues> {
  checkEscapes(url.search);
  const sources: URLSearchParams[] = [];
  if ((request.method === 'POST' || request.method === 'PUT') && isFormContentType(request.headers['content-type'])) {
    const body = await readBody(request, formBodyBytesMax);
    checkEscapes(body);
    sources.push(new URLSearchParams(body));
  }
  sources.push(url.searchParams);
  return new FormValues(sources);
}

/**
 * Reads a request body as UTF-8 text, refusing more than `bytesMax` bytes (by Content-Length before reading,
 * or while reading when the length is not declared).
 */
export async function readBody(request: IncomingMessage, bytesMax: number): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > bytesMax) throw bodyTooLarge(bytesMax);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > bytesMax) throw bodyTooLarge(bytesMax);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function bodyTooLarge(bytesMax: number): ApiError {
  return new ApiError('bad_data', `error parsing form values: request body is larger than ${bytesMax} bytes`);
}

function isFormContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  return contentType.split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/** Go's url.ParseQuery refuses a `%` not followed by two hex digits; URLSearchParams would keep it. */
function checkEscapes(text: string): void {
  const bad = /%(?![0-9a-fA-F]{2})(.{0,2})/s.exec(text);
  if (bad !== null) throw new ApiError('bad_data', `error parsing form values: invalid URL escape ${JSON.stringify(`%${bad[1]!}`)}`);
}
