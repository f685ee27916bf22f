// Log compaction and snapshots (§7): a follower behind the leader's compacted log is sent a snapshot,
// installs it and catches up; snapshots from deposed leaders or for old indexes are not installed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ConfState, EntryType, MessageType, type NodeId, Role, type Snapshot } from '../../src/raft/index.ts';
import { message } from '../../src/raft/message.ts';
import { Network, addLearner, bytes, ofType } from './_network.ts';

function progressOf(net: Network, leader: NodeId, follower: NodeId) {
  const progress = net.status(leader).progress?.get(follower);
  assert.ok(progress !== undefined);
  return progress;
}

function snapshotAt(index: number, term: number, confState: ConfState, values: string[] = []): Snapshot {
  return { metadata: { index, term, confState }, data: bytes(JSON.stringify(values)) };
}

function snapMessage(from: NodeId, to: NodeId, term: number, snapshot: Snapshot) {
  return message({ type: MessageType.Snap, from, to, term, snapshot });
}

/** Leader 1; node 3 misses ten entries, which the leader then compacts away, and two more after them. */
function behindCompaction(): { net: Network; snapshotIndex: number } {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.isolate(3);
  for (let i = 0; i < 10; i++) net.propose(1, `v${i}`);
  net.stabilize();
  const snapshot = net.compact(1);
  net.propose(1, 'after a');
  net.propose(1, 'after b');
  net.stabilize();
  assert.ok(net.member(1).storage.firstIndex() > net.status(3).lastIndex + 1, 'node 3 needs compacted entries');
  return { net, snapshotIndex: snapshot.metadata.index };
}

describe('catching up from a snapshot', () => {
  test('a follower behind the compacted log is sent the snapshot, installs it and catches up', () => {
    const { net, snapshotIndex } = behindCompaction();
    net.heal();
    const release = net.holdIf((m) => m.type === MessageType.Snap);
    net.tickAll(1);
    const snaps = ofType(net.queue, MessageType.Snap, (m) => m.to === 3);
    assert.equal(snaps.length, 1);
    assert.equal(snaps[0]!.snapshot?.metadata.index, snapshotIndex);
    assert.equal(progressOf(net, 1, 3).state, 'snapshot');
    release();
    net.stabilize();
    assert.equal(progressOf(net, 1, 3).state, 'replicate');
    assert.equal(net.member(3).storage.snapshot().metadata.index, snapshotIndex);
    assert.equal(net.status(3).lastIndex, net.status(1).lastIndex);
    assert.deepEqual(net.member(3).values, net.member(1).values);
    assert.equal(net.member(3).values.length, 12);
    net.propose(1, 'later');
    net.stabilize();
    assert.equal(net.member(3).values.at(-1), 'later');
  });

  test('a lost snapshot is reported by the transport and sent again', () => {
    const { net } = behindCompaction();
    net.heal();
    let dropOne = true;
    net.dropIf((m) => {
      if (m.type !== MessageType.Snap || !dropOne) return false;
      dropOne = false;
      return true;
    });
    net.tickAll(1);
    assert.equal(ofType(net.dropped, MessageType.Snap).length, 1);
    assert.equal(progressOf(net, 1, 3).state, 'probe', 'a failed snapshot report returns the follower to probe');
    net.tickAll(2);
    assert.equal(ofType(net.delivered, MessageType.Snap).length, 1);
    assert.deepEqual(net.member(3).values, net.member(1).values);
  });

  test('a member that joins later gets the founding snapshot first', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    net.propose(1, 'a');
    net.stabilize();
    net.addMember(4);
    assert.ok(net.node(1).proposeConfChange(addLearner(4)));
    // Bounded rounds rather than stabilize(): if the snapshot is refused, the leader resends it forever.
    for (let i = 0; i < 3; i++) {
      net.run(50);
      for (const id of net.aliveIds()) net.tick(id);
    }
    assert.ok(ofType(net.delivered, MessageType.Snap, (m) => m.to === 4).length >= 1);
    assert.equal(net.member(4).storage.snapshot().metadata.index, 1, 'the founding snapshot was installed');
    assert.ok(net.run(50), 'the cluster goes quiet');
    assert.deepEqual(net.member(4).values, ['a']);
    assert.deepEqual(net.status(4).confState.learners, [4]);
  });
});

describe('snapshots that must not be installed', () => {
  test('a snapshot from a deposed leader of an older term is ignored', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    const before = net.status(2);
    net.inject(snapMessage(3, 2, term - 1, snapshotAt(50, term - 1, before.confState, ['stale'])));
    net.processReady(2);
    assert.equal(net.member(2).readies.at(-1)?.snapshot ?? null, null);
    const after = net.status(2);
    assert.equal(after.lastIndex, before.lastIndex);
    assert.equal(after.term, term);
    assert.equal(after.lead, 1);
    assert.equal(net.member(2).storage.snapshot().metadata.index, 1);
  });

  test('a candidate that receives a snapshot of its own term becomes the sender\'s follower and installs it', () => {
    const net = new Network({ voters: [1, 2, 3], config: { preVote: false } });
    while (net.status(2).role === Role.Follower) net.tick(2);
    const { term, confState } = net.status(2);
    net.inject(snapMessage(3, 2, term, snapshotAt(20, term, confState, ['s'])));
    const status = net.status(2);
    assert.equal(status.role, Role.Follower);
    assert.equal(status.lead, 3);
    assert.equal(status.term, term);
    net.processReady(2);
    assert.equal(net.member(2).storage.snapshot().metadata.index, 20);
    assert.deepEqual(net.member(2).values, ['s']);
    const answers = ofType(net.queue, MessageType.AppResp, (m) => m.from === 2 && m.to === 3);
    assert.equal(answers.at(-1)?.index, 20);
  });

  test('a candidate ignores a snapshot from an older term and stays a candidate', () => {
    const net = new Network({ voters: [1, 2, 3], config: { preVote: false } });
    while (net.status(2).role === Role.Follower) net.tick(2);
    net.tick(2, 30);
    const { term, confState } = net.status(2);
    assert.ok(term >= 3);
    net.inject(snapMessage(3, 2, term - 1, snapshotAt(20, term - 1, confState)));
    assert.equal(net.status(2).role, Role.Candidate);
    assert.equal(net.status(2).term, term);
    net.processReady(2);
    assert.equal(net.member(2).storage.snapshot().metadata.index, 1);
  });

  test('a snapshot at or below the commit index is answered with the commit index and not installed', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    net.propose(1, 'a');
    net.stabilize();
    const { commit, confState } = net.status(2);
    net.inject(snapMessage(1, 2, term, snapshotAt(commit, term, confState, ['other'])));
    net.processReady(2);
    assert.equal(net.member(2).readies.at(-1)?.snapshot, null);
    assert.equal(ofType(net.queue, MessageType.AppResp, (m) => m.from === 2).at(-1)?.index, commit);
  });

  test('a snapshot of entries the follower already holds only advances its commit index', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const entries = [2, 3].map((index) => ({ index, term: 2, type: EntryType.Normal, data: bytes(`e${index}`) }));
    net.inject(message({ type: MessageType.App, from: 2, to: 1, term: 2, index: 1, logTerm: 1, entries, commit: 1 }));
    assert.equal(net.status(1).commit, 1);
    net.inject(snapMessage(2, 1, 2, snapshotAt(3, 2, net.status(1).confState, ['e2', 'e3'])));
    assert.equal(net.status(1).commit, 3);
    net.processReady(1);
    assert.equal(net.member(1).readies.at(-1)?.snapshot, null);
    assert.deepEqual(net.member(1).values, ['e2', 'e3'], 'applied from the log, not from the snapshot');
  });

  test('a snapshot that predates the node joining (its configuration does not list the node) is installed', () => {
    // A member added later is always sent a snapshot taken before its addition; later entries add it.
    const net = new Network({ voters: [1, 2, 3] });
    const { term } = net.elect(1);
    const confState = { ...net.status(2).confState, voters: [1, 3] };
    net.inject(snapMessage(1, 2, term, snapshotAt(40, term, confState)));
    net.processReady(2);
    assert.equal(net.member(2).readies.at(-1)?.snapshot?.metadata.index, 40);
    assert.equal(net.member(2).storage.snapshot().metadata.index, 40);
  });
});
