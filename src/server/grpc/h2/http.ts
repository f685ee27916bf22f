/**
 * Plain HTTP requests over HTTP/2 (anything that is not gRPC, such as `curl --http2-prior-knowledge
 * /metrics`), as the small part of node's request/response interface that keel's HTTP handlers use:
 * `method`, `url`, `headers` and `httpVersion`; `writeHead`, `setHeader`, `end`, `headersSent`.
 */
import { Buffer } from 'node:buffer';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { encodeHeaderObject, type H2Stream } from './connection.ts';

/** The request body is not read by keel's handlers: the stream has no consumer, so it is dropped as it arrives. */
export class H2HttpRequest {
  readonly httpVersion = '2.0';
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;

  constructor(headers: IncomingHttpHeaders) {
    this.method = String(headers[':method'] ?? 'GET');
    this.url = String(headers[':path'] ?? '/');
    this.headers = headers;
  }
}

export class H2HttpResponse {
  statusCode = 200;
  #headersSent = false;
  #ended = false;
  readonly #headers: Record<string, string | number | readonly string[]> = {};
  readonly #stream: H2Stream;
  readonly #head: boolean;

  constructor(stream: H2Stream, head: boolean) {
    this.#stream = stream;
    this.#head = head;
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    if (this.#headersSent) throw new Error('headers already sent');
    this.#headers[name.toLowerCase()] = value;
    return this;
  }

  writeHead(status: number, headers?: OutgoingHttpHeaders): this {
    if (this.#headersSent) throw new Error('headers already sent');
    this.statusCode = status;
    if (headers !== undefined) for (const [name, value] of Object.entries(headers)) if (value !== undefined) this.#headers[name.toLowerCase()] = value as string | number | readonly string[];
    return this;
  }

  end(body?: string | Uint8Array): this {
    if (this.#ended) return this;
    this.#ended = true;
    const bytes = body === undefined || this.#head ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.#headersSent = true;
    const hasBody = bytes !== undefined && bytes.length > 0;
    this.#stream.respond(encodeHeaderObject({ ...this.#headers, ':status': this.statusCode }), !hasBody);
    if (hasBody) this.#stream.end(bytes, undefined);
    this.#stream.closeWhenFlushed();
    return this;
  }
}
