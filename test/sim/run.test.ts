import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizability, runSeed, simulationOptions } from '../../src/sim/index.ts';
import { runWithOptions } from '../../src/sim/run.ts';

test('a run records client operations, timed-out ones with an unknown outcome', () => {
  const result = runSeed({ seed: 3, swarm: false, nodesCount: 3, bug: null, trace: false });
  assert.equal(result.violation, null, result.violation?.message);
  const unknown = result.history.filter((operation) => operation.output === null);
  assert.ok(result.history.length > 100);
  assert.ok(unknown.length > 0, 'with crashes and partitions some operations time out');
  for (const operation of unknown) assert.equal(operation.return, Infinity);
  const kinds = new Set(result.history.map((operation) => operation.input.kind));
  assert.deepEqual(kinds, new Set(['get', 'put', 'cas']));
});

test('a corrupted history from a real run is rejected by the linearizability check', () => {
  const result = runSeed({ seed: 3, swarm: false, nodesCount: 3, bug: null, trace: false });
  assert.equal(checkLinearizability(result.history).ok, true);
  const index = result.history.findIndex((operation) => operation.input.kind === 'get' && operation.output !== null);
  assert.ok(index >= 0);
  const corrupted = [...result.history];
  corrupted[index] = { ...corrupted[index]!, output: { kind: 'get', value: 'never written' } };
  assert.equal(checkLinearizability(corrupted).ok, false);
});

test('the liveness phase fails a run in which no leader can be elected after healing', () => {
  const options = simulationOptions({ seed: 4, swarm: false, nodesCount: 3, bug: null });
  // A healed network so slow that no election can finish within the liveness bound.
  const crawling = { ...options.networkHealed, latencyTypicalMs: 60_000, latencyMaxMs: 60_000 };
  const result = runWithOptions({ ...options, networkHealed: crawling, safetyPhaseMs: 500 }, false);
  assert.equal(result.violation?.checker, 'liveness');
  assert.match(result.violation!.message, /no leader/);
});

test('a run with membership changes and leadership transfers applies them', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const options = simulationOptions({ seed, swarm: true, nodesCount: 3, bug: null });
    if (options.membershipIntervalMeanMs === null) continue;
    const result = runWithOptions({ ...options, membershipIntervalMeanMs: 2_000, transferIntervalMeanMs: 2_000 }, true);
    assert.equal(result.violation, null, result.violation?.message);
    const text = result.traceLines.join('\n');
    assert.match(text, /applied conf change at \d+: add-learner n4/);
    assert.match(text, /add-node n4/);
    assert.match(text, /remove-node n\d/);
    assert.match(text, /leadership transfer/);
    return;
  }
  assert.fail('no seed in 1..40 draws membership changes');
});
