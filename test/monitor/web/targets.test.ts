import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseMonitorConfig } from '../../../src/monitor/config.ts';
import { ScrapeManager } from '../../../src/monitor/scrape/manager.ts';
import type { WebServer } from '../../../src/monitor/web/index.ts';
import { get, startApi } from './_helpers.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tsdb } from '../../../src/monitor/tsdb/db.ts';

const exposition = `# HELP keel_requests_total Requests handled.
# TYPE keel_requests_total counter
keel_requests_total{code="200"} 5
keel_requests_total{code="500"} 1
# HELP keel_temperature_celsius The temperature.
# TYPE keel_temperature_celsius gauge
keel_temperature_celsius 21.5
`;

interface TargetJson {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: string;
  scrapeInterval: string;
  scrapeTimeout: string;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('targets and metadata from a real scrape manager', () => {
  let directory: string;
  let store: Tsdb;
  let exporter: Server;
  let exporterPort: number;
  let manager: ScrapeManager;
  let api: WebServer;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'keel-web-targets-'));
    store = await Tsdb.open(directory, { compactionIntervalMs: 0 });
    exporter = createServer((_, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      response.end(exposition);
    });
    await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
    exporterPort = (exporter.address() as AddressInfo).port;
    manager = new ScrapeManager(store);
    await manager.applyConfig(parseMonitorConfig(`
global:
  scrape_interval: 200ms
scrape_configs:
  - job_name: web
    static_configs:
      - targets: ['127.0.0.1:${exporterPort}', 'dropped.example:1']
    relabel_configs:
      - source_labels: [__address__]
        regex: 'dropped.*'
        action: drop
  - job_name: dead
    static_configs:
      - targets: ['127.0.0.1:1']
`));
    api = await startApi({ queryable: store, targets: manager, externalHost: 'monitor.example' });
  });

  after(async () => {
    await api.close();
    await manager.stop();
    await new Promise((resolve) => exporter.close(resolve));
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('/api/v1/targets shows each target with Prometheus\'s fields once scraped', async () => {
    const targets = await waitFor('both targets scraped', async () => {
      const answer = await get(api.url, '/api/v1/targets');
      const active = (answer.json?.data as { activeTargets: TargetJson[] }).activeTargets;
      return active.every((target) => target.health !== 'unknown') && active.length === 2 ? active : undefined;
    });
    assert.deepEqual(targets.map((target) => [target.scrapePool, target.health]), [['dead', 'down'], ['web', 'up']]);
    const [dead, web] = targets as [TargetJson, TargetJson];
    assert.deepEqual(Object.keys(web), ['discoveredLabels', 'labels', 'scrapePool', 'scrapeUrl', 'globalUrl', 'lastError', 'lastScrape', 'lastScrapeDuration', 'health', 'scrapeInterval', 'scrapeTimeout']);
    assert.equal(web.discoveredLabels.__address__, `127.0.0.1:${exporterPort}`);
    assert.equal(web.discoveredLabels.__metrics_path__, '/metrics');
    assert.equal(web.discoveredLabels.job, 'web');
    assert.deepEqual(web.labels, { instance: `127.0.0.1:${exporterPort}`, job: 'web' });
    assert.equal(web.scrapeUrl, `http://127.0.0.1:${exporterPort}/metrics`);
    assert.equal(web.globalUrl, `http://monitor.example:${exporterPort}/metrics`);
    assert.equal(web.lastError, '');
    assert.match(web.lastScrape, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.ok(Math.abs(Date.parse(web.lastScrape) - Date.now()) < 60_000);
    assert.equal(typeof web.lastScrapeDuration, 'number');
    assert.equal(web.scrapeInterval, '200ms');
    assert.equal(web.scrapeTimeout, '200ms');
    assert.notEqual(dead.lastError, '');
  });

  it('/api/v1/targets filters by state', async () => {
    const dropped = await get(api.url, '/api/v1/targets', [['state', 'dropped']]);
    const data = dropped.json?.data as { activeTargets: TargetJson[]; droppedTargets: { discoveredLabels: Record<string, string> }[] };
    assert.deepEqual(data.activeTargets, []);
    assert.equal(data.droppedTargets.length, 1);
    assert.equal(data.droppedTargets[0]!.discoveredLabels.__address__, 'dropped.example:1');
    const active = await get(api.url, '/api/v1/targets', [['state', 'ACTIVE']]);
    assert.equal((active.json?.data as { activeTargets: unknown[] }).activeTargets.length, 2);
    assert.deepEqual((active.json?.data as { droppedTargets: unknown[] }).droppedTargets, []);
    const bogus = await get(api.url, '/api/v1/targets', [['state', 'bogus']]);
    assert.deepEqual(bogus.json?.data, { activeTargets: [], droppedTargets: [] });
  });

  it('/api/v1/metadata merges the metadata the targets expose', async () => {
    const all = await get(api.url, '/api/v1/metadata');
    const data = all.json?.data as Record<string, unknown>;
    assert.deepEqual(data.keel_requests_total, [{ type: 'counter', help: 'Requests handled.', unit: '' }]);
    assert.deepEqual(data.keel_temperature_celsius, [{ type: 'gauge', help: 'The temperature.', unit: '' }]);
    const one = await get(api.url, '/api/v1/metadata', [['metric', 'keel_temperature_celsius']]);
    assert.deepEqual(Object.keys(one.json?.data as object), ['keel_temperature_celsius']);
    const limited = await get(api.url, '/api/v1/metadata', [['limit', '1']]);
    assert.equal(Object.keys(limited.json?.data as object).length, 1);
  });

  it('/api/v1/targets/metadata lists metadata per target', async () => {
    const answer = await get(api.url, '/api/v1/targets/metadata', [['match_target', '{job="web"}'], ['metric', 'keel_requests_total']]);
    assert.deepEqual(answer.json?.data, [{ target: { instance: `127.0.0.1:${exporterPort}`, job: 'web' }, type: 'counter', help: 'Requests handled.', unit: '' }]);
    const bad = await get(api.url, '/api/v1/targets/metadata', [['match_target', '{job=']]);
    assert.equal(bad.json?.error, 'invalid parameter "match_target": 1:6: parse error: unexpected end of input inside braces');
  });

  it('/api/v1/series finds what was scraped', async () => {
    const series = await get(api.url, '/api/v1/series', [['match[]', 'up{job="web"}']]);
    assert.deepEqual(series.json?.data, [{ __name__: 'up', instance: `127.0.0.1:${exporterPort}`, job: 'web' }]);
    const values = await get(api.url, '/api/v1/label/code/values', [['match[]', 'keel_requests_total']]);
    assert.deepEqual(values.json?.data, ['200', '500']);
  });
});
