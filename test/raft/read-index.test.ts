// Linearizable reads (Raft thesis §6.4): ReadIndex confirmed by a heartbeat quorum, queued on a new
// leader until it commits an entry of its term, forwarded from followers; and lease-based reads
// (§6.4.1) computed from heartbeat echoes, with a margin, revoked by a TimeoutNow.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, ReadOnlyOption, Role } from '../../src/raft/index.ts';
import { FixedRandom, Network, bytes, ofType, text } from './_network.ts';

const electionTicks = 10;

describe('safe reads', () => {
  test('a read is answered with the commit index once a heartbeat quorum confirms the leader', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    assert.ok(net.node(1).readIndex(bytes('r1')));
    net.processReady(1);
    const heartbeats = ofType(net.queue, MessageType.Heartbeat, (m) => m.context !== null && text(m.context) === 'r1');
    assert.equal(heartbeats.length, 2);
    assert.deepEqual(net.member(1).readStates, [], 'not before the confirmation');
    net.isolate(3);
    net.stabilize();
    const [read] = net.member(1).readStates;
    assert.equal(read?.index, net.status(1).commit);
    assert.equal(text(read.requestContext), 'r1');
  });

  test('an isolated leader answers no read', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    net.isolate(1);
    assert.ok(net.node(1).readIndex(bytes('r1')));
    net.tickAll(electionTicks - 1);
    assert.equal(net.status(1).role, Role.Leader);
    assert.deepEqual(net.member(1).readStates, []);
  });

  test('with the read-without-quorum bug the isolated leader answers at once (the test above can fail)', () => {
    const net = new Network({ voters: [1, 2, 3], configFor: (id) => (id === 1 ? { bugs: ['read-without-quorum'] } : {}) });
    net.elect(1);
    net.isolate(1);
    net.node(1).readIndex(bytes('r1'));
    net.stabilize();
    assert.equal(net.member(1).readStates.length, 1);
  });

  test('a new leader holds reads until it has committed an entry of its own term', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const release = net.holdIf((m) => m.type === MessageType.App && m.from === 1);
    net.campaign(1);
    const { commit, lastIndex } = net.status(1);
    assert.equal(net.status(1).role, Role.Leader);
    assert.ok(commit < lastIndex, 'the empty entry of the new term is not committed yet');
    assert.ok(net.node(1).readIndex(bytes('early')));
    net.tickAll(2);
    assert.deepEqual(net.member(1).readStates, [], 'heartbeats alone do not release it');
    release();
    net.stabilize();
    const [read] = net.member(1).readStates;
    assert.equal(read?.index, lastIndex, 'the read point is at least the new term\'s first entry, not the old commit index');
    assert.equal(text(read.requestContext), 'early');
  });

  test('a follower\'s read is forwarded to the leader and answered with a ReadIndexResp', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    net.propose(1, 'a');
    net.stabilize();
    assert.ok(net.node(2).readIndex(bytes('f1')));
    net.stabilize();
    assert.equal(ofType(net.delivered, MessageType.ReadIndex, (m) => m.from === 2 && m.to === 1).length, 1);
    assert.equal(ofType(net.delivered, MessageType.ReadIndexResp, (m) => m.from === 1 && m.to === 2).length, 1);
    const [read] = net.member(2).readStates;
    assert.equal(read?.index, net.status(1).commit);
    assert.equal(text(read.requestContext), 'f1');
    assert.deepEqual(net.member(1).readStates, [], 'the leader does not answer it locally');
  });

  test('a node that knows no leader refuses a read', () => {
    const net = new Network({ voters: [1, 2, 3] });
    assert.equal(net.node(1).readIndex(bytes('r')), false);
  });

  test('the leader refuses reads beyond maxPendingReadIndexRequests', () => {
    const net = new Network({ voters: [1, 2, 3], config: { maxPendingReadIndexRequests: 1 } });
    net.elect(1);
    assert.equal(net.node(1).readIndex(bytes('r1')), true);
    assert.equal(net.node(1).readIndex(bytes('r2')), false);
    net.stabilize();
    assert.equal(net.node(1).readIndex(bytes('r3')), true, 'room again once the first is answered');
  });
});

describe('lease-based reads', () => {
  function leaseCluster(leaseMarginTicks = 2): Network {
    const net = new Network({
      voters: [1, 2, 3], config: { readOnlyOption: ReadOnlyOption.LeaseBased, leaseMarginTicks },
      randomFor: (id) => new FixedRandom(id === 1 ? 0 : electionTicks - 1),
    });
    assert.equal(net.waitForLeader(), 1);
    return net;
  }

  test('a lease is not valid before a quorum has echoed a heartbeat of this term', () => {
    const net = leaseCluster();
    assert.equal(net.node(1).leaseValid(), false);
    net.tickAll(1);
    assert.equal(net.node(1).leaseValid(), true);
  });

  test('right after heartbeat acknowledgements a read is answered locally, with no heartbeat round', () => {
    const net = leaseCluster();
    net.tickAll(1);
    assert.ok(net.node(1).readIndex(bytes('l1')));
    net.processReady(1);
    const [read] = net.member(1).readStates;
    assert.equal(read?.index, net.status(1).commit);
    assert.equal(ofType(net.queue, MessageType.Heartbeat, (m) => m.context !== null).length, 0);
  });

  for (const margin of [1, 2, 4]) {
    test(`the lease expires electionTicks - leaseMarginTicks ticks after the acknowledged heartbeat (margin ${margin})`, () => {
      const net = leaseCluster(margin);
      net.tickAll(1);
      net.isolate(1);
      for (let tick = 1; tick < electionTicks - margin; tick++) {
        net.tick(1);
        assert.equal(net.node(1).leaseValid(), true, `${tick} ticks after the heartbeat`);
      }
      net.tick(1);
      assert.equal(net.status(1).role, Role.Leader);
      assert.equal(net.node(1).leaseValid(), false, `${electionTicks - margin} ticks after the heartbeat`);
      assert.ok(net.node(1).readIndex(bytes('late')));
      net.stabilize();
      assert.deepEqual(net.member(1).readStates, [], 'an expired lease falls back to a heartbeat round, which cannot complete');
    });
  }

  test('a leader that sent TimeoutNow gives up its lease for the rest of the term', () => {
    const net = leaseCluster();
    net.tickAll(1);
    assert.equal(net.node(1).leaseValid(), true);
    net.dropIf((m) => m.type === MessageType.TimeoutNow);
    net.node(1).transferLeader(2);
    net.stabilize();
    assert.equal(ofType(net.dropped, MessageType.TimeoutNow).length, 1);
    assert.equal(net.node(1).leaseValid(), false);
    net.tickAll(electionTicks + 1);
    const status = net.status(1);
    assert.equal(status.role, Role.Leader);
    assert.equal(status.leadTransferee, 0, 'the transfer was abandoned');
    assert.equal(net.node(1).leaseValid(), false, 'still revoked: the transferee may be campaigning');
    assert.ok(net.node(1).readIndex(bytes('after')));
    net.processReady(1);
    assert.deepEqual(net.member(1).readStates, [], 'not answered locally');
    net.stabilize();
    assert.equal(net.member(1).readStates.length, 1, 'answered after a heartbeat round');
  });
});
