// coalesceMessages: what one Ready says twice to a peer leaves as one message (the member's driver and the
// simulator send every Ready through it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Entry, EntryType, type Message, MessageType, coalesceMessages } from '../../src/raft/index.ts';
import { message } from '../../src/raft/message.ts';
import { Network, bytes, text } from './_network.ts';

const entry = (index: number, term: number, data = `e${index}`): Entry => ({ index, term, type: EntryType.Normal, data: bytes(data) });
const append = (to: number, index: number, logTerm: number, entries: Entry[], commit: number, term = 2): Message =>
  message({ type: MessageType.App, from: 1, to, term, index, logTerm, entries, commit });
const ack = (index: number, reject = false, term = 2): Message => message({ type: MessageType.AppResp, from: 2, to: 1, term, index, reject });
const indexes = (m: Message): number[] => m.entries.map((e) => e.index);

describe('coalescing appends', () => {
  test('an empty append (a commit index moving) and the next one with entries become one', () => {
    const out = coalesceMessages([append(2, 5, 2, [], 4), append(2, 5, 2, [entry(6, 2), entry(7, 2)], 5)], 1 << 20);
    assert.equal(out.length, 1);
    assert.deepEqual([out[0]!.index, out[0]!.logTerm, out[0]!.commit, indexes(out[0]!)], [5, 2, 5, [6, 7]]);
  });

  test('entries then an empty append: the entries with the later commit index', () => {
    const out = coalesceMessages([append(2, 5, 2, [entry(6, 2)], 4), append(2, 6, 2, [], 6)], 1 << 20);
    assert.equal(out.length, 1);
    assert.deepEqual([out[0]!.index, out[0]!.commit, indexes(out[0]!)], [5, 6, [6]]);
  });

  test('two runs of entries join when they continue each other and fit the size limit', () => {
    const first = append(2, 5, 2, [entry(6, 2)], 5);
    const second = append(2, 6, 2, [entry(7, 2)], 5);
    assert.deepEqual(indexes(coalesceMessages([first, second], 1 << 20)[0]!), [6, 7]);
    const oneEntryBytes = 2 + 16;
    assert.equal(coalesceMessages([first, second], 2 * oneEntryBytes).length, 1);
    assert.equal(coalesceMessages([first, second], 2 * oneEntryBytes - 1).length, 2, 'over the limit they stay apart');
  });

  test('appends that do not continue each other stay apart', () => {
    assert.equal(coalesceMessages([append(2, 5, 2, [entry(6, 2)], 5), append(2, 7, 2, [entry(8, 2)], 5)], 1 << 20).length, 2, 'a gap');
    assert.equal(coalesceMessages([append(2, 5, 2, [entry(6, 2)], 5), append(2, 6, 1, [entry(7, 2)], 5)], 1 << 20).length, 2, 'another term at the joint');
    assert.equal(coalesceMessages([append(2, 5, 2, [], 5, 2), append(2, 5, 2, [entry(6, 3)], 5, 3)], 1 << 20).length, 2, 'another leader term');
  });

  test('another message to the same peer in between keeps them apart; one to another peer does not', () => {
    const heartbeat = message({ type: MessageType.Heartbeat, from: 1, to: 2, term: 2 });
    assert.equal(coalesceMessages([append(2, 5, 2, [], 5), heartbeat, append(2, 5, 2, [entry(6, 2)], 5)], 1 << 20).length, 3);
    const toThree = append(3, 5, 2, [], 5);
    const out = coalesceMessages([append(2, 5, 2, [], 5), toThree, append(2, 5, 2, [entry(6, 2)], 5), append(3, 5, 2, [entry(6, 2)], 5)], 1 << 20);
    assert.deepEqual(out.map((m) => [m.to, indexes(m)]), [[2, [6]], [3, [6]]]);
  });

  test('nothing to merge returns the same array', () => {
    const messages = [append(2, 5, 2, [entry(6, 2)], 5), append(3, 5, 2, [entry(6, 2)], 5)];
    assert.equal(coalesceMessages(messages, 1 << 20), messages);
  });
});

describe('coalescing acknowledgements', () => {
  test('a later acceptance replaces an earlier one', () => {
    const out = coalesceMessages([ack(6), ack(9)], 1 << 20);
    assert.deepEqual(out.map((m) => m.index), [9]);
  });

  test('rejections, a lower index and another term are kept', () => {
    assert.equal(coalesceMessages([ack(6), ack(4, true)], 1 << 20).length, 2);
    assert.equal(coalesceMessages([ack(6, true), ack(9)], 1 << 20).length, 2);
    assert.equal(coalesceMessages([ack(9), ack(6)], 1 << 20).length, 2);
    assert.equal(coalesceMessages([ack(6, false, 2), ack(9, false, 3)], 1 << 20).length, 2);
  });
});

describe('in a cluster', () => {
  test('the leader commits and proposes in one turn: each follower gets one append with both', () => {
    const net = new Network({ voters: [1, 2, 3] });
    net.elect(1);
    net.propose(1, 'a');
    net.stabilize();
    const committedBefore = net.status(1).commit;
    // Replicate "b", then let the acknowledgements arrive and "c" be proposed before the leader's next Ready.
    net.propose(1, 'b');
    net.processReady(1);
    net.deliver((m) => m.type === MessageType.App);
    net.processReady(2);
    net.processReady(3);
    net.deliver((m) => m.type === MessageType.AppResp);
    net.propose(1, 'c');
    const leader = net.member(1);
    const ready = leader.node.ready();
    const appends = ready.messages.filter((m) => m.type === MessageType.App);
    assert.equal(appends.length, 4, 'the core says it twice to each follower: the new commit index, then "c"');
    const sent = coalesceMessages(ready.messages, 1 << 20);
    const merged = sent.filter((m) => m.type === MessageType.App);
    assert.deepEqual(merged.map((m) => [m.to, m.entries.map((e) => text(e.data))]), [[2, ['c']], [3, ['c']]]);
    assert.equal(merged[0]!.commit, committedBefore + 1, 'the merged append carries the commit of "b"');
    for (const m of sent) net.send(m);
    net.persist(leader, ready);
    net.sendAfterPersist(leader, ready);
    net.apply(leader, ready);
    leader.node.advance(ready);
    net.stabilize();
    for (const id of [1, 2, 3]) assert.equal(net.status(id).commit, committedBefore + 2, `member ${id} commits "c"`);
  });
});
