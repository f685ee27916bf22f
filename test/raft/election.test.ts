// Elections: randomized timeouts (§5.2), pre-vote (thesis §9.6), check-quorum, and the leader lease that
// makes voters ignore vote requests while they hear from a leader (thesis §6.4.1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Message, MessageType, type NodeId, ReadOnlyOption, Role } from '../../src/raft/index.ts';
import { message, transferContext } from '../../src/raft/message.ts';
import { FixedRandom, Network, SeededRandom, ofType } from './_network.ts';

const electionTicks = 10;

/** Ticks `id` alone until it leaves the follower role; returns how many ticks it took. */
function ticksUntilCampaign(net: Network, id: NodeId): number {
  let ticks = 0;
  while (net.status(id).role === Role.Follower) {
    net.tick(id);
    ticks++;
    assert.ok(ticks <= 10 * electionTicks, 'never campaigned');
  }
  return ticks;
}

function voteRequest(from: NodeId, to: NodeId, term: number, options: { transfer?: boolean } = {}): Message {
  return message({ type: MessageType.Vote, from, to, term, index: 1000, logTerm: 1000, context: options.transfer === true ? transferContext : null });
}

/** Steps a vote request into `to` and returns its answer, or undefined if it ignored the request. */
function askVote(net: Network, request: Message): Message | undefined {
  net.inject(request);
  net.processReady(request.to);
  const answers = net.take((m) => m.type === MessageType.VoteResp && m.from === request.to && m.to === request.from);
  assert.ok(answers.length <= 1);
  return answers[0];
}

describe('randomized election timeouts', () => {
  test('a follower campaigns after electionTicks plus a draw from [0, electionTicks) ticks', () => {
    for (const offset of [0, 3, electionTicks - 1]) {
      const random = new FixedRandom(offset);
      const net = new Network({ voters: [1, 2, 3], randomFor: (id) => (id === 1 ? random : new FixedRandom(0)) });
      assert.equal(ticksUntilCampaign(net, 1), electionTicks + offset, `offset ${offset}`);
      assert.ok(random.bounds.length > 0 && random.bounds.every((bound) => bound === electionTicks), `bounds ${random.bounds.join(',')}`);
    }
  });

  test('seeded timeouts fall in [electionTicks, 2 × electionTicks) and are spread out', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const net = new Network({ voters: [1, 2, 3], randomFor: () => new SeededRandom(seed) });
      const ticks = ticksUntilCampaign(net, 1);
      assert.ok(ticks >= electionTicks && ticks < 2 * electionTicks, `seed ${seed}: ${ticks} ticks`);
      seen.add(ticks);
    }
    assert.ok(seen.size >= 5, `only ${seen.size} distinct timeouts`);
  });
});

describe('pre-vote', () => {
  test('a partitioned node does not raise its term, so it does not disrupt the cluster when it rejoins', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    net.isolate(3);
    net.tickAll(5 * electionTicks);
    assert.equal(net.status(3).term, term, 'pre-vote rounds do not change the term');
    assert.ok(ofType(net.dropped, MessageType.PreVote, (m) => m.from === 3).length > 0, 'node 3 did try');
    net.heal();
    net.tickAll(3);
    assert.equal(net.leader(), 1);
    assert.equal(net.status(1).term, term);
    assert.equal(net.status(3).role, Role.Follower);
    assert.equal(net.status(3).lead, 1);
  });

  test('without pre-vote the same partitioned node raises its term and deposes the leader on rejoining', () => {
    const net = new Network({ voters: [1, 2, 3], config: { preVote: false, checkQuorum: false } });
    const { term } = net.elect(1);
    net.isolate(3);
    net.tickAll(5 * electionTicks);
    assert.ok(net.status(3).term > term);
    net.heal();
    net.tickAll(3 * electionTicks);
    assert.ok(net.status(1).term > term + 1, 'the cluster moved to node 3\'s term or beyond');
  });

  test('granting a pre-vote changes neither the voter\'s term nor its vote', () => {
    const net = new Network({ voters: [1, 2, 3], randomFor: () => new FixedRandom(electionTicks - 1) });
    const { term } = net.elect(1);
    net.tick(2, electionTicks);
    net.inject(message({ type: MessageType.PreVote, from: 3, to: 2, term: term + 1, index: 1000, logTerm: 1000 }));
    net.processReady(2);
    const [answer] = net.take((m) => m.type === MessageType.PreVoteResp && m.from === 2);
    assert.equal(answer?.reject, false);
    assert.equal(answer.term, term + 1, 'the answer carries the pre-vote\'s term');
    assert.equal(net.status(2).term, term);
    assert.equal(net.status(2).vote, 1);
    assert.equal(net.member(2).storage.hardState().term, term);
  });

  test('a pre-candidate whose pre-votes are all refused goes back to follower at the same term', () => {
    const net = new Network({ voters: [1, 2, 3], randomFor: () => new FixedRandom(electionTicks - 1) });
    const { term } = net.elect(1);
    net.isolate(3);
    net.propose(1, 'a');
    net.stabilize();
    net.heal();
    // No leader and no lease anywhere: node 1 restarted (safe reads), node 2 waited an election timeout.
    net.crash(1);
    net.restart(1);
    net.tick(2, electionTicks);
    net.campaign(3);
    const refusals = ofType(net.delivered, MessageType.PreVoteResp, (m) => m.to === 3 && m.reject);
    assert.equal(refusals.length, 2, 'node 3 lacks a committed entry');
    assert.equal(net.status(3).role, Role.Follower);
    assert.equal(net.status(3).term, term);
    assert.equal(net.status(2).term, term);
  });
});

describe('check-quorum', () => {
  test('an isolated leader steps down within two election timeouts', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    net.isolate(1);
    net.tick(1, electionTicks);
    net.stabilize();
    assert.equal(net.status(1).role, Role.Leader, 'the first check still sees the acknowledgements of the election');
    net.tick(1, electionTicks);
    net.stabilize();
    assert.equal(net.status(1).role, Role.Follower);
    assert.equal(net.status(1).lead, 0);
  });

  test('a leader that hears from a quorum stays leader', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    net.isolate(3);
    net.tickAll(5 * electionTicks);
    assert.equal(net.status(1).role, Role.Leader);
    assert.equal(net.status(1).term, term);
  });

  test('without check-quorum an isolated leader keeps leading (the test above can fail)', () => {
    const net = new Network({ voters: [1, 2, 3], config: { checkQuorum: false } });
    net.elect(1);
    net.isolate(1);
    net.tick(1, 5 * electionTicks);
    assert.equal(net.status(1).role, Role.Leader);
  });
});

describe('the leader lease on votes', () => {
  // Timeouts of 2 × electionTicks - 1 for everyone: ticking a follower electionTicks times takes it out of
  // the lease without making it campaign.
  const slow = () => new FixedRandom(electionTicks - 1);

  test('a follower that heard from the leader within the election timeout ignores a higher-term vote request', () => {
    const net = new Network({ voters: [1, 2, 3], randomFor: slow });
    const { term } = net.elect(1);
    assert.equal(askVote(net, voteRequest(3, 2, term + 1)), undefined);
    assert.equal(net.status(2).term, term);
    assert.equal(net.status(2).lead, 1);

    net.tick(2, electionTicks);
    const answer = askVote(net, voteRequest(3, 2, term + 1));
    assert.equal(answer?.reject, false, 'after an election timeout without the leader the vote is granted');
    assert.equal(net.status(2).term, term + 1);
  });

  test('a vote request from a leadership transfer bypasses the lease', () => {
    const net = new Network({ voters: [1, 2, 3], randomFor: slow });
    const { term } = net.elect(1);
    const answer = askVote(net, voteRequest(3, 2, term + 1, { transfer: true }));
    assert.equal(answer?.reject, false);
    assert.equal(net.status(2).vote, 3);
  });

  test('the transferee of a TimeoutNow wins although every voter heard from the leader just now', () => {
    const net = new Network({ voters: [1, 2, 3], randomFor: slow });
    const { term } = net.elect(1);
    net.tickAll(1);
    net.node(1).transferLeader(3);
    net.stabilize();
    assert.equal(net.leader(), 3);
    assert.equal(net.status(3).term, term + 1);
    assert.ok(ofType(net.delivered, MessageType.VoteResp, (m) => m.from === 2 && m.to === 3 && !m.reject).length === 1);
  });

  test('with lease reads a restarted node refuses votes for one election timeout', () => {
    const net = new Network({
      voters: [1, 2, 3], config: { readOnlyOption: ReadOnlyOption.LeaseBased },
      randomFor: (id) => new FixedRandom(id === 1 ? 0 : electionTicks - 1),
    });
    assert.equal(net.waitForLeader(), 1);
    const { term } = net.status(1);
    net.crash(2);
    net.restart(2);
    assert.equal(net.status(2).lead, 0, 'a restarted node knows no leader');
    assert.equal(askVote(net, voteRequest(3, 2, term + 1)), undefined);
    net.tick(2, electionTicks - 1);
    assert.equal(askVote(net, voteRequest(3, 2, term + 1)), undefined);
    net.tick(2, 1);
    assert.equal(askVote(net, voteRequest(3, 2, term + 1))?.reject, false);
  });

  test('with safe reads a restarted node votes at once', () => {
    const net = new Network({ voters: [1, 2, 3], randomFor: (id) => new FixedRandom(id === 1 ? 0 : electionTicks - 1) });
    assert.equal(net.waitForLeader(), 1);
    const { term } = net.status(1);
    net.crash(2);
    net.restart(2);
    assert.equal(askVote(net, voteRequest(3, 2, term + 1))?.reject, false);
  });
});
