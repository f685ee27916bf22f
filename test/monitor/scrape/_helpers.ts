/**
 * Shared pieces of the scrape tests: an Appendable that records committed samples (with a store's
 * out-of-order rule, so outcome counting can be checked), exporters on real loopback HTTP servers, and
 * condition polling instead of fixed sleeps.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Appendable, Appender, AppendOutcome } from '../../../src/monitor/storage.ts';
import { floatHighBits, floatLowBits, isStaleMarkerBits, staleMarkerLowBits } from '../../../src/monitor/tsdb/index.ts';
import type { Labels } from '../../../src/monitor/tsdb/index.ts';

/** One committed sample. `stale` is judged by bits at the moment of the append call. */
export interface RecordedSample {
  readonly series: string;
  readonly timestampMs: number;
  readonly value: number;
  /** A NaN whose payload is the staleness marker's, quiet bit or not. */
  readonly stale: boolean;
  /** Exactly the marker's bits 0x7ff0000000000002, as the store needs to see them. */
  readonly staleExact: boolean;
}

/**
 * Records committed samples. Like a real store it refuses a sample not newer than its series' last one
 * ('out_of_order', or 'duplicate_sample' for the same timestamp with a different value).
 */
export class RecordingAppendable implements Appendable {
  readonly samples: RecordedSample[] = [];
  readonly #lastTimestampMs = new Map<string, { timestampMs: number; value: number; stale: boolean }>();
  commits = 0;
  failCommits = false;

  appender(): Appender {
    const pending: RecordedSample[] = [];
    return {
      append: (labels: Labels, timestampMs: number, value: number): AppendOutcome => {
        if (labels.size === 0) throw new Error('empty label set');
        // Stale markers are recognised by their bits, tolerating the quiet bit V8 may set when it copies a NaN.
        const high = floatHighBits(value);
        const staleExact = isStaleMarkerBits(high, floatLowBits(value));
        const stale = staleExact || (Number.isNaN(value) && (high & 0xfff7_ffff) === 0x7ff0_0000 && floatLowBits(value) === staleMarkerLowBits);
        const series = labels.toString();
        const last = pending.filter((sample) => sample.series === series).at(-1) ?? this.#lastTimestampMs.get(series);
        if (last !== undefined && timestampMs < last.timestampMs) return 'out_of_order';
        if (last !== undefined && timestampMs === last.timestampMs) return Object.is(last.value, value) || (last.stale && stale) ? 'ok' : 'duplicate_sample';
        pending.push({ series, timestampMs, value, stale, staleExact });
        return 'ok';
      },
      commit: async () => {
        if (this.failCommits) throw new Error('disk full');
        this.commits += 1;
        for (const sample of pending) {
          this.samples.push(sample);
          this.#lastTimestampMs.set(sample.series, sample);
        }
        pending.length = 0;
      },
      rollback: () => {
        pending.length = 0;
      },
    };
  }

  /** Samples of series whose text form equals `series`. */
  of(series: string): RecordedSample[] {
    return this.samples.filter((sample) => sample.series === series);
  }

  /** Distinct series names that start with `prefix`. */
  seriesStartingWith(prefix: string): string[] {
    return [...new Set(this.samples.map((sample) => sample.series).filter((series) => series.startsWith(prefix)))].sort();
  }
}

export interface Exporter {
  readonly address: string;
  readonly url: string;
  /** Requests served so far, newest last. */
  readonly requests: IncomingMessage[];
  /** Changes what the exporter answers. */
  respond(handler: (request: IncomingMessage, response: ServerResponse) => void): void;
  close(): Promise<void>;
}

/** A /metrics endpoint on 127.0.0.1 (port 0) answering with `body` until told otherwise. */
export async function startExporter(body: string, contentType = 'text/plain; version=0.0.4'): Promise<Exporter> {
  let handler = (_request: IncomingMessage, response: ServerResponse): void => {
    response.writeHead(200, { 'Content-Type': contentType });
    response.end(body);
  };
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    address,
    url: `http://${address}/metrics`,
    requests,
    respond: (next) => {
      handler = next;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Polls `condition` every 5 ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
