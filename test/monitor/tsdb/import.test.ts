import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { importOpenMetrics, silentLogger, TsdbError } from '../../../src/monitor/tsdb/index.ts';
import { dumpRange, labels, openDb, withTempDir } from './_helpers.ts';

const hourMs = 3_600_000;
const startSeconds = 1_700_000_000;

/** An OpenMetrics file: a counter and a gauge family, `points` samples per series every 60 s. */
function openMetricsText(points: number): string {
  const lines = ['# HELP http_requests Requests served.', '# TYPE http_requests counter'];
  for (const code of ['200', '500']) {
    for (let point = 0; point < points; point += 1) lines.push(`http_requests_total{code="${code}"} ${point * (code === '200' ? 10 : 1)} ${startSeconds + point * 60}`);
  }
  lines.push('# TYPE temperature_celsius gauge', '# UNIT temperature_celsius celsius');
  for (let point = 0; point < points; point += 1) lines.push(`temperature_celsius{room="lab"} ${point % 7 === 3 ? 'NaN' : (20 + point / 8).toFixed(3)} ${startSeconds + point * 60}.250`);
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

async function importText(directory: string, text: string, options: Parameters<typeof importOpenMetrics>[2] = {}): Promise<Awaited<ReturnType<typeof importOpenMetrics>>> {
  const file = join(directory, 'input.om');
  await writeFile(file, text);
  return importOpenMetrics(file, join(directory, 'db'), { logger: silentLogger, ...options });
}

test('an imported OpenMetrics file reads back sample for sample, in blocks aligned to the block range', async () => {
  await withTempDir(async (directory) => {
    const points = 300; // 5 hours: three 2h ranges.
    const result = await importText(directory, openMetricsText(points));
    assert.equal(result.samples, 3 * points);
    assert.equal(result.series, 3);
    assert.equal(result.passes, 1, 'a file that fits one pass is read once');
    assert.equal(result.minTimeMs, startSeconds * 1000);
    assert.equal(result.blocks.length, 3);
    for (const block of result.blocks) {
      assert.equal(Math.floor(block.minTime / (2 * hourMs)), Math.floor((block.maxTime - 1) / (2 * hourMs)), 'a block stays inside one 2h range');
    }
    assert.equal(result.blocks.reduce((total, block) => total + block.stats.numSamples, 0), 3 * points);
    const db = await openDb(join(directory, 'db'));
    const dumped = dumpRange(db, 0, Number.MAX_SAFE_INTEGER);
    assert.deepEqual(dumped.map((series) => series.labels), ['http_requests_total{code="200"}', 'http_requests_total{code="500"}', 'temperature_celsius{room="lab"}']);
    assert.deepEqual(dumped[0]!.samples, Array.from({ length: points }, (_, point) => [(startSeconds + point * 60) * 1000, point * 10]));
    const temperature = dumped[2]!.samples;
    assert.deepEqual(temperature[1], [(startSeconds + 60) * 1000 + 250, 20.125]);
    assert.ok(Number.isNaN(temperature[3]![1]));
    assert.equal(db.stats().head.numSeries, 0, 'an import never touches the head');
    await db.close();
  });
});

test('several passes build the same blocks when a pass may hold only part of the file', async () => {
  await withTempDir(async (directory) => {
    const result = await importText(directory, openMetricsText(300), { samplesPerPassMax: 200 });
    assert.equal(result.passes, 4);
    assert.equal(result.blocks.length, 3);
    const db = await openDb(join(directory, 'db'));
    assert.equal(dumpRange(db, 0, Number.MAX_SAFE_INTEGER).reduce((total, series) => total + series.samples.length, 0), 900);
    await db.close();
  });
});

test('a malformed file is refused with its line and column', async () => {
  await withTempDir(async (directory) => {
    const cases: [string, RegExp][] = [
      ['# TYPE a gauge\na 1 100\na{b="c} 2 200\n# EOF\n', /input\.om failed: Line 3, column \d+: label value has no closing "/],
      ['# TYPE a gauge\na 1 100\n', /Line 3, column 1: OpenMetrics exposition does not end with # EOF/],
      ['# TYPE a gauge\na 1\n# EOF\n', /line 2: the sample of a has no timestamp/],
      ['# TYPE a gauge\na 1 200\na 2 100\n# EOF\n', /line 3: the sample of a at 100000 is older than the series' previous sample at 200000/],
      ['# TYPE a gauge\na 1 200\na 2 200\n# EOF\n', /line 3: .* repeats the timestamp/],
      ['# EOF\na 1 1\n', /Line 2, column 1: content after # EOF/],
    ];
    for (const [text, pattern] of cases) {
      await assert.rejects(importText(directory, text), (error: unknown) => {
        assert.ok(error instanceof TsdbError, String(error));
        assert.equal(error.code, 'TSDB_IMPORT_INVALID');
        assert.match(error.message, pattern);
        return true;
      });
    }
    assert.deepEqual((await readdir(join(directory, 'db'))).filter((name) => name !== 'wal'), [], 'a refused import writes no block and releases the lock');
  });
});

test('an exact repeated sample is ignored, and an import may not overlap existing blocks or the head', async () => {
  await withTempDir(async (directory) => {
    const first = await importText(directory, '# TYPE a gauge\na 1 100\na 1 100\na 2 160\n# EOF\n');
    assert.equal(first.blocks[0]!.stats.numSamples, 2);
    await assert.rejects(importText(directory, '# TYPE a gauge\na 5 130\n# EOF\n'), (error: unknown) => error instanceof TsdbError && error.code === 'TSDB_IMPORT_OVERLAP' && error.message.includes(first.blocks[0]!.ulid));
    const older = await importText(directory, '# TYPE b gauge\nb 1 10\n# EOF\n');
    assert.equal(older.blocks.length, 1);
    // Head data from 10 000 s on: importing at or after it is refused.
    const db = await openDb(join(directory, 'db'));
    const appender = db.appender();
    appender.append(labels({ __name__: 'live' }), 10_000_000, 1);
    await appender.commit();
    await assert.rejects(importText(directory, '# TYPE c gauge\nc 1 9000\n# EOF\n'), (error: unknown) => error instanceof TsdbError && error.code === 'TSDB_LOCKED');
    await db.close();
    await assert.rejects(importText(directory, '# TYPE c gauge\nc 1 10000\n# EOF\n'), (error: unknown) => error instanceof TsdbError && error.code === 'TSDB_IMPORT_OVERLAP' && /head's WAL/.test(error.message));
    const reopened = await openDb(join(directory, 'db'));
    assert.deepEqual(dumpRange(reopened, 0, Number.MAX_SAFE_INTEGER).map((series) => series.samples.length), [2, 1, 1]);
    await reopened.close();
  });
});

test('imported series do not keep the text they were parsed from alive: a file of many megabytes imports in a small heap', async () => {
  await withTempDir(async (directory) => {
    // Each series' samples are contiguous and fill more than one 1 MiB read, so every series is first seen in
    // a different read. Were each series to pin the text of that read, 80 series would pin 80 MiB, past the
    // child's 48 MiB heap.
    const series = 80;
    const samplesPerSeries = 18_000;
    const file = join(directory, 'input.om');
    const parts = ['# TYPE pinned_bytes gauge\n'];
    for (let index = 0; index < series; index += 1) {
      const lines: string[] = [];
      for (let point = 0; point < samplesPerSeries; point += 1) lines.push(`pinned_bytes{series="series-number-${index}",zone="a-rather-long-zone-name"} ${point % 97} ${startSeconds + point}`);
      parts.push(`${lines.join('\n')}\n`);
    }
    parts.push('# EOF\n');
    await writeFile(file, parts.join(''));
    const keel = fileURLToPath(new URL('../../../bin/keel', import.meta.url));
    const outcome = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(process.execPath, ['--max-old-space-size=48', keel, 'monitor', 'import', file, '--storage.tsdb.path', join(directory, 'db')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-2_000); });
      child.on('close', (code) => done({ code, stderr }));
    });
    assert.equal(outcome.code, 0, outcome.stderr);
    const db = await openDb(join(directory, 'db'));
    try {
      const dump = dumpRange(db, startSeconds * 1000, (startSeconds + samplesPerSeries) * 1000);
      assert.equal(dump.length, series, 'every series was imported');
      assert.ok(dump.every((entry) => entry.samples.length === samplesPerSeries), 'with every sample');
    } finally {
      await db.close();
    }
  });
});
