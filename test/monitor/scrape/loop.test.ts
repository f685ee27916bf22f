import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { gzipSync } from 'node:zlib';
import { freePort } from '../../_net.ts';
import { newRelabelConfig, nextTickMs, populateTarget, ScrapeError, ScrapeLoop, ScrapeSlots, scrapeAcceptHeader } from '../../../src/monitor/scrape/index.ts';
import type { LoopSettings, RelabelConfigInput, Target, TargetSettings } from '../../../src/monitor/scrape/index.ts';
import { RecordingAppendable, startExporter, waitFor } from './_helpers.ts';
import type { Exporter } from './_helpers.ts';

const intervalMs = 150;

interface Harness {
  readonly loop: ScrapeLoop;
  readonly db: RecordingAppendable;
  readonly target: Target;
  /** `name{instance="...", job="test"}` for a report or plain series of this target. */
  series(name: string, extra?: string): string;
  /** Resolves after `count` more scrapes have been written. */
  scrapes(count: number): Promise<void>;
  stop(): Promise<void>;
}

function startLoop(address: string, options: { loop?: Partial<LoopSettings>; target?: Partial<TargetSettings>; metricRelabel?: RelabelConfigInput[] } = {}): Harness {
  const targetSettings: TargetSettings = {
    jobName: 'test', scrapeIntervalMs: intervalMs, scrapeTimeoutMs: intervalMs, metricsPath: '/metrics', scheme: 'http', params: {}, relabelConfigs: [], ...options.target,
  };
  const result = populateTarget({ __address__: address }, targetSettings);
  assert.ok(result.kind === 'active');
  const target = result.target;
  const settings: LoopSettings = {
    honorLabels: false, honorTimestamps: true, metricRelabelConfigs: (options.metricRelabel ?? []).map(newRelabelConfig), sampleLimit: 0, labelLimit: 0,
    labelNameLengthLimit: 0, labelValueLengthLimit: 0, bodySizeLimitBytes: 0, ...options.loop,
  };
  const db = new RecordingAppendable();
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const loop = new ScrapeLoop(target, settings, { appendable: db, slots: new ScrapeSlots(4, 100), agents, now: Date.now, jitterSeed: 0 });
  loop.start();
  const upSeries = `up{instance="${address}", job="test"}`;
  return {
    loop,
    db,
    target,
    series: (name, extra = '') => `${name}{${extra}instance="${address}", job="test"}`,
    scrapes: async (count) => {
      const goal = db.of(upSeries).length + count;
      await waitFor(`${count} more scrapes`, () => db.of(upSeries).length >= goal);
    },
    stop: async () => {
      await loop.stop('shutdown');
      agents.http.destroy();
    },
  };
}

async function withExporter(body: string, run: (exporter: Exporter) => Promise<void>, contentType?: string): Promise<void> {
  const exporter = await startExporter(body, contentType);
  try {
    await run(exporter);
  } finally {
    await exporter.close();
  }
}

test('a text exposition is appended with the target’s labels, the scrape time and the report series', async () => {
  await withExporter('# TYPE http_requests_total counter\nhttp_requests_total{code="200"} 7\nqueue_depth 3\nold_style 5 1000\n', async (exporter) => {
    const harness = startLoop(exporter.address);
    try {
      await harness.scrapes(2);
      const { db, series } = harness;
      const requests = db.of(series('http_requests_total', 'code="200", '));
      assert.ok(requests.length >= 2);
      assert.equal(requests[0]!.value, 7);
      const scrapeTime = requests[0]!.timestampMs;
      assert.equal(db.of(series('queue_depth'))[0]!.timestampMs, scrapeTime);
      assert.deepEqual(db.of(series('old_style')).map((sample) => sample.timestampMs), [1000], 'an exposed timestamp is honoured; the repeat is a duplicate');
      const report = (name: string): number[] => db.of(series(name)).map((sample) => sample.value);
      assert.deepEqual(report('up').slice(0, 2), [1, 1]);
      assert.deepEqual(report('scrape_samples_scraped').slice(0, 2), [3, 3]);
      assert.deepEqual(report('scrape_samples_post_metric_relabeling').slice(0, 2), [3, 3]);
      assert.deepEqual(report('scrape_series_added').slice(0, 2), [3, 0]);
      assert.ok(report('scrape_duration_seconds')[0]! >= 0);
      assert.equal(db.of(series('up'))[0]!.timestampMs, scrapeTime);
      const status = harness.loop.status();
      assert.deepEqual([status.health, status.lastError, status.scrapeUrl], ['up', '', exporter.url]);
      assert.ok(status.lastScrapeMs !== undefined && status.lastScrapeMs >= scrapeTime - 5);
      const headers = exporter.requests[0]!.headers;
      assert.equal(headers.accept, scrapeAcceptHeader);
      assert.equal(headers['accept-encoding'], 'gzip');
      assert.equal(headers['x-prometheus-scrape-timeout-seconds'], String(intervalMs / 1000));
      assert.match(headers['user-agent'] ?? '', /^keel/);
    } finally {
      await harness.stop();
    }
  });
});

test('scrape times are pinned to absolute time at the target’s offset', () => {
  for (const [nowMs, offsetMs, interval, expected] of [[1000, 0, 100, 1000], [1001, 0, 100, 1100], [1001, 30, 100, 1030], [1030, 30, 100, 1030], [1031, 30, 100, 1130], [5, 99, 100, 99]] as const) {
    assert.equal(nextTickMs(nowMs, offsetMs, interval), expected, `now ${nowMs} offset ${offsetMs}`);
  }
  for (let nowMs = 0; nowMs < 500; nowMs += 7) {
    const tick = nextTickMs(nowMs, 13, 60);
    assert.ok(tick >= nowMs && tick < nowMs + 60 && tick % 60 === 13);
  }
});

test('an OpenMetrics exposition is parsed as OpenMetrics and its metadata kept', async () => {
  const body = '# TYPE build info\n# HELP build Build facts.\nbuild_info{version="1"} 1\n# TYPE latency_seconds histogram\n# UNIT latency_seconds seconds\nlatency_seconds_bucket{le="+Inf"} 2\nlatency_seconds_sum 0.5\nlatency_seconds_count 2\n# EOF\n';
  await withExporter(body, async (exporter) => {
    const harness = startLoop(exporter.address, { loop: { honorLabels: true } });
    try {
      await harness.scrapes(1);
      const instance = `instance="${exporter.address}"`;
      assert.equal(harness.db.of(`build_info{${instance}, job="test", version="1"}`)[0]?.value, 1);
      assert.equal(harness.db.of(`latency_seconds_bucket{${instance}, job="test", le="+Inf"}`)[0]?.value, 2);
      assert.deepEqual(harness.loop.metadata(), [
        { family: 'build', type: 'info', help: 'Build facts.', unit: '' },
        { family: 'latency_seconds', type: 'histogram', help: '', unit: 'seconds' },
      ]);
    } finally {
      await harness.stop();
    }
  }, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
});

test('a gzip-compressed body is decompressed', async () => {
  await withExporter('', async (exporter) => {
    exporter.respond((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' });
      response.end(gzipSync('zipped_metric 42\n'));
    });
    const harness = startLoop(exporter.address);
    try {
      await harness.scrapes(1);
      assert.equal(harness.db.of(harness.series('zipped_metric'))[0]?.value, 42);
    } finally {
      await harness.stop();
    }
  });
});

/** Runs a loop against a broken exporter and returns the target's recorded error after a failed scrape. */
async function failedScrape(exporter: Exporter, options: Parameters<typeof startLoop>[1] = {}): Promise<{ error: string; harness: Harness }> {
  const harness = startLoop(exporter.address, options);
  await harness.scrapes(1);
  const status = harness.loop.status();
  assert.equal(status.health, 'down');
  assert.equal(harness.db.of(harness.series('up'))[0]?.value, 0);
  return { error: status.lastError, harness };
}

test('a target that does not answer in time is down with a timeout error', async () => {
  await withExporter('', async (exporter) => {
    exporter.respond(() => { /* never answers */ });
    const { error, harness } = await failedScrape(exporter, { target: { scrapeIntervalMs: 200, scrapeTimeoutMs: 40 } });
    await harness.stop();
    assert.match(error, /context deadline exceeded \(scrape timeout 0\.04s\)/);
  });
});

test('a refused connection is down with the connection error', async () => {
  const port = await freePort();
  const harness = startLoop(`127.0.0.1:${port}`);
  try {
    await harness.scrapes(1);
    assert.equal(harness.loop.status().health, 'down');
    assert.match(harness.loop.status().lastError, /ECONNREFUSED/);
    assert.equal(harness.db.of(harness.series('up'))[0]?.value, 0);
  } finally {
    await harness.stop();
  }
});

test('bodies at the size limit fail while streaming, compressed or not', async () => {
  await withExporter(`big_metric{pad="${'x'.repeat(2000)}"} 1\n`, async (exporter) => {
    const { error, harness } = await failedScrape(exporter, { loop: { bodySizeLimitBytes: 1000 } });
    await harness.stop();
    assert.equal(error, 'body size limit exceeded (limit 1000 bytes)');
  });
  await withExporter('', async (exporter) => {
    const bomb = gzipSync(`# ${'z'.repeat(5_000_000)}\n`);
    assert.ok(bomb.length < 10_000);
    exporter.respond((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' });
      response.end(bomb);
    });
    const { error, harness } = await failedScrape(exporter, { loop: { bodySizeLimitBytes: 64 * 1024 } });
    await harness.stop();
    assert.equal(error, `body size limit exceeded (limit ${64 * 1024} bytes)`);
  });
});

test('an HTTP error status, a malformed body and invalid UTF-8 each fail the scrape with a clear error', async () => {
  await withExporter('', async (exporter) => {
    exporter.respond((_request, response) => {
      response.writeHead(503);
      response.end('busy');
    });
    const { error, harness } = await failedScrape(exporter);
    await harness.stop();
    assert.equal(error, 'server returned HTTP status 503 Service Unavailable');
  });
  await withExporter('good 1\nbad{ 2\n', async (exporter) => {
    const { error, harness } = await failedScrape(exporter);
    assert.equal(harness.db.samples.some((sample) => sample.series.startsWith('good')), false, 'nothing of a malformed body is stored');
    await harness.stop();
    assert.match(error, /^Line 2, column \d+: .*\(SCRAPE_INVALID_LABEL_NAME\)$/);
  });
  await withExporter('', async (exporter) => {
    exporter.respond((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.end(Buffer.from([0x6d, 0x7b, 0x61, 0x3d, 0x22, 0xff, 0x22, 0x7d, 0x20, 0x31, 0x0a]));
    });
    const { error, harness } = await failedScrape(exporter);
    await harness.stop();
    assert.equal(error, 'body is not valid UTF-8');
  });
});

test('sample_limit counts samples after metric relabelling and fails the whole scrape', async () => {
  await withExporter('a 1\nb 2\nc 3\n', async (exporter) => {
    const { error, harness } = await failedScrape(exporter, { loop: { sampleLimit: 2 } });
    await harness.stop();
    assert.equal(error, 'sample limit exceeded (3 samples after relabeling, limit 2)');
    assert.equal(harness.db.samples.some((sample) => /^[abc]\{/.test(sample.series)), false);
    assert.equal(harness.db.of(harness.series('scrape_samples_scraped'))[0]?.value, 3);
  });
  await withExporter('a 1\nb 2\nc 3\n', async (exporter) => {
    const harness = startLoop(exporter.address, { loop: { sampleLimit: 2 }, metricRelabel: [{ action: 'drop', sourceLabels: ['__name__'], regex: 'c' }] });
    try {
      await harness.scrapes(1);
      assert.equal(harness.loop.status().health, 'up');
      assert.deepEqual(harness.db.seriesStartingWith('a').concat(harness.db.seriesStartingWith('b')), [harness.series('a'), harness.series('b')]);
      assert.equal(harness.db.of(harness.series('scrape_samples_post_metric_relabeling'))[0]?.value, 2);
    } finally {
      await harness.stop();
    }
  });
});

test('label limits fail the scrape with Prometheus’s messages', async () => {
  await withExporter('m{a="1",b="2"} 1\n', async (exporter) => {
    const { error, harness } = await failedScrape(exporter, { loop: { labelLimit: 3 } });
    await harness.stop();
    assert.equal(error, 'label_limit exceeded (metric: m, number of labels: 5, limit: 3)');
  });
  await withExporter('m{long_label_name="1"} 1\n', async (exporter) => {
    const { error, harness } = await failedScrape(exporter, { loop: { labelNameLengthLimit: 10 } });
    await harness.stop();
    assert.equal(error, 'label_name_length_limit exceeded (metric: m, label name: long_label_name, length: 15, limit: 10)');
  });
  await withExporter('m{a="ünïcödé"} 1\n', async (exporter) => {
    const { error, harness } = await failedScrape(exporter, { loop: { labelValueLengthLimit: 5 } });
    await harness.stop();
    assert.equal(error, 'label_value_length_limit exceeded (metric: m, label name: a, value: "ünïcödé", length: 7, limit: 5)');
  });
});

test('a series missing from a scrape gets a staleness marker at that scrape’s time', async () => {
  await withExporter('kept 1\ngone 2\nstamped 3 1000\n', async (exporter) => {
    const harness = startLoop(exporter.address);
    try {
      await harness.scrapes(1);
      exporter.respond((_request, response) => response.end('kept 1\n'));
      await waitFor('a staleness marker', () => harness.db.of(harness.series('gone')).some((sample) => sample.stale));
      const gone = harness.db.of(harness.series('gone'));
      const marker = gone.find((sample) => sample.stale)!;
      assert.ok(marker.staleExact, 'the marker has exactly the bits 0x7ff0000000000002');
      assert.ok(Number.isNaN(marker.value));
      const kept = harness.db.of(harness.series('kept'));
      assert.ok(kept.some((sample) => sample.timestampMs === marker.timestampMs && !sample.stale), 'the marker carries the scrape’s timestamp');
      assert.equal(harness.db.of(harness.series('stamped')).some((sample) => sample.stale), false, 'series with their own timestamps are not tracked');
      assert.equal(kept.some((sample) => sample.stale), false);
    } finally {
      await harness.stop();
    }
  });
});

test('a failed scrape marks every series stale once, and keeps the report series going', async () => {
  await withExporter('a 1\nb 2\n', async (exporter) => {
    const harness = startLoop(exporter.address);
    try {
      await harness.scrapes(1);
      exporter.respond((_request, response) => {
        response.writeHead(500);
        response.end();
      });
      await waitFor('markers', () => harness.db.of(harness.series('a')).some((sample) => sample.stale));
      await harness.scrapes(2);
      for (const name of ['a', 'b']) {
        const samples = harness.db.of(harness.series(name));
        assert.equal(samples.filter((sample) => sample.stale).length, 1, `${name} is marked once`);
        assert.ok(samples.at(-1)!.stale);
      }
      const up = harness.db.of(harness.series('up'));
      assert.equal(up[0]!.value, 1);
      assert.deepEqual(up.slice(-2).map((sample) => sample.value), [0, 0]);
      assert.equal(up.some((sample) => sample.stale), false);
    } finally {
      await harness.stop();
    }
  });
});

test('stopping a loop for a removed target marks all its series stale, report series included', async () => {
  await withExporter('a 1\n', async (exporter) => {
    const harness = startLoop(exporter.address);
    await harness.scrapes(1);
    const lastUp = harness.db.of(harness.series('up')).at(-1)!;
    await harness.loop.stop('stale');
    assert.ok(harness.loop.staleness !== undefined);
    await harness.loop.staleness;
    for (const name of ['a', 'up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']) {
      const marker = harness.db.of(harness.series(name)).at(-1)!;
      assert.ok(marker.stale && marker.staleExact, `${name} ends with a marker`);
      assert.ok(marker.timestampMs > lastUp.timestampMs && marker.timestampMs <= lastUp.timestampMs + 2 * intervalMs, `${name} marked at the next scrape time`);
    }
  });
});

test('stopping for shutdown or handover writes no markers; cancelled staleness writes none either', async () => {
  await withExporter('a 1\n', async (exporter) => {
    for (const mode of ['shutdown', 'handover'] as const) {
      const harness = startLoop(exporter.address);
      await harness.scrapes(1);
      const state = await harness.loop.stop(mode);
      assert.equal(harness.loop.staleness, undefined);
      assert.equal(harness.db.samples.some((sample) => sample.stale), false, mode);
      assert.deepEqual([...state.previousSeries.keys()], [harness.series('a')]);
    }
    const harness = startLoop(exporter.address);
    await harness.scrapes(1);
    await harness.loop.stop('stale');
    harness.loop.cancelStaleness();
    await harness.loop.staleness;
    assert.equal(harness.db.samples.some((sample) => sample.stale), false);
  });
});

test('honor_labels false renames clashing exposed labels to exported_*; true keeps them', async () => {
  const body = 'm{job="exposed",exported_job="taken",instance="inside"} 1\n';
  await withExporter(body, async (exporter) => {
    const renamed = startLoop(exporter.address);
    try {
      await renamed.scrapes(1);
      assert.deepEqual(renamed.db.seriesStartingWith('m{'), [
        `m{exported_exported_job="exposed", exported_instance="inside", exported_job="taken", instance="${exporter.address}", job="test"}`,
      ]);
    } finally {
      await renamed.stop();
    }
    const honoured = startLoop(exporter.address, { loop: { honorLabels: true } });
    try {
      await honoured.scrapes(1);
      assert.deepEqual(honoured.db.seriesStartingWith('m{'), ['m{exported_job="taken", instance="inside", job="exposed"}']);
      assert.equal(honoured.db.of(honoured.series('up'))[0]?.value, 1, 'report series keep the target’s labels');
    } finally {
      await honoured.stop();
    }
  });
});

test('metric relabelling drops and rewrites series before they are stored', async () => {
  await withExporter('go_gc_total 1\napp_requests_total{path="/a"} 2\n', async (exporter) => {
    const harness = startLoop(exporter.address, {
      metricRelabel: [
        { action: 'drop', sourceLabels: ['__name__'], regex: 'go_.*' },
        { sourceLabels: ['path'], targetLabel: 'route', regex: '/(.*)' },
        { action: 'labeldrop', regex: 'path' },
      ],
    });
    try {
      await harness.scrapes(2);
      assert.deepEqual(harness.db.seriesStartingWith('go_'), []);
      assert.deepEqual(harness.db.seriesStartingWith('app_'), [`app_requests_total{instance="${exporter.address}", job="test", route="a"}`]);
      assert.equal(harness.db.of(harness.series('scrape_samples_scraped'))[0]?.value, 2);
      assert.equal(harness.db.of(harness.series('scrape_samples_post_metric_relabeling'))[0]?.value, 1);
    } finally {
      await harness.stop();
    }
  });
});

test('refused appends are counted per reason and a failed commit marks the target down', async () => {
  let value = 0;
  await withExporter('', async (exporter) => {
    exporter.respond((_request, response) => {
      value += 1;
      response.end(`fixed_time ${value} 1000\n`);
    });
    const harness = startLoop(exporter.address);
    try {
      await harness.scrapes(3);
      assert.ok((harness.loop.appendOutcomes().get('duplicate_sample') ?? 0) >= 2);
      assert.equal(harness.loop.status().health, 'up', 'refused samples do not fail the scrape');
      harness.db.failCommits = true;
      await waitFor('a failed commit', () => harness.loop.status().lastError !== '');
      assert.equal(harness.loop.status().lastError, 'appending the scrape failed: disk full');
      assert.equal(harness.loop.status().health, 'down');
    } finally {
      await harness.stop();
    }
  });
});

test('a forced error fails every scrape without contacting the target', async () => {
  await withExporter('a 1\n', async (exporter) => {
    const harness = startLoop(exporter.address);
    harness.loop.setForcedError(new ScrapeError('SCRAPE_TARGET_LIMIT', 'target_limit exceeded (number of targets: 2, limit: 1)'));
    try {
      await harness.scrapes(2);
      assert.equal(exporter.requests.length, 0);
      assert.equal(harness.loop.status().lastError, 'target_limit exceeded (number of targets: 2, limit: 1)');
      harness.loop.setForcedError(undefined);
      await waitFor('a successful scrape', () => harness.loop.status().health === 'up');
      assert.ok(exporter.requests.length > 0);
    } finally {
      await harness.stop();
    }
  });
});
