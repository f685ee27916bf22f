import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from '../../src/sim/index.ts';

test('the same seed gives the identical run twice: events, trace and history', () => {
  for (const swarm of [false, true]) {
    const first = runSeed({ seed: 11, swarm, nodesCount: null, bug: null, trace: true });
    const second = runSeed({ seed: 11, swarm, nodesCount: null, bug: null, trace: true });
    assert.ok(first.eventsCount > 1000, 'a run does real work');
    assert.equal(second.eventsCount, first.eventsCount);
    assert.equal(second.simulatedMs, first.simulatedMs);
    assert.equal(second.traceLines.join('\n'), first.traceLines.join('\n'));
    assert.deepEqual(second.history, first.history);
  }
});

test('tracing does not change the run', () => {
  const traced = runSeed({ seed: 12, swarm: true, nodesCount: null, bug: null, trace: true });
  const untraced = runSeed({ seed: 12, swarm: true, nodesCount: null, bug: null, trace: false });
  assert.equal(untraced.eventsCount, traced.eventsCount);
  assert.deepEqual(untraced.history, traced.history);
  assert.deepEqual(untraced.traceLines, []);
});

test('different seeds give different runs', () => {
  const a = runSeed({ seed: 13, swarm: true, nodesCount: 3, bug: null, trace: true });
  const b = runSeed({ seed: 14, swarm: true, nodesCount: 3, bug: null, trace: true });
  assert.notEqual(a.traceLines.join('\n'), b.traceLines.join('\n'));
});

test('a run uses neither Math.random nor the wall clock', () => {
  const random = Math.random;
  const now = Date.now;
  const forbidden = () => {
    throw new Error('the simulator touched ambient randomness or time');
  };
  Math.random = forbidden;
  Date.now = forbidden;
  try {
    const result = runSeed({ seed: 15, swarm: true, nodesCount: null, bug: null, trace: true });
    assert.equal(result.violation, null, result.violation?.message);
  } finally {
    Math.random = random;
    Date.now = now;
  }
});
