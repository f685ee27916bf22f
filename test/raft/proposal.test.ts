// Proposals: forwarding from followers, refusals (no leader, forwarding disabled, bounds).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../../src/raft/index.ts';
import { Network, ofType } from './_network.ts';

describe('proposals', () => {
  test('a follower forwards a proposal to the leader, which commits it', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    assert.equal(net.propose(3, 'via follower'), true);
    net.stabilize();
    assert.equal(ofType(net.delivered, MessageType.Prop, (m) => m.from === 3 && m.to === 1).length, 1);
    for (const id of [1, 2, 3]) assert.deepEqual(net.member(id).values, ['via follower'], `member ${id}`);
  });

  test('with disableProposalForwarding a follower refuses proposals', () => {
    const net = new Network({ voters: [1, 2, 3], config: { disableProposalForwarding: true } });
    net.elect(1);
    assert.equal(net.propose(2, 'x'), false);
    net.stabilize();
    assert.equal(ofType(net.delivered, MessageType.Prop).length, 0);
    assert.equal(net.propose(1, 'on the leader'), true, 'the leader still takes proposals');
  });

  test('with no leader known propose returns false', () => {
    const net = new Network({ voters: [1, 2, 3] });
    assert.equal(net.propose(1, 'x'), false);
    net.tick(1, 30);
    assert.notEqual(net.status(1).role, 'follower');
    assert.equal(net.propose(1, 'x'), false, 'a (pre-)candidate has no leader either');
  });

  test('a follower holds at most maxForwardedProposalEntries proposals per Ready', () => {
    const net = new Network({ voters: [1, 2, 3], config: { maxForwardedProposalEntries: 3 } });
    net.elect(1);
    for (const value of ['a', 'b', 'c']) assert.equal(net.propose(2, value), true);
    assert.equal(net.propose(2, 'd'), false);
    net.stabilize();
    assert.equal(net.propose(2, 'e'), true, 'room again after the buffer was forwarded');
    net.stabilize();
    assert.deepEqual(net.member(1).values, ['a', 'b', 'c', 'e']);
  });

  test('the leader refuses proposals beyond maxUncommittedEntriesBytes until entries commit', () => {
    const net = new Network({ voters: [1, 2, 3], config: { maxUncommittedEntriesBytes: 100 } });
    net.elect(1);
    net.isolate(2);
    net.isolate(3);
    const fifty = 'x'.repeat(50);
    assert.equal(net.propose(1, fifty), true);
    assert.equal(net.propose(1, fifty), true, 'exactly at the bound');
    assert.equal(net.propose(1, fifty), false);
    net.stabilize();
    assert.equal(net.propose(1, fifty), false, 'still uncommitted');
    net.heal();
    net.tickAll(1);
    assert.equal(net.member(1).values.length, 2);
    assert.equal(net.propose(1, fifty), true);
  });

  test('an oversized proposal is taken when nothing is uncommitted', () => {
    const net = new Network({ voters: [1, 2, 3], config: { maxUncommittedEntriesBytes: 10 } });
    net.elect(1);
    assert.equal(net.propose(1, 'y'.repeat(50)), true);
    assert.equal(net.propose(1, 'z'), false);
  });
});
