// Runs every PromQL test file in testdata/ (Prometheus's test language; see src/monitor/promql/test-file.ts)
// against both stores: the in-memory MemoryStorage and the real TSDB. The expectations were checked against
// Prometheus 2.42 itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTestFile } from '../../../src/monitor/promql/index.ts';
import type { TestStorage } from '../../../src/monitor/promql/index.ts';
import { Tsdb } from '../../../src/monitor/tsdb/db.ts';

const testdata = join(import.meta.dirname, 'testdata');
const files = readdirSync(testdata).filter((name) => name.endsWith('.test')).sort();

test('the testdata folder has test files', () => {
  assert.ok(files.length >= 10, `found ${files.length} test files`);
});

for (const file of files) {
  test(`${file} passes on MemoryStorage`, async () => {
    const report = await runTestFile(readFileSync(join(testdata, file), 'utf8'));
    assert.ok(report.evalCount > 0, `${file} has no eval commands`);
    assert.deepEqual(report.failures, []);
  });

  test(`${file} passes on the TSDB`, async () => {
    const opened: { db: Tsdb; directory: string }[] = [];
    const createStorage = async (): Promise<TestStorage> => {
      const directory = mkdtempSync(join(tmpdir(), 'keel-promql-'));
      const db = await Tsdb.open(directory);
      opened.push({ db, directory });
      return db;
    };
    try {
      const report = await runTestFile(readFileSync(join(testdata, file), 'utf8'), { createStorage });
      assert.deepEqual(report.failures, []);
    } finally {
      for (const { db, directory } of opened) {
        await db.close();
        rmSync(directory, { recursive: true, force: true });
      }
    }
  });
}
