import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, type Message, MessageType } from '../../../src/raft/types.ts';
import {
  FrameKind, StreamKind, decodeFrame, encodeClockFrame, encodeHandshakeFrame, encodeMessageFrame, encodeRefuseFrame,
  encodeSnapshotAckFrame, encodeSnapshotHeaderFrame, frameLengthBytes, isTransportError, protocolVersion,
} from '../../../src/server/transport/index.ts';
import type { TransportErrorCode } from '../../../src/server/transport/index.ts';
import { FrameSplitter } from '../../../src/server/transport/_frame-splitter.ts';
import { message, snapMessage } from './_helpers.ts';

function payloadOf(frame: Uint8Array): Uint8Array {
  const length = new DataView(frame.buffer, frame.byteOffset).getUint32(0);
  assert.equal(length, frame.length - frameLengthBytes, 'length prefix covers the payload');
  return frame.subarray(frameLengthBytes);
}

function roundTrip(original: Message): Message {
  const frame = decodeFrame(payloadOf(encodeMessageFrame(original)));
  assert.equal(frame.kind, FrameKind.Message);
  if (frame.kind !== FrameKind.Message) throw new Error('unreachable');
  return frame.message;
}

function rejects(payload: Uint8Array, code: TransportErrorCode): void {
  assert.throws(() => decodeFrame(payload), (error: unknown) => isTransportError(error, code));
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

test('every message type round-trips with all fixed fields at their extremes', () => {
  for (const type of Object.values(MessageType)) {
    const original = message({
      type, from: Number.MAX_SAFE_INTEGER, to: 2 ** 32 + 7, term: 2 ** 40, logTerm: 127, index: 128, commit: 2 ** 53 - 2,
      reject: true, rejectHint: 16383, context: bytes(9, 8, 7), leaseTick: 16384,
    });
    assert.deepEqual(roundTrip(original), original, `type ${type}`);
  }
});

test('entries round-trip with term, index, type and data, including empty data', () => {
  const original = message({
    from: 1, to: 2, entries: [
      { term: 1, index: 10, type: EntryType.Normal, data: new Uint8Array(0) },
      { term: 2, index: 11, type: EntryType.ConfChange, data: bytes(1, 2, 3) },
      { term: 2, index: 12, type: EntryType.Normal, data: new Uint8Array(70_000).fill(0xab) },
    ],
  });
  assert.deepEqual(roundTrip(original), original);
});

test('a snapshot message round-trips with its ConfState and data', () => {
  const original = snapMessage(1, 2, new Uint8Array(1000).map((_, index) => index % 251));
  const withJoint = { ...original, snapshot: { ...original.snapshot!, metadata: { ...original.snapshot!.metadata, confState: {
    voters: [1, 2, 3], learners: [4], votersOutgoing: [1, 2, 5], learnersNext: [5], autoLeave: true,
  } } } };
  assert.deepEqual(roundTrip(withJoint), withJoint);
  assert.deepEqual(roundTrip({ ...original, context: new Uint8Array(0) }), { ...original, context: new Uint8Array(0) });
});

test('a snapshot header carries the data length and the message without its data', () => {
  const original = snapMessage(1, 2, new Uint8Array(5000));
  const frame = decodeFrame(payloadOf(encodeSnapshotHeaderFrame(original)));
  assert.equal(frame.kind, FrameKind.SnapshotHeader);
  if (frame.kind !== FrameKind.SnapshotHeader) return;
  assert.equal(frame.dataBytes, 5000);
  assert.deepEqual(frame.message, { ...original, snapshot: { ...original.snapshot!, data: new Uint8Array(0) } });
});

test('control frames round-trip: handshake, refusal, ping, pong, ack', () => {
  const handshake = { version: protocolVersion, stream: StreamKind.Snapshot, clusterId: 0xfedcba9876543210n, senderId: 3, receiverId: 2 ** 50 };
  assert.deepEqual(decodeFrame(payloadOf(encodeHandshakeFrame(handshake))), { kind: FrameKind.Handshake, handshake });
  assert.deepEqual(decodeFrame(payloadOf(encodeRefuseFrame('TRANSPORT_CLUSTER_MISMATCH'))), { kind: FrameKind.Refuse, reason: 'TRANSPORT_CLUSTER_MISMATCH' });
  assert.deepEqual(decodeFrame(payloadOf(encodeClockFrame(FrameKind.Ping, 1234.5))), { kind: FrameKind.Ping, sentAtMs: 1234.5 });
  assert.deepEqual(decodeFrame(payloadOf(encodeClockFrame(FrameKind.Pong, 0.25))), { kind: FrameKind.Pong, sentAtMs: 0.25 });
  assert.deepEqual(decodeFrame(payloadOf(encodeSnapshotAckFrame(false))), { kind: FrameKind.SnapshotAck, ok: false });
});

test('every truncation of a message frame is rejected as truncated', () => {
  const payload = payloadOf(encodeMessageFrame(snapMessage(1, 2, bytes(1, 2, 3))));
  for (let length = 1; length < payload.length; length++) rejects(payload.subarray(0, length), 'TRANSPORT_FRAME_TRUNCATED');
});

test('malformed frames are rejected with stable codes', () => {
  const valid = payloadOf(encodeMessageFrame(message({ from: 1, to: 2 })));
  rejects(bytes(99), 'TRANSPORT_FRAME_MALFORMED');
  rejects(new Uint8Array([...valid, 0]), 'TRANSPORT_FRAME_MALFORMED');
  rejects(bytes(FrameKind.Message, 200, 0), 'TRANSPORT_UNKNOWN_TYPE');
  rejects(bytes(FrameKind.Message, 4, 0x80), 'TRANSPORT_FRAME_MALFORMED');
  // A nine-byte varint, and an eight-byte one above 2^53 - 1.
  rejects(bytes(FrameKind.Message, 4, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 'TRANSPORT_VARINT_INVALID');
  rejects(bytes(FrameKind.Message, 4, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), 'TRANSPORT_VARINT_INVALID');
  // An entry count far beyond the bytes left, and beyond the bound.
  const header = [FrameKind.Message, 4, 0, 1, 2, 0, 0, 0, 0, 0, 0];
  rejects(bytes(...header, 100), 'TRANSPORT_FRAME_TRUNCATED');
  rejects(bytes(...header, 0xff, 0xff, 0xff, 0x7f), 'TRANSPORT_BOUND_EXCEEDED');
  rejects(bytes(...header, 1, 1, 1, 7, 0), 'TRANSPORT_UNKNOWN_TYPE');
  rejects(bytes(FrameKind.Handshake, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2), 'TRANSPORT_HANDSHAKE_INVALID');
  rejects(bytes(FrameKind.SnapshotAck, 2), 'TRANSPORT_FRAME_MALFORMED');
  rejects(bytes(FrameKind.Ping, 1, 2, 3), 'TRANSPORT_FRAME_TRUNCATED');
});

test('the frame splitter reassembles frames split at every byte and refuses an oversized length', () => {
  const frames = [encodeMessageFrame(message({ from: 1, to: 2, index: 5 })), encodeMessageFrame(snapMessage(1, 2, bytes(4, 5)))];
  const stream = new Uint8Array(Buffer.concat(frames));
  for (let cut = 0; cut <= stream.length; cut++) {
    const splitter = new FrameSplitter(1024);
    const payloads: Uint8Array[] = [];
    for (const piece of [stream.subarray(0, cut), stream.subarray(cut)]) splitter.push(piece, (payload) => payloads.push(payload) > 0);
    assert.deepEqual(payloads.map((payload) => [...payload]), frames.map((frame) => [...payloadOf(frame)]), `cut at ${cut}`);
    assert.equal(splitter.bufferedBytes, 0);
  }
  const small = new FrameSplitter(8);
  assert.throws(() => small.push(frames[0]!, () => true), (error: unknown) => isTransportError(error, 'TRANSPORT_FRAME_TOO_LARGE'));
  assert.throws(() => new FrameSplitter(8).push(bytes(0, 0, 0, 0), () => true), (error: unknown) => isTransportError(error, 'TRANSPORT_FRAME_MALFORMED'));
});
