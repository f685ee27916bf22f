import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { bugNames } from '../../src/raft/index.ts';
import { main } from '../../src/cli/main.ts';
import { type Output, UsageError } from '../../src/cli/output.ts';
import { parseSimArguments } from '../../src/cli/sim.ts';

const summaryPattern = /^(\d+) seeds, (\d+) violations, (\d+) events, (\d+\.\d) simulated s, (\d+\.\d\d) wall s$/;

function keel(...argv: string[]): { status: number | null; lines: string[]; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/keel', ...argv], { encoding: 'utf8' });
  return { status: result.status, lines: result.stdout.trimEnd().split('\n'), stderr: result.stderr };
}

/** Runs main() in this process, capturing its output. */
async function run(...argv: string[]): Promise<{ code: number; out: string[]; error: string[] }> {
  const out: string[] = [];
  const error: string[] = [];
  const output: Output = { out: (line) => out.push(line), error: (line) => error.push(line) };
  const code = await main(argv, output);
  return { code, out, error };
}

test('keel sim --seeds 1..3 --swarm ends with the summary line and exits 0', () => {
  const { status, lines, stderr } = keel('sim', '--seeds', '1..3', '--swarm');
  assert.equal(status, 0, stderr);
  const match = summaryPattern.exec(lines.at(-1)!);
  assert.ok(match, `last line: ${lines.at(-1)}`);
  assert.equal(match[1], '3');
  assert.equal(match[2], '0');
  assert.ok(Number(match[3]) > 0 && Number(match[4]) > 0);
});

test('keel sim --list-bugs prints the bug names, one per line', () => {
  const { status, lines } = keel('sim', '--list-bugs');
  assert.equal(status, 0);
  assert.deepEqual(lines, [...bugNames]);
  assert.ok(lines.length >= 3);
});

test('usage errors exit 2', () => {
  assert.equal(keel('sim', '--seeds', 'abc').status, 2);
  assert.equal(keel('frobnicate').status, 2);
  assert.equal(keel().status, 2);
});

test('an injected bug is reported with a replay command, and the exit code is 1', async () => {
  const { code, out } = await run('sim', '--seeds', '1..2', '--swarm', '--inject-bug', 'vote-twice');
  assert.equal(code, 1);
  const failure = out.find((line) => line.startsWith('seed 1: '));
  assert.ok(failure, out.join('\n'));
  assert.match(failure, /^seed 1: election-safety: .* -- replay: keel sim --seeds 1 --swarm --nodes [35] --inject-bug vote-twice --trace$/);
  assert.match(out.at(-1)!, /^2 seeds, [12] violations, /);
});

test('the replay command reproduces the failure, and --trace shows its timeline', async () => {
  const first = await run('sim', '--seeds', '4', '--swarm', '--inject-bug', 'vote-ignores-log');
  const failure = first.out.find((line) => line.startsWith('seed 4: '));
  assert.ok(failure, first.out.join('\n'));
  const replay = failure.split(' -- replay: keel ')[1]!.split(' ');
  const second = await run(...replay);
  assert.equal(second.code, 1);
  assert.ok(second.out.includes(failure), 'the replay reports the same violation');
  assert.ok(second.out.some((line) => /^\[ *\d+\.\d{3}s\] n\d became leader term \d+$/.test(line)));
  assert.ok(second.out.some((line) => /^\[ *\d+\.\d{3}s\] VIOLATION /.test(line)));
});

test('argument parsing: ranges, defaults and errors', () => {
  assert.deepEqual(parseSimArguments(['--seeds', '7']), { listBugs: false, firstSeed: 7, lastSeed: 7, swarm: false, nodesCount: null, bug: null, trace: false });
  const parsed = parseSimArguments(['--seeds', '1..10', '--swarm', '--nodes', '5', '--inject-bug', 'vote-twice', '--trace']);
  assert.deepEqual(parsed, { listBugs: false, firstSeed: 1, lastSeed: 10, swarm: true, nodesCount: 5, bug: 'vote-twice', trace: true });
  for (const bad of [[], ['--seeds', '5..1'], ['--seeds', '1..'], ['--seeds'], ['--seeds', '1', '--nodes', '4'], ['--seeds', '1', '--inject-bug', 'nope'], ['--seeds', '1', '--fast']]) {
    assert.throws(() => parseSimArguments(bad), UsageError, JSON.stringify(bad));
  }
});

test('keel --help exits 0 and names the sim command', async () => {
  const { code, out } = await run('--help');
  assert.equal(code, 0);
  assert.match(out.join('\n'), /sim/);
});
