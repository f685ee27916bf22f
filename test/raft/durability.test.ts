// Durability: what counts toward a quorum must be on stable storage first. The leader's own append and a
// candidate's own vote come back as self-addressed messages in messagesAfterPersist, so they count only
// once the driver has persisted the Ready. Also: restarts from storage, and torn writes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, Role } from '../../src/raft/index.ts';
import { Network, ofType } from './_network.ts';

describe('the leader\'s own acknowledgement', () => {
  /** Leader 1 with node 3 cut off; proposes one entry and hands its Ready over unpersisted. */
  function proposeWithoutPersisting(net: Network) {
    net.elect(1);
    const before = net.status(1).commit;
    net.isolate(3);
    assert.ok(net.propose(1, 'a'));
    const ready = net.beginReady(1);
    assert.equal(ready.ready.entries.length, 1);
    // Node 2 receives the append, persists it and acknowledges.
    assert.equal(net.deliver((m) => m.type === MessageType.App && m.to === 2), 1);
    assert.ok(net.processReady(2));
    assert.equal(net.deliver((m) => m.type === MessageType.AppResp && m.from === 2), 1);
    return { ready, before };
  }

  test('the leader does not commit on one follower\'s ack while its own copy is not persisted', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { ready, before } = proposeWithoutPersisting(net);
    assert.equal(ofType(ready.ready.messagesAfterPersist, MessageType.AppResp, (m) => m.to === 1).length, 1, 'the self-ack waits for persist');
    assert.equal(net.status(1).commit, before, 'one follower and an unpersisted leader are not two of three');
    ready.persist();
    assert.equal(net.status(1).commit, before, 'persisted, but the self-ack has not been stepped back');
    ready.sendAfterPersist();
    assert.equal(net.status(1).commit, before + 1);
    ready.finish();
    net.stabilize();
    assert.deepEqual(net.member(1).values, ['a']);
  });

  test('with the ack-before-fsync bug the leader commits before its write is durable (the test above can fail)', () => {
    const net = new Network({ voters: [1, 2, 3], config: { bugs: ['ack-before-fsync'] } });
    const { ready, before } = proposeWithoutPersisting(net);
    assert.equal(net.status(1).commit, before + 1);
    ready.finish();
  });
});

test('a single-voter cluster commits through its own acknowledgement after persist', () => {
  const net = new Network({ voters: [1] });
  net.elect(1);
  assert.ok(net.propose(1, 'solo'));
  const ready = net.beginReady(1);
  const { commit } = net.status(1);
  ready.persist();
  assert.equal(net.status(1).commit, commit);
  ready.sendAfterPersist();
  assert.equal(net.status(1).commit, commit + 1);
  ready.finish();
  net.stabilize();
  assert.deepEqual(net.member(1).values, ['solo']);
});

describe('the candidate\'s own vote', () => {
  test('a candidate\'s vote for itself counts only after its term and vote are persisted', () => {
    const net = new Network({ voters: [1, 2, 3], config: { preVote: false } });
    while (net.status(1).role === Role.Follower) net.tick(1);
    const ready = net.beginReady(1);
    assert.equal(ready.ready.hardState?.vote, 1);
    assert.equal(ofType(ready.ready.messagesAfterPersist, MessageType.VoteResp, (m) => m.to === 1).length, 1);
    net.isolate(3);
    assert.equal(net.deliver((m) => m.type === MessageType.Vote && m.to === 2), 1);
    assert.ok(net.processReady(2));
    assert.equal(net.deliver((m) => m.type === MessageType.VoteResp && m.from === 2 && !m.reject), 1);
    assert.equal(net.status(1).role, Role.Candidate, 'one granted vote of three is no majority');
    ready.persist();
    assert.equal(net.member(1).storage.hardState().vote, 1);
    ready.sendAfterPersist();
    assert.equal(net.status(1).role, Role.Leader);
    ready.finish();
  });

  test('a pre-candidate\'s own pre-vote also waits for the Ready to be processed', () => {
    const net = new Network({ voters: [1, 2, 3] });
    while (net.status(1).role === Role.Follower) net.tick(1);
    assert.equal(net.status(1).role, Role.PreCandidate);
    net.isolate(3);
    const ready = net.beginReady(1);
    net.deliver((m) => m.type === MessageType.PreVote && m.to === 2);
    net.processReady(2);
    net.deliver((m) => m.type === MessageType.PreVoteResp && m.from === 2);
    assert.equal(net.status(1).role, Role.PreCandidate);
    ready.finish();
    assert.equal(net.status(1).role, Role.Candidate);
  });
});

describe('follower acknowledgements', () => {
  test('a follower acknowledges an append only after persisting its entries', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    net.propose(1, 'a');
    net.processReady(1);
    net.deliver((m) => m.type === MessageType.App && m.to === 2);
    const lastDurable = net.member(2).storage.lastIndex();
    const ready = net.beginReady(2);
    assert.equal(ofType(net.queue, MessageType.AppResp, (m) => m.from === 2).length, 0, 'not in Ready.messages');
    assert.equal(ofType(ready.ready.messagesAfterPersist, MessageType.AppResp).length, 1);
    ready.persist();
    assert.equal(net.member(2).storage.lastIndex(), lastDurable + 1);
    ready.sendAfterPersist();
    assert.equal(ofType(net.queue, MessageType.AppResp, (m) => m.from === 2).length, 1);
    ready.finish();
  });
});

describe('restart', () => {
  test('a node rebuilt from its storage keeps its term, vote, log and commit index', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    for (const value of ['a', 'b', 'c']) net.propose(1, value);
    net.stabilize();
    const before = net.status(2);
    net.crash(2);
    net.restart(2);
    const after = net.status(2);
    assert.equal(after.term, before.term);
    assert.equal(after.vote, before.vote);
    assert.equal(after.lastIndex, before.lastIndex);
    assert.equal(after.commit, before.commit);
    assert.equal(after.role, Role.Follower);
    assert.equal(after.lead, 0);
    net.stabilize();
    assert.deepEqual(net.member(2).values, ['a', 'b', 'c'], 'the committed entries are applied again');
  });

  test('a restarted leader comes back as a follower and rejoins', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    net.propose(1, 'a');
    net.stabilize();
    net.crash(1);
    net.restart(1);
    assert.equal(net.status(1).role, Role.Follower);
    assert.equal(net.status(1).term, term);
    net.waitForLeader();
    net.propose(net.leader()!, 'b');
    net.stabilize();
    net.tickAll(2);
    assert.deepEqual(net.member(1).values, ['a', 'b']);
  });

  test('after a torn write kept the entries but lost the hard state, the term rises to the last entry\'s term', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    net.propose(1, 'a');
    net.stabilize();
    const storage = net.member(2).storage;
    assert.equal(storage.allEntries().at(-1)?.term, term);
    storage.setHardState({ term: 1, vote: 1, commit: 1 });
    net.crash(2);
    net.restart(2);
    assert.equal(net.status(2).term, term);
    assert.equal(net.status(2).vote, 0, 'no vote in that term was durable');
    net.tickAll(2);
    assert.deepEqual(net.member(2).values, ['a']);
  });
});
