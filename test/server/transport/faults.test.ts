import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../../src/raft/types.ts';
import { isTransportError } from '../../../src/server/transport/index.ts';
import { closeAll, message, peerStatistics, seededRandom, snapMessage, startCluster, waitFor } from './_helpers.ts';

const indexes = (received: readonly Message[]): number[] => received.map((candidate) => candidate.index);
/** A marker sent after the faults are cleared: once it arrives, everything sent before it has arrived too. */
const markerIndex = 999;

test('a 100% drop fault drops every message to that peer, and only to that peer', async () => {
  const members = await startCluster(3, { random: seededRandom(1) });
  const [first, second, third] = members as [typeof members[0], typeof members[0], typeof members[0]];
  try {
    first.transport.setFault(2, { dropProbability: 1 });
    for (let index = 1; index <= 20; index++) first.transport.send([message({ from: 1, to: 2, index }), message({ from: 1, to: 3, index })]);
    first.transport.clearFaults();
    first.transport.send([message({ from: 1, to: 2, index: markerIndex }), message({ from: 1, to: 3, index: markerIndex })]);
    await waitFor(() => second.received.length === 1 && third.received.length === 21, 'the markers');
    assert.deepEqual(indexes(second.received), [markerIndex]);
    assert.equal(peerStatistics(first, 2).droppedByFault, 20);
    assert.equal(peerStatistics(first, 3).droppedByFault, 0);
  } finally {
    await closeAll(members);
  }
});

test('a 50% drop fault with a seeded random source drops some, keeps the rest in order', async () => {
  const members = await startCluster(2, { random: seededRandom(7) });
  const [first, second] = members as [typeof members[0], typeof members[0]];
  try {
    first.transport.setFault(2, { dropProbability: 0.5 });
    for (let index = 1; index <= 200; index++) first.transport.send([message({ from: 1, to: 2, index })]);
    first.transport.clearFaults();
    first.transport.send([message({ from: 1, to: 2, index: markerIndex })]);
    await waitFor(() => second.received.at(-1)?.index === markerIndex, 'the marker');
    const dropped = peerStatistics(first, 2).droppedByFault;
    assert.ok(dropped > 50 && dropped < 150, `${dropped} of 200 dropped`);
    assert.equal(second.received.length, 201 - dropped);
    const kept = indexes(second.received);
    assert.deepEqual(kept, [...kept].sort((left, right) => left - right));
  } finally {
    await closeAll(members);
  }
});

for (const direction of ['outbound', 'inbound'] as const) {
  test(`blocking ${direction} on one member blocks only that direction`, async () => {
    const members = await startCluster(2);
    const [first, second] = members as [typeof members[0], typeof members[0]];
    try {
      first.transport.setFault(2, direction === 'outbound' ? { blockOutbound: true } : { blockInbound: true });
      for (let index = 1; index <= 10; index++) {
        first.transport.send([message({ from: 1, to: 2, index })]);
        second.transport.send([message({ from: 2, to: 1, index })]);
      }
      second.transport.send([message({ from: 2, to: 1, index: markerIndex })]);
      if (direction === 'outbound') {
        // 1 → 2 is blocked, 2 → 1 flows.
        await waitFor(() => first.received.length === 11, 'every message from 2');
        first.transport.clearFaults();
        first.transport.send([message({ from: 1, to: 2, index: markerIndex })]);
        await waitFor(() => second.received.length === 1, 'the marker at 2');
        assert.deepEqual(indexes(second.received), [markerIndex]);
        assert.equal(peerStatistics(first, 2).droppedByFault, 10);
      } else {
        // 2 → 1 is blocked at 1, 1 → 2 flows.
        await waitFor(() => second.received.length === 10, 'every message from 1');
        await waitFor(() => peerStatistics(first, 2).droppedByFault === 11, 'the blocked messages to be counted at 1');
        first.transport.clearFaults();
        second.transport.send([message({ from: 2, to: 1, index: markerIndex + 1 })]);
        await waitFor(() => first.received.length === 1, 'the marker at 1');
        assert.deepEqual(indexes(first.received), [markerIndex + 1]);
        assert.deepEqual(indexes(second.received), Array.from({ length: 10 }, (_, offset) => offset + 1));
      }
    } finally {
      await closeAll(members);
    }
  });
}

test('a delay fault delays one peer\'s messages behind another\'s, and keeps their own order', async () => {
  const log: string[] = [];
  const members = await startCluster(3, { onMessage: (received) => log.push(`${received.to}:${received.index}`) });
  const [first] = members as [typeof members[0]];
  try {
    first.transport.setFault(2, { delayMs: 300 });
    first.transport.send([message({ from: 1, to: 2, index: 1 })]);
    // The fault is lifted for later messages, yet they stay behind the delayed one.
    first.transport.setFault(2, { delayMs: 0 });
    first.transport.send([message({ from: 1, to: 2, index: 2 }), message({ from: 1, to: 3, index: 1 })]);
    await waitFor(() => log.length === 3, 'all three messages');
    assert.deepEqual(log, ['3:1', '2:1', '2:2']);
  } finally {
    await closeAll(members);
  }
});

test('an inbound delay holds messages at the receiver, in order, and clearFaults releases them', async () => {
  const members = await startCluster(2);
  const [first, second] = members as [typeof members[0], typeof members[0]];
  try {
    second.transport.setFault(1, { delayMs: 60_000, direction: 'inbound' });
    first.transport.send([1, 2, 3].map((index) => message({ from: 1, to: 2, index })));
    await waitFor(() => peerStatistics(second, 1).messagesReceived === 3, 'arrival at the socket');
    assert.equal(second.received.length, 0, 'held by the delay');
    second.transport.clearFaults();
    assert.deepEqual(indexes(second.received), [1, 2, 3]);
  } finally {
    await closeAll(members);
  }
});

for (const direction of ['outbound', 'inbound'] as const) {
  test(`a 100% duplicate fault (${direction}) delivers every message twice, in order`, async () => {
    const members = await startCluster(2);
    const [first, second] = members as [typeof members[0], typeof members[0]];
    try {
      if (direction === 'outbound') first.transport.setFault(2, { duplicateProbability: 1 });
      else second.transport.setFault(1, { duplicateProbability: 1, direction: 'inbound' });
      first.transport.send([1, 2, 3, 4, 5].map((index) => message({ from: 1, to: 2, index })));
      await waitFor(() => second.received.length === 10, 'ten deliveries');
      assert.deepEqual(indexes(second.received), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
      assert.equal(peerStatistics(first, 2).messagesSent, direction === 'outbound' ? 10 : 5);
    } finally {
      await closeAll(members);
    }
  });
}

test('a blocked peer\'s snapshot fails with onSnapshotStatus(false), both directions', async () => {
  const members = await startCluster(2);
  const [first, second] = members as [typeof members[0], typeof members[0]];
  try {
    first.transport.setFault(2, { blockOutbound: true });
    first.transport.send([snapMessage(1, 2, new Uint8Array(10))]);
    await waitFor(() => first.snapshotStatus.length === 1, 'the outbound status');
    first.transport.clearFaults();
    second.transport.setFault(1, { blockInbound: true });
    first.transport.send([snapMessage(1, 2, new Uint8Array(10))]);
    await waitFor(() => first.snapshotStatus.length === 2, 'the inbound status');
    assert.deepEqual(first.snapshotStatus, [{ peerId: 2, ok: false }, { peerId: 2, ok: false }]);
    assert.equal(second.received.length, 0);
  } finally {
    await closeAll(members);
  }
});

test('invalid faults are refused with a stable code', async () => {
  const members = await startCluster(2);
  try {
    for (const fault of [{ dropProbability: 1.5 }, { duplicateProbability: -1 }, { delayMs: Number.NaN }, { delayMs: 1e12 }]) {
      assert.throws(() => members[0]!.transport.setFault(2, fault), (error: unknown) => isTransportError(error, 'TRANSPORT_INVALID_ARGUMENT'));
    }
  } finally {
    await closeAll(members);
  }
});
