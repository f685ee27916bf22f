import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType } from '../../../src/raft/types.ts';
import { backoffDelayMs, isTransportError } from '../../../src/server/transport/index.ts';
import { closeAll, freePort, message, peerStatistics, startMember, waitFor } from './_helpers.ts';

test('backoff doubles from the base to the cap, jittered within [delay / 2, delay]', () => {
  const options = { backoffBaseMs: 50, backoffMaxMs: 2000 };
  const lowest = [0, 1, 2, 3, 4, 5, 6, 40].map((failures) => backoffDelayMs(failures, options, () => 0));
  const highest = [0, 1, 2, 3, 4, 5, 6, 40].map((failures) => backoffDelayMs(failures, options, () => 0.999999));
  assert.deepEqual(lowest, [25, 50, 100, 200, 400, 800, 1000, 1000]);
  assert.deepEqual(highest.map(Math.round), [50, 100, 200, 400, 800, 1600, 2000, 2000]);
  assert.throws(() => backoffDelayMs(0, options, () => 1), (error: unknown) => isTransportError(error, 'TRANSPORT_ASSERTION_FAILED'));
});

test('a peer that is down, then comes up, receives the queued messages and new ones in order', async () => {
  const port = await freePort();
  const first = await startMember(1, { limits: { backoffBaseMs: 5, backoffMaxMs: 20 } });
  let second: Awaited<ReturnType<typeof startMember>> | null = null;
  try {
    first.transport.addPeer(2, `http://127.0.0.1:${port}`);
    first.transport.send([1, 2, 3].map((index) => message({ from: 1, to: 2, index })));
    await waitFor(() => peerStatistics(first, 2).sendFailures >= 3, 'several failed attempts');
    assert.ok(first.unreachable.includes(2), 'a failed connection reports the peer unreachable');
    assert.equal(first.logger.lines.filter((line) => line.message === 'peer connection failed').length, 1, 'one log line per outage');
    second = await startMember(2, { port });
    second.transport.addPeer(1, first.transport.url());
    first.transport.send([message({ from: 1, to: 2, index: 4 })]);
    await waitFor(() => second!.received.length === 4, 'queued and new messages');
    assert.deepEqual(second.received.map((received) => received.index), [1, 2, 3, 4]);
    await waitFor(() => peerStatistics(first, 2).connected, 'connected state');
  } finally {
    await first.transport.close();
    await second?.transport.close();
  }
});

test('a full queue drops the newest messages, counts them and reports the peer unreachable', async () => {
  const port = await freePort();
  const first = await startMember(1, { limits: { queueMessagesMax: 10 } });
  try {
    first.transport.addPeer(2, `http://127.0.0.1:${port}`);
    first.transport.send(Array.from({ length: 25 }, (_, offset) => message({ from: 1, to: 2, index: offset + 1 })));
    const statistics = peerStatistics(first, 2);
    assert.equal(statistics.droppedOverflow, 15);
    assert.equal(statistics.queuedMessages, 10);
    await waitFor(() => first.unreachable.includes(2), 'an unreachable report');
  } finally {
    await first.transport.close();
  }
  assert.equal(peerStatistics(first, 2).droppedOnClose, 10, 'what was still queued at close is counted');
});

test('the queue byte bound drops a message that would not fit', async () => {
  const port = await freePort();
  const first = await startMember(1, { limits: { frameBytesMax: 1024, queueBytesMax: 2048 } });
  try {
    first.transport.addPeer(2, `http://127.0.0.1:${port}`);
    const entries = [{ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(500) }];
    first.transport.send(Array.from({ length: 5 }, () => message({ from: 1, to: 2, entries })));
    const statistics = peerStatistics(first, 2);
    assert.equal(statistics.queuedMessages, 3);
    assert.equal(statistics.droppedOverflow, 2);
    assert.ok(statistics.queuedBytes <= 2048);
    first.transport.send([message({ from: 1, to: 2, entries: [{ ...entries[0]!, data: new Uint8Array(2000) }] })]);
    assert.equal(peerStatistics(first, 2).droppedOverflow, 3, 'a message over the frame bound is dropped');
  } finally {
    await first.transport.close();
  }
});

for (const [name, setUp, code] of [
  ['a connection from another cluster is refused', { clusterId: 0x9999n, peerId: 2 }, 'TRANSPORT_CLUSTER_MISMATCH'],
  ['a connection meant for another member is refused', { clusterId: 0x1234n, peerId: 3 }, 'TRANSPORT_WRONG_MEMBER'],
] as const) {
  test(name, async () => {
    const second = await startMember(2);
    const first = await startMember(1, { clusterId: setUp.clusterId });
    try {
      second.transport.addPeer(1, first.transport.url());
      // The dialler believes member `peerId` listens at the second member's address.
      first.transport.addPeer(setUp.peerId, second.transport.url());
      first.transport.send([message({ from: 1, to: setUp.peerId, index: 1 })]);
      await waitFor(() => second.transport.statistics().refusedConnections >= 1, 'a refusal');
      await waitFor(() => first.unreachable.includes(setUp.peerId), 'the dialler to notice');
      assert.equal(second.received.length, 0);
      const refusal = second.logger.lines.find((line) => line.message === 'peer connection refused');
      assert.equal(refusal?.fields.code, code);
      assert.ok(peerStatistics(first, setUp.peerId).sendFailures >= 1);
      assert.match(String(first.logger.lines.find((line) => line.message === 'peer connection failed')?.fields.error), new RegExp(code));
    } finally {
      await closeAll([first, second]);
    }
  });
}

test('a connection from a member that is not a peer is refused', async () => {
  const second = await startMember(2);
  const first = await startMember(1);
  try {
    first.transport.addPeer(2, second.transport.url());
    first.transport.send([message({ from: 1, to: 2 })]);
    await waitFor(() => second.transport.statistics().refusedConnections >= 1, 'a refusal');
    assert.equal(second.logger.lines.find((line) => line.message === 'peer connection refused')?.fields.code, 'TRANSPORT_UNKNOWN_PEER');
    assert.equal(second.received.length, 0);
  } finally {
    await closeAll([first, second]);
  }
});

test('updatePeer redials the new address; removePeer stops sending and drops the queue', async () => {
  const port = await freePort();
  const second = await startMember(2);
  const first = await startMember(1);
  try {
    second.transport.addPeer(1, first.transport.url());
    first.transport.addPeer(2, `http://127.0.0.1:${port}`);
    first.transport.send([message({ from: 1, to: 2, index: 1 })]);
    first.transport.updatePeer(2, second.transport.url());
    await waitFor(() => second.received.length === 1, 'delivery at the new address');
    await first.transport.removePeer(2);
    assert.equal(first.transport.statistics().peers.length, 0);
    first.transport.send([message({ from: 1, to: 2, index: 2 })]);
    assert.equal(first.transport.statistics().droppedUnknownPeer, 1);
    assert.throws(() => first.transport.updatePeer(2, 'http://127.0.0.1:1'), (error: unknown) => isTransportError(error, 'TRANSPORT_INVALID_ARGUMENT'));
    assert.throws(() => first.transport.addPeer(1, 'http://127.0.0.1:1'), (error: unknown) => isTransportError(error, 'TRANSPORT_INVALID_ARGUMENT'));
    assert.throws(() => first.transport.addPeer(5, 'ftp://x'), (error: unknown) => isTransportError(error, 'TRANSPORT_INVALID_ARGUMENT'));
  } finally {
    await closeAll([first, second]);
  }
});

test('setPeers adds, updates and removes peers to match the membership', async () => {
  const second = await startMember(2);
  const first = await startMember(1);
  try {
    second.transport.addPeer(1, first.transport.url());
    first.transport.setPeers(new Map([[1, [first.transport.url()]], [2, [second.transport.url()]], [3, ['http://127.0.0.1:1']]]));
    assert.deepEqual(first.transport.statistics().peers.map((peer) => peer.peerId).sort(), [2, 3]);
    first.transport.setPeers(new Map([[2, [second.transport.url()]]]));
    assert.deepEqual(first.transport.statistics().peers.map((peer) => peer.peerId), [2]);
    first.transport.send([message({ from: 1, to: 2 })]);
    await waitFor(() => second.received.length === 1, 'delivery');
  } finally {
    await closeAll([first, second]);
  }
});

test('close() is idempotent and closes inbound connections too', async () => {
  const second = await startMember(2);
  const first = await startMember(1);
  second.transport.addPeer(1, first.transport.url());
  first.transport.addPeer(2, second.transport.url());
  first.transport.send([message({ from: 1, to: 2 })]);
  await waitFor(() => second.received.length === 1, 'delivery');
  assert.equal(second.transport.statistics().inboundConnections, 1);
  await second.transport.close();
  await second.transport.close();
  assert.equal(second.transport.statistics().inboundConnections, 0);
  assert.throws(() => second.transport.addPeer(3, 'http://127.0.0.1:1'), (error: unknown) => isTransportError(error, 'TRANSPORT_CLOSED'));
  await first.transport.close();
});
