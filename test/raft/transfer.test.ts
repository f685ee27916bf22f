// Leadership transfer (Raft thesis §3.10): the leader brings the transferee up to date, then sends it
// TimeoutNow; the transferee campaigns at once, without pre-vote; proposals wait; an unfinished transfer
// is abandoned after an election timeout.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, Role } from '../../src/raft/index.ts';
import { Network, ofType } from './_network.ts';

const electionTicks = 10;

describe('leadership transfer', () => {
  test('leadership moves to an up-to-date follower, which campaigns without a pre-vote round', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    net.propose(1, 'a');
    net.stabilize();
    const start = net.delivered.length;
    net.node(1).transferLeader(2);
    net.stabilize();
    assert.equal(net.leader(), 2);
    assert.equal(net.status(2).term, term + 1, 'one election, one term');
    assert.equal(net.status(1).role, Role.Follower);
    assert.equal(net.status(1).lead, 2);
    const since = net.delivered.slice(start);
    assert.equal(ofType(since, MessageType.TimeoutNow, (m) => m.to === 2).length, 1);
    assert.equal(ofType(since, MessageType.PreVote).length, 0);
    net.propose(2, 'b');
    net.stabilize();
    assert.deepEqual(net.member(1).values, ['a', 'b']);
  });

  test('a lagging transferee is caught up before it is sent TimeoutNow', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    net.isolate(3);
    for (const value of ['a', 'b', 'c']) net.propose(1, value);
    net.stabilize();
    net.heal();
    const { lastIndex } = net.status(1);
    assert.ok(net.status(3).lastIndex < lastIndex);
    const start = net.delivered.length;
    net.node(1).transferLeader(3);
    net.stabilize();
    assert.equal(net.leader(), 3);
    const since = net.delivered.slice(start);
    const timeoutAt = since.findIndex((m) => m.type === MessageType.TimeoutNow);
    const caughtUpAt = since.findIndex((m) => m.type === MessageType.AppResp && m.from === 3 && !m.reject && m.index === lastIndex);
    assert.ok(caughtUpAt >= 0 && timeoutAt > caughtUpAt, 'TimeoutNow only after node 3 acknowledged the whole log');
    assert.deepEqual(net.member(3).values, ['a', 'b', 'c']);
  });

  test('the leader drops proposals while a transfer is in progress', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    net.isolate(3);
    net.node(1).transferLeader(3);
    assert.equal(net.status(1).leadTransferee, 3);
    assert.equal(net.propose(1, 'during'), false);
    assert.equal(net.propose(2, 'forwarded'), true, 'the follower cannot know');
    net.stabilize();
    assert.ok(!net.member(1).values.includes('forwarded'), 'the leader dropped the forwarded proposal too');
  });

  test('a transfer that does not finish within an election timeout is abandoned', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    net.isolate(3);
    net.node(1).transferLeader(3);
    net.tickAll(electionTicks - 1);
    assert.equal(net.status(1).leadTransferee, 3);
    net.tickAll(1);
    const status = net.status(1);
    assert.equal(status.leadTransferee, 0);
    assert.equal(status.role, Role.Leader);
    assert.equal(status.term, term);
    assert.equal(net.propose(1, 'after'), true);
    net.stabilize();
    assert.deepEqual(net.member(2).values, ['after']);
  });

  test('a follower forwards a transfer request to the leader', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    net.node(2).transferLeader(3);
    net.stabilize();
    assert.equal(net.leader(), 3);
  });

  test('a transfer to a learner, to the leader itself or to a stranger is ignored', () => {
    const net = new Network({ voters: [1, 2, 3], learners: [4] });
    const { term } = net.elect(1);
    for (const target of [4, 1, 9]) {
      net.node(1).transferLeader(target);
      net.stabilize();
      assert.equal(net.status(1).leadTransferee, 0, `target ${target}`);
      assert.equal(net.leader(), 1);
      assert.equal(net.status(1).term, term);
    }
    assert.equal(ofType(net.delivered, MessageType.TimeoutNow).length, 0);
  });
});
