// Property test: the quorum arithmetic against deliberately naive references, over random (joint)
// configurations drawn from a seeded PRNG (etcd-io/raft's quorum package does the same).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeId } from '../../src/raft/index.ts';
import {
  type JointVoters, type VoteResult, jointCommitted, jointVoteResult, majorityCommitted, majorityVoteResult,
} from '../../src/raft/quorum.ts';
import { SeededRandom } from './_network.ts';

const seed = 20240611;
const trialsCount = 3000;

// ---- the naive references ---------------------------------------------------------------------------

/** Whether more than half of `voters` acked at least `value` (an empty set agrees to anything). */
function naiveMajorityHas(voters: ReadonlySet<NodeId>, acked: ReadonlyMap<NodeId, number>, value: number): boolean {
  if (voters.size === 0) return true;
  let count = 0;
  for (const id of voters) if ((acked.get(id) ?? 0) >= value) count++;
  return 2 * count > voters.size;
}

/** The largest acked value that both halves hold by majority; every candidate value is tried. */
function naiveJointCommitted(config: JointVoters, acked: ReadonlyMap<NodeId, number>): number {
  if (config.incoming.size === 0 && config.outgoing.size === 0) return Infinity;
  let best = -Infinity;
  for (const id of new Set([...config.incoming, ...config.outgoing])) {
    const value = acked.get(id) ?? 0;
    if (value > best && naiveMajorityHas(config.incoming, acked, value) && naiveMajorityHas(config.outgoing, acked, value)) best = value;
  }
  return best;
}

/** Tries every way the missing votes could go: won if all completions win, lost if none does. */
function naiveVoteResult(config: JointVoters, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const all = [...new Set([...config.incoming, ...config.outgoing])];
  const missing = all.filter((id) => !votes.has(id));
  const wins = (completed: ReadonlyMap<NodeId, boolean>) => {
    const half = (voters: ReadonlySet<NodeId>) => {
      if (voters.size === 0) return true;
      let granted = 0;
      for (const id of voters) if (completed.get(id) === true) granted++;
      return 2 * granted > voters.size;
    };
    return half(config.incoming) && half(config.outgoing);
  };
  let winCount = 0;
  const completionsCount = 2 ** missing.length;
  for (let mask = 0; mask < completionsCount; mask++) {
    const completed = new Map(votes);
    missing.forEach((id, bit) => completed.set(id, (mask & (1 << bit)) !== 0));
    if (wins(completed)) winCount++;
  }
  if (winCount === completionsCount) return 'won';
  if (winCount === 0) return 'lost';
  return 'pending';
}

// ---- random cases -----------------------------------------------------------------------------------

function randomSubset(random: SeededRandom, universe: readonly NodeId[], sizeMax: number): Set<NodeId> {
  const size = random.nextInt(sizeMax + 1);
  const pool = [...universe];
  const out = new Set<NodeId>();
  while (out.size < size && pool.length > 0) out.add(pool.splice(random.nextInt(pool.length), 1)[0]!);
  return out;
}

function randomCase(random: SeededRandom) {
  const universe = [1, 2, 3, 4, 5, 6, 7, 8];
  const incoming = randomSubset(random, universe, 6);
  const outgoing = random.nextInt(3) === 0 ? new Set<NodeId>() : randomSubset(random, universe, 6);
  const acked = new Map<NodeId, number>();
  const votes = new Map<NodeId, boolean>();
  for (const id of universe) {
    acked.set(id, random.nextInt(8));
    const vote = random.nextInt(3);
    if (vote < 2) votes.set(id, vote === 0);
  }
  return { config: { incoming, outgoing }, acked, votes };
}

function describeCase(config: JointVoters, values: ReadonlyMap<NodeId, unknown>): string {
  return `incoming=(${[...config.incoming].join(' ')}) outgoing=(${[...config.outgoing].join(' ')}) values=${JSON.stringify([...values])}`;
}

describe('quorum arithmetic matches the naive references', () => {
  test('majorityCommitted and jointCommitted', () => {
    const random = new SeededRandom(seed);
    for (let trial = 0; trial < trialsCount; trial++) {
      const { config, acked } = randomCase(random);
      const lookup = (id: NodeId) => acked.get(id) ?? 0;
      const context = `seed ${seed} trial ${trial}: ${describeCase(config, acked)}`;
      assert.equal(jointCommitted(config, lookup), naiveJointCommitted(config, acked), context);
      const single = { incoming: config.incoming, outgoing: new Set<NodeId>() };
      assert.equal(majorityCommitted(config.incoming, lookup), naiveJointCommitted(single, acked), context);
    }
  });

  test('majorityVoteResult and jointVoteResult', () => {
    const random = new SeededRandom(seed + 1);
    for (let trial = 0; trial < trialsCount; trial++) {
      const { config, votes } = randomCase(random);
      const context = `seed ${seed + 1} trial ${trial}: ${describeCase(config, votes)}`;
      assert.equal(jointVoteResult(config, votes), naiveVoteResult(config, votes), context);
      const single = { incoming: config.incoming, outgoing: new Set<NodeId>() };
      assert.equal(majorityVoteResult(config.incoming, votes), naiveVoteResult(single, votes), context);
    }
  });

  test('hand-picked cases', () => {
    const acked = new Map([[1, 5], [2, 3], [3, 1], [4, 9]]);
    const lookup = (id: NodeId) => acked.get(id) ?? 0;
    assert.equal(majorityCommitted(new Set([1, 2, 3]), lookup), 3);
    assert.equal(majorityCommitted(new Set([1, 2, 3, 4]), lookup), 3, 'three of four hold 3');
    assert.equal(majorityCommitted(new Set(), lookup), Infinity, 'an empty half agrees to anything');
    assert.equal(jointCommitted({ incoming: new Set([1, 4]), outgoing: new Set([2, 3]) }, lookup), 1);
    assert.equal(majorityVoteResult(new Set([1, 2, 3]), new Map([[1, true]])), 'pending');
    assert.equal(majorityVoteResult(new Set([1, 2, 3]), new Map([[1, false], [2, false]])), 'lost');
    assert.equal(jointVoteResult({ incoming: new Set([1, 2, 3]), outgoing: new Set([3, 4, 5]) }, new Map([[1, true], [2, true], [4, false], [5, false]])), 'lost');
  });
});
