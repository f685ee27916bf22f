import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, MemoryStorage, parseTestFile, runTestFile, TestFileSyntaxError } from '../../../src/monitor/promql/index.ts';
import { isStaleMarker } from '../../../src/monitor/promql/_labels.ts';

test('the expanding notation expands like Prometheus', () => {
  const [load] = parseTestFile('load 1m\n  a{x="1"} 1+2x3 _ _x2 stale 5x2 10-2.5x2 -1 Inf -Inf NaN\n');
  assert.ok(load !== undefined && load.kind === 'load');
  if (load?.kind !== 'load') return;
  assert.equal(load.intervalMs, 60_000);
  const values = load.series[0]!.values;
  assert.deepEqual(values.slice(0, 7), [1, 3, 5, 7, undefined, undefined, undefined]);
  assert.ok(isStaleMarker(values[7]!));
  assert.deepEqual(values.slice(8, 14), [5, 5, 5, 10, 7.5, 5]);
  assert.deepEqual(values.slice(14, 17), [-1, Infinity, -Infinity]);
  assert.ok(Number.isNaN(values[17]!));
  assert.equal(load.series[0]!.labels.toString(), 'a{x="1"}');
});

test('eval commands parse their time, expectations and modifiers', () => {
  const commands = parseTestFile([
    'eval instant at 1h30m sum(x)',
    '  {} 3',
    'eval_ordered instant at 0 sort(x)',
    '  x{a="1"} 1',
    '  x{a="2"} 2',
    'eval_fail instant at 5m x +',
    '  expected_fail_regexp unexpected',
    'eval range from 0 to 2m step 1m x',
    '  x 1 _ 3',
    'eval instant at 1m 2 * 2',
    '  4',
  ].join('\n'));
  assert.deepEqual(commands.map((command) => command.kind), ['eval', 'eval', 'eval', 'eval', 'eval']);
  const [first, ordered, failing, range, scalar] = commands as Extract<(typeof commands)[number], { kind: 'eval' }>[];
  assert.equal(first!.startMs, 5_400_000);
  assert.equal(ordered!.ordered, true);
  assert.equal(ordered!.expected[1]!.position, 2);
  assert.equal(failing!.fail, true);
  assert.match('unexpected end', failing!.expectedFailPattern!);
  assert.equal(range!.mode, 'range');
  assert.deepEqual(range!.expected[0]!.values, [1, undefined, 3]);
  assert.equal(scalar!.expectedScalar, 4);
});

test('malformed files are rejected with a line number', () => {
  assert.throws(() => parseTestFile('load\n'), { message: 'line 1: invalid load command. (load <step:duration>)' });
  assert.throws(() => parseTestFile('load 1m\n  a 1 b\n'), { message: 'line 2: invalid series value "b"' });
  assert.throws(() => parseTestFile('frobnicate\n'), TestFileSyntaxError);
  assert.throws(() => parseTestFile('eval instant at 0 x\n  x 1 2\n'), { message: 'line 2: expecting multiple values in instant evaluation not allowed' });
  assert.throws(() => parseTestFile('eval instant at 0 x\n  expected_fail_message boom\n'), { message: 'line 2: expected_fail_* needs eval_fail' });
  assert.throws(() => parseTestFile('load 1m\n  a 0+1x2000000\n'), { message: /at most 1000000 values/ });
});

const data = 'load 1m\n  m{id="1"} 1 2 3\n  m{id="2"} 10 20 30\n\n';

test('a passing file reports no failures and counts its evals', async () => {
  const report = await runTestFile(`${data}eval instant at 2m m\n  m{id="1"} 3\n  m{id="2"} 30\n\neval range from 0 to 2m step 1m sum(m)\n  {} 11 22 33\n`);
  assert.deepEqual(report, { evalCount: 2, failures: [] });
});

test('wrong expectations are reported, not ignored', async () => {
  const cases: readonly (readonly [string, RegExp])[] = [
    ['eval instant at 2m m\n  m{id="1"} 4\n  m{id="2"} 30\n', /expected 4 for m\{id="1"\} but got 3/],
    ['eval instant at 2m m\n  m{id="1"} 3\n', /unexpected metric m\{id="2"\} in result/],
    ['eval instant at 2m m\n  m{id="1"} 3\n  m{id="2"} 30\n  m{id="3"} 1\n', /expected metric m\{id="3"\} with 1 not found/],
    ['eval_ordered instant at 2m sort_desc(m)\n  m{id="1"} 3\n  m{id="2"} 30\n', /expected metric m\{id="2"\} at position 2 but was at 1/],
    ['eval instant at 2m 1 + 1\n  3\n', /expected scalar 3 but got 2/],
    ['eval_fail instant at 2m m\n', /expected an error, got a result/],
    ['eval instant at 2m m +\n', /unexpected error: 1:4: parse error/],
    ['eval_fail instant at 2m m +\n  expected_fail_message wrong\n', /expected error "wrong", got "1:4: parse error: unexpected end of input"/],
    ['eval range from 0 to 2m step 1m sum(m)\n  {} 11 22 34\n', /at 120s: expected 34, got 33/],
    ['eval range from 0 to 2m step 1m sum(m)\n  {} 11 22\n', /expected 3 values/],
    ['eval range from 0 to 2m step 1m m{id="1"}\n', /unexpected series m\{id="1"\}/],
    ['eval instant at 2m m[1m]\n', /received range result on instant evaluation/],
  ];
  for (const [evalText, failure] of cases) {
    const report = await runTestFile(data + evalText);
    assert.equal(report.failures.length, 1, `one failure for ${JSON.stringify(evalText)}`);
    assert.match(report.failures[0]!, failure);
    assert.match(report.failures[0]!, /^line 5: /);
  }
});

test('instant evals are also checked in range mode and with @ pinned', async () => {
  // An engine whose lookback differs between the two checks would fail them; here a tiny lookback makes
  // the instant value at 2m30s disappear, which the range-mode check (steps at 1m30s..3m30s) also sees.
  const report = await runTestFile(`${data}eval instant at 2m30s m\n`, { engine: new Engine({ lookbackDeltaMs: 1000 }) });
  assert.deepEqual(report.failures, []);
  const pinned = await runTestFile(`${data}eval instant at 1m m @ 60\n  m{id="1"} 2\n  m{id="2"} 20\n`);
  assert.deepEqual(pinned.failures, []);
});

test('clear starts from an empty store, and a custom store factory is used', async () => {
  let created = 0;
  const report = await runTestFile(`${data}clear\n\neval instant at 2m m\n`, {
    createStorage: () => {
      created += 1;
      return new MemoryStorage();
    },
  });
  assert.deepEqual(report.failures, []);
  assert.equal(created, 2);
});
