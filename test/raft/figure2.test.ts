// The rules of Figure 2 of the Raft paper (Ongaro & Ousterhout 2014), one behaviour per test. Most tests
// hand-craft the messages a node receives, so the rule under test is the only thing that can explain the
// outcome.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Entry, EntryType, type Message, MessageType, type NodeId, Role } from '../../src/raft/index.ts';
import { message } from '../../src/raft/message.ts';
import { Network, type NodeOptions, bytes, ofType } from './_network.ts';

const plain: NodeOptions = { preVote: false, checkQuorum: false };

function entry(index: number, term: number, value = `${index}@${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: bytes(value) };
}

function append(from: NodeId, to: NodeId, term: number, previous: [number, number], entries: Entry[], commit: number): Message {
  return message({ type: MessageType.App, from, to, term, index: previous[0], logTerm: previous[1], entries, commit });
}

function voteRequest(from: NodeId, to: NodeId, term: number, last: [number, number]): Message {
  return message({ type: MessageType.Vote, from, to, term, index: last[0], logTerm: last[1] });
}

/** Processes `id`'s Ready and returns (removing them from the queue) the messages it sent to `to`. */
function answersTo(net: Network, id: NodeId, to: NodeId): Message[] {
  net.processReady(id);
  return net.take((m) => m.from === id && m.to === to);
}

describe('terms', () => {
  test('a leader that sees a higher term in any message becomes a follower of that term', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    net.inject(message({ type: MessageType.AppResp, from: 3, to: 1, term: term + 5, index: 1 }));
    const status = net.status(1);
    assert.equal(status.role, Role.Follower);
    assert.equal(status.term, term + 5);
    assert.equal(status.lead, 0, 'an answer does not name a leader');
  });

  test('a follower that receives a heartbeat of a higher term adopts the term and the sender as leader', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    net.inject(message({ type: MessageType.Heartbeat, from: 3, to: 2, term: term + 1 }));
    assert.equal(net.status(2).term, term + 1);
    assert.equal(net.status(2).lead, 3);
  });

  test('a candidate that receives an append from a leader of its own term becomes its follower', () => {
    const net = new Network({ voters: [1, 2, 3], config: plain });
    net.tick(2, 30);
    const candidate = net.status(2);
    assert.equal(candidate.role, Role.Candidate);
    net.inject(append(3, 2, candidate.term, [1, 1], [], 1));
    assert.equal(net.status(2).role, Role.Follower);
    assert.equal(net.status(2).lead, 3);
    assert.equal(net.status(2).term, candidate.term);
  });

  test('a stale append is answered with the current term, so an old leader learns it was deposed', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    net.inject(append(3, 2, term - 1, [1, 1], [entry(2, term - 1)], 1));
    const answers = answersTo(net, 2, 3);
    assert.equal(answers.length, 1);
    assert.equal(answers[0]!.type, MessageType.AppResp);
    assert.equal(answers[0]!.term, term);
    assert.equal(net.status(2).lead, 1, 'the stale append changes nothing');
  });

  test('without pre-vote or check-quorum a stale append is ignored', () => {
    const net = new Network({ voters: [1, 2, 3], config: plain });
    const { term } = net.elect(1);
    const before = net.status(2).lastIndex;
    net.inject(append(3, 2, term - 1, [1, 1], [entry(2, term - 1)], 1));
    assert.deepEqual(answersTo(net, 2, 3), []);
    assert.equal(net.status(2).lastIndex, before);
  });

  test('a stale pre-vote request is rejected with the current term', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    net.inject(message({ type: MessageType.PreVote, from: 3, to: 2, term: term - 1, index: 99, logTerm: 99 }));
    const answers = answersTo(net, 2, 3);
    assert.equal(answers.length, 1);
    assert.equal(answers[0]!.type, MessageType.PreVoteResp);
    assert.equal(answers[0]!.reject, true);
    assert.equal(answers[0]!.term, term);
  });

  test('a stale vote request is ignored and does not change the vote', () => {
    const net = new Network({ voters: [1, 2, 3], config: plain });
    const { term } = net.elect(1);
    net.inject(voteRequest(3, 2, term - 1, [99, 99]));
    assert.deepEqual(answersTo(net, 2, 3), []);
    assert.equal(net.status(2).vote, 1);
    assert.equal(net.status(2).term, term);
  });
});

describe('votes', () => {
  test('a follower grants at most one vote per term', () => {
    const net = new Network({ voters: [1, 2, 3], config: plain });
    net.inject(voteRequest(2, 1, 2, [1, 1]));
    const first = answersTo(net, 1, 2);
    assert.equal(first.length, 1);
    assert.equal(first[0]!.reject, false);
    assert.equal(net.member(1).storage.hardState().vote, 2, 'the vote is durable before it is sent');

    net.inject(voteRequest(3, 1, 2, [1, 1]));
    const second = answersTo(net, 1, 3);
    assert.equal(second.length, 1);
    assert.equal(second[0]!.type, MessageType.VoteResp);
    assert.equal(second[0]!.reject, true, 'a second candidate of the same term is refused');

    net.inject(voteRequest(2, 1, 2, [1, 1]));
    assert.equal(answersTo(net, 1, 2)[0]?.reject, false, 'the same candidate asking again gets the same answer');
  });

  test('with the vote-twice bug a follower votes for two candidates in one term (the test above can fail)', () => {
    const net = new Network({ voters: [1, 2, 3], config: { ...plain, bugs: ['vote-twice'] } });
    net.inject(voteRequest(2, 1, 2, [1, 1]));
    net.inject(voteRequest(3, 1, 2, [1, 1]));
    net.processReady(1);
    const grants = ofType(net.queue, MessageType.VoteResp, (m) => !m.reject);
    assert.equal(grants.length, 2);
  });

  test('a vote is sent only after the vote is persisted', () => {
    const net = new Network({ voters: [1, 2, 3], config: plain });
    net.inject(voteRequest(2, 1, 2, [1, 1]));
    const ready = net.beginReady(1);
    assert.deepEqual(ofType(net.queue, MessageType.VoteResp), [], 'not in Ready.messages');
    assert.equal(ready.ready.hardState?.vote, 2);
    ready.persist();
    assert.equal(net.member(1).storage.hardState().vote, 2);
    ready.sendAfterPersist();
    assert.equal(ofType(net.queue, MessageType.VoteResp).length, 1);
    ready.finish();
  });

  describe('the up-to-date check (§5.4.1)', () => {
    /** Node 1 with the log 1@1 2@2 3@3 at term 3. */
    function withLog(options: NodeOptions = plain): Network {
      const net = new Network({ voters: [1, 2, 3], config: options });
      net.inject(append(2, 1, 3, [1, 1], [entry(2, 2), entry(3, 3)], 1));
      net.processReady(1);
      net.take();
      assert.equal(net.status(1).lastIndex, 3);
      return net;
    }

    function voteFor(net: Network, term: number, last: [number, number]): boolean {
      net.inject(voteRequest(3, 1, term, last));
      const answers = answersTo(net, 1, 3);
      assert.equal(answers.length, 1);
      return !answers[0]!.reject;
    }

    test('a follower rejects a vote for a candidate with a shorter log of the same last term', () => {
      assert.equal(voteFor(withLog(), 4, [2, 3]), false);
    });

    test('a follower rejects a candidate whose last term is lower, even with a longer log', () => {
      assert.equal(voteFor(withLog(), 4, [10, 2]), false);
    });

    test('a follower grants a candidate whose log ends at the same term and index', () => {
      assert.equal(voteFor(withLog(), 4, [3, 3]), true);
    });

    test('a follower grants a candidate whose last term is higher, even with a shorter log', () => {
      assert.equal(voteFor(withLog(), 4, [2, 4]), true);
    });

    test('with the vote-ignores-log bug the shorter log wins the vote (the tests above can fail)', () => {
      assert.equal(voteFor(withLog({ ...plain, bugs: ['vote-ignores-log'] }), 4, [10, 2]), true);
    });
  });
});

describe('AppendEntries', () => {
  test('a follower rejects an append whose previous index it does not have, hinting at its last index', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.inject(append(2, 1, 2, [5, 2], [entry(6, 2)], 1));
    const [answer] = answersTo(net, 1, 2);
    assert.equal(answer?.type, MessageType.AppResp);
    assert.equal(answer.reject, true);
    assert.equal(answer.index, 5);
    assert.equal(answer.rejectHint, 1);
    assert.equal(net.status(1).lastIndex, 1);
  });

  test('a follower rejects an append whose previous entry has another term', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.inject(append(2, 1, 3, [1, 1], [entry(2, 2), entry(3, 2)], 1));
    net.processReady(1);
    net.take();
    net.inject(append(2, 1, 3, [3, 3], [entry(4, 3)], 1));
    const [answer] = answersTo(net, 1, 2);
    assert.equal(answer?.reject, true);
    assert.equal(net.status(1).lastIndex, 3, 'nothing appended');
  });

  test('with the append-ignores-prev-term bug the mismatched append is accepted (the test above can fail)', () => {
    const net = new Network({ voters: [1, 2, 3], config: { bugs: ['append-ignores-prev-term'] } });
    net.inject(append(2, 1, 3, [1, 1], [entry(2, 2), entry(3, 2)], 1));
    net.inject(append(2, 1, 3, [3, 3], [entry(4, 3)], 1));
    assert.equal(net.status(1).lastIndex, 4);
  });

  test('a conflicting entry and everything after it are replaced by the leader\'s entries', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.inject(append(2, 1, 2, [1, 1], [entry(2, 2), entry(3, 2), entry(4, 2)], 1));
    net.processReady(1);
    net.take();
    net.inject(append(3, 1, 3, [2, 2], [entry(3, 3)], 2));
    const [answer] = answersTo(net, 1, 3);
    assert.equal(answer?.reject, false);
    assert.equal(answer.index, 3);
    assert.equal(net.status(1).lastIndex, 3);
    assert.equal(net.logTerms(1), '2@2 3@3', 'the durable log was truncated too');
  });

  test('an append of entries already held does not truncate the entries after them', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.inject(append(2, 1, 2, [1, 1], [entry(2, 2), entry(3, 2), entry(4, 2)], 1));
    net.inject(append(2, 1, 2, [1, 1], [entry(2, 2)], 1));
    assert.equal(net.status(1).lastIndex, 4);
    const answers = answersTo(net, 1, 2);
    assert.deepEqual(answers.map((m) => m.index), [4, 2], 'each append is acknowledged up to its own last entry');
  });

  test('the follower commits min(leader commit, index of the last new entry)', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.inject(append(2, 1, 2, [1, 1], [entry(2, 2), entry(3, 2)], 10));
    assert.equal(net.status(1).commit, 3, 'capped by the last new entry');

    const later = new Network({ voters: [1, 2, 3] });
    later.inject(append(2, 1, 2, [1, 1], [entry(2, 2), entry(3, 2), entry(4, 2), entry(5, 2)], 1));
    later.inject(append(2, 1, 2, [1, 1], [entry(2, 2)], 5));
    assert.equal(later.status(1).commit, 2, 'entries after this append\'s last new entry are not committed by it');
    later.inject(append(2, 1, 2, [2, 2], [entry(3, 2), entry(4, 2)], 5));
    assert.equal(later.status(1).commit, 4);
  });

  test('an append below the commit index is answered with the commit index', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.inject(append(2, 1, 2, [1, 1], [entry(2, 2), entry(3, 2)], 3));
    net.processReady(1);
    net.take();
    net.inject(append(2, 1, 2, [1, 1], [entry(2, 2)], 3));
    const [answer] = answersTo(net, 1, 2);
    assert.equal(answer?.reject, false);
    assert.equal(answer.index, 3);
  });
});

describe('the leader', () => {
  test('a leader never overwrites or deletes its entries, even when sent an append of its own term', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    net.propose(1, 'a');
    net.stabilize();
    const before = net.logTerms(1);
    const lastIndex = net.status(1).lastIndex;
    net.inject(append(2, 1, term, [1, 1], [entry(2, term, 'other')], 0));
    net.stabilize();
    assert.equal(net.status(1).role, Role.Leader);
    assert.equal(net.status(1).lastIndex, lastIndex);
    assert.equal(net.logTerms(1), before);
  });

  test('a new leader keeps the entries of earlier terms and appends its empty entry after them', () => {
    const net = new Network({ voters: [1, 2, 3], config: plain });
    const { term } = net.elect(1);
    net.dropIf((m) => m.type === MessageType.App && m.to === 3);
    net.propose(1, 'x');
    net.stabilize();
    net.crash(1);
    const before = net.member(2).storage.allEntries().map((e) => `${e.index}@${e.term}`);
    const elected = net.elect(2);
    assert.ok(elected.term > term);
    const after = net.member(2).storage.allEntries();
    assert.deepEqual(after.slice(0, before.length).map((e) => `${e.index}@${e.term}`), before);
    const last = after[after.length - 1]!;
    assert.equal(last.index, net.status(2).lastIndex);
    assert.equal(last.index, after[before.length - 1]!.index + 1, 'right after the earlier entries');
    assert.equal(last.term, elected.term);
    assert.equal(last.data.length, 0);
  });
});

test('followers apply committed entries in log order, at most maxCommittedSizePerReadyBytes per Ready', () => {
  // An entry counts for its data plus 16 bytes: three-byte values make 19 bytes, so two fit in 40.
  const net = new Network({ voters: [1, 2, 3], config: { maxCommittedSizePerReadyBytes: 40 } });
  net.elect(1);
  const values = Array.from({ length: 20 }, (_, i) => `v${String(i).padStart(2, '0')}`);
  for (const value of values) assert.ok(net.propose(1, value));
  net.stabilize();
  for (const id of [1, 2, 3]) {
    const member = net.member(id);
    assert.deepEqual(member.values, values, `member ${id}`);
    assert.ok(Math.max(...member.committedPerReady) <= 2, `member ${id} got ${Math.max(...member.committedPerReady)} entries in one Ready`);
  }
});
