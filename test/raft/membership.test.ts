// Membership changes (Raft thesis §4): learners, promotion, joint consensus with automatic and explicit
// leaving, both majorities while joint, a removed leader, one pending change at a time, invalid changes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ConfState, ConfChangeTransition, ConfChangeType, EntryType, MessageType, type NodeId, Role, decodeConfChange } from '../../src/raft/index.ts';
import { Network, addLearner, addNode, confChange, leaveJoint, ofType, removeNode } from './_network.ts';

const { AddNode, RemoveNode } = ConfChangeType;

function describeConf(confState: ConfState): string {
  let text = `voters=(${confState.voters.join(' ')})`;
  if (confState.votersOutgoing.length > 0) text += `&&(${confState.votersOutgoing.join(' ')})`;
  if (confState.learners.length > 0) text += ` learners=(${confState.learners.join(' ')})`;
  if (confState.learnersNext.length > 0) text += ` learners_next=(${confState.learnersNext.join(' ')})`;
  if (confState.autoLeave) text += ' autoleave';
  return text;
}

/**
 * Adds a new, empty member as a learner. The leader's snapshot is retaken once it applied the change, so
 * that the newcomer's first snapshot already lists it (joining from the founding snapshot, which does not,
 * is covered in snapshot.test.ts).
 */
function joinAsLearner(net: Network, leader: NodeId, id: NodeId): void {
  net.addMember(id);
  const release = net.holdIf((m) => m.to === id);
  assert.ok(net.node(leader).proposeConfChange(addLearner(id)));
  net.stabilize();
  assert.ok(net.status(leader).confState.learners.includes(id));
  net.compact(leader);
  release();
  net.stabilize();
  assert.ok(net.status(id).confState.learners.includes(id), `member ${id} learned that it is a learner`);
}

function confChangeEntries(net: Network, id: NodeId) {
  return net.member(id).storage.allEntries().filter((entry) => entry.type === EntryType.ConfChange);
}

describe('learners', () => {
  test('a learner receives entries but does not count toward commits', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    joinAsLearner(net, 1, 4);
    net.propose(1, 'a');
    net.stabilize();
    assert.deepEqual(net.member(4).values, ['a']);

    const { commit } = net.status(1);
    net.isolate(2);
    net.isolate(3);
    net.propose(1, 'b');
    net.stabilize();
    assert.equal(net.status(4).lastIndex, net.status(1).lastIndex, 'the learner has the entry');
    assert.equal(net.status(1).commit, commit, 'the leader and a learner are not a majority of three voters');
  });

  test('a learner never campaigns and is never asked for a vote', () => {
    const net = new Network({ voters: [1, 2, 3], learners: [4] });
    net.elect(1);
    net.isolate(4);
    net.tickAll(5 * 10);
    assert.equal(net.status(4).role, Role.Follower);
    net.heal();
    net.node(1).transferLeader(4);
    net.crash(1);
    net.waitForLeader();
    const all = [...net.delivered, ...net.dropped];
    assert.deepEqual(all.filter((m) => (m.type === MessageType.Vote || m.type === MessageType.PreVote) && (m.from === 4 || m.to === 4)), []);
    assert.equal(ofType(all, MessageType.TimeoutNow).length, 0);
  });

  test('a learner promoted with AddNode becomes a voter that counts toward commits', () => {
    const net = new Network({ voters: [1, 2, 3], learners: [4] });
    net.elect(1);
    assert.ok(net.node(1).proposeConfChange(addNode(4)));
    net.stabilize();
    for (const id of [1, 2, 3, 4]) assert.equal(describeConf(net.status(id).confState), 'voters=(1 2 3 4)', `member ${id}`);
    net.isolate(3);
    net.propose(1, 'three of four');
    net.stabilize();
    assert.deepEqual(net.member(1).values, ['three of four'], 'leader, 2 and 4 are three of four');
    net.isolate(2);
    net.propose(1, 'two of four');
    net.stabilize();
    assert.deepEqual(net.member(1).values, ['three of four'], 'leader and 4 are not a majority of four');
  });
});

describe('joint consensus', () => {
  test('two changes enter a joint configuration, which is left automatically', () => {
    const net = new Network({ voters: [1, 2, 3], learners: [4, 5] });
    net.elect(1);
    assert.ok(net.node(1).proposeConfChange(confChange(ConfChangeTransition.Auto, [AddNode, 4], [AddNode, 5])));
    net.stabilize();
    for (const id of [1, 2, 3, 4, 5]) {
      assert.deepEqual(net.member(id).confStates.map(describeConf), [
        'voters=(1 2 3 4 5)&&(1 2 3) autoleave',
        'voters=(1 2 3 4 5)',
      ], `member ${id}`);
    }
  });

  test('a JointExplicit change stays joint until an explicit leave', () => {
    const net = new Network({ voters: [1, 2, 3], learners: [4] });
    net.elect(1);
    assert.ok(net.node(1).proposeConfChange(confChange(ConfChangeTransition.JointExplicit, [AddNode, 4], [RemoveNode, 3])));
    net.stabilize();
    net.tickAll(3);
    assert.equal(describeConf(net.status(1).confState), 'voters=(1 2 4)&&(1 2 3)');
    assert.equal(confChangeEntries(net, 1).length, 1, 'no automatic leave');
    assert.ok(net.node(1).proposeConfChange(leaveJoint));
    net.stabilize();
    for (const id of [1, 2, 4]) assert.equal(describeConf(net.status(id).confState), 'voters=(1 2 4)', `member ${id}`);
    assert.equal(net.status(1).progress?.has(3), false, 'the removed voter is no longer tracked');
  });

  describe('while joint, a commit needs a majority of both configurations', () => {
    /** Incoming (1 4 5), outgoing (1 2 3). */
    function joint(): Network {
      const net = new Network({ voters: [1, 2, 3], learners: [4, 5] });
      net.elect(1);
      const change = confChange(ConfChangeTransition.JointExplicit, [AddNode, 4], [AddNode, 5], [RemoveNode, 2], [RemoveNode, 3]);
      assert.ok(net.node(1).proposeConfChange(change));
      net.stabilize();
      assert.equal(describeConf(net.status(1).confState), 'voters=(1 4 5)&&(1 2 3)');
      return net;
    }

    test('the incoming majority alone does not commit', () => {
      const net = joint();
      const { commit } = net.status(1);
      net.isolate(2);
      net.isolate(3);
      net.propose(1, 'x');
      net.stabilize();
      for (const id of [4, 5]) assert.equal(net.status(id).lastIndex, net.status(1).lastIndex, `member ${id} acknowledged`);
      assert.equal(net.status(1).commit, commit);
      net.heal();
      net.tickAll(1);
      assert.deepEqual(net.member(1).values, ['x']);
    });

    test('the outgoing majority alone does not commit', () => {
      const net = joint();
      const { commit } = net.status(1);
      net.isolate(4);
      net.isolate(5);
      net.propose(1, 'x');
      net.stabilize();
      assert.equal(net.status(1).commit, commit);
      net.heal();
      net.tickAll(1);
      assert.deepEqual(net.member(1).values, ['x']);
    });
  });

  test('a new leader leaves an auto-leave joint configuration that the old leader did not get to leave', () => {
    const net = new Network({ voters: [1, 2, 3], learners: [4, 5] });
    net.elect(1);
    const isLeave = (data: Uint8Array) => decodeConfChange(data).changes.length === 0;
    net.dropIf((m) => m.type === MessageType.App && m.from === 1 && m.entries.some((e) => e.type === EntryType.ConfChange && isLeave(e.data)));
    assert.ok(net.node(1).proposeConfChange(confChange(ConfChangeTransition.Auto, [AddNode, 4], [AddNode, 5])));
    net.stabilize();
    assert.equal(describeConf(net.status(2).confState), 'voters=(1 2 3 4 5)&&(1 2 3) autoleave');
    net.crash(1);
    net.heal();
    const leader = net.waitForLeader();
    net.stabilize();
    for (const id of [2, 3, 4, 5]) assert.equal(describeConf(net.status(id).confState), 'voters=(1 2 3 4 5)', `member ${id} (leader ${leader})`);
  });

  test('a node does not campaign while a committed conf change is not yet applied', () => {
    const net = new Network({ voters: [1, 2, 3], learners: [4] });
    net.elect(1);
    const release = net.holdIf((m) => m.to === 2);
    assert.ok(net.node(1).proposeConfChange(addNode(4)));
    net.stabilize();
    release();
    net.crash(1);
    net.deliver((m) => m.to === 2);
    const ready = net.beginReady(2);
    assert.ok(ready.ready.committedEntries.some((e) => e.type === EntryType.ConfChange), 'node 2 learned the change is committed');
    net.tick(2, 40);
    assert.equal(net.status(2).role, Role.Follower, 'the change may alter who votes: no campaign before it is applied');
    ready.finish();
    net.tick(2, 20);
    assert.notEqual(net.status(2).role, Role.Follower);
  });

  test('a leader removed by a joint change keeps leading until the joint configuration is left', () => {
    const net = new Network({ voters: [1, 2, 3], learners: [4] });
    net.elect(1);
    assert.ok(net.node(1).proposeConfChange(confChange(ConfChangeTransition.JointExplicit, [AddNode, 4], [RemoveNode, 1])));
    net.stabilize();
    assert.equal(describeConf(net.status(1).confState), 'voters=(2 3 4)&&(1 2 3)');
    assert.equal(net.status(1).role, Role.Leader);
    assert.ok(net.node(1).proposeConfChange(leaveJoint));
    net.stabilize();
    // It handed leadership over; its next heartbeat meets the successor's higher term.
    net.tick(1, 1);
    net.stabilize();
    assert.equal(net.status(1).role, Role.Follower);
    const leader = net.waitForLeader();
    assert.ok([2, 3, 4].includes(leader));
  });
});

describe('removing and validating', () => {
  test('a leader that removes itself steps down once the change is applied, and the rest elect a new leader', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    assert.ok(net.node(1).proposeConfChange(removeNode(1)));
    net.stabilize();
    const successor = net.status(2).role === Role.Leader ? 2 : 3;
    assert.equal(net.status(successor).role, Role.Leader, 'leadership was handed to a remaining voter');
    assert.ok(net.status(successor).term > net.status(1).term);
    // Its next heartbeat meets the successor's higher term.
    net.tick(1, 1);
    net.stabilize();
    assert.equal(net.status(1).role, Role.Follower);
    assert.equal(describeConf(net.status(1).confState), 'voters=(2 3)');
    for (const id of [2, 3]) assert.equal(describeConf(net.status(id).confState), 'voters=(2 3)', `member ${id} applied the removal`);
    const leader = net.waitForLeader();
    assert.ok(leader === 2 || leader === 3);
    net.propose(leader, 'after');
    net.stabilize();
    assert.deepEqual(net.member(2).values, ['after']);
    assert.deepEqual(net.member(3).values, ['after']);
    assert.equal(net.propose(1, 'from the removed node'), false);
  });

  test('a leader that removes itself from two voters does not leave the other unable to win an election', () => {
    // The way to move a one-node cluster to a new machine: add 2, then remove 1. Node 2 receives the
    // removal but loses the append that would have told it the removal committed, and 'x' after it.
    const net = new Network({ voters: [1, 2], config: { maxSizePerMsgBytes: 1 } });
    net.elect(1);
    const removalIndex = net.status(1).lastIndex + 1;
    net.dropIf((m) => m.to === 2 && m.type === MessageType.App && (m.commit >= removalIndex || m.entries.some((e) => e.data.length > 0 && e.type === EntryType.Normal)));
    assert.ok(net.node(1).proposeConfChange(removeNode(1)));
    assert.ok(net.propose(1, 'x'));
    net.stabilize();
    assert.equal(describeConf(net.status(1).confState), 'voters=(2)', 'node 1 applied its removal');
    assert.notEqual(net.status(1).role, Role.Follower, 'node 1 stays on until it has handed leadership over');
    assert.equal(net.propose(1, 'y'), false, 'a removed leader accepts no proposals');
    assert.equal(net.status(2).lastIndex, removalIndex);
    net.heal();
    net.tickAll(10 * 10);
    assert.equal(net.leader(), 2, `node 2 (voters ${net.status(2).confState.voters.join(' ')}) cannot win: node 1 refuses its shorter log and cannot campaign`);
    assert.equal(net.status(1).role, Role.Follower, 'node 1 stepped down once node 2 won');
  });

  test('at most one conf change may be pending: a second is refused until the first is applied', () => {
    const net = new Network({ voters: [1, 2, 3], learners: [4, 5] });
    net.elect(1);
    assert.equal(net.node(1).proposeConfChange(addNode(4)), true);
    assert.equal(net.node(1).proposeConfChange(addNode(5)), false);
    assert.equal(net.propose(1, 'normal entries still go'), true);
    net.stabilize();
    assert.equal(net.node(1).proposeConfChange(addNode(5)), true);
    net.stabilize();
    assert.equal(describeConf(net.status(1).confState), 'voters=(1 2 3 4 5)');
  });

  test('a follower\'s batch of two conf changes does not make two pending changes', () => {
    const net = new Network({ voters: [1, 2, 3], learners: [4] });
    net.elect(1);
    assert.ok(net.node(2).proposeConfChange(addNode(4)));
    assert.ok(net.node(2).proposeConfChange(removeNode(3)));
    net.stabilize();
    assert.equal(confChangeEntries(net, 1).length, 1, 'a second voter change joined the log while the first was pending');
    assert.notEqual(describeConf(net.status(1).confState), 'voters=(1 2 4)', 'two voters changed without joint consensus');
  });

  test('a follower\'s batch of two joint changes does not crash the members that apply them', () => {
    const net = new Network({ voters: [1, 2, 3], learners: [4] });
    net.elect(1);
    assert.ok(net.node(2).proposeConfChange(confChange(ConfChangeTransition.JointImplicit, [AddNode, 4])));
    assert.ok(net.node(2).proposeConfChange(confChange(ConfChangeTransition.JointImplicit, [RemoveNode, 3])));
    net.stabilize();
    assert.equal(describeConf(net.status(1).confState), 'voters=(1 2 3 4)');
  });

  test('invalid changes are refused', () => {
    const single = new Network({ voters: [1] });
    single.elect(1);
    assert.equal(single.node(1).proposeConfChange(removeNode(1)), false, 'removing every voter');
    assert.equal(single.node(1).proposeConfChange(leaveJoint), false, 'leaving a configuration that is not joint');

    const net = new Network({ voters: [1, 2, 3], learners: [4] });
    net.elect(1);
    assert.ok(net.node(1).proposeConfChange(confChange(ConfChangeTransition.JointExplicit, [RemoveNode, 3])));
    net.stabilize();
    assert.equal(net.node(1).proposeConfChange(confChange(ConfChangeTransition.JointExplicit, [AddNode, 4])), false, 'entering joint twice');
    assert.equal(net.node(1).proposeConfChange(addNode(4)), false, 'a simple change to a joint configuration');
    assert.equal(net.node(1).proposeConfChange(confChange(ConfChangeTransition.JointImplicit, [RemoveNode, 1], [RemoveNode, 2])), false);
    assert.equal(describeConf(net.status(1).confState), 'voters=(1 2)&&(1 2 3) learners=(4)');
  });

  test('two voter changes with the Auto transition go through joint consensus, never as one simple change', () => {
    const net = new Network({ voters: [1, 2, 3], learners: [4] });
    net.elect(1);
    assert.ok(net.node(1).proposeConfChange(confChange(ConfChangeTransition.Auto, [AddNode, 4], [RemoveNode, 3])));
    net.stabilize();
    assert.deepEqual(net.member(1).confStates.map(describeConf), ['voters=(1 2 4)&&(1 2 3) autoleave', 'voters=(1 2 4)']);
  });
});
