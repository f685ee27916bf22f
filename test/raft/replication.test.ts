// Log replication and flow control: progress states (probe, replicate), inflight limits, message size
// limits, fast backtracking, and batching of proposals into one append per follower.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Message, MessageType, type NodeId } from '../../src/raft/index.ts';
import { entrySizeBytes } from '../../src/raft/storage.ts';
import { Network, ofType, text } from './_network.ts';

const electionTicks = 10;

function progressOf(net: Network, leader: NodeId, follower: NodeId) {
  const progress = net.status(leader).progress?.get(follower);
  assert.ok(progress !== undefined, `no progress for ${follower} on ${leader}`);
  return progress;
}

const appendsTo = (to: NodeId) => (m: Message) => m.type === MessageType.App && m.to === to;
/** Appends that carry entries (the leader also sends empty ones to move a follower's commit index). */
const entryAppendsTo = (to: NodeId) => (m: Message) => m.type === MessageType.App && m.to === to && m.entries.length > 0;

describe('progress states', () => {
  test('a follower is probed after an election and replicated to once it acknowledges', () => {
    const net = new Network({ voters: [1, 2, 3] });
    const release = net.holdIf((m) => m.type === MessageType.AppResp && m.from === 2);
    net.elect(1);
    assert.equal(progressOf(net, 1, 2).state, 'probe');
    assert.equal(progressOf(net, 1, 3).state, 'replicate');
    release();
    net.stabilize();
    assert.equal(progressOf(net, 1, 2).state, 'replicate');
    assert.equal(progressOf(net, 1, 2).match, net.status(1).lastIndex);
  });

  test('a follower that missed an append rejects the next one and the leader falls back to probe', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    const release = net.holdIf(appendsTo(2));
    net.propose(1, 'a');
    net.stabilize();
    net.propose(1, 'b');
    net.stabilize();
    const [, second] = net.take(appendsTo(2));
    assert.ok(second !== undefined);
    release();
    net.inject(second);
    net.processReady(2);
    assert.equal(net.deliver((m) => m.type === MessageType.AppResp && m.from === 2 && m.reject), 1);
    assert.equal(progressOf(net, 1, 2).state, 'probe');
    net.stabilize();
    assert.equal(progressOf(net, 1, 2).state, 'replicate');
    assert.deepEqual(net.member(2).values, ['a', 'b']);
  });

  test('in probe the leader sends one append and waits for an answer or the next heartbeat', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    net.node(1).reportUnreachable(2);
    assert.equal(progressOf(net, 1, 2).state, 'probe');
    const release = net.holdIf(appendsTo(2));
    for (const value of ['a', 'b', 'c']) {
      net.propose(1, value);
      net.stabilize();
    }
    assert.equal(ofType(net.queue, MessageType.App, (m) => m.to === 2).length, 1, net.describeQueue());
    assert.equal(net.status(1).commit, net.status(1).lastIndex, 'node 3 keeps the cluster committing');
    net.tickAll(1);
    assert.equal(ofType(net.queue, MessageType.App, (m) => m.to === 2).length, 2, 'the heartbeat answer unpauses the probe');
    release();
    net.stabilize();
    assert.deepEqual(net.member(2).values, ['a', 'b', 'c']);
    assert.equal(progressOf(net, 1, 2).state, 'replicate');
  });
});

describe('flow control', () => {
  test('maxInflightMsgs pauses appends to a follower, and an acknowledgement resumes them', () => {
    const net = new Network({ voters: [1, 2, 3], config: { maxInflightMsgs: 2 } });
    net.elect(1);
    const release = net.holdIf(appendsTo(2));
    for (const value of ['a', 'b', 'c', 'd']) {
      net.propose(1, value);
      net.stabilize();
    }
    const held = net.queue.filter(entryAppendsTo(2));
    assert.equal(held.length, 2, 'two appends in flight, the rest wait');
    assert.equal(progressOf(net, 1, 2).inflightCount, 2);

    const [first] = net.take((m) => m === held[0]);
    net.inject(first!);
    net.stabilize();
    const after = net.queue.filter(entryAppendsTo(2));
    assert.equal(after.length, 2, 'the acknowledgement freed one slot');
    assert.deepEqual(after[1]!.entries.map((e) => text(e.data)), ['c', 'd'], 'the third append carries everything not yet sent');
    release();
    net.stabilize();
    assert.deepEqual(net.member(2).values, ['a', 'b', 'c', 'd']);
  });

  test('maxInflightBytes pauses appends once the bytes in flight reach it', () => {
    const big = 'x'.repeat(100);
    const net = new Network({ voters: [1, 2, 3], config: { maxSizePerMsgBytes: 100, maxInflightBytes: 100 } });
    net.elect(1);
    const release = net.holdIf(appendsTo(2));
    for (let i = 0; i < 3; i++) {
      net.propose(1, big);
      net.stabilize();
    }
    assert.equal(net.queue.filter(entryAppendsTo(2)).length, 1);
    release();
    net.stabilize();
    assert.equal(net.member(2).values.length, 3);
  });

  test('maxSizePerMsgBytes splits entries over several appends, but an oversized entry still goes alone', () => {
    // Fifty-byte values count 66 bytes each, so two fit in 150.
    const net = new Network({ voters: [1, 2, 3], config: { maxSizePerMsgBytes: 150 } });
    net.elect(1);
    const start = net.delivered.length;
    const values = Array.from({ length: 10 }, (_, i) => String(i).repeat(50));
    values.push('y'.repeat(400));
    for (const value of values) net.propose(1, value);
    net.stabilize();
    const appends = ofType(net.delivered.slice(start), MessageType.App, (m) => m.to === 2 && m.entries.length > 0);
    for (const m of appends) {
      const size = m.entries.reduce((sum, entry) => sum + entrySizeBytes(entry), 0);
      assert.ok(m.entries.length === 1 || size <= 150, `an append of ${m.entries.length} entries, ${size} bytes`);
    }
    assert.ok(appends.length >= 6);
    assert.equal(appends[appends.length - 1]!.entries.length, 1);
    assert.deepEqual(net.member(2).values, values);
  });

  test('a follower whose in-flight appends were all lost catches up after heartbeats', () => {
    const net = new Network({ voters: [1, 2, 3], config: { maxInflightMsgs: 2 } });
    net.elect(1);
    const stop = net.dropIf(appendsTo(2));
    for (const value of ['a', 'b', 'c']) {
      net.propose(1, value);
      net.stabilize();
    }
    stop();
    net.tickAll(3 * electionTicks);
    assert.equal(net.status(2).lastIndex, net.status(1).lastIndex, `progress of 2: ${JSON.stringify(progressOf(net, 1, 2))}`);
    assert.deepEqual(net.member(2).values, ['a', 'b', 'c']);
  });
});

test('fast backtracking finds the match point of a long divergent tail in one rejection', () => {
  const net = new Network({ voters: [1, 2, 3], config: { preVote: false, checkQuorum: false } });
  net.elect(1);
  // Node 1 leads alone and collects 50 entries nobody else has.
  net.isolate(1);
  for (let i = 0; i < 50; i++) net.propose(1, `stale ${i}`);
  net.stabilize();
  // Nodes 2 and 3 move on with 50 entries of a later term, then node 3 leads with node 1's next index
  // optimistically at its own last index.
  net.elect(2);
  for (let i = 0; i < 50; i++) net.propose(2, `fresh ${i}`);
  net.stabilize();
  net.elect(3);
  assert.ok(net.status(1).lastIndex >= 50);
  net.heal();
  const start = net.delivered.length;
  net.tickAll(2);
  const rejections = ofType(net.delivered.slice(start), MessageType.AppResp, (m) => m.from === 1 && m.reject);
  assert.ok(rejections.length >= 1 && rejections.length <= 2, `${rejections.length} rejections`);
  assert.equal(net.logTerms(1), net.logTerms(3));
  assert.equal(net.member(1).values.length, 50);
  assert.ok(net.member(1).values.every((value) => value.startsWith('fresh')));
});

describe('batching', () => {
  test('many proposals before one ready() make one append per follower and one write', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    for (let i = 0; i < 50; i++) assert.ok(net.propose(1, `v${i}`));
    const ready = net.beginReady(1);
    assert.equal(ready.ready.entries.length, 50);
    for (const follower of [2, 3]) {
      const appends = ofType(net.queue, MessageType.App, (m) => m.to === follower);
      assert.equal(appends.length, 1, `to ${follower}`);
      assert.equal(appends[0]!.entries.length, 50);
    }
    ready.finish();
    net.stabilize();
    assert.equal(net.member(3).values.length, 50);
  });

  test('a follower forwards many proposals in one message', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    for (let i = 0; i < 20; i++) assert.ok(net.propose(2, `v${i}`));
    net.processReady(2);
    const forwarded = ofType(net.queue, MessageType.Prop);
    assert.equal(forwarded.length, 1);
    assert.equal(forwarded[0]!.entries.length, 20);
    net.stabilize();
    assert.equal(net.member(1).values.length, 20);
  });
});
