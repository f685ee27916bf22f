// Runs every PromQL test file in testdata/ (Prometheus's test language; see src/monitor/promql/test-file.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTestFile } from '../../../src/monitor/promql/index.ts';

const testdata = join(import.meta.dirname, 'testdata');
const files = readdirSync(testdata).filter((name) => name.endsWith('.test')).sort();

test('the testdata folder has test files', () => {
  assert.ok(files.length >= 5, `found ${files.length} test files`);
});

for (const file of files) {
  test(`${file} passes`, async () => {
    const report = await runTestFile(readFileSync(join(testdata, file), 'utf8'));
    assert.ok(report.evalCount > 0, `${file} has no eval commands`);
    assert.deepEqual(report.failures, []);
  });
}
