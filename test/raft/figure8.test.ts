// Figure 8 of the Raft paper (§5.4.2): a leader must not commit an entry of an earlier term by counting
// its replicas, because a later leader may still overwrite it. Reproduced step by step in a 5-node
// cluster. This core appends an empty entry when a leader is elected, so the paper's index 2 is index 3
// here (index 1 is the bootstrap snapshot, index 2 the first leader's empty entry).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type BugName, type Message, MessageType, Role } from '../../src/raft/index.ts';
import { Network } from './_network.ts';

const voters = [1, 2, 3, 4, 5];

/** The old-term entry the first leader proposes; it must never be applied in the unsafe scenario. */
const oldValue = 'X';

interface Figure8 {
  readonly net: Network;
  /** S1's first term, the term of X. */
  readonly firstTerm: number;
  /** S1's term after its re-election in (c). */
  readonly thirdTerm: number;
}

/**
 * Steps (a) to (c): S1 leads and puts X at index 3 on S1 and S2 only; S5 leads the next term and puts its
 * own entry at index 3 on itself only; S1 leads again and copies X to S3 and S4 but not its new entry.
 * X is then on a majority (S1, S3, S4, and S2), and is from an earlier term.
 */
function figure8Through(step: 'c', bugs: readonly BugName[] = []): Figure8 {
  assert.equal(step, 'c');
  // Without check-quorum and pre-vote elections are the paper's plain ones; one entry per append lets
  // S1 send X without its newer entry.
  const net = new Network({ voters, config: { checkQuorum: false, preVote: false, maxSizePerMsgBytes: 1, bugs } });
  const firstTerm = net.elect(1).term;
  for (const id of voters) assert.equal(net.status(id).commit, 2, `member ${id} commits S1's empty entry`);

  // (a) X reaches S2 only.
  const onlyToS2 = net.dropIf((m) => m.type === MessageType.App && m.from === 1 && m.to !== 2);
  assert.ok(net.propose(1, oldValue));
  net.stabilize();
  assert.equal(net.status(2).lastIndex, 3);
  assert.equal(net.status(1).commit, 2, 'two of five is no majority');
  onlyToS2();

  // (b) S1 crashes. S5 is elected by S3, S4 and itself; its empty entry lands at index 3 on S5 only.
  net.crash(1);
  const s5Silent = net.dropIf((m) => m.type === MessageType.App && m.from === 5);
  const secondTerm = net.elect(5).term;
  assert.ok(secondTerm > firstTerm);
  assert.equal(net.member(5).storage.allEntries().find((e) => e.index === 3)?.term, secondTerm);
  net.crash(5);
  s5Silent();

  // (c) S1 restarts and is elected again; it copies X to the others, but its new entry is lost.
  net.restart(1);
  // An adversarial network: S1's appends that carry its new entry are lost whenever they would be accepted.
  net.dropIf((m: Message) => m.type === MessageType.App && m.from === 1 && m.entries.some((e) => e.term > firstTerm)
    && net.status(m.to).lastIndex >= m.index);
  const thirdTerm = net.elect(1).term;
  assert.ok(thirdTerm > secondTerm);
  net.stabilize();
  for (const id of [1, 2, 3, 4]) {
    const atThree = net.member(id).storage.allEntries().find((e) => e.index === 3);
    assert.equal(atThree?.term, firstTerm, `member ${id} holds X at index 3`);
  }
  assert.equal(net.member(1).storage.allEntries().find((e) => e.index === 4)?.term, thirdTerm);
  return { net, firstTerm, thirdTerm };
}

describe('Figure 8', () => {
  test('the leader does not commit an entry of an earlier term held by a majority', () => {
    const { net } = figure8Through('c');
    assert.equal(net.status(1).role, Role.Leader);
    assert.equal(net.status(1).commit, 2, 'X is on four of five members, yet not committed');
    for (const id of [1, 2, 3, 4]) assert.ok(!net.member(id).values.includes(oldValue));
  });

  test('(d) so a later leader may overwrite the replicated old-term entry without losing a committed one', () => {
    const { net, firstTerm, thirdTerm } = figure8Through('c');
    net.crash(1);
    net.heal();
    net.restart(5);
    const fourthTerm = net.elect(5).term;
    assert.ok(fourthTerm > thirdTerm);
    net.stabilize();
    for (const id of [2, 3, 4, 5]) {
      assert.notEqual(net.member(id).storage.allEntries().find((e) => e.index === 3)?.term, firstTerm, `member ${id} replaced X`);
      assert.ok(net.status(id).commit >= 4);
      assert.ok(!net.member(id).values.includes(oldValue), `member ${id} never applied X`);
    }
  });

  test('(e) once an entry of the current term is on a majority, it and X are committed and S5 cannot win', () => {
    const { net } = figure8Through('c');
    net.heal();
    net.tickAll(1);
    assert.equal(net.status(1).commit, 4);
    for (const id of [1, 2, 3, 4]) assert.deepEqual(net.member(id).values, [oldValue], `member ${id} applied X`);

    net.crash(1);
    net.restart(5);
    for (let attempt = 0; attempt < 5; attempt++) {
      net.campaign(5);
      assert.notEqual(net.status(5).role, Role.Leader, 'S5 lacks the committed entries and must lose');
    }
    net.elect(3);
    net.stabilize();
    for (const id of [2, 3, 4, 5]) assert.deepEqual(net.member(id).values, [oldValue], `member ${id}`);
  });

  test('with the commit-old-term bug the leader commits X by counting replicas, and S5 then overwrites it', () => {
    const { net } = figure8Through('c', ['commit-old-term']);
    assert.equal(net.status(1).commit, 3, 'the harmful commit');
    assert.deepEqual(net.member(1).values, [oldValue], 'S1 applied X');
    net.crash(1);
    net.heal();
    net.restart(5);
    assert.throws(() => {
      net.elect(5);
      net.stabilize();
    }, /state machine safety|conflicts with the committed prefix/);
  });
});
