/**
 * The peer wire format. Every frame is a big-endian u32 length, then that many payload bytes; the payload
 * starts with a one-byte frame kind. Integers are unsigned LEB128 varints of JS safe integers (at most
 * 8 bytes), the cluster ID a big-endian fixed64. Byte layouts: docs/format/peer-transport.md (keep the two
 * in step).
 *
 * Decoding never trusts a count: every length is checked against the bytes left and a named bound before
 * anything is allocated, and failures are TransportErrors with stable codes.
 */
import {
  type ConfState, type Entry, EntryType, type Message, MessageType, type Snapshot,
} from '../../raft/types.ts';
import { confStateNodesMax } from '../../storage/index.ts';
import { TransportError, type TransportErrorCode, assert } from './errors.ts';

export const protocolVersion = 1;
/** 'KEEL' as a big-endian u32. */
export const handshakeMagic = 0x4b45454c;
export const frameLengthBytes = 4;
/** Bound on entries in one message; raft's own byte bound is lower in practice, this stops hostile counts. */
export const messageEntriesMax = 1 << 20;
/** A safe integer needs at most 8 varint bytes (53 bits / 7 bits per byte, rounded up). */
export const varintBytesMax = 8;
const fixed64Max = (1n << 64n) - 1n;

export enum FrameKind {
  Handshake = 1,
  /** The receiver refuses the connection; a reason code follows. */
  Refuse = 2,
  Message = 3,
  Ping = 4,
  Pong = 5,
  SnapshotHeader = 6,
  SnapshotChunk = 7,
  SnapshotAck = 8,
  /** The answer to a membership query: etcd's MemberListResponse protobuf (header carries the cluster ID). */
  Membership = 9,
}

/** What a connection carries, announced in its handshake. */
export enum StreamKind {
  Messages = 1,
  Snapshot = 2,
  /**
   * A member that joins an existing cluster asks who the members are, to learn its own ID and the cluster's
   * (etcd asks its peers' /members). The handshake carries zero IDs; the answer is one Membership frame.
   */
  Membership = 3,
}

/** Bound on a Membership frame's payload (a member list is small; this stops a hostile peer). */
export const membershipFrameBytesMax = 1 << 20;

/** Wire codes of message types. Append only: a code, once given, keeps its meaning. */
const messageTypeCodes: readonly MessageType[] = [
  MessageType.Hup, MessageType.Beat, MessageType.Prop, MessageType.App, MessageType.AppResp, MessageType.Vote,
  MessageType.VoteResp, MessageType.PreVote, MessageType.PreVoteResp, MessageType.Snap, MessageType.Heartbeat,
  MessageType.HeartbeatResp, MessageType.SnapStatus, MessageType.Unreachable, MessageType.CheckQuorum,
  MessageType.TransferLeader, MessageType.TimeoutNow, MessageType.ReadIndex, MessageType.ReadIndexResp,
];
const messageTypeToCode = new Map(messageTypeCodes.map((type, index) => [type, index + 1]));
assert(messageTypeToCode.size === Object.keys(MessageType).length, 'every message type has a wire code');

/** Why a connection was refused. Append only, like the message type codes. */
const refusalCodes: readonly TransportErrorCode[] = [
  'TRANSPORT_HANDSHAKE_INVALID', 'TRANSPORT_VERSION_UNSUPPORTED', 'TRANSPORT_CLUSTER_MISMATCH',
  'TRANSPORT_WRONG_MEMBER', 'TRANSPORT_UNKNOWN_PEER', 'TRANSPORT_REFUSED',
];

const flagReject = 1;
const flagSnapshot = 2;
const flagContext = 4;
const flagsKnown = flagReject | flagSnapshot | flagContext;

export interface Handshake {
  readonly version: number;
  readonly stream: StreamKind;
  readonly clusterId: bigint;
  readonly senderId: number;
  readonly receiverId: number;
}

export type Frame =
  | { readonly kind: FrameKind.Handshake; readonly handshake: Handshake }
  | { readonly kind: FrameKind.Refuse; readonly reason: TransportErrorCode }
  | { readonly kind: FrameKind.Message; readonly message: Message }
  | { readonly kind: FrameKind.Ping | FrameKind.Pong; readonly sentAtMs: number }
  | { readonly kind: FrameKind.SnapshotHeader; readonly message: Message; readonly dataBytes: number }
  | { readonly kind: FrameKind.SnapshotChunk; readonly chunk: Uint8Array }
  | { readonly kind: FrameKind.SnapshotAck; readonly ok: boolean }
  | { readonly kind: FrameKind.Membership; readonly memberList: Uint8Array };

function malformed(code: TransportErrorCode, reason: string): TransportError {
  return new TransportError(code, `malformed peer frame: ${reason}`);
}

/** Writes into a buffer sized up front from an upper bound, so encoding allocates once. */
class FrameWriter {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  offset = frameLengthBytes;

  constructor(kind: FrameKind, payloadBytesBound: number) {
    this.bytes = new Uint8Array(frameLengthBytes + 1 + payloadBytesBound);
    this.#view = new DataView(this.bytes.buffer);
    this.u8(kind);
  }

  u8(value: number): void {
    assert(this.offset < this.bytes.length, 'frame size bound too small');
    this.bytes[this.offset++] = value;
  }

  u32(value: number): void {
    this.#view.setUint32(this.offset, value);
    this.offset += 4;
  }

  f64(value: number): void {
    this.#view.setFloat64(this.offset, value);
    this.offset += 8;
  }

  fixed64(value: bigint): void {
    this.#view.setBigUint64(this.offset, value);
    this.offset += 8;
  }

  varint(value: number): void {
    assert(Number.isSafeInteger(value) && value >= 0, 'varint fields are non-negative safe integers');
    let rest = value;
    while (rest >= 0x80) {
      this.u8((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.u8(rest);
  }

  raw(bytes: Uint8Array): void {
    this.bytes.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  lengthPrefixed(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.raw(bytes);
  }

  /** Fills in the length prefix and returns the frame, trimmed to what was written. */
  finish(): Uint8Array {
    assert(this.offset <= this.bytes.length, 'frame overran its size bound');
    this.#view.setUint32(0, this.offset - frameLengthBytes);
    return this.bytes.subarray(0, this.offset);
  }
}

/** Reads one frame payload; every read is bounds-checked. */
export class FrameReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;

  constructor(payload: Uint8Array) {
    this.#bytes = payload;
    this.#view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  #need(bytes: number, field: string): void {
    if (this.remaining < bytes) throw malformed('TRANSPORT_FRAME_TRUNCATED', `${field} runs past the end of the frame`);
  }

  u8(field: string): number {
    this.#need(1, field);
    return this.#bytes[this.#offset++]!;
  }

  u32(field: string): number {
    this.#need(4, field);
    const value = this.#view.getUint32(this.#offset);
    this.#offset += 4;
    return value;
  }

  f64(field: string): number {
    this.#need(8, field);
    const value = this.#view.getFloat64(this.#offset);
    this.#offset += 8;
    return value;
  }

  fixed64(field: string): bigint {
    this.#need(8, field);
    const value = this.#view.getBigUint64(this.#offset);
    this.#offset += 8;
    return value;
  }

  varint(field: string): number {
    let value = 0;
    let scale = 1;
    for (let index = 0; index < varintBytesMax; index++) {
      const byte = this.u8(field);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) throw malformed('TRANSPORT_VARINT_INVALID', `${field} is above 2^53 - 1`);
        return value;
      }
      scale *= 0x80;
    }
    throw malformed('TRANSPORT_VARINT_INVALID', `${field} is longer than ${varintBytesMax} bytes`);
  }

  /** A count that must also fit in the bytes left, at `bytesEach` bytes at least per item. */
  count(field: string, countMax: number, bytesEach: number): number {
    const count = this.varint(field);
    if (count > countMax) throw malformed('TRANSPORT_BOUND_EXCEEDED', `${field} ${count} is over the bound ${countMax}`);
    if (count * bytesEach > this.remaining) throw malformed('TRANSPORT_FRAME_TRUNCATED', `${field} ${count} cannot fit in the frame`);
    return count;
  }

  /**
   * A length-prefixed byte string, copied into a plain Uint8Array: it must not pin the whole socket buffer,
   * and the core compares data as Uint8Array, not Buffer (Buffer#slice would also be a view, not a copy).
   */
  lengthPrefixed(field: string): Uint8Array {
    const length = this.varint(field);
    this.#need(length, field);
    const bytes = new Uint8Array(length);
    bytes.set(this.#bytes.subarray(this.#offset, this.#offset + length));
    this.#offset += length;
    return bytes;
  }

  rest(): Uint8Array {
    const bytes = this.#bytes.subarray(this.#offset);
    this.#offset = this.#bytes.length;
    return bytes;
  }

  end(what: string): void {
    if (this.remaining !== 0) throw malformed('TRANSPORT_FRAME_MALFORMED', `${this.remaining} trailing bytes after ${what}`);
  }
}

// ---- Messages ------------------------------------------------------------------------------------------

/** An upper bound on a message's encoded size, so that its frame is allocated once. */
function messageBytesBound(message: Message, snapshotData: boolean): number {
  let bytes = 2 + 9 * varintBytesMax;
  for (const entry of message.entries) bytes += 1 + 3 * varintBytesMax + entry.data.length;
  if (message.context !== null) bytes += varintBytesMax + message.context.length;
  const snapshot = message.snapshot;
  if (snapshot !== null) {
    const state = snapshot.metadata.confState;
    const members = state.voters.length + state.learners.length + state.votersOutgoing.length + state.learnersNext.length;
    bytes += 1 + (7 + members) * varintBytesMax + (snapshotData ? snapshot.data.length : 0);
  }
  return bytes;
}

/**
 * Message body: type u8 · flags u8 (1 reject, 2 snapshot, 4 context) · from, to, term, logTerm, index,
 * commit, rejectHint, leaseTick varints · entry count varint, then per entry term, index varints, type u8,
 * data (varint length + bytes) · context when flagged · snapshot when flagged: index, term, ConfState, and
 * (on message frames only) data.
 */
function writeMessage(writer: FrameWriter, message: Message, snapshotData: boolean): void {
  const code = messageTypeToCode.get(message.type);
  assert(code !== undefined, 'message type has a wire code');
  assert(message.entries.length <= messageEntriesMax, 'too many entries in one message');
  writer.u8(code);
  writer.u8((message.reject ? flagReject : 0) | (message.snapshot !== null ? flagSnapshot : 0) | (message.context !== null ? flagContext : 0));
  for (const field of [message.from, message.to, message.term, message.logTerm, message.index, message.commit, message.rejectHint, message.leaseTick]) {
    writer.varint(field);
  }
  writer.varint(message.entries.length);
  for (const entry of message.entries) writeEntry(writer, entry);
  if (message.context !== null) writer.lengthPrefixed(message.context);
  if (message.snapshot !== null) writeSnapshot(writer, message.snapshot, snapshotData);
}

function writeEntry(writer: FrameWriter, entry: Entry): void {
  writer.varint(entry.term);
  writer.varint(entry.index);
  writer.u8(entry.type);
  writer.lengthPrefixed(entry.data);
}

function writeSnapshot(writer: FrameWriter, snapshot: Snapshot, withData: boolean): void {
  writer.varint(snapshot.metadata.index);
  writer.varint(snapshot.metadata.term);
  const state = snapshot.metadata.confState;
  for (const list of [state.voters, state.learners, state.votersOutgoing, state.learnersNext]) {
    assert(list.length <= confStateNodesMax, 'too many members in a conf state list');
    writer.varint(list.length);
    for (const id of list) writer.varint(id);
  }
  writer.u8(state.autoLeave ? 1 : 0);
  if (withData) writer.lengthPrefixed(snapshot.data);
}

function readMessage(reader: FrameReader, snapshotData: boolean): Message {
  const typeCode = reader.u8('message type');
  const type = messageTypeCodes[typeCode - 1];
  if (type === undefined) throw malformed('TRANSPORT_UNKNOWN_TYPE', `unknown message type code ${typeCode}`);
  const flags = reader.u8('message flags');
  if ((flags & ~flagsKnown) !== 0) throw malformed('TRANSPORT_FRAME_MALFORMED', `unknown message flags ${flags}`);
  const from = reader.varint('from');
  const to = reader.varint('to');
  const term = reader.varint('term');
  const logTerm = reader.varint('logTerm');
  const index = reader.varint('index');
  const commit = reader.varint('commit');
  const rejectHint = reader.varint('rejectHint');
  const leaseTick = reader.varint('leaseTick');
  // An entry takes at least 4 bytes: term, index, type and a data length.
  const entryCount = reader.count('entry count', messageEntriesMax, 4);
  const entries: Entry[] = [];
  for (let position = 0; position < entryCount; position++) entries.push(readEntry(reader));
  const context = (flags & flagContext) !== 0 ? reader.lengthPrefixed('context') : null;
  const snapshot = (flags & flagSnapshot) !== 0 ? readSnapshot(reader, snapshotData) : null;
  return { type, from, to, term, logTerm, index, entries, commit, snapshot, reject: (flags & flagReject) !== 0, rejectHint, context, leaseTick };
}

function readEntry(reader: FrameReader): Entry {
  const term = reader.varint('entry term');
  const index = reader.varint('entry index');
  const typeCode = reader.u8('entry type');
  if (typeCode !== EntryType.Normal && typeCode !== EntryType.ConfChange) {
    throw malformed('TRANSPORT_UNKNOWN_TYPE', `unknown entry type code ${typeCode}`);
  }
  return { term, index, type: typeCode, data: reader.lengthPrefixed('entry data') };
}

function readSnapshot(reader: FrameReader, withData: boolean): Snapshot {
  const index = reader.varint('snapshot index');
  const term = reader.varint('snapshot term');
  const readList = (field: string): number[] => {
    const count = reader.count(field, confStateNodesMax, 1);
    const ids: number[] = [];
    for (let position = 0; position < count; position++) ids.push(reader.varint(field));
    return ids;
  };
  const voters = readList('voters');
  const learners = readList('learners');
  const votersOutgoing = readList('votersOutgoing');
  const learnersNext = readList('learnersNext');
  const autoLeaveByte = reader.u8('autoLeave');
  if (autoLeaveByte > 1) throw malformed('TRANSPORT_FRAME_MALFORMED', `autoLeave byte is ${autoLeaveByte}`);
  const confState: ConfState = { voters, learners, votersOutgoing, learnersNext, autoLeave: autoLeaveByte === 1 };
  const data = withData ? reader.lengthPrefixed('snapshot data') : new Uint8Array(0);
  return { metadata: { index, term, confState }, data };
}

// ---- Frame encoders -----------------------------------------------------------------------------------

/**
 * A message frame, length prefix included.
 *
 * @example
 * socket.write(encodeMessageFrame(message));
 */
export function encodeMessageFrame(message: Message): Uint8Array {
  const writer = new FrameWriter(FrameKind.Message, messageBytesBound(message, true));
  writeMessage(writer, message, true);
  return writer.finish();
}

/** Snapshot stream header: total data bytes varint, then the message without its snapshot data. */
export function encodeSnapshotHeaderFrame(message: Message): Uint8Array {
  assert(message.snapshot !== null, 'a snapshot header needs a snapshot');
  const writer = new FrameWriter(FrameKind.SnapshotHeader, varintBytesMax + messageBytesBound(message, false));
  writer.varint(message.snapshot.data.length);
  writeMessage(writer, message, false);
  return writer.finish();
}

/** Handshake: magic u32 · version u8 · stream kind u8 · cluster ID fixed64 · sender, receiver varints. */
export function encodeHandshakeFrame(handshake: Handshake): Uint8Array {
  assert(handshake.clusterId >= 0n && handshake.clusterId <= fixed64Max, 'cluster ID fits 64 bits');
  const writer = new FrameWriter(FrameKind.Handshake, 4 + 2 + 8 + 2 * varintBytesMax);
  writer.u32(handshakeMagic);
  writer.u8(handshake.version);
  writer.u8(handshake.stream);
  writer.fixed64(handshake.clusterId);
  writer.varint(handshake.senderId);
  writer.varint(handshake.receiverId);
  return writer.finish();
}

/** Membership: the member list, as etcd's MemberListResponse protobuf. */
export function encodeMembershipFrame(memberList: Uint8Array): Uint8Array {
  assert(memberList.length <= membershipFrameBytesMax, 'a member list fits its frame bound');
  const writer = new FrameWriter(FrameKind.Membership, memberList.length);
  writer.raw(memberList);
  return writer.finish();
}

export function encodeRefuseFrame(reason: TransportErrorCode): Uint8Array {
  const code = refusalCodes.indexOf(reason);
  assert(code >= 0, 'refusal reason has a wire code');
  const writer = new FrameWriter(FrameKind.Refuse, 1);
  writer.u8(code);
  return writer.finish();
}

/** Ping and pong carry the pinger's clock reading, echoed back unchanged. */
export function encodeClockFrame(kind: FrameKind.Ping | FrameKind.Pong, sentAtMs: number): Uint8Array {
  const writer = new FrameWriter(kind, 8);
  writer.f64(sentAtMs);
  return writer.finish();
}

/**
 * The length prefix and kind byte of a frame wrapping one storage chunk (whose own header carries offset,
 * total length and CRC). Written apart so that a 1 MiB chunk is not copied a second time.
 */
export function encodeSnapshotChunkFramePrefix(chunkBytes: number): Uint8Array {
  assert(Number.isSafeInteger(chunkBytes) && chunkBytes > 0 && chunkBytes < 0xffffffff, 'chunk fits a frame');
  const prefix = new Uint8Array(frameLengthBytes + 1);
  new DataView(prefix.buffer).setUint32(0, 1 + chunkBytes);
  prefix[frameLengthBytes] = FrameKind.SnapshotChunk;
  return prefix;
}

export function encodeSnapshotAckFrame(ok: boolean): Uint8Array {
  const writer = new FrameWriter(FrameKind.SnapshotAck, 1);
  writer.u8(ok ? 1 : 0);
  return writer.finish();
}

// ---- Frame decoder ------------------------------------------------------------------------------------

/**
 * Decodes one frame payload (the bytes after the length prefix). Throws a TransportError on anything
 * malformed; the caller closes the connection.
 *
 * @example
 * const frame = decodeFrame(payload);
 * if (frame.kind === FrameKind.Message) onMessage(frame.message);
 */
export function decodeFrame(payload: Uint8Array): Frame {
  const reader = new FrameReader(payload);
  const kind = reader.u8('frame kind');
  const frame = decodeFrameBody(kind, reader);
  if (frame.kind !== FrameKind.SnapshotChunk && frame.kind !== FrameKind.Membership) reader.end(FrameKind[kind] ?? 'frame');
  return frame;
}

function decodeFrameBody(kind: number, reader: FrameReader): Frame {
  switch (kind) {
    case FrameKind.Handshake: return { kind, handshake: readHandshake(reader) };
    case FrameKind.Refuse: return { kind, reason: readRefusal(reader) };
    case FrameKind.Message: return { kind, message: readMessage(reader, true) };
    case FrameKind.Ping:
    case FrameKind.Pong: return { kind, sentAtMs: reader.f64('ping time') };
    case FrameKind.SnapshotHeader: {
      const dataBytes = reader.varint('snapshot data bytes');
      const message = readMessage(reader, false);
      if (message.snapshot === null) throw malformed('TRANSPORT_FRAME_MALFORMED', 'snapshot header without a snapshot');
      return { kind, dataBytes, message };
    }
    case FrameKind.SnapshotChunk: return { kind, chunk: reader.rest() };
    case FrameKind.SnapshotAck: {
      const ok = reader.u8('ack');
      if (ok > 1) throw malformed('TRANSPORT_FRAME_MALFORMED', `ack byte is ${ok}`);
      return { kind, ok: ok === 1 };
    }
    case FrameKind.Membership: return { kind, memberList: reader.rest() };
    default: throw malformed('TRANSPORT_FRAME_MALFORMED', `unknown frame kind ${kind}`);
  }
}

function readHandshake(reader: FrameReader): Handshake {
  const magic = reader.u32('handshake magic');
  if (magic !== handshakeMagic) throw malformed('TRANSPORT_HANDSHAKE_INVALID', `bad handshake magic 0x${magic.toString(16)}`);
  const version = reader.u8('protocol version');
  const stream = reader.u8('stream kind');
  if (stream !== StreamKind.Messages && stream !== StreamKind.Snapshot && stream !== StreamKind.Membership) {
    throw malformed('TRANSPORT_HANDSHAKE_INVALID', `unknown stream kind ${stream}`);
  }
  const clusterId = reader.fixed64('cluster ID');
  const senderId = reader.varint('sender ID');
  const receiverId = reader.varint('receiver ID');
  return { version, stream, clusterId, senderId, receiverId };
}

function readRefusal(reader: FrameReader): TransportErrorCode {
  const code = reader.u8('refusal reason');
  return refusalCodes[code] ?? 'TRANSPORT_REFUSED';
}
