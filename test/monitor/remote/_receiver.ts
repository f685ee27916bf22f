/**
 * A remote-write receiver for the tests: a node:http server that decodes snappy + protobuf, records every
 * request, and answers from a script (default 204). Tests wait on conditions, never on fixed sleeps.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { snappyDecode } from '../../../src/monitor/remote/snappy.ts';
import { decodeWriteRequest } from './_decode.ts';
import type { DecodedWriteRequest } from './_decode.ts';

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly compressed: Uint8Array;
  readonly body: DecodedWriteRequest;
}

/** What to answer; `hang` keeps the request open until release() or close(). */
export type Reply = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | 'hang';

export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Replies used in order, one per request; when empty, `fallback`. */
  readonly replies: Reply[] = [];
  fallback: Reply = { status: 204 };
  readonly #server: Server;
  readonly #hanging: ServerResponse[] = [];
  #listeners: (() => void)[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<TestReceiver> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => receiver.#handle(request.method ?? '', request.url ?? '', request.headers, Buffer.concat(chunks), response));
    });
    const receiver = new TestReceiver(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/api/v1/write`;
  }

  /** Every sample received, as [metric name, timestamp, value], in arrival order. */
  samples(): [string, number, number][] {
    return this.requests.flatMap((request) => request.body.timeseries.flatMap((series) =>
      series.samples.map((sample): [string, number, number] => [Object.fromEntries(series.labels)['__name__'] ?? '', sample.timestampMs, sample.value])));
  }

  /** Resolves once `condition` holds, re-checked after every request; rejects after `limitMs`. */
  async waitFor(condition: () => boolean, what: string, limitMs = 10_000): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), limitMs);
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.#listeners = this.#listeners.filter((listener) => listener !== check);
        resolve();
      };
      this.#listeners.push(check);
    });
  }

  /** Answers every hanging request with 204. */
  release(): void {
    for (const response of this.#hanging.splice(0)) response.writeHead(204).end();
  }

  async close(): Promise<void> {
    for (const response of this.#hanging.splice(0)) response.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(method: string, path: string, headers: IncomingHttpHeaders, raw: Buffer, response: ServerResponse): void {
    const compressed = new Uint8Array(raw);
    this.requests.push({ method, path, headers, compressed, body: decodeWriteRequest(snappyDecode(compressed)) });
    const reply = this.replies.shift() ?? this.fallback;
    if (reply === 'hang') this.#hanging.push(response);
    else if (reply.delayMs === undefined) response.writeHead(reply.status, reply.headers).end(reply.body ?? '');
    else setTimeout(() => response.writeHead(reply.status, reply.headers).end(reply.body ?? ''), reply.delayMs);
    for (const listener of [...this.#listeners]) listener();
  }
}

/** Polls a condition that no request signals (counters after a response). */
export async function eventually(condition: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
