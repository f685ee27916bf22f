import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Trace, formatTraceLine } from '../../src/sim/trace.ts';
import { runSeed } from '../../src/sim/index.ts';

test('trace lines carry the simulated time right-aligned with millisecond precision', () => {
  assert.equal(formatTraceLine(12_300, 'n2 became leader term 3'), '[  12.300s] n2 became leader term 3');
  assert.equal(formatTraceLine(0, 'x'), '[   0.000s] x');
});

test('a disabled trace records nothing and never formats', () => {
  const trace = new Trace(false);
  trace.record(1, () => assert.fail('formatted while disabled'));
  assert.deepEqual(trace.lines(), []);
});

test('a traced run shows the options, elections, faults, commits and the outcome', () => {
  const result = runSeed({ seed: 1, swarm: false, nodesCount: 3, bug: null, trace: true });
  const text = result.traceLines.join('\n');
  assert.match(result.traceLines[0]!, /^\[ {3}0\.000s\] seed 1: nodes=3 /);
  assert.match(text, /n\d became leader term \d+/);
  assert.match(text, /partition|crashed|paused|clogged/);
  assert.match(text, /committed up to index \d+/);
  assert.match(text, /liveness phase: every fault heals/);
  assert.match(text, /linearizability: \d+ operations/);
});

test('a violation ends the trace', () => {
  const result = runSeed({ seed: 1, swarm: true, nodesCount: null, bug: 'vote-twice', trace: true });
  assert.notEqual(result.violation, null);
  assert.match(result.traceLines.at(-1)!, /VIOLATION election-safety: /);
});
