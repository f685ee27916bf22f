// Data-driven tests of the membership transitions: testdata/confchange.txt holds commands and their
// expected output. Run with KEEL_REWRITE=1 to rewrite the expected output after a deliberate change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ChangeResult, applyChange, restoreConfig } from '../../src/raft/confchange.ts';
import { Progress } from '../../src/raft/tracker/progress.ts';
import { ProgressTracker, confStateOf } from '../../src/raft/tracker/tracker.ts';
import { type ConfChange, ConfChangeTransition, ConfChangeType, type NodeId, emptyConfState } from '../../src/raft/index.ts';

const path = fileURLToPath(new URL('./testdata/confchange.txt', import.meta.url));
const lastIndex = 10;
const newProgress = (next: number, isLearner: boolean) => new Progress(next, isLearner, 4, 0);

interface Block {
  readonly comment: string;
  readonly command: string;
  readonly expected: string;
}

/** Splits a testdata file into blocks: comment lines, a command line, "----", expected lines, a blank line. */
function parse(source: string): Block[] {
  const blocks: Block[] = [];
  const lines = source.split('\n');
  let comment: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('#') || line.trim() === '') {
      comment.push(line);
      continue;
    }
    assert.equal(lines[i + 1], '----', `line ${i + 2}: expected ---- after the command`);
    const expected: string[] = [];
    let j = i + 2;
    while (j < lines.length && lines[j]!.trim() !== '') expected.push(lines[j++]!);
    blocks.push({ comment: comment.join('\n'), command: line, expected: expected.join('\n') });
    comment = [];
    i = j;
  }
  return blocks;
}

function format(blocks: readonly Block[]): string {
  return blocks.map((block) => `${block.comment === '' ? '' : `${block.comment}\n`}${block.command}\n----\n${block.expected}\n`).join('\n');
}

function describe(result: ChangeResult): string {
  const confState = confStateOf(result.config);
  let text = `voters=(${confState.voters.join(' ')})`;
  if (confState.votersOutgoing.length > 0) text += `&&(${confState.votersOutgoing.join(' ')})`;
  if (confState.learners.length > 0) text += ` learners=(${confState.learners.join(' ')})`;
  if (confState.learnersNext.length > 0) text += ` learners_next=(${confState.learnersNext.join(' ')})`;
  if (confState.autoLeave) text += ' autoleave';
  const ids = [...result.progress.keys()].sort((a, b) => a - b);
  text += `\nprogress=(${ids.map((id) => `${id}${result.progress.get(id)!.isLearner ? 'L' : ''}`).join(' ')})`;
  return text;
}

function ids(list: string | undefined): NodeId[] {
  return list === undefined || list === '' ? [] : list.split(',').map(Number);
}

function parseChanges(words: readonly string[]): ConfChange['changes'] {
  const types: Record<string, ConfChangeType> = {
    'add-node': ConfChangeType.AddNode, 'remove-node': ConfChangeType.RemoveNode, 'add-learner': ConfChangeType.AddLearner,
  };
  const changes: { type: ConfChangeType; nodeId: NodeId }[] = [];
  for (let i = 0; i < words.length; i += 2) {
    const type = types[words[i]!];
    assert.ok(type !== undefined, `unknown change ${words[i]}`);
    changes.push({ type, nodeId: Number(words[i + 1]) });
  }
  return changes;
}

/** Runs one command against the current configuration; returns the new one (or the same on refusal). */
function run(command: string, current: ChangeResult): { output: string; next: ChangeResult } {
  const [verb, ...words] = command.split(' ');
  let change: ConfChange;
  switch (verb) {
    case 'config': {
      const fields = new Map(words.map((word) => word.split('=') as [string, string]));
      const confState = { ...emptyConfState(), voters: ids(fields.get('voters')), learners: ids(fields.get('learners')) };
      const next = restoreConfig(confState, lastIndex, newProgress);
      return { output: describe(next), next };
    }
    case 'simple':
      change = { transition: ConfChangeTransition.Auto, changes: parseChanges(words), context: new Uint8Array(0) };
      assert.equal(change.changes.length, 1, 'a simple change has one change');
      break;
    case 'auto':
      change = { transition: ConfChangeTransition.Auto, changes: parseChanges(words), context: new Uint8Array(0) };
      break;
    case 'enter-joint': {
      const autoLeave = words[0] === 'auto-leave';
      const transition = autoLeave ? ConfChangeTransition.JointImplicit : ConfChangeTransition.JointExplicit;
      change = { transition, changes: parseChanges(autoLeave ? words.slice(1) : words), context: new Uint8Array(0) };
      break;
    }
    case 'leave-joint':
      change = { transition: ConfChangeTransition.Auto, changes: [], context: new Uint8Array(0) };
      break;
    default:
      assert.fail(`unknown command ${command}`);
  }
  try {
    const next = applyChange({ config: current.config, progress: current.progress, lastIndex, newProgress }, change);
    // The same invariants the core checks whenever it switches configuration.
    const tracker = new ProgressTracker(4, 0);
    tracker.config = next.config;
    tracker.progress = next.progress;
    tracker.checkInvariants();
    return { output: describe(next), next };
  } catch (error) {
    assert.ok(error instanceof Error && error.name === 'ConfChangeError', `unexpected ${String(error)}`);
    return { output: `refused: ${error.message}`, next: current };
  }
}

test('confchange transitions match testdata/confchange.txt', () => {
  const blocks = parse(readFileSync(path, 'utf8'));
  let current = restoreConfig(emptyConfState(), lastIndex, newProgress);
  const actual: Block[] = [];
  for (const block of blocks) {
    const { output, next } = run(block.command, current);
    current = next;
    actual.push({ ...block, expected: output });
  }
  if (process.env['KEEL_REWRITE'] === '1') {
    writeFileSync(path, format(actual));
    return;
  }
  for (let i = 0; i < blocks.length; i++) {
    assert.equal(actual[i]!.expected, blocks[i]!.expected, `block ${i + 1}: ${blocks[i]!.command}`);
  }
});
