import { test } from 'node:test';
import assert from 'node:assert/strict';
import { range, sweep } from './_sweep.ts';

// The CI-sized sweep: 300 swarm seeds on 3 members and 300 on 5 (about half a minute).
test('300 swarm seeds on 3 members end with no violation', () => {
  const { failures, sizes } = sweep(range(1, 300), 3);
  assert.deepEqual(failures, []);
  assert.deepEqual(sizes, new Set([3]));
});

test('300 swarm seeds on 5 members end with no violation', () => {
  const { failures, sizes } = sweep(range(1, 300), 5);
  assert.deepEqual(failures, []);
  assert.deepEqual(sizes, new Set([5]));
});
