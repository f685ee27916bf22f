import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, MessageType } from '../../../src/raft/types.ts';
import { isTransportError } from '../../../src/server/transport/index.ts';
import { closeAll, message, peerStatistics, startCluster, waitFor } from './_helpers.ts';

test('two transports exchange messages in order, both ways', async () => {
  const members = await startCluster(2);
  const [first, second] = members as [typeof members[0], typeof members[0]];
  try {
    for (let index = 1; index <= 200; index++) {
      first.transport.send([message({ from: 1, to: 2, index, entries: [{ term: 1, index, type: EntryType.Normal, data: new Uint8Array([index % 256]) }] })]);
      second.transport.send([message({ type: MessageType.AppResp, from: 2, to: 1, index })]);
    }
    await waitFor(() => first.received.length === 200 && second.received.length === 200, 'all messages');
    assert.deepEqual(second.received.map((received) => received.index), Array.from({ length: 200 }, (_, offset) => offset + 1));
    assert.deepEqual(first.received.map((received) => received.index), Array.from({ length: 200 }, (_, offset) => offset + 1));
    assert.deepEqual(second.received[6]!.entries[0]!.data, new Uint8Array([7]));
    assert.ok(first.received.every((received) => received.type === MessageType.AppResp && received.from === 2 && received.to === 1));
    const statistics = peerStatistics(first, 2);
    assert.equal(statistics.messagesSent, 200);
    assert.equal(statistics.messagesReceived, 200);
    assert.equal(peerStatistics(second, 1).messagesReceived, 200);
    await waitFor(() => peerStatistics(second, 1).bytesReceived === peerStatistics(first, 2).bytesSent, 'byte counts to agree');
    assert.ok(peerStatistics(first, 2).bytesSent > 200 * 5);
  } finally {
    await closeAll(members);
  }
});

test('three transports deliver each sender\'s messages in order at every receiver', async () => {
  const members = await startCluster(3);
  try {
    for (let index = 1; index <= 100; index++) {
      for (const [position, member] of members.entries()) {
        const from = position + 1;
        member.transport.send([1, 2, 3].filter((to) => to !== from).map((to) => message({ from, to, index, type: MessageType.Heartbeat })));
      }
    }
    await waitFor(() => members.every((member) => member.received.length === 200), 'all messages');
    for (const [position, member] of members.entries()) {
      for (const from of [1, 2, 3].filter((id) => id !== position + 1)) {
        const indexes = member.received.filter((received) => received.from === from).map((received) => received.index);
        assert.deepEqual(indexes, Array.from({ length: 100 }, (_, offset) => offset + 1), `member ${position + 1} from ${from}`);
      }
    }
  } finally {
    await closeAll(members);
  }
});

test('many sends in one turn leave in a single coalesced socket write', async () => {
  const members = await startCluster(2);
  const [first, second] = members as [typeof members[0], typeof members[0]];
  try {
    // Wait for the connection and its first ping: the handshake writes are then behind us.
    await waitFor(() => peerStatistics(first, 2).rttMs.length > 0, 'first round trip');
    const writesBefore = peerStatistics(first, 2).socketWrites;
    for (let index = 1; index <= 1000; index++) first.transport.send([message({ from: 1, to: 2, index })]);
    await waitFor(() => second.received.length === 1000, 'all messages');
    const writes = peerStatistics(first, 2).socketWrites - writesBefore;
    // One write for the batch; a periodic ping may add one more.
    assert.ok(writes >= 1 && writes <= 2, `${writes} socket writes for 1000 sends`);
    assert.deepEqual(second.received.map((received) => received.index), Array.from({ length: 1000 }, (_, offset) => offset + 1));
  } finally {
    await closeAll(members);
  }
});

test('pings record round-trip samples in a bounded ring', async () => {
  const members = await startCluster(2, { limits: { pingIntervalMs: 5, rttSamplesMax: 4 } });
  const [first] = members as [typeof members[0]];
  try {
    await waitFor(() => peerStatistics(first, 2).socketWrites >= 8, 'several pings');
    await waitFor(() => peerStatistics(first, 2).rttMs.length === 4, 'a full ring');
    const samples = peerStatistics(first, 2).rttMs;
    assert.equal(samples.length, 4);
    assert.ok(samples.every((sample) => sample >= 0 && Number.isFinite(sample)));
  } finally {
    await closeAll(members);
  }
});

test('send() refuses local message types and foreign senders before queueing anything', async () => {
  const members = await startCluster(2);
  const [first, second] = members as [typeof members[0], typeof members[0]];
  try {
    const valid = message({ from: 1, to: 2, index: 1 });
    assert.throws(() => first.transport.send([valid, message({ type: MessageType.Hup, from: 1, to: 2 })]), (error: unknown) => isTransportError(error, 'TRANSPORT_INVALID_MESSAGE'));
    assert.throws(() => first.transport.send([message({ from: 3, to: 2 })]), (error: unknown) => isTransportError(error, 'TRANSPORT_INVALID_MESSAGE'));
    assert.throws(() => first.transport.send([message({ from: 1, to: 1 })]), (error: unknown) => isTransportError(error, 'TRANSPORT_INVALID_MESSAGE'));
    first.transport.send([message({ from: 1, to: 9 })]);
    assert.equal(first.transport.statistics().droppedUnknownPeer, 1);
    first.transport.send([message({ from: 1, to: 2, index: 2 })]);
    await waitFor(() => second.received.length === 1, 'the valid message');
    assert.equal(second.received[0]!.index, 2, 'nothing of the refused batch was sent');
  } finally {
    await closeAll(members);
  }
  assert.throws(() => first.transport.send([message({ from: 1, to: 2 })]), (error: unknown) => isTransportError(error, 'TRANSPORT_CLOSED'));
});
