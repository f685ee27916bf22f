import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';

// The core must stay replayable from (seed, inputs): the lint rule is what keeps it so.
const eslint = new ESLint();

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

test('the purity rule rejects clocks, ambient randomness, timers and node imports in src/raft', async () => {
  const cases = [
    'export const x = Math.random();',
    'export const x = Date.now();',
    'export const x = new Date();',
    'setTimeout(() => undefined, 1);',
    "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;",
    "import { run } from '../sim/run.ts';\nexport const x = run;",
    'export const x = process.hrtime();',
  ];
  for (const code of cases) {
    const ids = await ruleIds(code, 'src/raft/probe.ts');
    assert.ok(ids.some((id) => id === 'no-restricted-syntax' || id === 'no-restricted-imports'), `not rejected: ${code} (${ids.join(', ')})`);
  }
});

test('the same code is allowed outside src/raft', async () => {
  const ids = await ruleIds('export const x = Math.random() + Date.now();', 'src/sim/probe.ts');
  assert.deepEqual(ids.filter((id) => id === 'no-restricted-syntax'), []);
});
