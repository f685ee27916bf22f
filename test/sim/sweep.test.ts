import { test } from 'node:test';
import assert from 'node:assert/strict';
import { range, sweep } from './_sweep.ts';

test('60 swarm seeds over 3 and 5 members end with no violation', () => {
  const { failures, sizes, results } = sweep(range(1, 60), null);
  assert.deepEqual(failures, []);
  assert.deepEqual(sizes, new Set([3, 5]));
  // The runs did real work: operations completed, some timed out, and faults happened.
  const operations = results.reduce((sum, result) => sum + result.history.length, 0);
  const unknown = results.reduce((sum, result) => sum + result.history.filter((operation) => operation.output === null).length, 0);
  assert.ok(operations > 10_000, `only ${operations} operations`);
  assert.ok(unknown > 100, `only ${unknown} timed-out operations`);
});
