import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { encodeSnapshotChunk } from '../../../src/storage/index.ts';
import {
  StreamKind, encodeHandshakeFrame, encodeMessageFrame, encodeSnapshotChunkFramePrefix, encodeSnapshotHeaderFrame, protocolVersion,
} from '../../../src/server/transport/index.ts';
import { closeAll, message, peerStatistics, snapMessage, startCluster, startMember, waitFor } from './_helpers.ts';

const mebibyte = 1024 * 1024;

test('a 5 MiB snapshot streams in chunks, arrives intact and is acknowledged', async () => {
  const chunkBytes = 256 * 1024;
  const members = await startCluster(2, { limits: { snapshotChunkBytes: chunkBytes } });
  const [first, second] = members as [typeof members[0], typeof members[0]];
  try {
    const data = new Uint8Array(randomBytes(5 * mebibyte));
    const snap = snapMessage(1, 2, data);
    first.transport.send([snap, message({ from: 1, to: 2, index: 7 })]);
    await waitFor(() => first.snapshotStatus.length === 1 && second.received.length === 2, 'the snapshot and the message');
    assert.deepEqual(first.snapshotStatus, [{ peerId: 2, ok: true }]);
    const received = second.received.find((candidate) => candidate.snapshot !== null);
    assert.ok(received !== undefined);
    assert.deepEqual(received.snapshot!.metadata, snap.snapshot!.metadata);
    assert.ok(Buffer.from(received.snapshot!.data).equals(Buffer.from(data)), 'data intact');
    assert.deepEqual({ ...received, snapshot: null }, { ...snap, snapshot: null });
    // Exactly the bytes of: handshake, header, 20 chunk frames (5-byte prefix, 32-byte chunk header, data).
    const handshakeBytes = encodeHandshakeFrame({ version: protocolVersion, stream: StreamKind.Snapshot, clusterId: 0x1234n, senderId: 1, receiverId: 2 }).length;
    const expected = handshakeBytes + encodeSnapshotHeaderFrame(snap).length + 20 * (5 + 32) + data.length;
    const statistics = peerStatistics(first, 2);
    assert.equal(statistics.snapshotsSent, 1);
    assert.equal(peerStatistics(second, 1).snapshotsReceived, 1);
    assert.equal(statistics.snapshotBytesSent, expected);
  } finally {
    await closeAll(members);
  }
});

test('an empty snapshot is delivered and acknowledged', async () => {
  const members = await startCluster(2);
  const [first, second] = members as [typeof members[0], typeof members[0]];
  try {
    first.transport.send([snapMessage(1, 2, new Uint8Array(0))]);
    await waitFor(() => first.snapshotStatus.length === 1, 'the status');
    assert.deepEqual(first.snapshotStatus, [{ peerId: 2, ok: true }]);
    assert.equal(second.received[0]!.snapshot!.data.length, 0);
  } finally {
    await closeAll(members);
  }
});

test('a second snapshot to the same peer while one is in flight is dropped and counted', async () => {
  const members = await startCluster(2);
  const [first, second] = members as [typeof members[0], typeof members[0]];
  try {
    first.transport.send([snapMessage(1, 2, new Uint8Array(2 * mebibyte)), snapMessage(1, 2, new Uint8Array(10))]);
    await waitFor(() => first.snapshotStatus.length === 1, 'the status');
    assert.equal(peerStatistics(first, 2).snapshotsDropped, 1);
    assert.equal(second.received.length, 1);
    assert.equal(second.received[0]!.snapshot!.data.length, 2 * mebibyte);
  } finally {
    await closeAll(members);
  }
});

/** A TCP proxy that flips one byte of the stream at `corruptOffset`, or cuts the stream there when `cut`. */
async function startProxy(targetPort: number, corruptOffset: number, cut: boolean): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    let offset = 0;
    client.on('data', (chunk: Buffer) => {
      if (corruptOffset >= offset && corruptOffset < offset + chunk.length) {
        if (cut) {
          upstream.write(chunk.subarray(0, corruptOffset - offset));
          client.destroy();
          upstream.destroy();
          return;
        }
        chunk[corruptOffset - offset] = chunk[corruptOffset - offset]! ^ 0xff;
      }
      offset += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server, port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

for (const cut of [false, true]) {
  test(cut ? 'an aborted snapshot stream reports failure on both sides' : 'a corrupted snapshot chunk reports failure on both sides', async () => {
    const second = await startMember(2);
    const first = await startMember(1);
    const proxy = await startProxy(second.transport.address().port, 3 * mebibyte / 2, cut);
    try {
      second.transport.addPeer(1, first.transport.url());
      first.transport.addPeer(2, `http://127.0.0.1:${proxy.port}`);
      first.transport.send([snapMessage(1, 2, new Uint8Array(3 * mebibyte).fill(7))]);
      await waitFor(() => first.snapshotStatus.length === 1, 'the status');
      assert.deepEqual(first.snapshotStatus, [{ peerId: 2, ok: false }]);
      assert.equal(peerStatistics(first, 2).snapshotsFailed, 1);
      await waitFor(() => peerStatistics(second, 1).snapshotsReceiveFailed === 1, 'the receiver to count the failure');
      assert.equal(second.received.filter((received) => received.snapshot !== null).length, 0);
      if (!cut) assert.ok(second.logger.lines.some((line) => line.fields.code === 'TRANSPORT_SNAPSHOT_CORRUPT'));
      assert.ok(first.unreachable.includes(2));
    } finally {
      await closeAll([first, second]);
      await proxy.close();
    }
  });
}

test('a snapshot over the receiver\'s bound is refused and reported as failed', async () => {
  const second = await startMember(2, { limits: { snapshotBytesMax: mebibyte } });
  const first = await startMember(1);
  try {
    second.transport.addPeer(1, first.transport.url());
    first.transport.addPeer(2, second.transport.url());
    first.transport.send([snapMessage(1, 2, new Uint8Array(mebibyte + 1))]);
    await waitFor(() => first.snapshotStatus.length === 1, 'the status');
    assert.deepEqual(first.snapshotStatus, [{ peerId: 2, ok: false }]);
    assert.ok(second.logger.lines.some((line) => line.fields.code === 'TRANSPORT_SNAPSHOT_TOO_LARGE'));
    assert.equal(second.received.length, 0);
  } finally {
    await closeAll([first, second]);
  }
});

test('a chunk out of order is rejected by the receiver with an ack of failure', async () => {
  const second = await startMember(2);
  second.transport.addPeer(1, 'http://127.0.0.1:1');
  const socket = connect({ host: '127.0.0.1', port: second.transport.address().port });
  try {
    await new Promise((resolve) => socket.once('connect', resolve));
    const snap = snapMessage(1, 2, new Uint8Array(100));
    const chunk = encodeSnapshotChunk({ offset: 50, fileBytes: 100, data: new Uint8Array(50) });
    const replies: Buffer[] = [];
    socket.on('data', (data: Buffer) => replies.push(data));
    socket.write(Buffer.concat([
      encodeHandshakeFrame({ version: protocolVersion, stream: StreamKind.Snapshot, clusterId: 0x1234n, senderId: 1, receiverId: 2 }),
      encodeSnapshotHeaderFrame(snap), encodeSnapshotChunkFramePrefix(chunk.length), chunk,
    ]));
    await new Promise((resolve) => socket.once('close', resolve));
    // Length 2, kind SnapshotAck (8), ok 0.
    assert.deepEqual([...Buffer.concat(replies)], [0, 0, 0, 2, 8, 0]);
    assert.equal(second.received.length, 0);
    assert.equal(peerStatistics(second, 1).snapshotsReceiveFailed, 1);
    // A message frame is not allowed before the handshake either.
    const stray = connect({ host: '127.0.0.1', port: second.transport.address().port });
    stray.write(encodeMessageFrame(message({ from: 1, to: 2 })));
    await new Promise((resolve) => stray.once('close', resolve));
    assert.equal(second.received.length, 0);
  } finally {
    socket.destroy();
    await second.transport.close();
  }
});
