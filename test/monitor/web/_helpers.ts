/**
 * Shared pieces of the web API tests: an API server over a given store and targets, request helpers, and a
 * fixed TargetsView.
 */
import { request as httpRequest } from 'node:http';
import type { Appendable, Queryable } from '../../../src/monitor/storage.ts';
import type { DroppedTarget, MetricMetadataEntry, TargetStatus, TargetsView } from '../../../src/monitor/targets.ts';
import { Labels } from '../../../src/monitor/tsdb/labels.ts';
import { createApiHandler, parseListenAddress, startWebServer } from '../../../src/monitor/web/index.ts';
import type { ApiOptions, WebServer } from '../../../src/monitor/web/index.ts';

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** The parsed body, or undefined when it is not JSON. */
  readonly json: { status: string; data?: unknown; errorType?: string; error?: string; warnings?: string[] } | undefined;
}

/** Sends one request; `body` is sent as a form unless `contentType` says otherwise. */
export function send(url: string, options: { method?: string; body?: string; contentType?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/x-www-form-urlencoded';
    const request = httpRequest(url, { method: options.method ?? 'GET', headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Answer['json'];
        try {
          json = JSON.parse(text) as Answer['json'];
        } catch {
          json = undefined;
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
      });
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

/** A GET with query parameters given as pairs (repeated names allowed). */
export function get(base: string, path: string, parameters: readonly (readonly [string, string])[] = []): Promise<Answer> {
  const query = new URLSearchParams(parameters.map(([name, value]): [string, string] => [name, value])).toString();
  return send(`${base}${path}${query === '' ? '' : `?${query}`}`);
}

/** A TargetsView with fixed contents. */
export class FixedTargets implements TargetsView {
  active: TargetStatus[] = [];
  dropped: DroppedTarget[] = [];
  entries: MetricMetadataEntry[] = [];

  activeTargets(): TargetStatus[] {
    return this.active;
  }

  droppedTargets(): DroppedTarget[] {
    return this.dropped;
  }

  metadata(): MetricMetadataEntry[] {
    return this.entries;
  }
}

export const testBuildInfo = { version: '2.42.0', revision: 'keel test', branch: '', buildUser: '', buildDate: '', goVersion: '' };

/** Serves the API on a loopback port; `close()` stops it. */
export async function startApi(options: Partial<ApiOptions> & { queryable: Queryable }): Promise<WebServer> {
  const full: ApiOptions = {
    targets: new FixedTargets(),
    buildInfo: testBuildInfo,
    runtimeInfo: () => ({ startTime: '2024-01-01T00:00:00Z', CWD: '/', reloadConfigSuccess: true, lastConfigTime: '2024-01-01T00:00:00Z', corruptionCount: 0, storageRetention: '15d' }),
    flags: { 'storage.tsdb.path': 'data/' },
    configText: () => 'scrape_configs: []\n',
    ...options,
  };
  return startWebServer(createApiHandler(full), parseListenAddress('127.0.0.1:0'));
}

/** Appends samples (`[timeMs, value]` pairs) for each label set, in one commit. */
export async function appendSeries(store: Appendable, series: readonly { labels: Record<string, string>; samples: readonly [number, number][] }[]): Promise<void> {
  const appender = store.appender();
  for (const { labels, samples } of series) {
    const set = Labels.fromRecord(labels);
    for (const [timeMs, value] of samples) {
      const outcome = appender.append(set, timeMs, value);
      if (outcome !== 'ok') throw new Error(`append refused: ${outcome}`);
    }
  }
  await appender.commit();
}
