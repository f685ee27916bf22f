import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMonitorConfig } from '../../../src/monitor/config.ts';
import { ScrapeManager } from '../../../src/monitor/scrape/index.ts';
import type { SampleIterator } from '../../../src/monitor/storage.ts';
import { Tsdb } from '../../../src/monitor/tsdb/db.ts';
import { Matcher } from '../../../src/monitor/tsdb/index.ts';
import { startExporter, waitFor } from './_helpers.ts';

interface Point {
  readonly timestampMs: number;
  readonly value: number;
  readonly stale: boolean;
}

/** Every sample of the series named `name`, staleness judged by the iterator's bits when it can tell. */
function points(db: Tsdb, name: string): Point[] {
  const querier = db.querier(0, Date.now() + 60_000);
  try {
    const series = querier.select([new Matcher('=', '__name__', name)]);
    if (series.length === 0) return [];
    assert.equal(series.length, 1);
    const iterator: SampleIterator & { isStaleMarker?: () => boolean } = series[0]!.iterator();
    const result: Point[] = [];
    while (iterator.next()) result.push({ timestampMs: iterator.timestampMs, value: iterator.value, stale: iterator.isStaleMarker?.() ?? false });
    return result;
  } finally {
    querier.close();
  }
}

test('scrapes land in the real TSDB, staleness markers included', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'keel-scrape-tsdb-'));
  const exporter = await startExporter('steady 1\nfleeting 2\n');
  const db = await Tsdb.open(directory);
  const manager = new ScrapeManager(db);
  try {
    await manager.applyConfig(parseMonitorConfig(`scrape_configs: [{job_name: real, scrape_interval: 150ms, static_configs: [{targets: ['${exporter.address}']}]}]`));
    await waitFor('two scrapes stored', () => points(db, 'up').length >= 2);
    exporter.respond((_request, response) => response.end('steady 1\n'));
    await waitFor('the fleeting series marked stale', () => points(db, 'fleeting').at(-1)?.stale === true);
    const fleeting = points(db, 'fleeting');
    assert.ok(fleeting.slice(0, -1).every((point) => point.value === 2 && !point.stale));
    assert.ok(points(db, 'steady').every((point) => !point.stale));
    assert.ok(points(db, 'up').every((point) => point.value === 1));
    assert.deepEqual([...manager.appendOutcomes().entries()], []);
  } finally {
    await manager.stop();
    await exporter.close();
    await db.close();
    await rm(directory, { recursive: true, force: true });
  }
});
